"""What a page's public site shows, composed from the apps' queries in a constant number of
queries whatever the history size (components, groups, uptime days, incident names, and the
incidents with their timelines)."""

from __future__ import annotations

import datetime
import zoneinfo
from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from components.enums import ComponentStatus, worst_status
from components.models import Component, ComponentGroup
from components.queries import list_components
from components.uptime import WINDOW_DAYS, daily_uptime
from incidents.enums import IncidentKind, IncidentStatus
from incidents.models import Incident
from incidents.queries import (
    describe_overall_status,
    incident_names_by_component_day,
    public_incidents,
)
from statuspage.models import Page
from statuspage.uptime_bars import format_percentage, uptime_bars

PAST_DAYS = 7


@dataclass
class ComponentRow:
    component: Component
    uptime_bars: SafeString | None = None
    uptime_percentage: str = ""


@dataclass
class GroupRow:
    group: ComponentGroup | None
    rows: list[ComponentRow]
    status: str = ComponentStatus.OPERATIONAL

    @property
    def status_label(self) -> str:
        return ComponentStatus(self.status).label


@dataclass
class FrontPage:
    page: Page
    indicator: str
    description: str
    active_incidents: list[Incident]
    active_maintenances: list[Incident]
    upcoming_maintenances: list[Incident]
    groups: list[GroupRow]
    past_days: list[tuple[datetime.date, list[Incident]]] = field(default_factory=list)
    updated_at: datetime.datetime | None = None


def component_layout(page: Page) -> list[tuple[ComponentGroup | None, list[Component]]]:
    """Ungrouped components, then each group with its components, from one query (a group
    without components has nothing to show the public)."""
    components = list(list_components(page))
    layout: list[tuple[ComponentGroup | None, list[Component]]] = [
        (None, [c for c in components if c.group_id is None])
    ]
    groups = {c.group_id: c.group for c in components if c.group_id is not None}
    for group in sorted(groups.values(), key=lambda g: (g.position, g.pk)):
        layout.append((group, [c for c in components if c.group_id == group.pk]))
    return layout


def is_visible(component: Component) -> bool:
    return not component.only_show_if_degraded or component.status != ComponentStatus.OPERATIONAL


def load_front_page(
    page: Page, now: datetime.datetime | None = None, *, with_uptime: bool = True
) -> FrontPage:
    """The front page; `with_uptime=False` skips the bars (and their two queries) for the
    badge and the embed, which show only the overall status."""
    now = now or timezone.now()
    zone = zoneinfo.ZoneInfo(page.time_zone)
    layout = component_layout(page)
    all_components = [c for _, children in layout for c in children]
    showcased = [c for c in all_components if with_uptime and c.showcase and is_visible(c)]
    uptime = daily_uptime(showcased, time_zone=page.time_zone, now=now) if showcased else {}
    since = now - datetime.timedelta(days=WINDOW_DAYS)
    names = incident_names_by_component_day(page, since=since, zone=zone) if showcased else {}
    groups = []
    for group, children in layout:
        rows = []
        for component in children:
            if not is_visible(component):
                continue
            row = ComponentRow(component)
            if component.pk in uptime:
                row.uptime_bars = mark_safe(
                    uptime_bars(uptime[component.pk], names.get(component.pk, {}))
                )
                row.uptime_percentage = format_percentage(uptime[component.pk].uptime_percentage)
            rows.append(row)
        if rows:
            groups.append(GroupRow(group, rows, worst_status(r.component.status for r in rows)))

    incidents = public_incidents(page, since=now - datetime.timedelta(days=PAST_DAYS + 1))
    active = [i for i in incidents if i.kind == IncidentKind.INCIDENT and not i.is_closed]
    running = [
        i for i in incidents if i.status in (IncidentStatus.IN_PROGRESS, IncidentStatus.VERIFYING)
    ]
    upcoming = sorted(
        (i for i in incidents if i.status == IncidentStatus.SCHEDULED),
        key=lambda i: i.scheduled_for,
    )
    indicator, description = describe_overall_status(
        [c.status for c in all_components], [i.impact for i in active], bool(running)
    )
    today = timezone.localtime(now, zone).date()
    past_days = []
    for offset in range(PAST_DAYS):
        day = today - datetime.timedelta(days=offset)
        on_day = [
            i
            for i in incidents
            if i.is_closed
            and i.resolved_at
            and timezone.localtime(i.started_at, zone).date() == day
        ]
        past_days.append((day, on_day))
    stamps = [page.updated_at, *(c.updated_at for c in all_components),
              *(i.updated_at for i in incidents)]  # fmt: skip
    return FrontPage(
        page=page,
        indicator=indicator,
        description=description,
        active_incidents=active,
        active_maintenances=running,
        upcoming_maintenances=upcoming,
        groups=groups,
        past_days=past_days,
        updated_at=max(stamps),
    )


def month_start(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def add_months(day: datetime.date, months: int) -> datetime.date:
    month = day.month - 1 + months
    return datetime.date(day.year + month // 12, month % 12 + 1, 1)
