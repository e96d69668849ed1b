"""Writes of incidents and scheduled maintenance: one function per operator intent.

Component statuses are never set here. An open incident (or running maintenance) *claims* a
status on each affected component through components.services, which derives what visitors
see; closing it releases the claims, so each component returns to its baseline or to what
other open incidents still say. `_sync_claims` is the one place that decides which.

Every update row doubles as the notification outbox (see incidents.models.IncidentUpdate).
"""

from __future__ import annotations

import datetime
import secrets
from collections.abc import Mapping

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from components import services as component_services
from components.enums import ComponentStatus, StatusCause
from components.models import Component
from incidents import intake, paging
from incidents.enums import (
    IMPACT_COMPONENT_STATUS,
    INCIDENT_IMPACTS,
    INCIDENT_STATUSES,
    MAINTENANCE_CANCELLED_MESSAGE,
    MAINTENANCE_COMPLETED_MESSAGE,
    MAINTENANCE_STARTED_MESSAGE,
    MAINTENANCE_STATUSES,
    Category,
    Impact,
    IncidentKind,
    IncidentStatus,
    Severity,
    UpdateEvent,
)
from incidents.models import (
    AlertLink,
    Incident,
    IncidentAlert,
    IncidentComponent,
    IncidentTemplate,
    IncidentUpdate,
    Integration,
    IntegrationEvent,
)
from statuspage.actors import Actor
from statuspage.audit import record_audit, snapshot
from statuspage.errors import DomainError
from statuspage.markdown import render_markdown
from statuspage.models import Page
from statuspage.publishing import public_content_changed
from statuspage.queue import enqueue_on_commit

# A component mapped to None takes its status from the incident's impact.
ComponentStatuses = Mapping[Component, str | None]
FAN_OUT_JOB = "subscribers.jobs.fan_out_job"
INCIDENT_FIELDS = [
    "name",
    "status",
    "impact",
    "started_at",
    "resolved_at",
    "is_backfilled",
    "is_draft",
    "severity",
    "category",
]


# --- Checks -------------------------------------------------------------------------------


def _check_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise DomainError("Give the incident a title.", field="name")
    if len(name) > 255:
        raise DomainError("Keep the title to 255 characters.", field="name")
    return name


def _check_status(kind: str, status: str) -> IncidentStatus:
    allowed = INCIDENT_STATUSES if kind == IncidentKind.INCIDENT else MAINTENANCE_STATUSES
    if status not in allowed:
        label = "an incident" if kind == IncidentKind.INCIDENT else "a maintenance"
        raise DomainError(f"“{status}” is not a status {label} can have.", field="status")
    return IncidentStatus(status)


def _check_impact(impact: str) -> Impact:
    if impact not in INCIDENT_IMPACTS:
        raise DomainError(f"“{impact}” is not an impact.", field="impact")
    return Impact(impact)


def _check_classification(severity: str, category: str) -> tuple[str, str]:
    severity, category = severity or "", category or ""
    if severity and severity not in Severity.values:
        raise DomainError("Choose a severity: critical, high, medium or low.", field="severity")
    if category and category not in Category.values:
        raise DomainError("Choose one of the categories.", field="category")
    return severity, category


def _check_components(page: Page, components) -> None:
    for component in components:
        if component.page_id != page.pk:
            raise DomainError("That component belongs to another page.", field="components")


# --- The shared mechanics -------------------------------------------------------------------


def _applies_claims(incident: Incident) -> bool:
    if incident.is_backfilled:
        return False
    if incident.is_maintenance:
        return incident.status in (IncidentStatus.IN_PROGRESS, IncidentStatus.VERIFYING)
    return incident.status not in (IncidentStatus.RESOLVED, IncidentStatus.POSTMORTEM)


def _sync_claims(incident: Incident, *, at: datetime.datetime) -> dict:
    """Make the incident's component claims match its state; return the status changes."""
    cause = StatusCause.MAINTENANCE if incident.is_maintenance else StatusCause.INCIDENT
    statuses = {}
    if _applies_claims(incident):
        statuses = {
            row.component: row.status
            for row in incident.affected.select_related("component")
            if row.status
        }
    return component_services.apply_status_claims(
        incident.page, source_id=incident.public_id, cause=cause, statuses=statuses, at=at
    )


def _set_affected(incident: Incident, component_statuses: ComponentStatuses) -> None:
    """Add or change affected components (None = the impact's default status)."""
    _check_components(incident.page, component_statuses)
    for component, status in component_statuses.items():
        if status is None:
            status = IMPACT_COMPONENT_STATUS[incident.impact]
        elif status == ComponentStatus.OPERATIONAL:
            status = ""  # still listed as affected, no longer degraded
        else:
            status = ComponentStatus(status)
        IncidentComponent.objects.update_or_create(
            incident=incident,
            component=component,
            defaults={"organization_id": incident.organization_id, "status": status},
        )


def _change_snapshot(changes: dict) -> list[dict]:
    return [
        {"code": c.public_id, "name": c.name, "old_status": old, "new_status": new}
        for c, (old, new) in sorted(changes.items(), key=lambda item: item[0].position)
    ]


