"""Management API for components (Statuspage v1 shapes)."""

import datetime
import zoneinfo

from django.http import Http404
from rest_framework import status as http_status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from components import services
from components.enums import ComponentStatus, StatusCause
from components.models import Component, ComponentGroup
from components.queries import get_component_for_page, list_components
from components.uptime import daily_uptime
from statuspage.api import (
    OrganizationAPIView,
    as_bool,
    not_found,
    paginate,
    resource_fields,
    text,
)
from statuspage.public_json import component_json, group_json


def _json(component, page):
    return component_json(component, page, zoneinfo.ZoneInfo(page.time_zone))


def _group(page, group_id):
    if not group_id:
        return None
    group = ComponentGroup.objects.filter(page=page, public_id=group_id).first()
    if group is None:
        raise ValidationError({"group_id": ["No such component group on this page."]})
    return group


def _status(value):
    if value not in ComponentStatus.values:
        raise ValidationError({"status": [f"Use one of: {', '.join(ComponentStatus.values)}."]})
    return value


def _date(value):
    if not value:
        return None
    try:
        return datetime.date.fromisoformat(str(value))
    except ValueError as error:
        raise ValidationError({"start_date": ["Use YYYY-MM-DD."]}) from error


class ComponentList(OrganizationAPIView):
    def get(self, request, page_id):
        page = self.page(page_id)
        components = paginate(request, list(list_components(page)))
        return Response([_json(c, page) for c in components])

    def post(self, request, page_id):
        page = self.page(page_id)
        fields = resource_fields(request.data, "component")
        component = services.create_component(
            page,
            actor=self.actor,
            name=text(fields, "name"),
            description=text(fields, "description") or "",
            group=_group(page, fields.get("group_id")),
            showcase=as_bool(fields.get("showcase"), True),
            only_show_if_degraded=as_bool(fields.get("only_show_if_degraded"), False),
            start_date=_date(fields.get("start_date")),
            status=_status(fields.get("status", "operational")),
        )
        return Response(_json(component, page), status=http_status.HTTP_201_CREATED)


def component_or_404(page, component_id) -> Component:
    try:
        return get_component_for_page(page, component_id)
    except Http404 as error:
        raise not_found("component") from error


class ComponentDetail(OrganizationAPIView):
    def _component(self, page, component_id) -> Component:
        return component_or_404(page, component_id)

    def get(self, request, page_id, component_id):
        page = self.page(page_id)
        return Response(_json(self._component(page, component_id), page))

    def patch(self, request, page_id, component_id):
        page = self.page(page_id)
        component = self._component(page, component_id)
        fields = resource_fields(request.data, "component")
        if "status" in fields:
            component = services.set_component_status(
                component, actor=self.actor, status=_status(fields["status"]), cause=StatusCause.API
            )
        details = {"name", "description", "group_id", "showcase", "only_show_if_degraded",
                   "start_date"}  # fmt: skip
        if details & set(fields):
            services.update_component(
                component,
                actor=self.actor,
                name=text(fields, "name", component.name),
                description=text(fields, "description", component.description) or "",
                group=_group(page, fields["group_id"]) if "group_id" in fields else component.group,
                showcase=as_bool(fields.get("showcase"), component.showcase),
                only_show_if_degraded=as_bool(
                    fields.get("only_show_if_degraded"), component.only_show_if_degraded
                ),
                start_date=_date(fields["start_date"]) if "start_date" in fields
                else component.start_date,
            )  # fmt: skip
        component.refresh_from_db()
        return Response(_json(component, page))

    put = patch

    def delete(self, request, page_id, component_id):
        page = self.page(page_id)
        services.delete_component(self._component(page, component_id), actor=self.actor)
        return Response(status=http_status.HTTP_204_NO_CONTENT)


def _group_json(group, page):
    zone = zoneinfo.ZoneInfo(page.time_zone)
    return group_json(group, list(group.components.all()), page, zone)


class GroupList(OrganizationAPIView):
    def get(self, request, page_id):
        page = self.page(page_id)
        groups = ComponentGroup.objects.filter(page=page).prefetch_related("components")
        return Response([_group_json(g, page) for g in paginate(request, list(groups))])

    def post(self, request, page_id):
        page = self.page(page_id)
        fields = resource_fields(request.data, "component_group")
        group = services.create_group(page, actor=self.actor, name=fields.get("name", ""),
                                      description=fields.get("description") or "")  # fmt: skip
        for component_id in fields.get("components") or []:
            component = component_or_404(page, component_id)
            services.update_component(
                component, actor=self.actor, name=component.name,
                description=component.description, group=group, showcase=component.showcase,
                only_show_if_degraded=component.only_show_if_degraded,
                start_date=component.start_date,
            )  # fmt: skip
        return Response(_group_json(group, page), status=http_status.HTTP_201_CREATED)


class GroupDetail(OrganizationAPIView):
    def _group(self, page, group_id):
        group = ComponentGroup.objects.filter(page=page, public_id=group_id).first()
        if group is None:
            raise not_found("component group")
        return group

    def get(self, request, page_id, group_id):
        page = self.page(page_id)
        return Response(_group_json(self._group(page, group_id), page))

    def patch(self, request, page_id, group_id):
        page = self.page(page_id)
        group = self._group(page, group_id)
        fields = resource_fields(request.data, "component_group")
        services.update_group(group, actor=self.actor, name=fields.get("name", group.name),
                              description=fields.get("description", group.description) or "",
                              is_collapsed=group.is_collapsed)  # fmt: skip
        return Response(_group_json(group, page))

    put = patch

    def delete(self, request, page_id, group_id):
        page = self.page(page_id)
        services.delete_group(self._group(page, group_id), actor=self.actor)
        return Response(status=http_status.HTTP_204_NO_CONTENT)


class ComponentUptime(OrganizationAPIView):
    """Statuspage's uptime endpoint over our daily rows (at most 90 days)."""

    def get(self, request, page_id, component_id):
        page = self.page(page_id)
        component = component_or_404(page, component_id)
        days = daily_uptime([component], time_zone=page.time_zone)[component.pk]
        counted = [d for d in days.days if d.has_data]
        zone = zoneinfo.ZoneInfo(page.time_zone)
        return Response({
            "id": component.public_id,
            "name": component.name,
            "range_start": counted[0].day.isoformat() if counted else None,
            "range_end": counted[-1].day.isoformat() if counted else None,
            "uptime_percentage": round(days.uptime_percentage, 4),
            "major_outage": round(sum(d.major_outage_seconds for d in counted)),
            "partial_outage": round(sum(d.partial_outage_seconds for d in counted)),
            "related_events": [],
            "warnings": [] if counted else ["No data in the range."],
            "time_zone": str(zone),
        })  # fmt: skip
