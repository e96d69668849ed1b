"""Reads of incidents and maintenance for the console, the public site and the API."""

from __future__ import annotations

import datetime

from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from components.enums import ComponentStatus
from components.models import Component
from incidents.enums import Impact, IncidentKind, IncidentStatus
from incidents.models import (
    AlertOptIn,
    CategoryRoute,
    Incident,
    IncidentAlert,
    IncidentComponent,
    IncidentTemplate,
    IncidentUpdate,
    Integration,
    ResponderAlert,
    ResponderTeam,
    ResponsePolicy,
)
from statuspage.enums import RESPONDER_ROLES
from statuspage.models import Page, User

OPEN_INCIDENT = ~Q(status__in=[IncidentStatus.RESOLVED, IncidentStatus.POSTMORTEM])
# Every read that customers (or the public JSON, feeds and subscriber emails) see goes
# through PUBLISHED: internal drafts exist for responders only.
PUBLISHED = Q(is_draft=False)
NEXT_STATUS = {
    IncidentStatus.INVESTIGATING: IncidentStatus.IDENTIFIED,
    IncidentStatus.IDENTIFIED: IncidentStatus.MONITORING,
    IncidentStatus.MONITORING: IncidentStatus.RESOLVED,
    IncidentStatus.RESOLVED: IncidentStatus.RESOLVED,
    IncidentStatus.POSTMORTEM: IncidentStatus.RESOLVED,
    IncidentStatus.SCHEDULED: IncidentStatus.IN_PROGRESS,
    IncidentStatus.IN_PROGRESS: IncidentStatus.VERIFYING,
    IncidentStatus.VERIFYING: IncidentStatus.COMPLETED,
    IncidentStatus.COMPLETED: IncidentStatus.COMPLETED,
}


def with_timeline(incidents: QuerySet[Incident], *, responders=True) -> QuerySet[Incident]:
    """Updates (newest first) and affected components in two more queries, whatever the count;
    with the owner and team too unless it is for the public, who never sees them."""
    if responders:
        incidents = incidents.select_related("owner", "team")
    return incidents.prefetch_related(
        Prefetch("updates", queryset=IncidentUpdate.objects.order_by("-display_at", "-id")),
        Prefetch(
            "affected",
            queryset=IncidentComponent.objects.select_related("component__group").order_by(
                "component__position", "component_id"
            ),
        ),
    )


def response_policy(organization_id: int) -> ResponsePolicy:
    """The organisation's targets and alert webhook; the defaults until an admin saves them."""
    policy = ResponsePolicy.objects.filter(organization_id=organization_id).first()
    return policy or ResponsePolicy(organization_id=organization_id)


def page_has_resolved_incident(page: Page) -> bool:
    return Incident.objects.filter(
        PUBLISHED, page=page, kind=IncidentKind.INCIDENT, status__in=["resolved", "postmortem"]
    ).exists()


def list_incidents(
    page: Page,
    *,
    tab: str = "active",
    search: str = "",
    mine=None,
    unacknowledged=False,
    with_drafts=True,
    severity: str = "",
    category: str = "",
) -> QuerySet[Incident]:
    """The console's lists. `mine` is a user: what they own, or what is routed to a team of
    theirs and nobody owns yet."""
    incidents = Incident.objects.filter(page=page)
    if not with_drafts:
        incidents = incidents.filter(PUBLISHED)
    if mine is not None:
        incidents = incidents.filter(
            Q(owner=mine) | Q(owner__isnull=True, team__members=mine)
        ).distinct()
    if unacknowledged:
        incidents = incidents.filter(acknowledged_at__isnull=True, is_backfilled=False)
    if severity:
        incidents = incidents.filter(severity=severity)
    if category:
        incidents = incidents.filter(category=category)
    if tab == "drafts":
        incidents = incidents.filter(is_draft=True).order_by("-created_at", "-id")
    elif tab == "maintenance":
        incidents = incidents.filter(kind=IncidentKind.MAINTENANCE).order_by("-scheduled_for")
    elif tab == "resolved":
        incidents = incidents.filter(kind=IncidentKind.INCIDENT).exclude(OPEN_INCIDENT)
        incidents = incidents.order_by("-started_at", "-id")
    else:
        incidents = incidents.filter(OPEN_INCIDENT, kind=IncidentKind.INCIDENT)
        incidents = incidents.order_by("-started_at", "-id")
    if search:
        incidents = incidents.filter(name__icontains=search)
    return with_timeline(incidents)


def get_incident_for_page(page: Page, public_id: str, *, with_drafts=False) -> Incident:
    incidents = Incident.objects.filter(page=page, public_id=public_id)
    if not with_drafts:
        incidents = incidents.filter(PUBLISHED)
    incident = with_timeline(incidents).first()
    if incident is None:
        raise Http404("No such incident.")
    return incident


