"""Management API for components and component groups (Statuspage v1 shapes)."""

import zoneinfo

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework import status as http_status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from components import services
from components.enums import ComponentStatus, StatusCause
from components.models import Component, ComponentGroup
from components.queries import (
    components_by_public_ids,
    get_component_for_page,
    list_components,
)
from components.uptime import daily_uptime
from statuspage.api import (
    Flag,
    Ids,
    Line,
    OrganizationAPIView,
    ResourceFields,
    Text,
    as_bool,
    not_found,
    paginate,
    read_fields,
)
from statuspage.api_schema import resource_request
from statuspage.public_json import component_json, group_json


class ComponentSerializer(serializers.Serializer):
    """Statuspage's component."""

    id = serializers.CharField()
    name = serializers.CharField()
    status = serializers.ChoiceField(choices=ComponentStatus.choices)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    position = serializers.IntegerField(help_text="1 for the first on the page.")
    description = serializers.CharField(allow_null=True)
    showcase = serializers.BooleanField(help_text="Shown with uptime bars.")
    start_date = serializers.DateField(allow_null=True, help_text="Uptime counts from here.")
    group_id = serializers.CharField(allow_null=True)
    page_id = serializers.CharField()
    group = serializers.BooleanField(help_text="Always false for a component.")
    only_show_if_degraded = serializers.BooleanField()


class ComponentGroupSerializer(ComponentSerializer):
    """Statuspage's component group: a component row with `group: true` and its members."""

    status = serializers.ChoiceField(choices=ComponentStatus.choices,
                                     help_text="The worst of its components.")  # fmt: skip
    group = serializers.BooleanField(help_text="Always true for a group.")
    components = serializers.ListField(child=serializers.CharField(),
                                       help_text="Ids of its components, in order.")  # fmt: skip


