from django.urls import path

from subscribers import views

app_name = "subscribers"

urlpatterns = [
    path("", views.subscriber_list, name="list"),
    path("add/", views.subscriber_add, name="add"),
    path("<str:subscriber_id>/remove/", views.subscriber_remove, name="remove"),
    path("<str:subscriber_id>/resend/", views.subscriber_resend, name="resend"),
    path("<str:subscriber_id>/unquarantine/", views.subscriber_unquarantine, name="unquarantine"),
]
