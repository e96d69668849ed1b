"""Writes of the responders' side of incidents, which customers never see: acknowledging,
owning and classifying incidents, internal notes, the organisation's response policy (targets
per severity, alert webhook), teams and routing per category, alert opt-ins, and the periodic
checks that alert on overdue and quiet incidents.

Alerts are rows of the responders' outbox (incidents.paging); nothing here sends mail itself.
"""

from __future__ import annotations

import datetime
import secrets

from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from incidents import paging
from incidents.enums import URGENT_SEVERITIES, AlertReason, Category, IncidentKind, Severity
from incidents.models import (
    AlertOptIn,
    CategoryRoute,
    Incident,
    InternalNote,
    ResponderAlert,
    ResponderTeam,
    ResponsePolicy,
)
from incidents.queries import response_policy
from incidents.services import lock_incident
from statuspage.actors import Actor
from statuspage.audit import record_audit, snapshot
from statuspage.enums import RESPONDER_ROLES
from statuspage.errors import DomainError
from statuspage.markdown import render_markdown
from statuspage.models import Membership, Organization, User
from statuspage.outbound_http import OutboundError, check_destination

POLICY_FIELDS = [
    "critical_target_minutes",
    "high_target_minutes",
    "medium_target_minutes",
    "low_target_minutes",
    "alert_webhook_url",
]
MAX_TARGET_MINUTES = 60 * 24 * 30


def _check_responder(organization_id: int, user: User | None, field: str) -> None:
    if user is None:
        return
    if not Membership.objects.filter(
        organization_id=organization_id, user=user, role__in=RESPONDER_ROLES
    ).exists():
        raise DomainError("Choose a responder of this organisation.", field=field)


# --- One incident -----------------------------------------------------------------------------


def acknowledge_incident(incident: Incident, *, actor: Actor) -> Incident:
    """Someone is on it: stops the time-to-acknowledge clock (once) and takes ownership if
    nobody owns it yet."""
    with transaction.atomic():
        incident = lock_incident(incident)
        if incident.acknowledged_at is None:
            incident.acknowledged_at = timezone.now()
            incident.acknowledged_by = actor.user
            incident.owner = incident.owner or actor.user
            incident.save(
                update_fields=["acknowledged_at", "acknowledged_by", "owner", "updated_at"]
            )
            record_audit(
                incident.page.organization,
                actor=actor,
                verb="incident.acknowledged",
                target=incident,
                page=incident.page,
            )
    return incident


def assign_incident(incident: Incident, *, actor: Actor, owner: User | None) -> Incident:
    _check_responder(incident.organization_id, owner, "owner")
    with transaction.atomic():
        incident = lock_incident(incident)
        before = {"owner": incident.owner.email if incident.owner else None}
        incident.owner = owner
        incident.save(update_fields=["owner", "updated_at"])
        record_audit(
            incident.page.organization,
            actor=actor,
            verb="incident.assigned",
            target=incident,
            page=incident.page,
            before=before,
            after={"owner": owner.email if owner else None},
        )
    return incident


def classify_incident(
    incident: Incident, *, actor: Actor, severity: str, category: str
) -> Incident:
    """Set severity and category. An unowned incident that gets a category is routed; one
    that becomes critical or high while nobody has acknowledged it alerts the responders."""
    if severity and severity not in Severity.values:
        raise DomainError("Choose a severity: critical, high, medium or low.", field="severity")
    if category and category not in Category.values:
        raise DomainError("Choose one of the categories.", field="category")
    with transaction.atomic():
        incident = lock_incident(incident)
        before = snapshot(incident, ["severity", "category"])
        incident.severity, incident.category = severity, category
        incident.save(update_fields=["severity", "category", "updated_at"])
        paging.route(incident)
        paging.alert_if_urgent(incident)
        record_audit(
            incident.page.organization,
            actor=actor,
            verb="incident.classified",
            target=incident,
            page=incident.page,
            before=before,
            after=snapshot(incident, ["severity", "category"]),
        )
    return incident


