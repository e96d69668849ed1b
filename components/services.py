"""Writes of components: the catalogue, the order, and the one place their status is derived.

The status visitors see is the worst of the component's baseline (set by hand) and every claim
an unresolved incident or running maintenance holds on it. `recompute_statuses` is the only
function that writes `Component.status`, and it appends a history row for every change.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping

from django.db import transaction
from django.utils import timezone

from components.enums import ComponentStatus, StatusCause, worst_status
from components.models import Component, ComponentGroup, ComponentStatusChange, ComponentStatusClaim
from components.uptime import rebuild_uptime_days
from statuspage.actors import Actor
from statuspage.audit import record_audit, snapshot
from statuspage.errors import DomainError
from statuspage.models import Page
from statuspage.publishing import public_content_changed
from statuspage.queue import enqueue_on_commit

COMPONENT_FIELDS = [
    "name",
    "description",
    "group",
    "showcase",
    "only_show_if_degraded",
    "start_date",
    "baseline_status",
]
GROUP_FIELDS = ["name", "description", "is_collapsed"]
StatusChanges = dict[Component, tuple[str, str]]
# Webhook subscribers hear of each change; by dotted path, so components never imports them.
COMPONENT_FAN_OUT_JOB = "subscribers.jobs.fan_out_component_change_job"


def _check_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise DomainError("Give it a name.", field="name")
    if len(name) > 255:
        raise DomainError("Keep the name to 255 characters.", field="name")
    return name


def _check_group(page: Page, group: ComponentGroup | None) -> None:
    if group is not None and group.page_id != page.pk:
        raise DomainError("That group belongs to another page.", field="group")


def _next_position(page: Page, group: ComponentGroup | None) -> int:
    last = Component.objects.filter(page=page, group=group).order_by("-position").first()
    return (last.position + 1) if last else 0


# --- Derived status -----------------------------------------------------------------------


def recompute_statuses(
    components: Iterable[Component],
    *,
    at: datetime.datetime,
    cause: str,
    source_id: str = "",
) -> StatusChanges:
    """Derive each component's status from its baseline and claims; record every change.

    Locks the component rows so two concurrent incident writes cannot lose a change."""
    ids = sorted({component.pk for component in components})
    changes: StatusChanges = {}
    locked = (
        Component.objects.select_for_update(of=("self",))
        .select_related("page")
        .filter(pk__in=ids)
        .order_by("pk")
    )
    claims: dict[int, list[str]] = {}
    for component_id, status in ComponentStatusClaim.objects.filter(
        component_id__in=ids
    ).values_list("component_id", "status"):
        claims.setdefault(component_id, []).append(status)
    for component in locked:
        new = worst_status([component.baseline_status, *claims.get(component.pk, [])])
        if new == component.status:
            continue
        old = component.status
        component.status = new
        component.save(update_fields=["status", "updated_at"])
        change = ComponentStatusChange.objects.create(
            organization_id=component.organization_id,
            page_id=component.page_id,
            component=component,
            old_status=old,
            new_status=new,
            changed_at=at,
            cause=cause,
            source_id=source_id,
        )
        # The row is the outbox; this is only the fast path (the sweep catches what it drops).
        enqueue_on_commit(COMPONENT_FAN_OUT_JOB, change.pk)
        changes[component] = (old, str(new))
        rebuild_uptime_days(component, since=at)
    if changes:
        public_content_changed(next(iter(changes)).page)
    return changes


def apply_status_claims(
    page: Page,
    *,
    source_id: str,
    cause: StatusCause,
    statuses: Mapping[Component, str],
    at: datetime.datetime,
) -> StatusChanges:
    """Make `statuses` the complete set of claims `source_id` holds, then recompute."""
    for component in statuses:
        if component.page_id != page.pk:
            raise DomainError("That component belongs to another page.", field="components")
    with transaction.atomic():
        existing = ComponentStatusClaim.objects.filter(
            component__page=page, source_id=source_id
        ).select_related("component")
        touched = {claim.component for claim in existing}
        existing.exclude(component__in=list(statuses)).delete()
        for component, status in statuses.items():
            ComponentStatusClaim.objects.update_or_create(
                component=component,
                source_id=source_id,
                defaults={
                    "organization_id": page.organization_id,
                    "cause": cause,
                    "status": ComponentStatus(status),
                },
            )
            touched.add(component)
        return recompute_statuses(touched, at=at, cause=cause, source_id=source_id)


def release_status_claims(
    page: Page, *, source_id: str, cause: StatusCause, at: datetime.datetime
) -> StatusChanges:
    return apply_status_claims(page, source_id=source_id, cause=cause, statuses={}, at=at)


def record_backfilled_impact(
    page: Page,
    *,
    source_id: str,
    statuses: Mapping[Component, str],
    started_at: datetime.datetime,
    ended_at: datetime.datetime,
) -> None:
    """A retroactive incident's past impact, for uptime: history only, live status untouched."""
    rows = []
    for component, status in statuses.items():
        if component.page_id != page.pk:
            raise DomainError("That component belongs to another page.", field="components")
        if status == ComponentStatus.OPERATIONAL:
            continue
        common = {
            "organization_id": page.organization_id,
            "page": page,
            "component": component,
            "cause": StatusCause.INCIDENT,
            "source_id": source_id,
            "is_backfilled": True,
        }
        rows.append(
            ComponentStatusChange(
                old_status=ComponentStatus.OPERATIONAL,
                new_status=status,
                changed_at=started_at,
                **common,
            )
        )
        rows.append(ComponentStatusChange(old_status=status,
                                          new_status=ComponentStatus.OPERATIONAL,
                                          changed_at=ended_at, **common))  # fmt: skip
    ComponentStatusChange.objects.bulk_create(rows)
    for component in statuses:
        rebuild_uptime_days(component, since=started_at)
    public_content_changed(page)