def get_update_for_incident(incident: Incident, public_id: str) -> IncidentUpdate:
    update = IncidentUpdate.objects.filter(incident=incident, public_id=public_id).first()
    if update is None:
        raise Http404("No such update.")
    return update


def get_template_for_page(page: Page, public_id: str) -> IncidentTemplate:
    template = IncidentTemplate.objects.filter(page=page, public_id=public_id).first()
    if template is None:
        raise Http404("No such template.")
    return template


def list_templates(page: Page) -> QuerySet[IncidentTemplate]:
    return IncidentTemplate.objects.filter(page=page).prefetch_related("components")


def unresolved_incidents(page: Page) -> QuerySet[Incident]:
    return with_timeline(
        Incident.objects.filter(
            OPEN_INCIDENT, PUBLISHED, page=page, kind=IncidentKind.INCIDENT
        ).order_by("-started_at", "-id")
    )


def upcoming_maintenances(page: Page) -> QuerySet[Incident]:
    return with_timeline(
        Incident.objects.filter(
            page=page, kind=IncidentKind.MAINTENANCE, status=IncidentStatus.SCHEDULED
        ).order_by("scheduled_for", "id")
    )


def active_maintenances(page: Page) -> QuerySet[Incident]:
    return with_timeline(
        Incident.objects.filter(
            page=page,
            kind=IncidentKind.MAINTENANCE,
            status__in=[IncidentStatus.IN_PROGRESS, IncidentStatus.VERIFYING],
        ).order_by("scheduled_for", "id")
    )


def next_status_suggestion(incident: Incident) -> str:
    return NEXT_STATUS[IncidentStatus(incident.status)]


# --- Overall status -------------------------------------------------------------------------

RANK = {"none": 0, "maintenance": 1, "minor": 2, "major": 3, "critical": 4}
COMPONENT_WORDING = {
    ComponentStatus.UNDER_MAINTENANCE: ("maintenance", "Service Under Maintenance"),
    ComponentStatus.DEGRADED_PERFORMANCE: ("minor", "Degraded System Service"),
    ComponentStatus.PARTIAL_OUTAGE: ("major", "Partial System Outage"),
    ComponentStatus.MAJOR_OUTAGE: ("critical", "Major System Outage"),
}
INCIDENT_WORDING = {
    Impact.MINOR: ("minor", "Minor Service Outage"),
    Impact.MAJOR: ("major", "Partial System Outage"),
    Impact.CRITICAL: ("critical", "Major Service Outage"),
}
ALL_GOOD = ("none", "All Systems Operational")


def describe_overall_status(
    component_statuses: list[str], open_impacts: list[str], maintenance_running: bool
) -> tuple[str, str]:
    """The page's status (indicator, description), Statuspage's words, from its parts.

    - Each component's status proposes a level: under maintenance → "maintenance", degraded →
      "minor", partial outage → "major", major outage → "critical".
    - Each unresolved incident proposes its impact (minor/major/critical; none proposes nothing).
    - A maintenance in progress proposes "maintenance" even with no components.
    - The highest level wins (none < maintenance < minor < major < critical); on a tie the
      components' wording is used, since it says what is actually broken.
    """
    candidates = [ALL_GOOD]
    if maintenance_running:
        candidates.append(COMPONENT_WORDING[ComponentStatus.UNDER_MAINTENANCE])
    candidates += [INCIDENT_WORDING[i] for i in open_impacts if i in INCIDENT_WORDING]
    candidates += [COMPONENT_WORDING[s] for s in component_statuses if s in COMPONENT_WORDING]
    best = ALL_GOOD
    for candidate in candidates:
        if RANK[candidate[0]] >= RANK[best[0]]:
            best = candidate
    return best


def overall_status(page: Page) -> tuple[str, str]:
    statuses = list(Component.objects.filter(page=page).values_list("status", flat=True))
    open_incidents = Incident.objects.filter(PUBLISHED, page=page).exclude(
        status__in=[IncidentStatus.RESOLVED, IncidentStatus.POSTMORTEM, IncidentStatus.COMPLETED]
    )
    rows = list(open_incidents.values_list("kind", "status", "impact"))
    impacts = [impact for kind, _, impact in rows if kind == IncidentKind.INCIDENT]
    running = any(
        kind == IncidentKind.MAINTENANCE and status in ("in_progress", "verifying")
        for kind, status, _ in rows
    )
    return describe_overall_status(statuses, impacts, running)


# --- The public site ----------------------------------------------------------------------