def add_internal_note(incident: Incident, *, actor: Actor, body: str) -> InternalNote:
    if not (body or "").strip():
        raise DomainError("Write something.", field="body")
    with transaction.atomic():
        note = InternalNote.objects.create(
            organization_id=incident.organization_id,
            incident=incident,
            author=actor.user,
            author_label=actor.label,
            body=body,
            body_html=render_markdown(body),
        )
        record_audit(
            incident.page.organization,
            actor=actor,
            verb="incident.note_added",
            target=incident,
            page=incident.page,
        )
    return note


# --- The organisation's policy, teams and routes ------------------------------------------------


def save_response_policy(
    organization: Organization,
    *,
    actor: Actor,
    critical_target_minutes: int,
    high_target_minutes: int,
    medium_target_minutes: int,
    low_target_minutes: int,
    alert_webhook_url: str = "",
) -> ResponsePolicy:
    targets = [critical_target_minutes, high_target_minutes, medium_target_minutes,
               low_target_minutes]  # fmt: skip
    for severity, minutes in zip(Severity.values, targets, strict=True):
        if not 1 <= minutes <= MAX_TARGET_MINUTES:
            raise DomainError(
                "Give a target between 1 minute and 30 days.", field=f"{severity}_target_minutes"
            )
    if targets != sorted(targets):
        raise DomainError(
            "A more severe incident needs a target no longer than a less severe one.",
            field="critical_target_minutes",
        )
    url = _check_alert_webhook_url(alert_webhook_url)
    with transaction.atomic():
        policy, _ = ResponsePolicy.objects.select_for_update().get_or_create(
            organization=organization
        )
        before = snapshot(policy, POLICY_FIELDS)
        for field, value in zip(POLICY_FIELDS, [*targets, url], strict=True):
            setattr(policy, field, value)
        if url and not policy.alert_webhook_secret:
            policy.alert_webhook_secret = secrets.token_hex(24)
        policy.save()
        record_audit(
            organization,
            actor=actor,
            verb="response_policy.changed",
            target=policy,
            before=before,
            after=snapshot(policy, POLICY_FIELDS),
        )
    return policy


def _check_alert_webhook_url(url: str) -> str:
    """The same check as at send (statuspage.outbound_http): an http(s) URL whose host
    resolves only to public addresses (unless WEBHOOK_ALLOW_PRIVATE_ADDRESSES), so a URL we
    would refuse to POST to is refused here, where the admin sees why."""
    url = (url or "").strip()
    if not url:
        return ""
    try:
        check_destination(url)
    except OutboundError as error:
        message = f"This webhook cannot be used: {error}"
        raise DomainError(message, field="alert_webhook_url") from error
    return url


def rotate_alert_webhook_secret(organization: Organization, *, actor: Actor) -> ResponsePolicy:
    with transaction.atomic():
        policy, _ = ResponsePolicy.objects.select_for_update().get_or_create(
            organization=organization
        )
        policy.alert_webhook_secret = secrets.token_hex(24)
        policy.save(update_fields=["alert_webhook_secret", "updated_at"])
        record_audit(organization, actor=actor, verb="response_policy.secret_rotated",
                     target=policy)  # fmt: skip
    return policy


def save_team(
    organization: Organization,
    *,
    actor: Actor,
    name: str,
    members: list[User],
    team: ResponderTeam | None = None,
) -> ResponderTeam:
    name = (name or "").strip()
    if not name:
        raise DomainError("Give the team a name.", field="name")
    for member in members:
        _check_responder(organization.pk, member, "members")
    clash = ResponderTeam.objects.filter(organization=organization, name__iexact=name)
    if team is not None:
        clash = clash.exclude(pk=team.pk)
    if clash.exists():
        raise DomainError("There is already a team with that name.", field="name")
    with transaction.atomic():
        if team is None:
            team = ResponderTeam.objects.create(organization=organization, name=name)
        else:
            team.name = name
            team.save(update_fields=["name"])
        team.members.set(members)
        record_audit(
            organization,
            actor=actor,
            verb="team.saved",
            target=team,
            after={"name": name, "members": sorted(m.email for m in members)},
        )
    return team


def delete_team(team: ResponderTeam, *, actor: Actor) -> None:
    with transaction.atomic():
        record_audit(team.organization, actor=actor, verb="team.deleted", target=team,
                     before={"name": team.name})  # fmt: skip
        team.delete()