def _add_update(
    incident: Incident,
    *,
    actor: Actor,
    status: str,
    body: str,
    changes: dict,
    deliver_notifications: bool,
    display_at: datetime.datetime | None = None,
    event: str = UpdateEvent.MESSAGE,
) -> IncidentUpdate:
    update = IncidentUpdate.objects.create(
        organization_id=incident.organization_id,
        incident=incident,
        status=status,
        body=body,
        body_html=render_markdown(body),
        display_at=display_at or timezone.now(),
        author=actor.user,
        author_label=actor.label,
        event=event,
        affected_components=_change_snapshot(changes),
        deliver_notifications=deliver_notifications,
    )
    if deliver_notifications:
        # The row is the outbox; this is only the fast path (the sweep catches what it drops).
        # By dotted path: incidents never imports subscribers.
        enqueue_on_commit(FAN_OUT_JOB, update.pk)
    return update


def _move_to(incident: Incident, status: IncidentStatus, at: datetime.datetime) -> None:
    incident.status = status
    if status == IncidentStatus.MONITORING and incident.monitoring_at is None:
        incident.monitoring_at = at
    if status in (IncidentStatus.RESOLVED, IncidentStatus.COMPLETED):
        incident.resolved_at = at
    elif status not in (IncidentStatus.POSTMORTEM,):
        incident.resolved_at = None  # reopened
    incident.save()


def lock_incident(incident: Incident) -> Incident:
    return (
        Incident.objects.select_for_update()
        .select_related("page__organization")
        .get(pk=incident.pk)
    )


# --- Incidents ----------------------------------------------------------------------------


def open_incident(
    page: Page,
    *,
    actor: Actor,
    name: str,
    status: str = IncidentStatus.INVESTIGATING,
    impact: str = Impact.NONE,
    body: str = "",
    component_statuses: ComponentStatuses | None = None,
    deliver_notifications: bool = True,
    started_at: datetime.datetime | None = None,
    severity: str = "",
    category: str = "",
    draft: bool = False,
) -> Incident:
    """Declare an incident: it is public at once and its first update is its first message.

    A draft (`draft=True`, what alert intake opens when told to) is triggered for the
    responders only: no public trace, no component status, no email, until it is published
    (incidents.responders.publish_draft). Either way it is routed by its category and, when
    critical or high, alerts the responders."""
    name = _check_name(name)
    status = _check_status(IncidentKind.INCIDENT, status)
    impact = _check_impact(impact or Impact.NONE)
    severity, category = _check_classification(severity, category)
    now = timezone.now()
    with transaction.atomic():
        incident = Incident.objects.create(
            organization_id=page.organization_id,
            page=page,
            kind=IncidentKind.INCIDENT,
            name=name,
            status=IncidentStatus.INVESTIGATING,
            impact=impact,
            started_at=started_at or now,
            severity=severity,
            category=category,
            is_draft=draft,
            draft_message=body if draft else "",
            published_at=None if draft else now,
        )
        _set_affected(incident, component_statuses or {})
        if draft:
            incident.status = status
            incident.save(update_fields=["status"])
        else:
            _move_to(incident, status, now)
            changes = _sync_claims(incident, at=now)
            _add_update(
                incident,
                actor=actor,
                status=status,
                body=body,
                changes=changes,
                deliver_notifications=deliver_notifications,
            )
        paging.route(incident)
        paging.alert_if_urgent(incident)
        record_audit(
            page.organization,
            actor=actor,
            verb="incident.drafted" if draft else "incident.opened",
            target=incident,
            page=page,
            after=snapshot(incident, INCIDENT_FIELDS),
        )
        if not draft:
            public_content_changed(page)
    return incident


def post_incident_update(
    incident: Incident,
    *,
    actor: Actor,
    status: str,
    body: str = "",
    component_statuses: ComponentStatuses | None = None,
    deliver_notifications: bool = True,
    display_at: datetime.datetime | None = None,
    event: str = UpdateEvent.MESSAGE,
) -> IncidentUpdate:
    """A new entry on the timeline. Resolving releases the components; a non-final status
    on a resolved incident reopens it. Concurrent posts are serialised by a row lock, so
    both land, in order."""
    with transaction.atomic():
        incident = lock_incident(incident)
        if incident.is_backfilled:
            raise DomainError("A backfilled incident is history; edit its updates instead.")
        if incident.is_draft:
            raise DomainError("This incident is a draft: publish it before posting updates.")
        status = _check_status(incident.kind, status)
        if incident.cancelled_at is not None:
            raise DomainError("This maintenance was cancelled.", field="status")
        if component_statuses:
            _set_affected(incident, component_statuses)
        # A "resolved" note on an incident with a published postmortem keeps it there.
        keeps_status = (
            incident.status == IncidentStatus.POSTMORTEM and status == IncidentStatus.RESOLVED
        )
        return _transition(
            incident,
            actor=actor,
            status=status,
            body=body,
            event=event,
            deliver=deliver_notifications,
            display_at=display_at,
            verb="incident.updated",
            move=not keeps_status,
        )


