"""`/api/v1/`: the management API, Statuspage's paths."""

from django.urls import path
from drf_spectacular.utils import extend_schema
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
# How the description is built, on top of SPECTACULAR_SETTINGS: one name per enum, whatever
# field carries it.
SCHEMA_SETTINGS = {
    "ENUM_NAME_OVERRIDES": {
        "ComponentStatus": "components.enums.ComponentStatus",
        "IncidentStatus": "incidents.enums.IncidentStatus",
        "Impact": "incidents.enums.Impact",
        "Severity": "incidents.enums.Severity",
        "Category": "incidents.enums.Category",
        "SubscriberMode": "subscribers.enums.SubscriberKind",
    },
}


@extend_schema(exclude=True)
class DescriptionView(SpectacularJSONAPIView):
    """openapi.json, which is not one of the operations it describes."""


urlpatterns = [
    # The description of the API is public; everything else needs a key.
    path(
        "openapi.json",
        DescriptionView.as_view(custom_settings=SCHEMA_SETTINGS, **PUBLIC),
        name="schema",
    ),
    path("docs", SpectacularRedocView.as_view(url_name="api:schema", **PUBLIC), name="docs"),
    path("pages", PageList.as_view(), name="pages"),
    path("pages/<pid:page_id>", PageDetail.as_view(), name="page"),
    path("pages/<pid:page_id>/components", ComponentList.as_view(), name="components"),
    path(
        "pages/<pid:page_id>/components/<pid:component_id>",
        ComponentDetail.as_view(),
        name="component",
    ),
    path(
        "pages/<pid:page_id>/components/<pid:component_id>/uptime",
        ComponentUptime.as_view(),
        name="component-uptime",
    ),
    path("pages/<pid:page_id>/component-groups", GroupList.as_view(), name="groups"),
    path(
        "pages/<pid:page_id>/component-groups/<pid:group_id>",
        GroupDetail.as_view(),
        name="group",
    ),
    path("pages/<pid:page_id>/incidents", IncidentList.as_view(), name="incidents"),
    path(
        "pages/<pid:page_id>/incidents/upcoming",
        MaintenanceList.as_view(),
        name="incidents-upcoming",
    ),
    path(
        "pages/<pid:page_id>/incidents/active_maintenance",
        ActiveMaintenanceList.as_view(),
        name="incidents-active-maintenance",
    ),
    path(
        "pages/<pid:page_id>/incidents/scheduled",
        ScheduledList.as_view(),
        name="incidents-scheduled",
    ),
    path(
        "pages/<pid:page_id>/incidents/unresolved",
        UnresolvedIncidentList.as_view(),
        name="incidents-unresolved",
    ),
    path(
        "pages/<pid:page_id>/incidents/<pid:incident_id>",
        IncidentDetail.as_view(),
        name="incident",
    ),
    path(
        "pages/<pid:page_id>/incidents/<pid:incident_id>/incident_updates/<pid:update_id>",
        IncidentUpdateDetail.as_view(),
        name="incident-update",
    ),
    path(
        "pages/<pid:page_id>/incidents/<pid:incident_id>/postmortem",
        PostmortemView.as_view(),
        name="postmortem",
    ),
    path(
        "pages/<pid:page_id>/incidents/<pid:incident_id>/postmortem/publish",
        PostmortemPublish.as_view(),
        name="postmortem-publish",
    ),
    path(
        "pages/<pid:page_id>/incidents/<pid:incident_id>/postmortem/revert",
        PostmortemRevert.as_view(),
        name="postmortem-revert",
    ),
    path("pages/<pid:page_id>/subscribers", SubscriberList.as_view(), name="subscribers"),
    path(
        "pages/<pid:page_id>/subscribers/<pid:subscriber_id>",
        SubscriberDetail.as_view(),
        name="subscriber",
    ),
    path(
        "pages/<pid:page_id>/subscribers/<pid:subscriber_id>/resend_confirmation",
        SubscriberResendConfirmation.as_view(),
        name="subscriber-resend",
    ),
    path("pages/<pid:page_id>/incident_templates", TemplateList.as_view(), name="templates"),
    path(
        "pages/<pid:page_id>/incident_templates/<pid:template_id>",
        TemplateDetail.as_view(),
        name="template",
    ),
]