def set_category_route(
    organization: Organization,
    *,
    actor: Actor,
    category: str,
    owner: User | None = None,
    team: ResponderTeam | None = None,
) -> CategoryRoute | None:
    """Route new incidents of `category` to an owner or a team (not both); neither clears it."""
    if category not in Category.values:
        raise DomainError("Choose one of the categories.", field="category")
    if owner is not None and team is not None:
        raise DomainError("Route to a person or to a team, not both.", field="owner")
    _check_responder(organization.pk, owner, "owner")
    if team is not None and team.organization_id != organization.pk:
        raise DomainError("Choose one of your teams.", field="team")
    with transaction.atomic():
        CategoryRoute.objects.filter(organization=organization, category=category).delete()
        route = None
        if owner is not None or team is not None:
            route = CategoryRoute.objects.create(
                organization=organization, category=category, owner=owner, team=team
            )
        record_audit(
            organization,
            actor=actor,
            verb="routing.changed",
            target=organization,
            after={
                "category": category,
                "owner": owner.email if owner else None,
                "team": team.name if team else None,
            },
        )
    return route


def set_alert_opt_in(organization: Organization, user: User, *, enabled: bool) -> None:
    """A responder chooses whether urgent incidents email them."""
    if enabled:
        _check_responder(organization.pk, user, "alerts")
        AlertOptIn.objects.get_or_create(organization=organization, user=user)
    else:
        AlertOptIn.objects.filter(organization=organization, user=user).delete()


# --- Periodic checks ----------------------------------------------------------------------------


def _open_incidents():
    return (
        Incident.objects.filter(kind=IncidentKind.INCIDENT, is_backfilled=False)
        .exclude(status__in=["resolved", "postmortem"])
        .select_related("page")
    )


def raise_overdue_alerts(now: datetime.datetime | None = None) -> list[str]:
    """Alert once per incident when a critical or high incident passes its organisation's
    response target unacknowledged. Returns the alerted incidents' public ids."""
    now = now or timezone.now()
    alerted = []
    with scopes_disabled():
        candidates = list(
            _open_incidents().filter(
                severity__in=URGENT_SEVERITIES,
                acknowledged_at__isnull=True,
                created_at__lte=now - datetime.timedelta(minutes=1),
            )
        )
        already = set(
            ResponderAlert.objects.filter(
                incident__in=candidates, reason=AlertReason.OVERDUE
            ).values_list("incident_id", flat=True)
        )
    for incident in candidates:
        if incident.pk in already:
            continue
        with scope(organization=incident.organization_id), transaction.atomic():
            policy = response_policy(incident.organization_id)
            if now - incident.created_at <= policy.target(incident.severity):
                continue
            if paging.raise_alert(incident, AlertReason.OVERDUE):
                alerted.append(incident.public_id)
    return alerted


def remind_quiet_incidents(now: datetime.datetime | None = None) -> list[str]:
    """Silence during an outage frustrates users: when a public, unresolved incident has had
    no update for its page's reminder interval, remind its owner (or, with no owner, its team
    or the responders) once per interval, by email and the organisation's alert webhook.
    Returns the reminded incidents' public ids."""
    now = now or timezone.now()
    reminded = []
    with scopes_disabled():
        candidates = list(
            _open_incidents()
            .filter(is_draft=False)
            .annotate(last_update=Max("updates__display_at"))
        )
    for incident in candidates:
        interval = datetime.timedelta(minutes=incident.page.update_reminder_minutes)
        last = max(
            incident.last_update or incident.created_at,
            incident.update_reminder_sent_at or incident.created_at,
        )
        if now - last < interval:
            continue
        with scope(organization=incident.organization_id), transaction.atomic():
            quiet = Q(update_reminder_sent_at__isnull=True) | Q(
                update_reminder_sent_at__lte=now - interval
            )
            claimed = Incident.objects.filter(quiet, pk=incident.pk).update(
                update_reminder_sent_at=now
            )
            if claimed:
                silent_since = incident.last_update or incident.created_at
                quiet_minutes = int((now - silent_since).total_seconds() // 60)
                paging.raise_alert(incident, AlertReason.QUIET, quiet_minutes=quiet_minutes)
                reminded.append(incident.public_id)
    return reminded
