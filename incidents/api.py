"""Management API for incidents and scheduled maintenance (Statuspage v1 fields)."""

import datetime
import zoneinfo

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework import status as http_status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from components.api import ComponentSerializer, components_named
from components.enums import ComponentStatus
from incidents import services
from incidents.enums import (
    INCIDENT_IMPACTS,
    Category,
    Impact,
    IncidentKind,
    IncidentStatus,
    Severity,
)
from incidents.models import Incident, IncidentTemplate, IncidentUpdate
from incidents.queries import (
    active_maintenances,
    get_incident_for_page,
    get_update_for_incident,
    recent_incidents,
    unresolved_incidents,
    upcoming_maintenances,
)
from statuspage.api import (
    Flag,
    Ids,
    Line,
    Moment,
    OrganizationAPIView,
    ResourceFields,
    Text,
    as_bool,
    not_found,
    paginate,
    read_fields,
)
from statuspage.api_schema import resource_request
from statuspage.enums import Role
from statuspage.public_json import incident_json, timestamp, update_json


class AffectedComponentSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="The component's id.")
    name = serializers.CharField()
    old_status = serializers.ChoiceField(choices=ComponentStatus.choices)
    new_status = serializers.ChoiceField(choices=ComponentStatus.choices)


class IncidentUpdateSerializer(serializers.Serializer):
    id = serializers.CharField()
    status = serializers.ChoiceField(choices=IncidentStatus.choices)
    body = serializers.CharField(help_text="Markdown.")
    incident_id = serializers.CharField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    display_at = serializers.DateTimeField()
    affected_components = AffectedComponentSerializer(many=True, allow_null=True)
    deliver_notifications = serializers.BooleanField()


RESPONDERS_ONLY = "Only for keys with responder or admin access."
MAINTENANCE_ONLY = "Only for scheduled maintenance."


class IncidentSerializer(serializers.Serializer):
    """Statuspage's incident; scheduled maintenance adds its window."""

    id = serializers.CharField()
    name = serializers.CharField()
    status = serializers.ChoiceField(choices=IncidentStatus.choices)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    monitoring_at = serializers.DateTimeField(allow_null=True)
    resolved_at = serializers.DateTimeField(allow_null=True)
    impact = serializers.ChoiceField(choices=Impact.choices)
    shortlink = serializers.URLField(help_text="The incident on the public page.")
    started_at = serializers.DateTimeField()
    page_id = serializers.CharField()
    incident_updates = IncidentUpdateSerializer(many=True, help_text="Newest first.")
    components = ComponentSerializer(many=True, help_text="The affected components.")
    postmortem_body = serializers.CharField(allow_null=True)
    postmortem_published_at = serializers.DateTimeField(allow_null=True)
    scheduled_for = serializers.DateTimeField(required=False, help_text=MAINTENANCE_ONLY)
    scheduled_until = serializers.DateTimeField(required=False, help_text=MAINTENANCE_ONLY)
    severity = serializers.ChoiceField(choices=Severity.choices, allow_null=True,
                                       required=False, help_text=RESPONDERS_ONLY)  # fmt: skip
    category = serializers.ChoiceField(choices=Category.choices, allow_null=True,
                                       required=False, help_text=RESPONDERS_ONLY)  # fmt: skip
    owner = serializers.EmailField(allow_null=True, required=False, help_text=RESPONDERS_ONLY)
    acknowledged_at = serializers.DateTimeField(allow_null=True, required=False,
                                                help_text=RESPONDERS_ONLY)  # fmt: skip