def resolve_incident(
    incident: Incident, *, actor: Actor, body: str = "", deliver_notifications: bool = True
) -> IncidentUpdate:
    return post_incident_update(
        incident,
        actor=actor,
        status=IncidentStatus.RESOLVED,
        body=body,
        deliver_notifications=deliver_notifications,
    )


def close_draft(incident: Incident, *, actor: Actor, at: datetime.datetime) -> Incident:
    """The alert behind a draft cleared before anyone published it: the draft is resolved,
    still internal (its MTTR counts), and nobody outside the team ever heard of it."""
    with transaction.atomic():
        incident = lock_incident(incident)
        if not incident.is_draft or incident.is_closed:
            return incident
        incident.status, incident.resolved_at = IncidentStatus.RESOLVED, at
        incident.save(update_fields=["status", "resolved_at", "updated_at"])
        record_audit(
            incident.page.organization,
            actor=actor,
            verb="incident.draft_resolved",
            target=incident,
            page=incident.page,
        )
    return incident


def publish_draft(
    incident: Incident,
    *,
    actor: Actor,
    name: str,
    impact: str,
    body: str,
    component_statuses: ComponentStatuses,
    deliver_notifications: bool = True,
    status: str = IncidentStatus.INVESTIGATING,
) -> Incident:
    """Make a checked draft public: from now on it is an ordinary incident. It keeps its
    trigger time (started_at, created_at, hence MTTA and MTTR); its first public update is
    this message. A draft that already resolved is published as resolved."""
    name = _check_name(name)
    impact = _check_impact(impact or Impact.NONE)
    now = timezone.now()
    with transaction.atomic():
        incident = lock_incident(incident)
        if not incident.is_draft:
            raise DomainError("This incident is already public.")
        if not incident.is_closed:
            status = _check_status(IncidentKind.INCIDENT, status)
        incident.name, incident.impact = name, impact
        incident.is_draft, incident.draft_message, incident.published_at = False, "", now
        incident.affected.exclude(component__in=list(component_statuses)).delete()
        _set_affected(incident, component_statuses)
        if incident.is_closed:
            status = IncidentStatus.RESOLVED
            incident.save()
        else:
            _move_to(incident, IncidentStatus(status), now)
        changes = _sync_claims(incident, at=now)
        _add_update(
            incident,
            actor=actor,
            status=status,
            body=body,
            changes=changes,
            deliver_notifications=deliver_notifications,
        )
        record_audit(
            incident.page.organization,
            actor=actor,
            verb="incident.published",
            target=incident,
            page=incident.page,
            after=snapshot(incident, INCIDENT_FIELDS),
        )
        public_content_changed(incident.page)
    return incident


def discard_draft(incident: Incident, *, actor: Actor) -> None:
    """A false alarm: the draft goes, the audit log keeps that it existed."""
    with transaction.atomic():
        incident = lock_incident(incident)
        if not incident.is_draft:
            raise DomainError("Only drafts can be discarded; delete a public incident instead.")
        record_audit(
            incident.page.organization,
            actor=actor,
            verb="incident.draft_discarded",
            target=incident,
            page=incident.page,
            before=snapshot(incident, INCIDENT_FIELDS),
        )
        incident.delete()


def create_backfilled_incident(
    page: Page,
    *,
    actor: Actor,
    name: str,
    impact: str,
    body: str,
    component_statuses: ComponentStatuses,
    started_at: datetime.datetime,
    resolved_at: datetime.datetime,
    deliver_notifications: bool = False,
) -> Incident:
    """Document an outage after the fact: resolved, back-dated, only in history. Its impact
    counts in uptime but no current component status moves."""
    name = _check_name(name)
    impact = _check_impact(impact or Impact.NONE)
    if resolved_at <= started_at:
        raise DomainError("The end must come after the start.", field="resolved_at")
    if resolved_at > timezone.now():
        raise DomainError("A backfilled incident must already be over.", field="resolved_at")
    with transaction.atomic():
        incident = Incident.objects.create(
            organization_id=page.organization_id,
            page=page,
            kind=IncidentKind.INCIDENT,
            name=name,
            status=IncidentStatus.RESOLVED,
            impact=impact,
            started_at=started_at,
            resolved_at=resolved_at,
            is_backfilled=True,
        )
        _set_affected(incident, component_statuses)
        statuses = {
            row.component: row.status
            for row in incident.affected.select_related("component")
            if row.status
        }
        component_services.record_backfilled_impact(
            page,
            source_id=incident.public_id,
            statuses=statuses,
            started_at=started_at,
            ended_at=resolved_at,
        )
        _add_update(
            incident,
            actor=actor,
            status=IncidentStatus.RESOLVED,
            body=body,
            changes={},
            deliver_notifications=deliver_notifications,
            display_at=resolved_at,
        )
        record_audit(
            page.organization,
            actor=actor,
            verb="incident.backfilled",
            target=incident,
            page=page,
            after=snapshot(incident, INCIDENT_FIELDS),
        )
        public_content_changed(page)
    return incident