def public_incidents(page: Page, *, since) -> list[Incident]:
    """Everything the public front page shows, in three queries: unresolved incidents,
    scheduled and running maintenance, and whatever closed since `since`."""
    recent = Q(resolved_at__gte=since) | ~Q(
        status__in=[IncidentStatus.RESOLVED, IncidentStatus.POSTMORTEM, IncidentStatus.COMPLETED]
    )
    return list(
        with_timeline(
            Incident.objects.filter(recent, PUBLISHED, page=page), responders=False
        ).order_by("-started_at", "-id")
    )


def incident_names_by_component_day(page: Page, *, since, zone) -> dict[int, dict]:
    """{component id: {date: [incident names]}} of incidents overlapping [since, now]; 1 query."""
    rows = (
        IncidentComponent.objects.filter(
            incident__page=page, incident__kind=IncidentKind.INCIDENT, incident__is_draft=False
        )
        .filter(Q(incident__resolved_at__isnull=True) | Q(incident__resolved_at__gte=since))
        .values_list(
            "component_id", "incident__name", "incident__started_at", "incident__resolved_at"
        )
    )
    now = timezone.now()
    names: dict[int, dict] = {}
    for component_id, name, started, resolved in rows:
        day = timezone.localtime(max(started, since), zone).date()
        last = timezone.localtime(resolved or now, zone).date()
        while day <= last:
            names.setdefault(component_id, {}).setdefault(day, []).append(name)
            day += datetime.timedelta(days=1)
    return names


def history_incidents(page: Page, *, start, end, component_id: str = "") -> list[Incident]:
    """Closed incidents and maintenance that began in [start, end), newest first."""
    incidents = Incident.objects.filter(
        PUBLISHED,
        page=page,
        started_at__gte=start,
        started_at__lt=end,
        status__in=[IncidentStatus.RESOLVED, IncidentStatus.POSTMORTEM, IncidentStatus.COMPLETED],
    )
    if component_id:
        incidents = incidents.filter(affected__component__public_id=component_id)
    return list(with_timeline(incidents.order_by("-started_at", "-id"), responders=False))


def recent_incidents(page: Page, *, kind: str, limit: int = 50) -> list[Incident]:
    incidents = Incident.objects.filter(PUBLISHED, page=page, kind=kind)
    if kind == IncidentKind.MAINTENANCE:
        incidents = incidents.order_by("-scheduled_for", "-id")
    else:
        incidents = incidents.order_by("-started_at", "-id")
    return list(with_timeline(incidents)[:limit])


def incident_alerts(incident: Incident, *, limit: int = 100) -> tuple[list[IncidentAlert], dict]:
    """The first alerts an integration attached to `incident`, and how many there are (and
    still fire) in all: a storm may have brought thousands."""
    alerts = IncidentAlert.objects.filter(incident=incident)
    counts = alerts.aggregate(total=Count("pk"), firing=Count("pk", filter=Q(is_firing=True)))
    return list(alerts[:limit]), counts


def list_integrations(page: Page):
    return Integration.objects.filter(page=page).prefetch_related("components").order_by("name")


def get_integration_for_page(page: Page, public_id: str) -> Integration:
    integration = Integration.objects.filter(page=page, public_id=public_id).first()
    if integration is None:
        raise Http404("No such integration.")
    return integration


# --- The responders' organisation ---------------------------------------------------------


def list_responders(organization_id: int) -> QuerySet[User]:
    return User.objects.filter(
        memberships__organization_id=organization_id, memberships__role__in=RESPONDER_ROLES
    ).order_by("name", "email")


def list_teams(organization_id: int) -> QuerySet[ResponderTeam]:
    return ResponderTeam.objects.filter(organization_id=organization_id).prefetch_related("members")


def get_team_for_organization(organization_id: int, public_id: str) -> ResponderTeam:
    team = ResponderTeam.objects.filter(
        organization_id=organization_id, public_id=public_id
    ).first()
    if team is None:
        raise Http404("No such team.")
    return team


def routes_by_category(organization_id: int) -> dict[str, CategoryRoute]:
    routes = CategoryRoute.objects.filter(organization_id=organization_id).select_related(
        "owner", "team"
    )
    return {route.category: route for route in routes}


def alert_webhook_failures(organization_id: int, *, limit: int = 10) -> list[ResponderAlert]:
    """The latest alerts the organisation's webhook refused: still retrying, or given up."""
    return list(
        ResponderAlert.objects.filter(organization_id=organization_id)
        .exclude(webhook_error="")
        .select_related("incident__page")
        .order_by("-created_at", "-id")[:limit]
    )


def alert_opt_ins(organization_id: int) -> set[int]:
    """The ids of the users who asked to be emailed about urgent incidents."""
    return set(
        AlertOptIn.objects.filter(organization_id=organization_id).values_list("user_id", flat=True)
    )