class IncidentFields(ResourceFields):
    """An incident, a scheduled maintenance (with `scheduled_for`) or a backfill
    (`backfilled`). On PATCH, a new status, body or component statuses post an update."""

    resource = "incident"
    name = Line()
    status = serializers.ChoiceField(choices=IncidentStatus.choices, required=False,
                                     help_text="Defaults to investigating.")  # fmt: skip
    impact_override = serializers.ChoiceField(
        choices=[(i.value, i.label) for i in INCIDENT_IMPACTS], required=False,
        help_text="Defaults to none.",
    )  # fmt: skip
    body = Text(help_text="Markdown: the first (or the new) update's message.")
    component_ids = Ids(help_text="Affected components; their status follows the impact.")
    components = serializers.DictField(
        child=serializers.ChoiceField(choices=ComponentStatus.choices), required=False,
        help_text="Affected components with the status each gets: {component id: status}.",
    )  # fmt: skip
    deliver_notifications = Flag(help_text="Notify subscribers (default true; backfills false).")
    scheduled_for = Moment(help_text="Maintenance: when it starts.")
    scheduled_until = Moment(help_text="Maintenance: when it ends (default: an hour later).")
    scheduled_remind_prior = Flag(help_text="Maintenance: remind subscribers an hour before.")
    scheduled_auto_in_progress = Flag(help_text="Maintenance: start on time (default true).")
    scheduled_auto_completed = Flag(help_text="Maintenance: complete on time (default true).")
    auto_transition_deliver_notifications_at_start = Flag(help_text="Default true.")
    auto_transition_deliver_notifications_at_end = Flag(help_text="Default true.")
    backfilled = Flag(help_text="Record an incident that is already over.")
    backfill_date = Moment(help_text="Backfill: when it happened.")


class IncidentUpdateFields(ResourceFields):
    resource = "incident_update"
    body = Text()
    display_at = Moment(help_text="When the update is shown to have been posted.")
    deliver_notifications = Flag(help_text="Only while the update has not been sent yet.")


