"""Sending the responders' alerts (rows of ResponderAlert, raised by incidents.paging): an
email to the people who should hear, and a signed JSON POST to the organisation's alert
webhook for chat or paging tools (its `text` field makes it postable to Slack-style incoming
webhooks as it is). A webhook failure is kept on the alert (`webhook_error`, and
`webhook_failed_at` once we give up) for the responders' console page, never only logged.

Each row is leased by pushing `next_attempt_at` forward before anything is sent, so two
workers never send the same alert; email and webhook are marked separately, so a failing
webhook is retried (1, 2, 4 … 60 minutes apart, at most MAX_ATTEMPTS times) without
emailing anyone twice.
"""

from __future__ import annotations

import datetime
import json
import logging

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from incidents.enums import SEVERITY_IMPACT, AlertReason, Severity
from incidents.models import AlertOptIn, Incident, ResponderAlert, ResponsePolicy
from incidents.queries import response_policy
from statuspage.emails import send_triad
from statuspage.enums import RESPONDER_ROLES
from statuspage.models import Membership
from statuspage.outbound_http import OutboundError, post_signed_json
from statuspage.page_urls import app_url

logger = logging.getLogger(__name__)

LEASE = datetime.timedelta(minutes=5)
MAX_ATTEMPTS = 8
GIVE_UP_AFTER = datetime.timedelta(days=1)
EVENTS = {
    AlertReason.TRIGGERED: "incident.triggered",
    AlertReason.OVERDUE: "incident.overdue",
    AlertReason.QUIET: "incident.quiet",
}


def backoff(attempts: int) -> datetime.timedelta:
    return datetime.timedelta(minutes=min(60, 2 ** max(0, attempts - 1)))


def console_url(incident: Incident, anchor: str = "") -> str:
    path = reverse("incidents:detail", args=[incident.page.slug, incident.public_id])
    return app_url(path) + anchor


def recipients(alert: ResponderAlert) -> list[str]:
    """Urgent alerts go to the responders who opted in. A quiet-incident reminder goes to the
    owner, else the incident's team, else every responder."""
    incident = alert.incident
    responders = Membership.objects.filter(
        organization_id=incident.organization_id, role__in=RESPONDER_ROLES
    )
    if alert.reason != AlertReason.QUIET:
        opted_in = AlertOptIn.objects.filter(organization_id=incident.organization_id)
        responders = responders.filter(user__in=opted_in.values("user"))
    elif incident.owner_id:
        responders = responders.filter(user_id=incident.owner_id)
    elif incident.team_id:
        responders = responders.filter(user__in=incident.team.members.all())
    return sorted(set(responders.values_list("user__email", flat=True)))


def summary(alert: ResponderAlert) -> str:
    incident = alert.incident
    where = f"“{incident.name}” on {incident.page.name}"
    if alert.reason == AlertReason.QUIET:
        return f"No public update for {alert.quiet_minutes} minutes: {where}"
    severity = Severity(incident.severity).label if incident.severity else "Unclassified"
    if alert.reason == AlertReason.OVERDUE:
        return f"{severity} incident not acknowledged in time: {where}"
    return f"{severity} incident triggered: {where}"


def webhook_payload(alert: ResponderAlert) -> bytes:
    incident = alert.incident
    url = console_url(incident, "#post-update" if alert.reason == AlertReason.QUIET else "")
    data = {
        "event": EVENTS[AlertReason(alert.reason)],
        "text": f"{summary(alert)} — {url}",
        "sent_at": timezone.now().isoformat(),
        "page": {"id": incident.page.public_id, "name": incident.page.name},
        "incident": {
            "id": incident.public_id,
            "name": incident.name,
            "severity": incident.severity or None,
            "public_impact": SEVERITY_IMPACT.get(incident.severity) if incident.severity else None,
            "category": incident.category or None,
            "status": incident.status,
            "response_state": incident.response_state,
            "draft": incident.is_draft,
            "triggered_at": incident.created_at.isoformat(),
            "acknowledged_at": incident.acknowledged_at.isoformat()
            if incident.acknowledged_at
            else None,
            "owner": incident.owner.email if incident.owner else None,
            "team": incident.team.name if incident.team else None,
            "quiet_minutes": alert.quiet_minutes if alert.reason == AlertReason.QUIET else None,
            "url": url,
        },
    }
    return json.dumps(data).encode()


