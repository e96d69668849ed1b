"""`/api/v1/`: the management API, Statuspage's paths."""

from django.urls import path
from drf_spectacular.views import SpectacularJSONAPIView, SpectacularRedocView
from rest_framework.permissions import AllowAny

from components.api import ComponentDetail, ComponentList, ComponentUptime, GroupDetail, GroupList
from incidents.api import (
    ActiveMaintenanceList,
    IncidentDetail,
    IncidentList,
    IncidentUpdateDetail,
    MaintenanceList,
    ScheduledList,
    TemplateDetail,
    TemplateList,
    UnresolvedIncidentList,
)
from postmortems.api import PostmortemPublish, PostmortemRevert, PostmortemView
from statuspage.api import PageDetail, PageList
from subscribers.api import SubscriberDetail, SubscriberList, SubscriberResendConfirmation

app_name = "api"
PUBLIC = {"authentication_classes": [], "permission_classes": [AllowAny], "throttle_classes": []}

urlpatterns = [
    # The description of the API is public; everything else needs a key.
    path("openapi.json", SpectacularJSONAPIView.as_view(**PUBLIC), name="schema"),
    path("docs", SpectacularRedocView.as_view(url_name="api:schema", **PUBLIC), name="docs"),
    path("pages", PageList.as_view(), name="pages"),
    path("pages/<str:page_id>", PageDetail.as_view(), name="page"),
    path("pages/<str:page_id>/components", ComponentList.as_view(), name="components"),
    path(
        "pages/<str:page_id>/components/<str:component_id>",
        ComponentDetail.as_view(),
        name="component",
    ),
    path(
        "pages/<str:page_id>/components/<str:component_id>/uptime",
        ComponentUptime.as_view(),
        name="component-uptime",
    ),
    path("pages/<str:page_id>/component-groups", GroupList.as_view(), name="groups"),
    path(
        "pages/<str:page_id>/component-groups/<str:group_id>",
        GroupDetail.as_view(),
        name="group",
    ),
    path("pages/<str:page_id>/incidents", IncidentList.as_view(), name="incidents"),
    path(
        "pages/<str:page_id>/incidents/upcoming",
        MaintenanceList.as_view(),
        name="incidents-upcoming",
    ),
    path(
        "pages/<str:page_id>/incidents/active_maintenance",
        ActiveMaintenanceList.as_view(),
        name="incidents-active-maintenance",
    ),
    path(
        "pages/<str:page_id>/incidents/scheduled",
        ScheduledList.as_view(),
        name="incidents-scheduled",
    ),
    path(
        "pages/<str:page_id>/incidents/unresolved",
        UnresolvedIncidentList.as_view(),
        name="incidents-unresolved",
    ),
    path(
        "pages/<str:page_id>/incidents/<str:incident_id>",
        IncidentDetail.as_view(),
        name="incident",
    ),
    path(
        "pages/<str:page_id>/incidents/<str:incident_id>/incident_updates/<str:update_id>",
        IncidentUpdateDetail.as_view(),
        name="incident-update",
    ),
    path(
        "pages/<str:page_id>/incidents/<str:incident_id>/postmortem",
        PostmortemView.as_view(),
        name="postmortem",
    ),
    path(
        "pages/<str:page_id>/incidents/<str:incident_id>/postmortem/publish",
        PostmortemPublish.as_view(),
        name="postmortem-publish",
    ),
    path(
        "pages/<str:page_id>/incidents/<str:incident_id>/postmortem/revert",
        PostmortemRevert.as_view(),
        name="postmortem-revert",
    ),
    path("pages/<str:page_id>/subscribers", SubscriberList.as_view(), name="subscribers"),
    path(
        "pages/<str:page_id>/subscribers/<str:subscriber_id>",
        SubscriberDetail.as_view(),
        name="subscriber",
    ),
    path(
        "pages/<str:page_id>/subscribers/<str:subscriber_id>/resend_confirmation",
        SubscriberResendConfirmation.as_view(),
        name="subscriber-resend",
    ),
    path("pages/<str:page_id>/incident_templates", TemplateList.as_view(), name="templates"),
    path(
        "pages/<str:page_id>/incident_templates/<str:template_id>",
        TemplateDetail.as_view(),
        name="template",
    ),
]
