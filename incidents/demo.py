"""Demo incidents for `seed_demo`: one active incident, resolved ones over the last 90 days,
and one upcoming maintenance — all through the services, as an operator would."""

import datetime

from django.utils import timezone

from components.models import Component
from incidents import services
from incidents.models import Incident
from statuspage.actors import Actor
from statuspage.models import Page

PAST = [
    (3, "Delayed email delivery", "minor", "Email delivery", 95),
    (17, "Dashboard failing to load for some users", "major", "Dashboard", 42),
    (38, "API outage", "critical", "API", 27),
    (61, "Slow search results", "minor", "Search", 180),
    (84, "Login errors", "major", "Authentication", 35),
]


def seed(page: Page, actor: Actor, components: dict[str, Component]) -> None:
    if Incident.objects.filter(page=page).exists():
        return
    now = timezone.now()
    for days_ago, name, impact, component, minutes in PAST:
        started = now - datetime.timedelta(days=days_ago, hours=3)
        services.create_backfilled_incident(
            page,
            actor=actor,
            name=name,
            impact=impact,
            body=f"{component} was affected. The cause was found and fixed; "
            "we are sorry for the disruption.",
            component_statuses={components[component]: None},
            started_at=started,
            resolved_at=started + datetime.timedelta(minutes=minutes),
        )
    incident = services.open_incident(
        page,
        actor=actor,
        name="Elevated API error rates",
        impact="minor",
        body="We are investigating elevated error rates on the API.",
        component_statuses={components["API"]: None},
        deliver_notifications=False,
        severity="medium",
        category="performance",
    )
    services.post_incident_update(
        incident,
        actor=actor,
        status="identified",
        body="A faulty load balancer node has been identified and is being replaced.",
        deliver_notifications=False,
    )
    start = (now + datetime.timedelta(days=3)).replace(hour=2, minute=0, second=0, microsecond=0)
    services.schedule_maintenance(
        page,
        actor=actor,
        name="Database upgrade",
        scheduled_for=start,
        scheduled_until=start + datetime.timedelta(hours=2),
        body="We are upgrading the primary database. Expect brief read-only periods.",
        components=[components["Database"], components["Backups"]],
        deliver_notifications=False,
    )
    # Alerts from monitoring wait as internal drafts for a responder to check.
    services.create_integration(
        page,
        actor=actor,
        name="Prometheus",
        kind="alertmanager",
        components=[components["API"]],
        impact="major",
        creates_drafts=True,
        severity="high",
        category="outage",
    )