class TemplateSerializer(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    title = serializers.CharField()
    body = serializers.CharField()
    update_status = serializers.ChoiceField(choices=IncidentStatus.choices)
    impact = serializers.ChoiceField(choices=Impact.choices)
    should_send_notifications = serializers.BooleanField()
    components = serializers.ListField(child=serializers.CharField())


class TemplateFields(ResourceFields):
    resource = "template"
    name = Line()
    title = Line()
    body = Text()
    update_status = serializers.ChoiceField(choices=IncidentStatus.choices, required=False)
    impact = serializers.ChoiceField(choices=Impact.choices, required=False)
    component_ids = Ids()
    should_send_notifications = Flag(help_text="Default true.")


INCIDENT_BODY = resource_request(IncidentFields, name="IncidentWrite")
UPDATE_BODY = resource_request(IncidentUpdateFields, name="IncidentUpdateWrite")
TEMPLATE_BODY = resource_request(TemplateFields, name="TemplateWrite")


def _json(incident, page, key=None):
    """The public v2 shape, plus the responders' fields for keys with responder access."""
    zone = zoneinfo.ZoneInfo(page.time_zone)
    data = incident_json(incident, page, zone)
    if key is not None and key.role.includes(Role.RESPONDER):
        data.update({
            "severity": incident.severity or None,
            "category": incident.category or None,
            "owner": incident.owner.email if incident.owner_id else None,
            "acknowledged_at": timestamp(incident.acknowledged_at, zone),
        })  # fmt: skip
    return data


def _component_statuses(page, fields):
    """`components` {id: status} and/or `component_ids` [id] (status from the impact)."""
    statuses = fields.get("components") or {}
    ids = [*fields.get("component_ids", []), *statuses]
    components = {c.public_id: c for c in components_named(page, ids, field="component_ids")}
    return {components[i]: statuses.get(i) for i in ids}


def _reload(page, incident):
    return get_incident_for_page(page, incident.public_id)


def incident_or_404(page, incident_id) -> Incident:
    try:
        return get_incident_for_page(page, incident_id)
    except Http404 as error:
        raise not_found("incident") from error


SELECTIONS = {
    "all": lambda page: recent_incidents(page, kind=IncidentKind.INCIDENT, limit=1000),
    "unresolved": lambda page: list(unresolved_incidents(page)),
    "upcoming": lambda page: list(upcoming_maintenances(page)),
    "active": lambda page: list(active_maintenances(page)),
    "scheduled": lambda page: recent_incidents(page, kind=IncidentKind.MAINTENANCE, limit=1000),
}


class IncidentSelection(OrganizationAPIView):
    """Incidents, newest first."""

    write_role = Role.RESPONDER
    selection = "all"

    @extend_schema(responses={200: IncidentSerializer(many=True)})
    def get(self, request, page_id):
        page = self.page(page_id)
        incidents = SELECTIONS[self.selection](page)
        return Response([_json(i, page, request.auth) for i in paginate(request, incidents)])


class IncidentList(IncidentSelection):
    @extend_schema(summary="Declare an incident, schedule maintenance or backfill one",
                   request=INCIDENT_BODY, responses={201: IncidentSerializer})  # fmt: skip
    def post(self, request, page_id):
        page = self.page(page_id)
        fields = read_fields(request, IncidentFields)
        common = {
            "actor": self.actor,
            "name": fields.get("name") or "",
            "body": fields.get("body") or "",
        }
        if fields.get("scheduled_for"):
            start = fields["scheduled_for"]
            until = fields.get("scheduled_until") or start + datetime.timedelta(hours=1)
            incident = services.schedule_maintenance(
                page,
                scheduled_for=start,
                scheduled_until=until,
                components=list(_component_statuses(page, fields)),
                deliver_notifications=as_bool(fields.get("deliver_notifications"), True),
                remind_prior_minutes=60 if fields.get("scheduled_remind_prior") else None,
                auto_in_progress=as_bool(fields.get("scheduled_auto_in_progress"), True),
                auto_completed=as_bool(fields.get("scheduled_auto_completed"), True),
                notify_at_start=as_bool(
                    fields.get("auto_transition_deliver_notifications_at_start"), True
                ),
                notify_at_end=as_bool(
                    fields.get("auto_transition_deliver_notifications_at_end"), True
                ),
                **common,
            )
        elif fields.get("backfilled"):
            started = fields.get("backfill_date")
            if started is None:
                raise ValidationError({"backfill_date": ["A backfilled incident needs its date."]})
            incident = services.create_backfilled_incident(
                page,
                impact=fields.get("impact_override", Impact.NONE),
                component_statuses=_component_statuses(page, fields),
                started_at=started,
                resolved_at=started + datetime.timedelta(minutes=1),
                deliver_notifications=as_bool(fields.get("deliver_notifications"), False),
                **common,
            )
        else:
            incident = services.open_incident(
                page,
                status=fields.get("status", IncidentStatus.INVESTIGATING),
                impact=fields.get("impact_override", Impact.NONE),
                component_statuses=_component_statuses(page, fields),
                deliver_notifications=as_bool(fields.get("deliver_notifications"), True),
                **common,
            )
        return Response(
            _json(_reload(page, incident), page, request.auth), status=http_status.HTTP_201_CREATED
        )


class UnresolvedIncidentList(IncidentSelection):
    """Incidents not yet resolved."""

    selection = "unresolved"


class MaintenanceList(IncidentSelection):
    """Scheduled maintenance that has not started."""

    selection = "upcoming"


class ActiveMaintenanceList(IncidentSelection):
    """Scheduled maintenance in progress or being verified."""

    selection = "active"


class ScheduledList(IncidentSelection):
    """Every scheduled maintenance, newest first."""

    selection = "scheduled"


class IncidentDetail(OrganizationAPIView):
    write_role = Role.RESPONDER

    @extend_schema(summary="An incident", responses={200: IncidentSerializer})
    def get(self, request, page_id, incident_id):
        page = self.page(page_id)
        return Response(_json(incident_or_404(page, incident_id), page, request.auth))

    @extend_schema(summary="Change an incident; a new status, body or component statuses "
                   "post an update, exactly as the console does",
                   request=INCIDENT_BODY, responses={200: IncidentSerializer})  # fmt: skip
    def patch(self, request, page_id, incident_id):
        page = self.page(page_id)
        incident = incident_or_404(page, incident_id)
        fields = read_fields(request, IncidentFields, partial=True)
        if "name" in fields or "impact_override" in fields:
            services.update_incident_details(
                incident, actor=self.actor, name=fields.get("name", incident.name) or "",
                impact=fields.get("impact_override"),
            )  # fmt: skip
        if {"status", "body", "components", "component_ids"} & set(fields):
            services.post_incident_update(
                incident,
                actor=self.actor,
                status=fields.get("status", incident.status),
                body=fields.get("body") or "",
                component_statuses=_component_statuses(page, fields) or None,
                deliver_notifications=as_bool(fields.get("deliver_notifications"), True),
            )
        return Response(_json(_reload(page, incident), page, request.auth))

    put = patch

    @extend_schema(summary="Delete an incident; answers with what it was",
                   responses={200: IncidentSerializer})  # fmt: skip
    def delete(self, request, page_id, incident_id):
        page = self.page(page_id)
        incident = incident_or_404(page, incident_id)
        data = _json(incident, page, request.auth)
        services.delete_incident(incident, actor=self.actor, confirm_name=incident.name)
        return Response(data)


class IncidentUpdateDetail(OrganizationAPIView):
    """Edit a posted update's `body`, `display_at` or `deliver_notifications`."""

    write_role = Role.RESPONDER

    @extend_schema(summary="Edit a posted update", request=UPDATE_BODY,
                   responses={200: IncidentUpdateSerializer})  # fmt: skip
    def patch(self, request, page_id, incident_id, update_id):
        page = self.page(page_id)
        incident = incident_or_404(page, incident_id)
        try:
            update = get_update_for_incident(incident, update_id)
        except Http404 as error:
            raise not_found("incident update") from error
        fields = read_fields(request, IncidentUpdateFields, partial=True)
        services.edit_incident_update(
            update, actor=self.actor, body=fields.get("body", update.body) or "",
            display_at=fields.get("display_at"),
        )  # fmt: skip
        if fields.get("deliver_notifications") is not None:
            IncidentUpdate.objects.filter(pk=update.pk, fanned_out_at__isnull=True).update(
                deliver_notifications=fields["deliver_notifications"]
            )
        update.refresh_from_db()
        return Response(update_json(update, incident, zoneinfo.ZoneInfo(page.time_zone)))

    put = patch


def template_json(template, page) -> dict:
    return {
        "id": template.public_id,
        "name": template.name,
        "title": template.title,
        "body": template.body,
        "update_status": template.status,
        "impact": template.impact,
        "should_send_notifications": template.deliver_notifications,
        "components": [c.public_id for c in template.components.all()],
    }


class TemplateList(OrganizationAPIView):
    @extend_schema(summary="Incident templates of a page",
                   responses={200: TemplateSerializer(many=True)})  # fmt: skip
    def get(self, request, page_id):
        page = self.page(page_id)
        templates = list(IncidentTemplate.objects.filter(page=page).prefetch_related("components"))
        return Response([template_json(t, page) for t in paginate(request, templates)])

    @extend_schema(summary="Add an incident template", request=TEMPLATE_BODY,
                   responses={201: TemplateSerializer})  # fmt: skip
    def post(self, request, page_id):
        page = self.page(page_id)
        fields = read_fields(request, TemplateFields)
        template = services.create_incident_template(
            page, actor=self.actor, name=fields.get("name") or "",
            title=fields.get("title") or "", body=fields.get("body") or "",
            status=fields.get("update_status", IncidentStatus.INVESTIGATING),
            impact=fields.get("impact", Impact.NONE),
            components=components_named(page, fields.get("component_ids", []),
                                        field="component_ids"),
            deliver_notifications=as_bool(fields.get("should_send_notifications"), True),
        )  # fmt: skip
        return Response(template_json(template, page), status=http_status.HTTP_201_CREATED)


class TemplateDetail(OrganizationAPIView):
    def _template(self, page, template_id):
        template = IncidentTemplate.objects.filter(page=page, public_id=template_id).first()
        if template is None:
            raise not_found("template")
        return template

    @extend_schema(summary="An incident template", responses={200: TemplateSerializer})
    def get(self, request, page_id, template_id):
        page = self.page(page_id)
        return Response(template_json(self._template(page, template_id), page))

    @extend_schema(summary="Change an incident template", request=TEMPLATE_BODY,
                   responses={200: TemplateSerializer})  # fmt: skip
    def patch(self, request, page_id, template_id):
        page = self.page(page_id)
        template = self._template(page, template_id)
        fields = read_fields(request, TemplateFields, partial=True)
        components = (
            components_named(page, fields["component_ids"], field="component_ids")
            if "component_ids" in fields else list(template.components.all())
        )  # fmt: skip
        services.update_incident_template(
            template, actor=self.actor, name=fields.get("name", template.name) or "",
            title=fields.get("title", template.title) or "",
            body=fields.get("body", template.body) or "",
            status=fields.get("update_status", template.status),
            impact=fields.get("impact", template.impact), components=components,
            deliver_notifications=as_bool(fields.get("should_send_notifications"),
                                          template.deliver_notifications),
        )  # fmt: skip
        return Response(template_json(template, page))

    put = patch

    @extend_schema(summary="Delete an incident template", responses={204: None})
    def delete(self, request, page_id, template_id):
        page = self.page(page_id)
        services.delete_incident_template(self._template(page, template_id), actor=self.actor)
        return Response(status=http_status.HTTP_204_NO_CONTENT)
