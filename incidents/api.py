"""Management API for incidents and scheduled maintenance (Statuspage v1 fields)."""

import datetime
import zoneinfo

from django.http import Http404
from django.utils.dateparse import parse_datetime
from rest_framework import status as http_status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from components.enums import ComponentStatus
from components.queries import components_by_public_ids
from incidents import services
from incidents.enums import IncidentKind
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
    OrganizationAPIView,
    as_bool,
    not_found,
    paginate,
    resource_fields,
    text,
)
from statuspage.enums import Role
from statuspage.public_json import incident_json, timestamp, update_json


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


def _when(value, name):
    if not value:
        return None
    parsed = parse_datetime(str(value))
    if parsed is None or parsed.tzinfo is None:
        raise ValidationError({name: ["Use ISO 8601 with a time zone, e.g. 2026-11-24T10:00Z."]})
    return parsed


def _component_statuses(page, fields):
    """`components` {id: status} and/or `component_ids` [id] (status from the impact)."""
    statuses = fields.get("components") or {}
    ids = fields.get("component_ids") or []
    if not isinstance(statuses, dict) or not all(
        isinstance(v, str) and v in ComponentStatus.values for v in statuses.values()
    ):
        raise ValidationError({"components": ["Map component ids to component statuses."]})
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise ValidationError({"component_ids": ["Send a list of component ids."]})
    ids = [*ids, *statuses]
    try:
        components = {c.public_id: c for c in components_by_public_ids(page, set(ids))}
    except Http404 as error:
        raise ValidationError({"component_ids": ["Unknown component on this page."]}) from error
    return {components[i]: statuses.get(i) for i in ids}


def _reload(page, incident):
    return get_incident_for_page(page, incident.public_id)


def incident_or_404(page, incident_id) -> Incident:
    try:
        return get_incident_for_page(page, incident_id)
    except Http404 as error:
        raise not_found("incident") from error