def update_incident_details(
    incident: Incident, *, actor: Actor, name: str, impact: str | None = None
) -> Incident:
    name = _check_name(name)
    with transaction.atomic():
        incident = lock_incident(incident)
        before = snapshot(incident, ["name", "impact"])
        incident.name = name
        if impact is not None and not incident.is_maintenance:
            incident.impact = _check_impact(impact)
        incident.save()
        record_audit(
            incident.page.organization,
            actor=actor,
            verb="incident.details_changed",
            target=incident,
            page=incident.page,
            before=before,
            after=snapshot(incident, ["name", "impact"]),
        )
        public_content_changed(incident.page)
    return incident


def edit_incident_update(
    update: IncidentUpdate,
    *,
    actor: Actor,
    body: str,
    display_at: datetime.datetime | None = None,
) -> IncidentUpdate:
    with transaction.atomic():
        before = {"body": update.body, "display_at": update.display_at.isoformat()}
        update.body = body
        update.body_html = render_markdown(body)
        if display_at is not None:
            update.display_at = display_at
        update.save()
        incident = update.incident
        record_audit(
            incident.page.organization,
            actor=actor,
            verb="incident.update_edited",
            target=incident,
            page=incident.page,
            before=before,
            after={"body": update.body, "display_at": update.display_at.isoformat()},
        )
        public_content_changed(incident.page)
    return update


def delete_incident(incident: Incident, *, actor: Actor, confirm_name: str) -> None:
    """Gone from the console and the public site; components recomputed; the audit log keeps
    that it existed."""
    if confirm_name.strip() != incident.name:
        raise DomainError("Type the title exactly to confirm.", field="confirm_name")
    now = timezone.now()
    with transaction.atomic():
        incident = lock_incident(incident)
        page = incident.page
        cause = StatusCause.MAINTENANCE if incident.is_maintenance else StatusCause.INCIDENT
        component_services.release_status_claims(
            page, source_id=incident.public_id, cause=cause, at=now
        )
        record_audit(
            page.organization,
            actor=actor,
            verb="incident.deleted",
            target=incident,
            page=page,
            before={
                **snapshot(incident, INCIDENT_FIELDS),
                "updates": incident.updates.count(),
            },
        )
        incident.delete()
        public_content_changed(page)


# --- Scheduled maintenance ----------------------------------------------------------------


def schedule_maintenance(
    page: Page,
    *,
    actor: Actor,
    name: str,
    scheduled_for: datetime.datetime,
    scheduled_until: datetime.datetime,
    body: str = "",
    components: list[Component] = (),  # type: ignore[assignment]
    deliver_notifications: bool = True,
    remind_prior_minutes: int | None = 60,
    auto_in_progress: bool = True,
    auto_completed: bool = True,
    notify_at_start: bool = True,
    notify_at_end: bool = True,
    allow_past: bool = False,
) -> Incident:
    name = _check_name(name)
    now = timezone.now()
    if scheduled_until <= scheduled_for:
        raise DomainError("The window must end after it starts.", field="scheduled_until")
    if scheduled_for < now - datetime.timedelta(minutes=1) and not allow_past:
        raise DomainError(
            "The window starts in the past. Choose a future time, or backfill it on purpose.",
            field="scheduled_for",
        )
    _check_components(page, components)
    with transaction.atomic():
        incident = Incident.objects.create(
            organization_id=page.organization_id,
            page=page,
            kind=IncidentKind.MAINTENANCE,
            name=name,
            status=IncidentStatus.SCHEDULED,
            impact=Impact.MAINTENANCE,
            started_at=scheduled_for,
            scheduled_for=scheduled_for,
            scheduled_until=scheduled_until,
            remind_prior_minutes=remind_prior_minutes,
            auto_in_progress=auto_in_progress,
            auto_completed=auto_completed,
            notify_at_start=notify_at_start,
            notify_at_end=notify_at_end,
        )
        if remind_prior_minutes is not None and (
            scheduled_for - datetime.timedelta(minutes=remind_prior_minutes) <= now
        ):
            # Announced inside the reminder window: the announcement is the reminder.
            incident.reminded_at = now
            incident.save(update_fields=["reminded_at"])
        _set_affected(incident, dict.fromkeys(components))
        _add_update(
            incident,
            actor=actor,
            status=IncidentStatus.SCHEDULED,
            body=body,
            changes={},
            deliver_notifications=deliver_notifications,
            event=UpdateEvent.MAINTENANCE_SCHEDULED,
        )
        record_audit(
            page.organization,
            actor=actor,
            verb="maintenance.scheduled",
            target=incident,
            page=page,
            after={
                "name": name,
                "scheduled_for": scheduled_for.isoformat(),
                "scheduled_until": scheduled_until.isoformat(),
            },
        )
        public_content_changed(page)
    return incident


def _check_maintenance(incident: Incident, *, allowed_from: set[str], action: str) -> None:
    if not incident.is_maintenance:
        raise DomainError(f"Only a scheduled maintenance can be {action}.")
    if incident.cancelled_at is not None:
        raise DomainError("This maintenance was cancelled.")
    if incident.status not in allowed_from:
        raise DomainError(
            f"A maintenance that is {incident.get_status_display().lower()} cannot be {action}."
        )


