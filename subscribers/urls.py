from django.urls import path

from subscribers import views

app_name = "subscribers"

urlpatterns = [
    path("", views.subscriber_list, name="list"),
    path("add/", views.subscriber_add, name="add"),
    path("webhooks/add/", views.webhook_add, name="webhook-add"),
    path("export.csv", views.subscriber_export, name="export"),
    path("import/", views.subscriber_import, name="import"),
    path(
        "deliveries/<pid:incident_id>/<pid:update_id>/",
        views.update_deliveries,
        name="update-deliveries",
    ),
    path("<pid:subscriber_id>/remove/", views.subscriber_remove, name="remove"),
    path("<pid:subscriber_id>/resend/", views.subscriber_resend, name="resend"),
    path("<pid:subscriber_id>/confirm/", views.subscriber_confirm, name="confirm"),
    path("<pid:subscriber_id>/unquarantine/", views.subscriber_unquarantine, name="unquarantine"),
]
