from django.urls import path

from components import views

app_name = "components"

urlpatterns = [
    path("", views.component_list, name="list"),
    path("new/", views.component_create, name="create"),
    path("groups/new/", views.group_create, name="group-create"),
    path("groups/<str:group_id>/edit/", views.group_edit, name="group-edit"),
    path("groups/<str:group_id>/delete/", views.group_delete, name="group-delete"),
    path("groups/<str:group_id>/move/", views.group_move, name="group-move"),
    path("<str:component_id>/", views.component_detail, name="detail"),
    path("<str:component_id>/edit/", views.component_edit, name="edit"),
    path("<str:component_id>/delete/", views.component_delete, name="delete"),
    path("<str:component_id>/status/", views.component_status, name="status"),
    path("<str:component_id>/move/", views.component_move, name="move"),
]