def rebuild_page_uptime(page: Page) -> None:
    """Recompute every daily uptime row of the page (after its time zone changed)."""
    first = ComponentStatusChange.objects.filter(page=page).order_by("changed_at").first()
    if first is None:
        return
    for component in Component.objects.filter(page=page).select_related("page"):
        rebuild_uptime_days(component, since=first.changed_at)
    public_content_changed(page)


# --- Components ---------------------------------------------------------------------------


def create_component(
    page: Page,
    *,
    actor: Actor,
    name: str,
    description: str = "",
    group: ComponentGroup | None = None,
    showcase: bool = True,
    only_show_if_degraded: bool = False,
    start_date: datetime.date | None = None,
    status: str = ComponentStatus.OPERATIONAL,
) -> Component:
    name = _check_name(name)
    _check_group(page, group)
    with transaction.atomic():
        component = Component.objects.create(
            organization_id=page.organization_id,
            page=page,
            group=group,
            name=name,
            description=description,
            showcase=showcase,
            only_show_if_degraded=only_show_if_degraded,
            start_date=start_date,
            baseline_status=ComponentStatus(status),
            status=ComponentStatus(status),
            position=_next_position(page, group),
            uptime_covered_until=timezone.now(),
        )
        record_audit(
            page.organization,
            actor=actor,
            verb="component.created",
            target=component,
            page=page,
            after=snapshot(component, COMPONENT_FIELDS),
        )
        public_content_changed(page)
    return component


def update_component(
    component: Component,
    *,
    actor: Actor,
    name: str,
    description: str,
    group: ComponentGroup | None,
    showcase: bool,
    only_show_if_degraded: bool,
    start_date: datetime.date | None,
) -> Component:
    name = _check_name(name)
    _check_group(component.page, group)
    before = snapshot(component, COMPONENT_FIELDS)
    with transaction.atomic():
        if group != component.group:
            component.position = _next_position(component.page, group)
        component.name = name
        component.description = description
        component.group = group
        component.showcase = showcase
        component.only_show_if_degraded = only_show_if_degraded
        component.start_date = start_date
        component.save()
        after = snapshot(component, COMPONENT_FIELDS)
        record_audit(
            component.page.organization,
            actor=actor,
            verb="component.updated",
            target=component,
            page=component.page,
            before={k: v for k, v in before.items() if after[k] != v},
            after={k: v for k, v in after.items() if before[k] != v},
        )
        public_content_changed(component.page)
    return component


def delete_component(component: Component, *, actor: Actor) -> None:
    page = component.page
    with transaction.atomic():
        record_audit(
            page.organization,
            actor=actor,
            verb="component.deleted",
            target=component,
            page=page,
            before=snapshot(component, COMPONENT_FIELDS),
        )
        component.delete()
        public_content_changed(page)


def set_component_status(
    component: Component,
    *,
    actor: Actor,
    status: str,
    cause: StatusCause = StatusCause.MANUAL,
    at: datetime.datetime | None = None,
) -> Component:
    """Set the baseline by hand; the visible status follows unless an incident says worse."""
    status = ComponentStatus(status)
    with transaction.atomic():
        before = {"baseline_status": component.baseline_status, "status": component.status}
        Component.objects.filter(pk=component.pk).update(baseline_status=status)
        recompute_statuses([component], at=at or timezone.now(), cause=cause)
        component.refresh_from_db()
        record_audit(
            component.page.organization,
            actor=actor,
            verb="component.status_changed",
            target=component,
            page=component.page,
            before=before,
            after={"baseline_status": component.baseline_status, "status": component.status},
        )
        public_content_changed(component.page)
    return component


