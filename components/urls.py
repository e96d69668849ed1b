from django.urls import path

from components import views

app_name = "components"

urlpatterns = [
    path("", views.component_list, name="list"),
    path("new/", views.component_create, name="create"),
    path("groups/new/", views.group_create, name="group-create"),
    path("groups/<pid:group_id>/edit/", views.group_edit, name="group-edit"),
    path("groups/<pid:group_id>/delete/", views.group_delete, name="group-delete"),
    path("groups/<pid:group_id>/move/", views.group_move, name="group-move"),
    path("<pid:component_id>/", views.component_detail, name="detail"),
    path("<pid:component_id>/edit/", views.component_edit, name="edit"),
    path("<pid:component_id>/delete/", views.component_delete, name="delete"),
    path("<pid:component_id>/status/", views.component_status, name="status"),
    path("<pid:component_id>/move/", views.component_move, name="move"),
]
