from django.urls import path

from incidents import views

app_name = "incidents"

urlpatterns = [
    path("", views.incident_list, name="list"),
    path("new/", views.incident_create, name="create"),
    path("maintenance/", views.maintenance_list, name="maintenance-list"),
    path("maintenance/new/", views.maintenance_create, name="maintenance-create"),
    path("report/", views.incident_report, name="report"),
    path("integrations/", views.integration_list, name="integrations"),
    path(
        "integrations/<pid:integration_id>/",
        views.integration_detail,
        name="integration-detail",
    ),
    path(
        "integrations/<pid:integration_id>/delete/",
        views.integration_delete,
        name="integration-delete",
    ),
    path("responders/", views.responder_settings, name="responders"),
    path("responders/policy/", views.response_policy_save, name="response-policy"),
    path("responders/webhook-secret/", views.alert_webhook_rotate, name="alert-webhook-rotate"),
    path("responders/teams/", views.team_create, name="team-create"),
    path("responders/teams/<pid:team_id>/delete/", views.team_delete, name="team-delete"),
    path("responders/routing/", views.routing_save, name="routing"),
    path("responders/alerts/", views.alert_opt_in, name="alert-opt-in"),
    path("templates/", views.template_list, name="template-list"),
    path("templates/new/", views.template_create, name="template-create"),
    path("templates/<pid:template_id>/edit/", views.template_edit, name="template-edit"),
    path("templates/<pid:template_id>/delete/", views.template_delete, name="template-delete"),
    path("<pid:incident_id>/", views.incident_detail, name="detail"),
    path("<pid:incident_id>/updates/", views.update_create, name="update-create"),
    path("<pid:incident_id>/updates/<pid:update_id>/edit/", views.update_edit, name="update-edit"),
    path("<pid:incident_id>/delete/", views.incident_delete, name="delete"),
    path("<pid:incident_id>/acknowledge/", views.incident_acknowledge, name="acknowledge"),
    path("<pid:incident_id>/response/", views.incident_response, name="response"),
    path("<pid:incident_id>/notes/", views.incident_note, name="note-create"),
    path("<pid:incident_id>/publish/", views.incident_publish, name="publish"),
    path("<pid:incident_id>/discard/", views.incident_discard, name="discard"),
    *[
        path(
            f"<pid:incident_id>/{transition}/",
            views.maintenance_transition,
            {"transition": transition},
            name=f"maintenance-{transition}",
        )
        for transition in views.TRANSITIONS
    ],
]