def start_maintenance(
    incident: Incident,
    *,
    actor: Actor,
    body: str = "",
    deliver_notifications: bool | None = None,
    at: datetime.datetime | None = None,
) -> IncidentUpdate:
    with transaction.atomic():
        incident = lock_incident(incident)
        _check_maintenance(incident, allowed_from={IncidentStatus.SCHEDULED}, action="started")
        return _transition(
            incident,
            actor=actor,
            status=IncidentStatus.IN_PROGRESS,
            body=body or MAINTENANCE_STARTED_MESSAGE,
            event=UpdateEvent.MAINTENANCE_STARTED,
            deliver=incident.notify_at_start
            if deliver_notifications is None
            else deliver_notifications,
            at=at,
        )


def mark_maintenance_verifying(
    incident: Incident, *, actor: Actor, body: str = "", deliver_notifications: bool = False
) -> IncidentUpdate:
    with transaction.atomic():
        incident = lock_incident(incident)
        _check_maintenance(
            incident, allowed_from={IncidentStatus.IN_PROGRESS}, action="marked as verifying"
        )
        return _transition(
            incident,
            actor=actor,
            status=IncidentStatus.VERIFYING,
            body=body or "We are verifying that the maintenance was successful.",
            event=UpdateEvent.MESSAGE,
            deliver=deliver_notifications,
        )


def complete_maintenance(
    incident: Incident,
    *,
    actor: Actor,
    body: str = "",
    deliver_notifications: bool | None = None,
    at: datetime.datetime | None = None,
) -> IncidentUpdate:
    with transaction.atomic():
        incident = lock_incident(incident)
        running = {IncidentStatus.IN_PROGRESS, IncidentStatus.VERIFYING}
        _check_maintenance(incident, allowed_from=running, action="completed")
        return _transition(
            incident,
            actor=actor,
            status=IncidentStatus.COMPLETED,
            body=body or MAINTENANCE_COMPLETED_MESSAGE,
            event=UpdateEvent.MAINTENANCE_COMPLETED,
            deliver=incident.notify_at_end
            if deliver_notifications is None
            else deliver_notifications,
            at=at,
        )


def cancel_maintenance(incident: Incident, *, actor: Actor, body: str = "") -> IncidentUpdate:
    with transaction.atomic():
        incident = lock_incident(incident)
        _check_maintenance(incident, allowed_from={IncidentStatus.SCHEDULED}, action="cancelled")
        incident.cancelled_at = timezone.now()
        return _transition(
            incident,
            actor=actor,
            status=IncidentStatus.COMPLETED,
            body=body or MAINTENANCE_CANCELLED_MESSAGE,
            event=UpdateEvent.MAINTENANCE_CANCELLED,
            deliver=True,
        )


def _transition(
    incident: Incident,
    *,
    actor: Actor,
    status: IncidentStatus,
    body: str,
    event: str,
    deliver: bool,
    at: datetime.datetime | None = None,
    display_at: datetime.datetime | None = None,
    verb: str = "",
    move: bool = True,
) -> IncidentUpdate:
    """Move a (locked) incident or maintenance to `status`, re-derive its components, post
    the update that says so, audit it and bump the public content."""
    at = at or timezone.now()
    previous = incident.status
    if move:
        _move_to(incident, status, at)
    changes = _sync_claims(incident, at=at)
    update = _add_update(
        incident,
        actor=actor,
        status=status,
        body=body,
        changes=changes,
        deliver_notifications=deliver,
        display_at=display_at or at,
        event=event,
    )
    record_audit(
        incident.page.organization,
        actor=actor,
        verb=verb or f"maintenance.{status}",
        target=incident,
        page=incident.page,
        before={"status": previous},
        after={"status": status, "update": update.public_id},
    )
    public_content_changed(incident.page)
    return update


def remind_maintenance(incident: Incident, *, actor: Actor, now: datetime.datetime) -> None:
    minutes = max(1, round((incident.scheduled_for - now).total_seconds() / 60))
    _add_update(
        incident,
        actor=actor,
        status=IncidentStatus.SCHEDULED,
        body=f"Scheduled maintenance will begin in {minutes} minutes.",
        changes={},
        deliver_notifications=True,
        display_at=now,
        event=UpdateEvent.MAINTENANCE_REMINDER,
    )
    public_content_changed(incident.page)


