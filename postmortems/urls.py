from django.urls import path

from postmortems import views

app_name = "postmortems"

urlpatterns = [
    path("", views.postmortem_list, name="list"),
    path("action-items/", views.action_items, name="action-items"),
    path("action-items/<pid:item_id>/toggle/", views.action_item_toggle, name="item-toggle"),
    path("action-items/<pid:item_id>/delete/", views.action_item_delete, name="item-delete"),
    path("<pid:incident_id>/", views.postmortem_edit, name="edit"),
    path("<pid:incident_id>/publish/", views.postmortem_publish, name="publish"),
    path("<pid:incident_id>/unpublish/", views.postmortem_unpublish, name="unpublish"),
    path("<pid:incident_id>/markdown/", views.postmortem_markdown, name="markdown"),
    path("<pid:incident_id>/action-items/", views.action_item_add, name="item-add"),
]