class UptimeSerializer(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    range_start = serializers.DateField(allow_null=True)
    range_end = serializers.DateField(allow_null=True)
    uptime_percentage = serializers.FloatField()
    major_outage = serializers.IntegerField(help_text="Seconds.")
    partial_outage = serializers.IntegerField(help_text="Seconds.")
    related_events = serializers.ListField(child=serializers.DictField(), help_text="Always [].")
    warnings = serializers.ListField(child=serializers.CharField())
    time_zone = serializers.CharField()


class ComponentFields(ResourceFields):
    resource = "component"
    name = Line()
    description = Text()
    status = serializers.ChoiceField(choices=ComponentStatus.choices, required=False)
    group_id = Text(help_text="A component group of this page; null or empty: none.")
    showcase = Flag(help_text="Defaults to true.")
    only_show_if_degraded = Flag(help_text="Defaults to false.")
    start_date = serializers.DateField(required=False, allow_null=True)


class ComponentGroupFields(ResourceFields):
    resource = "component_group"
    name = Line()
    description = Text()
    components = Ids(help_text="Ids of the components in the group (PATCH: replaces them).")


COMPONENT_BODY = resource_request(ComponentFields, name="ComponentWrite")
GROUP_BODY = resource_request(ComponentGroupFields, name="ComponentGroupWrite")


def _json(component, page):
    return component_json(component, page, zoneinfo.ZoneInfo(page.time_zone))


def _group(page, group_id):
    if not group_id:
        return None
    group = ComponentGroup.objects.filter(page=page, public_id=group_id).first()
    if group is None:
        raise ValidationError({"group_id": ["No such component group on this page."]})
    return group


class ComponentList(OrganizationAPIView):
    @extend_schema(summary="Components of a page", responses={200: ComponentSerializer(many=True)})
    def get(self, request, page_id):
        page = self.page(page_id)
        components = paginate(request, list(list_components(page)))
        return Response([_json(c, page) for c in components])

    @extend_schema(summary="Add a component", request=COMPONENT_BODY,
                   responses={201: ComponentSerializer})  # fmt: skip
    def post(self, request, page_id):
        page = self.page(page_id)
        fields = read_fields(request, ComponentFields)
        component = services.create_component(
            page,
            actor=self.actor,
            name=fields.get("name") or "",
            description=fields.get("description") or "",
            group=_group(page, fields.get("group_id")),
            showcase=as_bool(fields.get("showcase"), True),
            only_show_if_degraded=as_bool(fields.get("only_show_if_degraded"), False),
            start_date=fields.get("start_date"),
            status=fields.get("status", ComponentStatus.OPERATIONAL),
        )
        return Response(_json(component, page), status=http_status.HTTP_201_CREATED)


def component_or_404(page, component_id) -> Component:
    try:
        return get_component_for_page(page, component_id)
    except Http404 as error:
        raise not_found("component") from error


COMPONENT_DETAILS = {"name", "description", "group_id", "showcase", "only_show_if_degraded",
                     "start_date"}  # fmt: skip


def _move(component, group, *, actor):
    services.update_component(
        component, actor=actor, name=component.name, description=component.description,
        group=group, showcase=component.showcase,
        only_show_if_degraded=component.only_show_if_degraded, start_date=component.start_date,
    )  # fmt: skip


class ComponentDetail(OrganizationAPIView):
    @extend_schema(summary="A component", responses={200: ComponentSerializer})
    def get(self, request, page_id, component_id):
        page = self.page(page_id)
        return Response(_json(component_or_404(page, component_id), page))

    @extend_schema(summary="Change a component (a new status is recorded as set by the API)",
                   request=COMPONENT_BODY, responses={200: ComponentSerializer})  # fmt: skip
    def patch(self, request, page_id, component_id):
        page = self.page(page_id)
        component = component_or_404(page, component_id)
        fields = read_fields(request, ComponentFields, partial=True)
        if "status" in fields:
            component = services.set_component_status(
                component, actor=self.actor, status=fields["status"], cause=StatusCause.API
            )
        if COMPONENT_DETAILS & set(fields):
            services.update_component(
                component,
                actor=self.actor,
                name=fields.get("name", component.name) or "",
                description=fields.get("description", component.description) or "",
                group=_group(page, fields["group_id"]) if "group_id" in fields else component.group,
                showcase=as_bool(fields.get("showcase"), component.showcase),
                only_show_if_degraded=as_bool(
                    fields.get("only_show_if_degraded"), component.only_show_if_degraded
                ),
                start_date=fields.get("start_date", component.start_date),
            )
        component.refresh_from_db()
        return Response(_json(component, page))

    put = patch

    @extend_schema(summary="Delete a component", responses={204: None})
    def delete(self, request, page_id, component_id):
        page = self.page(page_id)
        services.delete_component(component_or_404(page, component_id), actor=self.actor)
        return Response(status=http_status.HTTP_204_NO_CONTENT)


def _group_json(group, page):
    zone = zoneinfo.ZoneInfo(page.time_zone)
    return group_json(group, list(group.components.all()), page, zone)


def components_named(page, component_ids, *, field: str) -> list[Component]:
    """The page's components with these ids; a 400 on `field` if any is not the page's."""
    try:
        return components_by_public_ids(page, set(component_ids))
    except Http404 as error:
        raise ValidationError({field: ["Unknown component on this page."]}) from error


def _set_members(group, members, *, actor):
    """The group holds exactly these components."""
    for component in group.components.exclude(pk__in=[c.pk for c in members]):
        _move(component, None, actor=actor)
    for component in members:
        if component.group_id != group.pk:
            _move(component, group, actor=actor)


class GroupList(OrganizationAPIView):
    @extend_schema(summary="Component groups of a page",
                   responses={200: ComponentGroupSerializer(many=True)})  # fmt: skip
    def get(self, request, page_id):
        page = self.page(page_id)
        groups = ComponentGroup.objects.filter(page=page).prefetch_related("components")
        return Response([_group_json(g, page) for g in paginate(request, list(groups))])

    @extend_schema(summary="Add a component group", request=GROUP_BODY,
                   responses={201: ComponentGroupSerializer})  # fmt: skip
    def post(self, request, page_id):
        page = self.page(page_id)
        fields = read_fields(request, ComponentGroupFields)
        members = components_named(page, fields.get("components", []), field="components")
        group = services.create_group(page, actor=self.actor, name=fields.get("name") or "",
                                      description=fields.get("description") or "")  # fmt: skip
        _set_members(group, members, actor=self.actor)
        return Response(_group_json(group, page), status=http_status.HTTP_201_CREATED)


class GroupDetail(OrganizationAPIView):
    def _group(self, page, group_id):
        group = ComponentGroup.objects.filter(page=page, public_id=group_id).first()
        if group is None:
            raise not_found("component group")
        return group

    @extend_schema(summary="A component group", responses={200: ComponentGroupSerializer})
    def get(self, request, page_id, group_id):
        page = self.page(page_id)
        return Response(_group_json(self._group(page, group_id), page))

    @extend_schema(summary="Change a component group", request=GROUP_BODY,
                   responses={200: ComponentGroupSerializer})  # fmt: skip
    def patch(self, request, page_id, group_id):
        page = self.page(page_id)
        group = self._group(page, group_id)
        fields = read_fields(request, ComponentGroupFields, partial=True)
        members = components_named(page, fields.get("components", []), field="components")
        services.update_group(group, actor=self.actor, name=fields.get("name", group.name) or "",
                              description=fields.get("description", group.description) or "",
                              is_collapsed=group.is_collapsed)  # fmt: skip
        if "components" in fields:
            _set_members(group, members, actor=self.actor)
        return Response(_group_json(group, page))

    put = patch

    @extend_schema(summary="Delete a component group (its components stay, ungrouped)",
                   responses={204: None})  # fmt: skip
    def delete(self, request, page_id, group_id):
        page = self.page(page_id)
        services.delete_group(self._group(page, group_id), actor=self.actor)
        return Response(status=http_status.HTTP_204_NO_CONTENT)


class ComponentUptime(OrganizationAPIView):
    """Statuspage's uptime endpoint over our daily rows (at most 90 days)."""

    @extend_schema(summary="A component's uptime over the last 90 days",
                   responses={200: UptimeSerializer})  # fmt: skip
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