def advance_maintenances(now: datetime.datetime | None = None) -> list[tuple[str, str]]:
    """The periodic tick: send due reminders, start and complete due maintenances.

    It catches up: whatever is due now is applied, however long no tick ran. Each transition
    is claimed with a conditional UPDATE on the state it leaves, so two ticks running at once
    apply it once. A start applied after the window already ended is recorded at the window's
    start without notifying (the completion that follows is the news). Returns
    [(public_id, what)] in the order applied."""
    now = now or timezone.now()
    actor = Actor.system("scheduler")
    applied: list[tuple[str, str]] = []
    with scopes_disabled():
        due = Incident.objects.filter(kind=IncidentKind.MAINTENANCE, cancelled_at__isnull=True)
        reminders = due.filter(
            status=IncidentStatus.SCHEDULED,
            remind_prior_minutes__isnull=False,
            reminded_at__isnull=True,
            scheduled_for__gt=now,
        )
        starts = due.filter(
            status=IncidentStatus.SCHEDULED, auto_in_progress=True, scheduled_for__lte=now
        )
        ends = due.filter(auto_completed=True, scheduled_until__lte=now)
        reminder_ids = [
            (m.pk, m.organization_id)
            for m in reminders
            if m.scheduled_for - datetime.timedelta(minutes=m.remind_prior_minutes) <= now
        ]
        start_ids = list(starts.values_list("pk", "organization_id"))
    for pk, organization_id in reminder_ids:
        with scope(organization=organization_id), transaction.atomic():
            claimed = Incident.objects.filter(pk=pk, reminded_at__isnull=True).update(
                reminded_at=now
            )
            if claimed:
                incident = Incident.objects.select_related("page").get(pk=pk)
                remind_maintenance(incident, actor=actor, now=now)
                applied.append((incident.public_id, "reminded"))
    for pk, organization_id in start_ids:
        with scope(organization=organization_id):
            incident = Incident.objects.get(pk=pk)
            is_late = incident.scheduled_until <= now
            try:
                start_maintenance(
                    incident,
                    actor=actor,
                    at=incident.scheduled_for if is_late else now,
                    deliver_notifications=False if is_late else None,
                )
            except DomainError:
                continue  # another tick got there first
            applied.append((incident.public_id, "started"))
    with scopes_disabled():
        end_ids = list(
            ends.filter(
                status__in=[IncidentStatus.IN_PROGRESS, IncidentStatus.VERIFYING]
            ).values_list("pk", "organization_id")
        )
    for pk, organization_id in end_ids:
        with scope(organization=organization_id):
            incident = Incident.objects.get(pk=pk)
            try:
                complete_maintenance(incident, actor=actor, at=min(now, incident.scheduled_until))
            except DomainError:
                continue
            applied.append((incident.public_id, "completed"))
    return applied


# --- Templates ----------------------------------------------------------------------------


def create_incident_template(
    page: Page,
    *,
    actor: Actor,
    name: str,
    title: str,
    body: str = "",
    status: str = IncidentStatus.INVESTIGATING,
    impact: str = Impact.NONE,
    components: list[Component] = (),  # type: ignore[assignment]
    deliver_notifications: bool = True,
) -> IncidentTemplate:
    if not (name or "").strip():
        raise DomainError("Name the template.", field="name")
    _check_components(page, components)
    with transaction.atomic():
        template = IncidentTemplate.objects.create(
            organization_id=page.organization_id,
            page=page,
            name=name.strip(),
            title=_check_name(title),
            body=body,
            status=_check_status(IncidentKind.INCIDENT, status),
            impact=_check_impact(impact or Impact.NONE),
            deliver_notifications=deliver_notifications,
        )
        template.components.set(components)
        record_audit(
            page.organization,
            actor=actor,
            verb="incident_template.created",
            target=template,
            page=page,
        )
    return template


def update_incident_template(
    template: IncidentTemplate,
    *,
    actor: Actor,
    name: str,
    title: str,
    body: str,
    status: str,
    impact: str,
    components: list[Component],
    deliver_notifications: bool,
) -> IncidentTemplate:
    if not (name or "").strip():
        raise DomainError("Name the template.", field="name")
    _check_components(template.page, components)
    with transaction.atomic():
        template.name = name.strip()
        template.title = _check_name(title)
        template.body = body
        template.status = _check_status(IncidentKind.INCIDENT, status)
        template.impact = _check_impact(impact or Impact.NONE)
        template.deliver_notifications = deliver_notifications
        template.save()
        template.components.set(components)
        record_audit(
            template.page.organization,
            actor=actor,
            verb="incident_template.updated",
            target=template,
            page=template.page,
        )
    return template


def delete_incident_template(template: IncidentTemplate, *, actor: Actor) -> None:
    with transaction.atomic():
        record_audit(
            template.page.organization,
            actor=actor,
            verb="incident_template.deleted",
            target=template,
            page=template.page,
        )
        template.delete()


def set_postmortem_published(incident: Incident, *, published: bool) -> Incident:
    """Publishing a postmortem moves a resolved incident to `postmortem` (and back on
    unpublish). No update is posted and nobody is notified: a postmortem is read, not pushed.
    Called inside the postmortems service's transaction."""
    incident = lock_incident(incident)
    if published and incident.status == IncidentStatus.RESOLVED:
        incident.status = IncidentStatus.POSTMORTEM
    elif not published and incident.status == IncidentStatus.POSTMORTEM:
        incident.status = IncidentStatus.RESOLVED
    incident.save(update_fields=["status", "updated_at"])
    public_content_changed(incident.page)
    return incident


# --- Alert intake ---------------------------------------------------------------------------