def move_component(component: Component, *, actor: Actor, direction: str) -> None:
    """Swap with the neighbour above or below in the same group (the console's arrows)."""
    siblings = list(Component.objects.filter(page=component.page, group=component.group))
    index = next(i for i, c in enumerate(siblings) if c.pk == component.pk)
    target = index - 1 if direction == "up" else index + 1
    if not 0 <= target < len(siblings):
        return
    siblings[index], siblings[target] = siblings[target], siblings[index]
    with transaction.atomic():
        _renumber(siblings)
        record_audit(
            component.page.organization,
            actor=actor,
            verb="component.moved",
            target=component,
            page=component.page,
            after={"direction": direction},
        )
        public_content_changed(component.page)


def _renumber(items: list) -> None:
    for position, item in enumerate(items):
        if item.position != position:
            type(item).objects.filter(pk=item.pk).update(position=position)
            item.position = position


def reorder_components(
    page: Page,
    *,
    actor: Actor,
    layout: list[tuple[ComponentGroup | None, list[Component]]],
    group_order: list[ComponentGroup],
) -> None:
    """Put components (within and across groups) and groups in the given order."""
    for group in group_order:
        _check_group(page, group)
    with transaction.atomic():
        for group, components in layout:
            _check_group(page, group)
            for position, component in enumerate(components):
                if component.page_id != page.pk:
                    raise DomainError("That component belongs to another page.")
                Component.objects.filter(pk=component.pk).update(group=group, position=position)
        _renumber(list(group_order))
        record_audit(
            page.organization,
            actor=actor,
            verb="component.reordered",
            target=page,
            page=page,
            after={
                "groups": [g.public_id for g in group_order],
                "layout": [
                    [g.public_id if g else None, [c.public_id for c in cs]] for g, cs in layout
                ],
            },
        )
        public_content_changed(page)


# --- Groups -------------------------------------------------------------------------------


def create_group(
    page: Page, *, actor: Actor, name: str, description: str = "", is_collapsed: bool = False
) -> ComponentGroup:
    name = _check_name(name)
    with transaction.atomic():
        last = ComponentGroup.objects.filter(page=page).order_by("-position").first()
        group = ComponentGroup.objects.create(
            organization_id=page.organization_id,
            page=page,
            name=name,
            description=description,
            is_collapsed=is_collapsed,
            position=(last.position + 1) if last else 0,
        )
        record_audit(
            page.organization,
            actor=actor,
            verb="component_group.created",
            target=group,
            page=page,
            after=snapshot(group, GROUP_FIELDS),
        )
        public_content_changed(page)
    return group


def update_group(
    group: ComponentGroup, *, actor: Actor, name: str, description: str, is_collapsed: bool
) -> ComponentGroup:
    name = _check_name(name)
    before = snapshot(group, GROUP_FIELDS)
    with transaction.atomic():
        group.name, group.description, group.is_collapsed = name, description, is_collapsed
        group.save()
        record_audit(
            group.page.organization,
            actor=actor,
            verb="component_group.updated",
            target=group,
            page=group.page,
            before=before,
            after=snapshot(group, GROUP_FIELDS),
        )
        public_content_changed(group.page)
    return group


def delete_group(group: ComponentGroup, *, actor: Actor) -> None:
    """The group's components stay, ungrouped, after the ones already ungrouped."""
    page = group.page
    with transaction.atomic():
        start = _next_position(page, None)
        for offset, component in enumerate(Component.objects.filter(group=group)):
            Component.objects.filter(pk=component.pk).update(group=None, position=start + offset)
        record_audit(
            page.organization,
            actor=actor,
            verb="component_group.deleted",
            target=group,
            page=page,
            before=snapshot(group, GROUP_FIELDS),
        )
        group.delete()
        public_content_changed(page)


def move_group(group: ComponentGroup, *, actor: Actor, direction: str) -> None:
    groups = list(ComponentGroup.objects.filter(page=group.page))
    index = next(i for i, g in enumerate(groups) if g.pk == group.pk)
    target = index - 1 if direction == "up" else index + 1
    if not 0 <= target < len(groups):
        return
    groups[index], groups[target] = groups[target], groups[index]
    with transaction.atomic():
        _renumber(groups)
        record_audit(
            group.page.organization,
            actor=actor,
            verb="component_group.moved",
            target=group,
            page=group.page,
            after={"direction": direction},
        )
        public_content_changed(group.page)
