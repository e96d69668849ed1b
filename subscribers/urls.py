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
        "deliveries/<str:incident_id>/<str:update_id>/",
        views.update_deliveries,
        name="update-deliveries",
    ),
    path("<str:subscriber_id>/remove/", views.subscriber_remove, name="remove"),
    path("<str:subscriber_id>/resend/", views.subscriber_resend, name="resend"),
    path("<str:subscriber_id>/unquarantine/", views.subscriber_unquarantine, name="unquarantine"),
]