def create_integration(
    page: Page,
    *,
    actor: Actor,
    name: str,
    kind: str,
    components: list[Component] = (),  # type: ignore[assignment]
    impact: str = Impact.MAJOR,
    title_template: str = "{title}",
    signing_secret: str = "",
    creates_drafts: bool = False,
    severity: str = "",
    category: str = "",
) -> Integration:
    severity, category = _check_classification(severity, category)
    if kind not in Integration.Kind.values:
        raise DomainError("Choose one of the supported tools.", field="kind")
    if "{title}" not in title_template:
        raise DomainError("The title template must contain {title}.", field="title_template")
    _check_components(page, components)
    with transaction.atomic():
        integration = Integration.objects.create(
            organization_id=page.organization_id,
            page=page,
            name=name.strip() or kind,
            kind=kind,
            token=secrets.token_urlsafe(24),
            impact=_check_impact(impact),
            title_template=title_template,
            signing_secret=signing_secret,
            creates_drafts=creates_drafts,
            severity=severity,
            category=category,
        )
        integration.components.set(components)
        record_audit(
            page.organization,
            actor=actor,
            verb="integration.created",
            target=integration,
            page=page,
            after={"kind": kind, "creates_drafts": creates_drafts},
        )
    return integration


def delete_integration(integration: Integration, *, actor: Actor) -> None:
    with transaction.atomic():
        record_audit(
            integration.page.organization,
            actor=actor,
            verb="integration.deleted",
            target=integration,
            page=integration.page,
        )
        integration.delete()


CLOSED_STATUSES = ["resolved", "postmortem", "completed"]


def receive_alerts(integration: Integration, alerts: list, *, payload: str) -> dict[str, int]:
    """Apply one request's alerts, all or nothing, and log it (on failure too).

    Storm protection: while the integration has an open incident it opened, and an alert
    fired into it within the grouping window, a newly firing alert joins that incident
    (an `IncidentAlert` row, no new update, nobody notified) instead of opening another. The
    incident resolves when every alert of it has resolved. Replays and out-of-order deliveries
    change nothing: each key's link remembers its incident and when it last resolved.

    Requests of one integration are serialised by a lock on its row, so two concurrent
    requests of a storm still make one incident."""
    try:
        with transaction.atomic():
            integration = Integration.objects.select_for_update().get(pk=integration.pk)
            counts = _AlertBatch(integration).apply(alerts)
            outcome = ", ".join(f"{n} {what}" for what, n in counts.items() if n)
            log_integration_event(integration, payload=payload, outcome=outcome or "nothing to do")
    except Exception as error:
        # Outside the rolled-back block, so the console still shows what came in and why not.
        log_integration_event(integration, payload=payload, error=f"Not applied: {error}")
        raise
    return counts