def send_email(alert: ResponderAlert) -> None:
    to = recipients(alert)
    if not to:
        return
    incident = alert.incident
    if alert.reason == AlertReason.QUIET:
        context = {"incident": incident, "page": incident.page, "minutes": alert.quiet_minutes,
                   "url": console_url(incident, "#post-update")}  # fmt: skip
        send_triad("update_reminder", context, to)
        return
    policy = response_policy(incident.organization_id)
    context = {
        "alert": alert,
        "incident": incident,
        "page": incident.page,
        "summary": summary(alert),
        "target_minutes": policy.target_minutes(incident.severity) if incident.severity else None,
        "url": console_url(incident),
    }
    send_triad("responder_alert", context, to)


def _lease(alert_id: int, now: datetime.datetime) -> bool:
    due = Q(done_at__isnull=True, next_attempt_at__lte=now)
    return bool(ResponderAlert.objects.filter(due, pk=alert_id).update(next_attempt_at=now + LEASE))


def dispatch(alert_id: int) -> None:
    """Send one alert's email and webhook, whichever is still unsent."""
    now = timezone.now()
    with scopes_disabled():
        organization_id = (
            ResponderAlert.objects.filter(pk=alert_id)
            .values_list("organization_id", flat=True)
            .first()
        )
    if organization_id is None:
        return
    with scope(organization=organization_id):
        if not _lease(alert_id, now):
            return
        alert = ResponderAlert.objects.select_related(
            "incident__page", "incident__owner", "incident__team"
        ).get(pk=alert_id)
        errors = []
        if alert.emailed_at is None:
            try:
                send_email(alert)
            except OSError as error:  # SMTP down: smtplib raises OSError subclasses
                errors.append(f"email: {type(error).__name__}: {error}")
            else:
                alert.emailed_at = timezone.now()
        policy = response_policy(organization_id)
        if _webhook_pending(alert, policy):
            error = _send_webhook(alert, policy)
            if error:
                errors.append(f"webhook: {error}")
        webhook_pending = _webhook_pending(alert, policy)
        alert.attempts += 1
        alert.last_error = "\n".join(errors)
        pending = alert.emailed_at is None or webhook_pending
        too_late = alert.attempts >= MAX_ATTEMPTS or now - alert.created_at > GIVE_UP_AFTER
        if not pending or too_late:
            alert.done_at = timezone.now()
            if webhook_pending:  # out of attempts: a failure, not a delivery
                alert.webhook_failed_at = alert.done_at
            if errors:
                logger.warning("responder alert %s ended with: %s", alert.pk, alert.last_error)
        else:
            alert.next_attempt_at = timezone.now() + backoff(alert.attempts)
        alert.save()


def _webhook_pending(alert: ResponderAlert, policy: ResponsePolicy) -> bool:
    return bool(policy.alert_webhook_url) and not (alert.webhook_at or alert.webhook_failed_at)


def _send_webhook(alert: ResponderAlert, policy: ResponsePolicy) -> str:
    """POST the alert; mark it delivered, or keep why not (given up on if it is permanent).
    Returns the error, '' when delivered."""
    try:
        post_signed_json(
            policy.alert_webhook_url,
            webhook_payload(alert),
            secret=policy.alert_webhook_secret,
            headers={"X-Status-Event": EVENTS[AlertReason(alert.reason)]},
        )
    except OutboundError as error:
        alert.webhook_error = str(error)
        if error.permanent:
            alert.webhook_failed_at = timezone.now()
        return str(error)
    alert.webhook_at, alert.webhook_error = timezone.now(), ""
    return ""


def due_alert_ids(now: datetime.datetime | None = None, limit: int = 500) -> list[int]:
    now = now or timezone.now()
    with scopes_disabled():
        return list(
            ResponderAlert.objects.filter(done_at__isnull=True, next_attempt_at__lte=now)
            .order_by("next_attempt_at")
            .values_list("pk", flat=True)[:limit]
        )
