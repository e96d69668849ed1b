"""Reads of components for the console, the public site and the API."""

from __future__ import annotations

from django.db.models import Count, QuerySet
from django.http import Http404

from components.models import Component, ComponentGroup, ComponentStatusChange
from statuspage.models import Page


def page_has_components(page: Page) -> bool:
    return Component.objects.filter(page=page).exists()


def list_components(page: Page) -> QuerySet[Component]:
    """Every component in display order: ungrouped first, then by group position."""
    return (
        Component.objects.filter(page=page)
        .select_related("group")
        .order_by("group__position", "group_id", "position", "id")
    )


def list_groups(page: Page) -> QuerySet[ComponentGroup]:
    return ComponentGroup.objects.filter(page=page).order_by("position", "id")


def grouped_components(page: Page) -> list[tuple[ComponentGroup | None, list[Component]]]:
    """[(None, ungrouped), (group, its components), …] in display order; two queries."""
    components = list(list_components(page))
    layout: list[tuple[ComponentGroup | None, list[Component]]] = [
        (None, [c for c in components if c.group_id is None])
    ]
    for group in list_groups(page):
        layout.append((group, [c for c in components if c.group_id == group.pk]))
    return layout


def get_component_for_page(page: Page, public_id: str) -> Component:
    component = Component.objects.filter(page=page, public_id=public_id).first()
    if component is None:
        raise Http404("No such component.")
    return component


def get_group_for_page(page: Page, public_id: str) -> ComponentGroup:
    group = ComponentGroup.objects.filter(page=page, public_id=public_id).first()
    if group is None:
        raise Http404("No such group.")
    return group


def components_by_public_ids(page: Page, public_ids) -> list[Component]:
    """The page's components named by `public_ids`; 404 if any is missing or not this page's."""
    wanted = set(public_ids)
    found = list(Component.objects.filter(page=page, public_id__in=wanted))
    if len(found) != len(wanted):
        raise Http404("No such component.")
    return found


def recent_status_changes(component: Component, limit: int = 20) -> list[ComponentStatusChange]:
    return list(
        ComponentStatusChange.objects.filter(component=component, is_backfilled=False).order_by(
            "-changed_at", "-id"
        )[:limit]
    )


def status_counts(page: Page) -> dict[str, int]:
    rows = Component.objects.filter(page=page).values("status").annotate(n=Count("id"))
    return {row["status"]: row["n"] for row in rows}
