"""MTTA and MTTR per period, overall or by severity or category.

MTTA (mean time to acknowledge) runs from an incident's creation (its trigger) to its
acknowledgement; incidents never acknowledged are counted apart, not averaged as zero, and
backfilled ones (written after the fact) have no MTTA. MTTR (mean time to resolve) runs from
the start to the resolution, backfilled incidents included.
"""

from __future__ import annotations

import datetime
import zoneinfo
from dataclasses import dataclass

from django.utils import timezone
from django.utils.html import escape

from incidents.enums import IncidentKind
from incidents.models import Incident
from statuspage.csv_export import to_csv
from statuspage.models import Page


@dataclass
class ReportRow:
    period: datetime.date
    group: str
    incidents: int = 0
    acknowledged: int = 0
    never_acknowledged: int = 0
    resolved: int = 0
    _ack_seconds: float = 0.0
    _resolve_seconds: float = 0.0

    @property
    def mtta_minutes(self) -> float | None:
        return round(self._ack_seconds / self.acknowledged / 60, 1) if self.acknowledged else None

    @property
    def mttr_minutes(self) -> float | None:
        return round(self._resolve_seconds / self.resolved / 60, 1) if self.resolved else None


def period_start(moment: datetime.datetime, zone, period: str) -> datetime.date:
    day = timezone.localtime(moment, zone).date()
    if period == "week":
        return day - datetime.timedelta(days=day.weekday())
    return day.replace(day=1)


def mtta_mttr(page: Page, *, period: str = "month", by: str = "", since=None) -> list[ReportRow]:
    zone = zoneinfo.ZoneInfo(page.time_zone)
    incidents = Incident.objects.filter(page=page, kind=IncidentKind.INCIDENT)
    if since is not None:
        incidents = incidents.filter(started_at__gte=since)
    rows: dict[tuple[datetime.date, str], ReportRow] = {}
    for incident in incidents.only(
        "created_at",
        "started_at",
        "acknowledged_at",
        "resolved_at",
        "severity",
        "category",
        "is_backfilled",
    ):
        start = period_start(incident.started_at, zone, period)
        group = (getattr(incident, by) or "unset") if by in ("severity", "category") else "all"
        row = rows.setdefault((start, group), ReportRow(start, group))
        row.incidents += 1
        if incident.acknowledged_at:
            row.acknowledged += 1
            row._ack_seconds += max(
                0.0, (incident.acknowledged_at - incident.created_at).total_seconds()
            )
        elif not incident.is_backfilled:
            row.never_acknowledged += 1
        if incident.resolved_at:
            row.resolved += 1
            row._resolve_seconds += max(
                0.0, (incident.resolved_at - incident.started_at).total_seconds()
            )
    return [rows[key] for key in sorted(rows)]


REPORT_COLUMNS = [
    "period",
    "group",
    "incidents",
    "acknowledged",
    "never_acknowledged",
    "mtta_minutes",
    "resolved",
    "mttr_minutes",
]


def as_csv(rows: list[ReportRow]) -> str:
    """The report as CSV; a group is a category or a team's name, which could start a formula."""
    return to_csv(
        REPORT_COLUMNS,
        (
            [
                r.period.isoformat(),
                r.group,
                r.incidents,
                r.acknowledged,
                r.never_acknowledged,
                "" if r.mtta_minutes is None else r.mtta_minutes,
                r.resolved,
                "" if r.mttr_minutes is None else r.mttr_minutes,
            ]
            for r in rows
        ),
    )


def bar_chart_svg(rows: list[ReportRow], *, metric: str = "mttr_minutes") -> str:
    """A server-rendered bar chart of one metric per row (no JavaScript needed)."""
    values = [
        (f"{r.period:%b %Y} {r.group if r.group != 'all' else ''}".strip(), getattr(r, metric) or 0)
        for r in rows
    ]
    if not values:
        return ""
    top = max(v for _, v in values) or 1
    bar, gap, height = 28, 12, 160
    width = len(values) * (bar + gap)
    parts = [
        f'<svg viewBox="0 0 {width} {height + 40}" role="img" width="100%" '
        f'aria-label="{escape(metric)} per period">'
    ]
    for index, (label, value) in enumerate(values):
        h = round(height * value / top)
        x = index * (bar + gap)
        parts.append(
            f'<rect x="{x}" y="{height - h}" width="{bar}" height="{h}" fill="#2459d6">'
            f"<title>{escape(label)}: {value} min</title></rect>"
            f'<text x="{x + bar / 2}" y="{height + 14}" font-size="9" '
            f'text-anchor="middle">{escape(label[:8])}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