class _AlertBatch:
    """One request's alerts applied in order, inside receive_alerts' transaction.

    Links and memberships are read once for the whole batch, changed in memory and written
    back in bulk at the end (a storm's request costs a handful of queries, not a few per
    alert); only opening and resolving an incident go through their services as they come."""

    def __init__(self, integration: Integration):
        self.integration = integration
        self.actor = Actor.integration(integration.name)
        self.now = timezone.now()
        self.opened = "drafted" if integration.creates_drafts else "opened"
        self.counts = {self.opened: 0, "grouped": 0, "resolved": 0, "ignored": 0}
        self.statuses = dict.fromkeys(integration.components.all())
        self.incidents: dict[int, Incident] = {}  # one copy of each incident the batch touches
        self.closed_ids: set[int] = set()  # closed by this batch
        self.firing: dict[int, int] = {}  # incident → how many of its alerts fire
        self.total: dict[int, int] = {}  # incident → how many alerts it has
        self.changed: dict[int, IncidentAlert] = {}

    def apply(self, alerts: list[intake.Alert]) -> dict[str, int]:
        keys = {alert.key for alert in alerts}
        self.group = self._open_group()
        self.links = {
            link.alert_key: link
            for link in AlertLink.objects.filter(
                integration=self.integration, alert_key__in=keys
            ).select_related("incident")
        }
        for link in self.links.values():
            if link.incident is not None:
                link.incident = self.incidents.setdefault(link.incident_id, link.incident)
        self.members = {
            (member.incident_id, member.alert_key): member
            for member in IncidentAlert.objects.filter(
                incident_id__in=list(self.incidents), alert_key__in=keys
            )
        }
        for alert in alerts:
            link = self.links.setdefault(
                alert.key,
                AlertLink(
                    organization_id=self.integration.organization_id,
                    integration=self.integration,
                    alert_key=alert.key,
                ),
            )
            if alert.firing:
                self._fire(link, alert)
            else:
                self._resolve(link, alert)
        self._save()
        return self.counts

    def _open_group(self) -> Incident | None:
        """The open incident this integration opened that an alert fired into lately."""
        window = datetime.timedelta(minutes=intake.limit("INTAKE_GROUP_WINDOW_MINUTES"))
        recent = (
            IncidentAlert.objects.filter(
                integration=self.integration, last_fired_at__gte=self.now - window
            )
            .exclude(incident__status__in=CLOSED_STATUSES)
            .select_related("incident")
            .order_by("-last_fired_at")
            .first()
        )
        if recent is None:
            return None
        return self.incidents.setdefault(recent.incident_id, recent.incident)

    def _is_open(self, incident: Incident | None) -> bool:
        return incident is not None and not (incident.is_closed or incident.pk in self.closed_ids)

    def _count(self, incident: Incident) -> None:
        """Load how many alerts `incident` has (and fire) before the batch changes any."""
        if incident.pk not in self.firing:
            counts = IncidentAlert.objects.filter(incident=incident).aggregate(
                total=Count("pk"), firing=Count("pk", filter=Q(is_firing=True))
            )
            self.total[incident.pk], self.firing[incident.pk] = counts["total"], counts["firing"]

    def _fire(self, link: AlertLink, alert: intake.Alert) -> None:
        stale = link.last_resolved_at and alert.at and alert.at <= link.last_resolved_at
        incident, group = link.incident, self.group
        if stale:
            self.counts["ignored"] += 1
        elif incident is not None and self._is_open(incident):
            joined = self._join(incident, alert)
            self.counts["grouped" if joined else "ignored"] += 1  # not joined: a replay
        elif group is not None and self._is_open(group):
            link.incident = group
            self._join(group, alert)
            self.counts["grouped"] += 1
        else:
            link.incident = self.group = self._open(alert)
            self._join(self.group, alert)
            self.counts[self.opened] += 1

    def _open(self, alert: intake.Alert) -> Incident:
        integration = self.integration
        name = intake.truncate(
            integration.title_template.replace("{title}", alert.title), intake.TITLE_LENGTH
        )
        incident = open_incident(
            integration.page,
            actor=self.actor,
            impact=integration.impact,
            component_statuses=self.statuses,
            name=name,
            body=alert.description or f"{alert.title}. We are investigating.",
            severity=integration.severity,
            category=integration.category,
            draft=integration.creates_drafts,
        )
        self.incidents[incident.pk] = incident
        self.total[incident.pk] = self.firing[incident.pk] = 0
        return incident

    def _join(self, incident: Incident, alert: intake.Alert) -> bool:
        """Record the alert as firing in `incident`; False when it already was (a replay)."""
        self._count(incident)
        member = self.members.get((incident.pk, alert.key))
        if member is None:
            member = IncidentAlert(
                organization_id=incident.organization_id,
                incident=incident,
                integration=self.integration,
                alert_key=alert.key,
                title=alert.title,
                started_at=alert.at,
                last_fired_at=self.now,
            )
            self.members[(incident.pk, alert.key)] = member
            self.total[incident.pk] += 1
        elif member.is_firing:
            return False
        else:
            member.resolved_at, member.last_fired_at = None, self.now
            member.started_at = alert.at or member.started_at
        member.is_firing = True
        self.firing[incident.pk] += 1
        self.changed[id(member)] = member
        return True

    def _resolve(self, link: AlertLink, alert: intake.Alert) -> None:
        link.last_resolved_at = alert.at or self.now
        incident = link.incident
        if incident is None or not self._is_open(incident):
            self.counts["ignored"] += 1
            return
        self._count(incident)
        member = self.members.get((incident.pk, alert.key))
        changed = member is not None and member.is_firing
        if changed:
            member.is_firing, member.resolved_at = False, link.last_resolved_at
            self.changed[id(member)] = member
            self.firing[incident.pk] -= 1
        if self.firing[incident.pk] > 0:  # the others of its storm still fire
            self.counts["resolved" if changed else "ignored"] += 1
            return
        if incident.is_draft:
            close_draft(incident, actor=self.actor, at=link.last_resolved_at)
        else:
            total = self.total[incident.pk]
            what = alert.title if total <= 1 else f"all {total} alerts"
            body = f"Resolved: {what}. Service is back to normal."
            resolve_incident(incident, actor=self.actor, body=body)
        self.closed_ids.add(incident.pk)
        self.counts["resolved"] += 1

    def _save(self) -> None:
        links = self.links.values()
        AlertLink.objects.bulk_create([link for link in links if link.pk is None], batch_size=500)
        AlertLink.objects.bulk_update(
            [link for link in links if link.pk is not None],
            ["incident", "last_resolved_at"],
            batch_size=500,
        )
        members = self.changed.values()
        IncidentAlert.objects.bulk_create([m for m in members if m.pk is None], batch_size=500)
        IncidentAlert.objects.bulk_update(
            [m for m in members if m.pk is not None],
            ["is_firing", "resolved_at", "last_fired_at", "started_at"],
            batch_size=500,
        )


def log_integration_event(
    integration: Integration, *, payload: str, outcome: str = "", error: str = ""
) -> None:
    """Keep what a request brought (bounded, storable) and what came of it: the last 20."""
    IntegrationEvent.objects.create(
        organization_id=integration.organization_id,
        integration=integration,
        payload=intake.loggable(payload),
        outcome=intake.loggable(outcome)[:255],
        error=intake.loggable(error)[:2000],
    )
    keep = list(
        IntegrationEvent.objects.filter(integration=integration).values_list("pk", flat=True)[:20]
    )
    IntegrationEvent.objects.filter(integration=integration).exclude(pk__in=keep).delete()
