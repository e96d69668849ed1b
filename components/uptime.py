"""Uptime from the status history, precomputed per day so the public page never scans it.

The rule (also in the README): at every instant a component's effective status is the worst of
its live status (the history rows) and any backfilled incident's impact covering that instant.
`major_outage` counts fully as down, `partial_outage` counts 0.3 of its time as down;
degraded performance and maintenance count as up. Days are the page's time zone's days, and
days before the component's `start_date` are neither shown nor counted.

`rebuild_uptime_days` rewrites the daily rows from a given moment on, after each change; the
rows are exact up to `Component.uptime_covered_until`, after which the component has simply
kept its current status, which `daily_uptime` adds when it reads.
"""

from __future__ import annotations

import bisect
import datetime
import itertools
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

from django.utils import timezone

from components.enums import ComponentStatus, worst_status
from components.models import Component, ComponentStatusChange, ComponentUptimeDay

PARTIAL_WEIGHT = 0.3
WINDOW_DAYS = 90


def day_bounds(day: datetime.date, zone: zoneinfo.ZoneInfo) -> tuple[datetime.datetime, ...]:
    start = datetime.datetime.combine(day, datetime.time.min, tzinfo=zone)
    end = datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time.min,
                                    tzinfo=zone)  # fmt: skip
    return start.astimezone(datetime.UTC), end.astimezone(datetime.UTC)


def _overlap(a0, a1, b0, b1) -> float:
    return max(0.0, (min(a1, b1) - max(a0, b0)).total_seconds())


@dataclass
class _Timeline:
    """The effective status over time, as sorted change points."""

    times: list[datetime.datetime]
    statuses: list[str]

    def pieces(self, start, end):
        """(t0, t1, status) covering [start, end)."""
        inner = self.times[
            bisect.bisect_right(self.times, start) : bisect.bisect_left(self.times, end)
        ]
        cuts = [start, *inner, end]
        for t0, t1 in itertools.pairwise(cuts):
            index = bisect.bisect_right(self.times, t0) - 1
            yield t0, t1, self.statuses[index] if index >= 0 else ComponentStatus.OPERATIONAL


def _effective_timeline(status_before: str, start, live, backfills) -> _Timeline:
    live_points = [(start, status_before)] + [(c.changed_at, c.new_status) for c in live]
    points = sorted({p for p, _ in live_points} | {t for a, b, _ in backfills for t in (a, b)})
    points = [p for p in points if p >= start]
    statuses = []
    live_times = [p for p, _ in live_points]
    for point in points:
        live_status = live_points[bisect.bisect_right(live_times, point) - 1][1]
        covering = [s for a, b, s in backfills if a <= point < b]
        statuses.append(worst_status([live_status, *covering]))
    return _Timeline(points, statuses)


def _backfilled_intervals(rows: Iterable[ComponentStatusChange]):
    """Pair each backfilled incident's rows (start: → status, end: → operational)."""
    opened: dict[str, tuple[datetime.datetime, str]] = {}
    intervals = []
    for row in rows:
        if row.new_status != ComponentStatus.OPERATIONAL:
            opened[row.source_id] = (row.changed_at, row.new_status)
        elif row.source_id in opened:
            began, status = opened.pop(row.source_id)
            intervals.append((began, row.changed_at, status))
    return intervals


def rebuild_uptime_days(component: Component, *, since: datetime.datetime, now=None) -> None:
    """Recompute the daily rows of `component` from the day holding `since` onwards."""
    now = now or timezone.now()
    if component.uptime_covered_until is not None:
        # Between the last rebuild and `since` the status was constant but not yet counted.
        since = min(since, component.uptime_covered_until)
    zone = zoneinfo.ZoneInfo(component.page.time_zone)
    first_day = timezone.localtime(min(since, now), zone).date()
    start, _ = day_bounds(first_day, zone)
    history = ComponentStatusChange.objects.filter(component=component)
    previous = (
        history.filter(is_backfilled=False, changed_at__lte=start)
        .order_by("-changed_at", "-id")
        .first()
    )
    live = list(
        history.filter(is_backfilled=False, changed_at__gt=start).order_by("changed_at", "id")
    )
    if previous is not None:
        status_before = previous.new_status
    else:
        status_before = live[0].old_status if live else component.status
    backfills = [
        (max(a, start), b, s)
        for a, b, s in _backfilled_intervals(
            history.filter(is_backfilled=True).order_by("changed_at", "id")
        )
        if b > start
    ]
    covered_until = max([start, *(c.changed_at for c in live), *(b for _, b, _ in backfills)])
    covered_until = min(covered_until, now)
    timeline = _effective_timeline(status_before, start, live, backfills)
    rows = []
    day = first_day
    while True:
        day_start, day_end = day_bounds(day, zone)
        if day_start >= covered_until:
            break
        major = partial = 0.0
        for t0, t1, status in timeline.pieces(day_start, min(day_end, covered_until)):
            if status == ComponentStatus.MAJOR_OUTAGE:
                major += (t1 - t0).total_seconds()
            elif status == ComponentStatus.PARTIAL_OUTAGE:
                partial += (t1 - t0).total_seconds()
        if major or partial:
            rows.append(ComponentUptimeDay(organization_id=component.organization_id,
                                           component=component, day=day,
                                           major_outage_seconds=major,
                                           partial_outage_seconds=partial))  # fmt: skip
        day += datetime.timedelta(days=1)
    ComponentUptimeDay.objects.filter(component=component, day__gte=first_day).delete()
    ComponentUptimeDay.objects.bulk_create(rows)
    Component.objects.filter(pk=component.pk).update(uptime_covered_until=covered_until)
    component.uptime_covered_until = covered_until


