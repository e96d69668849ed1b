"""Who hears of an incident first: routing to an owner or a team, and the responders' alert
outbox. Called inside the services' transactions; nothing here sends anything.

An alert is a `ResponderAlert` row; the dispatch job (incidents.alert_delivery) is enqueued on
commit, and the periodic sweep re-enqueues whatever is still due, so an alert raised while
Redis is down still goes out. Triggered and overdue alerts are unique per incident.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction

from incidents.enums import URGENT_SEVERITIES, AlertReason
from incidents.models import CategoryRoute, Incident, ResponderAlert
from statuspage.queue import enqueue_on_commit

DISPATCH_JOB = "incidents.jobs.dispatch_responder_alert_job"


def route(incident: Incident) -> bool:
    """Give an unowned incident its category's default owner or team. Returns whether it did."""
    if incident.owner_id or incident.team_id or not incident.category:
        return False
    rule = CategoryRoute.objects.filter(
        organization_id=incident.organization_id, category=incident.category
    ).first()
    if rule is None:
        return False
    incident.owner_id, incident.team_id = rule.owner_id, rule.team_id
    incident.save(update_fields=["owner", "team", "updated_at"])
    return True


def raise_alert(
    incident: Incident, reason: AlertReason, *, quiet_minutes: int = 0
) -> ResponderAlert | None:
    """Queue an alert to the responders; None when this once-only alert was already raised."""
    try:
        with transaction.atomic():
            alert = ResponderAlert.objects.create(
                organization_id=incident.organization_id,
                incident=incident,
                reason=reason,
                quiet_minutes=quiet_minutes,
            )
    except IntegrityError:
        return None
    enqueue_on_commit(DISPATCH_JOB, alert.pk)
    return alert


def alert_if_urgent(incident: Incident) -> ResponderAlert | None:
    """Critical and high incidents page people at once; medium and low do not."""
    if incident.severity in URGENT_SEVERITIES and incident.awaits_acknowledgement:
        return raise_alert(incident, AlertReason.TRIGGERED)
    return None