class IncidentList(OrganizationAPIView):
    write_role = Role.RESPONDER
    selection = "all"

    def get(self, request, page_id):
        page = self.page(page_id)
        if self.selection == "unresolved":
            incidents = list(unresolved_incidents(page))
        else:
            incidents = recent_incidents(page, kind=IncidentKind.INCIDENT, limit=1000)
        return Response([_json(i, page, request.auth) for i in paginate(request, incidents)])

    def post(self, request, page_id):
        page = self.page(page_id)
        fields = resource_fields(request.data, "incident")
        common = {
            "actor": self.actor,
            "name": text(fields, "name"),
            "body": text(fields, "body") or "",
        }
        if fields.get("scheduled_for"):
            remind = fields.get("scheduled_remind_prior")
            incident = services.schedule_maintenance(
                page,
                scheduled_for=_when(fields["scheduled_for"], "scheduled_for"),
                scheduled_until=_when(fields.get("scheduled_until"), "scheduled_until")
                or _when(fields["scheduled_for"], "scheduled_for") + datetime.timedelta(hours=1),
                components=list(_component_statuses(page, fields)),
                deliver_notifications=as_bool(fields.get("deliver_notifications"), True),
                remind_prior_minutes=60 if as_bool(remind, False) else None,
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
        elif as_bool(fields.get("backfilled"), False):
            started = _when(fields.get("backfill_date"), "backfill_date")
            if started is None:
                raise ValidationError({"backfill_date": ["A backfilled incident needs its date."]})
            incident = services.create_backfilled_incident(
                page,
                impact=text(fields, "impact_override") or "none",
                component_statuses=_component_statuses(page, fields),
                started_at=started,
                resolved_at=started + datetime.timedelta(minutes=1),
                deliver_notifications=as_bool(fields.get("deliver_notifications"), False),
                **common,
            )
        else:
            incident = services.open_incident(
                page,
                status=text(fields, "status") or "investigating",
                impact=text(fields, "impact_override") or "none",
                component_statuses=_component_statuses(page, fields),
                deliver_notifications=as_bool(fields.get("deliver_notifications"), True),
                **common,
            )
        return Response(
            _json(_reload(page, incident), page, request.auth), status=http_status.HTTP_201_CREATED
        )


class UnresolvedIncidentList(IncidentList):
    selection = "unresolved"


class IncidentDetail(OrganizationAPIView):
    write_role = Role.RESPONDER

    def _incident(self, page, incident_id) -> Incident:
        return incident_or_404(page, incident_id)

    def get(self, request, page_id, incident_id):
        page = self.page(page_id)
        return Response(_json(self._incident(page, incident_id), page, request.auth))

    def patch(self, request, page_id, incident_id):
        """A new status or body posts an update, exactly as the console does."""
        page = self.page(page_id)
        incident = self._incident(page, incident_id)
        fields = resource_fields(request.data, "incident")
        if "name" in fields or "impact_override" in fields:
            services.update_incident_details(
                incident, actor=self.actor, name=text(fields, "name", incident.name),
                impact=text(fields, "impact_override", None),
            )  # fmt: skip
        if {"status", "body", "components", "component_ids"} & set(fields):
            services.post_incident_update(
                incident,
                actor=self.actor,
                status=text(fields, "status") or incident.status,
                body=text(fields, "body") or "",
                component_statuses=_component_statuses(page, fields) or None,
                deliver_notifications=as_bool(fields.get("deliver_notifications"), True),
            )
        return Response(_json(_reload(page, incident), page, request.auth))

    put = patch

    def delete(self, request, page_id, incident_id):
        page = self.page(page_id)
        incident = self._incident(page, incident_id)
        data = _json(incident, page, request.auth)
        services.delete_incident(incident, actor=self.actor, confirm_name=incident.name)
        return Response(data)


class MaintenanceList(OrganizationAPIView):
    """`upcoming`, `active_maintenance` and `scheduled` lists of Statuspage's v1."""

    write_role = Role.RESPONDER
    selection = "upcoming"

    def get(self, request, page_id):
        page = self.page(page_id)
        if self.selection == "active":
            incidents = list(active_maintenances(page))
        elif self.selection == "upcoming":
            incidents = list(upcoming_maintenances(page))
        else:
            incidents = recent_incidents(page, kind=IncidentKind.MAINTENANCE, limit=1000)
        return Response([_json(i, page, request.auth) for i in paginate(request, incidents)])


class ActiveMaintenanceList(MaintenanceList):
    selection = "active"


class ScheduledList(MaintenanceList):
    selection = "scheduled"


class IncidentUpdateDetail(OrganizationAPIView):
    """Edit a posted update's `body`, `display_at` or `deliver_notifications`."""

    write_role = Role.RESPONDER

    def patch(self, request, page_id, incident_id, update_id):
        page = self.page(page_id)
        incident = incident_or_404(page, incident_id)
        try:
            update = get_update_for_incident(incident, update_id)
        except Http404 as error:
            raise not_found("incident update") from error
        fields = resource_fields(request.data, "incident_update")
        services.edit_incident_update(
            update, actor=self.actor, body=text(fields, "body", update.body) or "",
            display_at=_when(fields.get("display_at"), "display_at"),
        )  # fmt: skip
        if "deliver_notifications" in fields:
            IncidentUpdate.objects.filter(pk=update.pk, fanned_out_at__isnull=True).update(
                deliver_notifications=as_bool(fields["deliver_notifications"])
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
    def get(self, request, page_id):
        page = self.page(page_id)
        templates = list(IncidentTemplate.objects.filter(page=page).prefetch_related("components"))
        return Response([template_json(t, page) for t in paginate(request, templates)])

    def post(self, request, page_id):
        page = self.page(page_id)
        fields = resource_fields(request.data, "template")
        template = services.create_incident_template(
            page, actor=self.actor, name=fields.get("name", ""), title=fields.get("title", ""),
            body=fields.get("body") or "", status=fields.get("update_status") or "investigating",
            impact=fields.get("impact") or "none",
            components=list(_component_statuses(page, fields)),
            deliver_notifications=as_bool(fields.get("should_send_notifications"), True),
        )  # fmt: skip
        return Response(template_json(template, page), status=http_status.HTTP_201_CREATED)


class TemplateDetail(OrganizationAPIView):
    def _template(self, page, template_id):
        template = IncidentTemplate.objects.filter(page=page, public_id=template_id).first()
        if template is None:
            raise not_found("template")
        return template

    def get(self, request, page_id, template_id):
        page = self.page(page_id)
        return Response(template_json(self._template(page, template_id), page))

    def patch(self, request, page_id, template_id):
        page = self.page(page_id)
        template = self._template(page, template_id)
        fields = resource_fields(request.data, "template")
        components = (
            list(_component_statuses(page, fields))
            if "component_ids" in fields else list(template.components.all())
        )  # fmt: skip
        services.update_incident_template(
            template, actor=self.actor, name=fields.get("name", template.name),
            title=fields.get("title", template.title), body=fields.get("body", template.body),
            status=fields.get("update_status", template.status),
            impact=fields.get("impact", template.impact), components=components,
            deliver_notifications=as_bool(fields.get("should_send_notifications"),
                                          template.deliver_notifications),
        )  # fmt: skip
        return Response(template_json(template, page))

    put = patch

    def delete(self, request, page_id, template_id):
        page = self.page(page_id)
        services.delete_incident_template(self._template(page, template_id), actor=self.actor)
        return Response(status=http_status.HTTP_204_NO_CONTENT)