# --- Reading ----------------------------------------------------------------------------------


class UptimeDay(NamedTuple):
    day: datetime.date
    has_data: bool
    major_outage_seconds: float = 0.0
    partial_outage_seconds: float = 0.0
    counted_seconds: float = 0.0

    @property
    def down_seconds(self) -> float:
        return self.major_outage_seconds + PARTIAL_WEIGHT * self.partial_outage_seconds

    @property
    def uptime_percentage(self) -> float:
        if not self.counted_seconds:
            return 100.0
        return max(0.0, 100.0 * (1 - self.down_seconds / self.counted_seconds))


@dataclass(frozen=True)
class ComponentUptime:
    component: Component
    days: list[UptimeDay]

    @property
    def uptime_percentage(self) -> float:
        counted = sum(d.counted_seconds for d in self.days)
        # Days without downtime add nothing; skipping them keeps the sum exactly the same.
        down = sum(
            d.down_seconds for d in self.days if d.major_outage_seconds or d.partial_outage_seconds
        )
        return 100.0 if not counted else max(0.0, 100.0 * (1 - down / counted))


def first_counted_day(component: Component, zone) -> datetime.date:
    if component.start_date:
        return component.start_date
    return timezone.localtime(component.created_at, zone).date()


def daily_uptime(
    components: list[Component],
    *,
    time_zone: str,
    days: int = WINDOW_DAYS,
    now: datetime.datetime | None = None,
) -> dict[int, ComponentUptime]:
    """Per component id: the last `days` days (oldest first), from one query."""
    now = now or timezone.now()
    zone = zoneinfo.ZoneInfo(time_zone)
    today = timezone.localtime(now, zone).date()
    first = today - datetime.timedelta(days=days - 1)
    stored: dict[int, dict[datetime.date, tuple[float, float]]] = {}
    for component_id, day, major, partial in ComponentUptimeDay.objects.filter(
        component__in=[c.pk for c in components], day__gte=first
    ).values_list("component_id", "day", "major_outage_seconds", "partial_outage_seconds"):
        stored.setdefault(component_id, {})[day] = (major, partial)
    # The same 90 day windows serve every component: compute them once, with the (shared)
    # values of a day without data and of a day without downtime, which most days are.
    window = []
    for offset in range(days):
        day = first + datetime.timedelta(days=offset)
        day_start, day_end = day_bounds(day, zone)
        day_end = min(day_end, now)
        counted = max(0.0, (day_end - day_start).total_seconds())
        window.append((day, day_start, day_end, counted, UptimeDay(day, False),
                       UptimeDay(day, True, 0.0, 0.0, counted)))  # fmt: skip
    no_data_days = [w[4] for w in window]
    all_up_days = [w[5] for w in window]
    down_statuses = (ComponentStatus.MAJOR_OUTAGE, ComponentStatus.PARTIAL_OUTAGE)
    result = {}
    for component in components:
        starts = first_counted_day(component, zone)
        shown_from = min(max((starts - first).days, 0), days)
        rows = stored.get(component.pk, {})
        if component.status in down_statuses:
            series = _series_while_down(component, window, rows, starts)
        else:
            # Most days of most components: shared values; then the days with downtime.
            series = no_data_days[:shown_from] + all_up_days[shown_from:]
            for day, (major, partial) in rows.items():
                index = (day - first).days
                if shown_from <= index < days:
                    counted = window[index][3]
                    series[index] = UptimeDay(day, True, min(major, counted),
                                              min(partial, counted), counted)  # fmt: skip
        result[component.pk] = ComponentUptime(component, series)
    return result


def _series_while_down(component: Component, window, rows, starts) -> list[UptimeDay]:
    """The days of a component that is down now: its ongoing outage counts from the end of
    its precomputed rows (`uptime_covered_until`) up to now."""
    covered = component.uptime_covered_until
    series = []
    for day, day_start, day_end, counted, no_data, _all_up in window:
        if day < starts:
            series.append(no_data)
            continue
        major, partial = rows.get(day, (0.0, 0.0))
        live_from = max(day_start, covered) if covered else day_start
        ongoing = _overlap(live_from, day_end, day_start, day_end)
        if component.status == ComponentStatus.MAJOR_OUTAGE:
            major += ongoing
        else:
            partial += ongoing
        series.append(UptimeDay(day, True, min(major, counted), min(partial, counted), counted))
    return series
