"""Writes of subscribers, and the notification pipeline (at least once, never twice).

1. `fan_out_update` selects the recipients of an update (and `fan_out_component_change` the
   webhook recipients of a component status change) and inserts one Delivery row each under a
   unique constraint (running it again inserts nothing), a batch at a time, handing each
   batch to a send job as soon as it is committed.
2. `send_deliveries` claims its rows with one conditional UPDATE (pending, due, and nobody's
   lease running; rows of subscribers who left meanwhile are withdrawn), renders the update
   once, sends over one SMTP connection and marks rows sent, a few at a time, as soon as the
   server accepted them. A transient error puts the row back to
   pending, due again after an exponential back-off (`retry_delay`), until
   DELIVERY_MAX_ATTEMPTS; a permanent refusal marks it failed and counts towards quarantine.
3. `sweep` (every minute) enqueues what a lost job or a Redis outage left behind, and the rows
   whose back-off has run out.
The guarantee: no notification is lost; at most one duplicate per recipient per worker crash
(the window between the server accepting a message and the row being marked sent).

New webhook endpoints confirm by a challenge (`send_webhook_challenge`, from a job, never in
a request): the endpoint echoes a random token, or the operator confirms it by hand.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime
import logging
import random
import secrets as secret_tokens
import smtplib
import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import EmptyResultSet, ValidationError
from django.core.mail import get_connection
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import Case, F, Q, Value, When
from django.db.models.constants import OnConflict
from django.utils import timezone
from django_scopes import scopes_disabled

from components.enums import StatusCause
from components.models import Component, ComponentStatusChange
from incidents.models import Incident, IncidentUpdate
from statuspage.actors import Actor
from statuspage.audit import record_audit
from statuspage.errors import DomainError
from statuspage.lookups import any_of_sql
from statuspage.models import Page
from statuspage.queue import enqueue_at, enqueue_now, enqueue_on_commit
from statuspage.worker import abandoned_jobs, current_job, forget_abandoned_jobs
from subscribers import webhooks
from subscribers.addresses import (
    UndeliverableAddress,
    WireAddress,
    validate_subscriber_email,
)
from subscribers.csv_io import plan_import
from subscribers.emails import PreparedUpdate, message_for, prepared_updates
from subscribers.enums import DeliveryStatus, SubscriberKind
from subscribers.models import Delivery, EventBacklog, Subscriber

logger = logging.getLogger(__name__)
SEND_JOB = "subscribers.jobs.send_deliveries_job"
CONFIRM_JOB = "subscribers.jobs.send_confirmation_job"
FAN_OUT_JOB = "subscribers.jobs.fan_out_job"
COMPONENT_FAN_OUT_JOB = "subscribers.jobs.fan_out_component_change_job"
CHALLENGE_JOB = "subscribers.jobs.send_webhook_challenge_job"
SYSTEM = Actor.system("notifications")


# --- Subscribing ----------------------------------------------------------------------------


def _check_email(email: str) -> str:
    """The address as stored (trimmed, lower case); raises DomainError with the reason a mail
    server would refuse it for (an address literal, a single-label domain, quotes …)."""
    email = email.strip().lower()
    try:
        validate_subscriber_email(email)
    except ValidationError as error:
        raise DomainError(error.messages[0], field="email") from error
    return email


def _check_components(page: Page, components: Iterable[Component]) -> list[Component]:
    components = list(components)
    if any(c.page_id != page.pk for c in components):
        raise DomainError("That component belongs to another page.", field="components")
    return components


def subscribe(page: Page, *, email: str, components: Iterable[Component] = ()) -> Subscriber:
    """A visitor asks to subscribe. The caller answers the same whatever happens here (no
    enumeration); a confirmation email goes out at most once per SUBSCRIPTION_RESEND_AFTER."""
    if not page.allow_subscribers:
        raise DomainError("This page does not take subscriptions.")
    email = _check_email(email)
    components = _check_components(page, components)
    now = timezone.now()
    with transaction.atomic():
        subscriber = Subscriber.objects.select_for_update().filter(page=page, email=email).first()
        if subscriber is None:
            try:
                with transaction.atomic():
                    subscriber = Subscriber.objects.create(
                        organization_id=page.organization_id, page=page, email=email
                    )
            except IntegrityError:  # a concurrent request created it first
                subscriber = Subscriber.objects.get(page=page, email=email)
        if subscriber.confirmed_at and not subscriber.unsubscribed_at:
            return subscriber  # already subscribed: nothing to send, nothing to reveal
        if subscriber.unsubscribed_at:
            subscriber.unsubscribed_at = None
            subscriber.confirmed_at = None
        subscriber.components.set(components)
        recently = subscriber.confirmation_sent_at and (
            now - subscriber.confirmation_sent_at
        ) < datetime.timedelta(seconds=settings.SUBSCRIPTION_RESEND_AFTER)
        if not recently:
            subscriber.confirmation_sent_at = now
            enqueue_on_commit(CONFIRM_JOB, subscriber.pk)
        subscriber.save()
    return subscriber


def confirm_subscription(subscriber: Subscriber) -> Subscriber:
    if subscriber.unsubscribed_at:
        raise DomainError("This subscription was cancelled. Subscribe again to restart it.")
    if subscriber.confirmed_at is None:
        subscriber.confirmed_at = timezone.now()
        subscriber.save(update_fields=["confirmed_at"])
    return subscriber


def change_subscription(subscriber: Subscriber, *, components: Iterable[Component]) -> Subscriber:
    subscriber.components.set(_check_components(subscriber.page, components))
    return subscriber


def unsubscribe(subscriber: Subscriber) -> Subscriber:
    if subscriber.unsubscribed_at is None:
        subscriber.unsubscribed_at = timezone.now()
        subscriber.save(update_fields=["unsubscribed_at"])
    return subscriber


# --- Console --------------------------------------------------------------------------------


def add_subscriber(
    page: Page,
    *,
    actor: Actor,
    email: str,
    components: Iterable[Component] = (),
    skip_confirmation: bool = False,
) -> Subscriber:
    email = _check_email(email)
    components = _check_components(page, components)
    with transaction.atomic():
        if Subscriber.objects.filter(page=page, email=email).exists():
            raise DomainError(f"{email} is already a subscriber.", field="email")
        subscriber = Subscriber.objects.create(
            organization_id=page.organization_id,
            page=page,
            email=email,
            confirmed_at=timezone.now() if skip_confirmation else None,
            confirmation_sent_at=None if skip_confirmation else timezone.now(),
        )
        subscriber.components.set(components)
        if not skip_confirmation:
            enqueue_on_commit(CONFIRM_JOB, subscriber.pk)
        record_audit(page.organization, actor=actor, verb="subscriber.added", target=subscriber,
                     page=page, after={"email": email, "confirmed": skip_confirmation})  # fmt: skip
    return subscriber


def import_subscribers(page: Page, *, actor: Actor, text: str, send_confirmation: bool) -> int:
    """All rows or none: raises DomainError listing every bad row."""
    plan = plan_import(page, text)
    if plan.errors:
        raise DomainError(" ".join(plan.errors[:20]) + (" …" if len(plan.errors) > 20 else ""),
                          field="file")  # fmt: skip
    now = timezone.now()
    with transaction.atomic():
        for email, components in plan.rows:
            subscriber = Subscriber.objects.create(
                organization_id=page.organization_id, page=page, email=email,
                confirmed_at=None if send_confirmation else now,
                confirmation_sent_at=now if send_confirmation else None,
            )  # fmt: skip
            subscriber.components.set(components)
            if send_confirmation:
                enqueue_on_commit(CONFIRM_JOB, subscriber.pk)
        record_audit(page.organization, actor=actor, verb="subscriber.imported", target=page,
                     page=page, after={"count": len(plan.rows)})  # fmt: skip
    return len(plan.rows)


def add_webhook_subscriber(
    page: Page,
    *,
    actor: Actor,
    endpoint: str,
    components: Iterable[Component] = (),
    skip_confirmation: bool = False,
) -> Subscriber:
    """A webhook endpoint. It is confirmed when it echoes the challenge a job POSTs after
    commit, or at once when the operator vouches for it (`skip_confirmation`)."""
    components = _check_components(page, components)
    try:
        webhooks.check_destination(endpoint)
    except webhooks.WebhookError as error:
        raise DomainError(str(error), field="endpoint") from error
    now = timezone.now()
    with transaction.atomic():
        if Subscriber.objects.filter(page=page, kind=SubscriberKind.WEBHOOK,
                                     endpoint=endpoint).exists():  # fmt: skip
            raise DomainError("That endpoint is already subscribed.", field="endpoint")
        subscriber = Subscriber.objects.create(
            organization_id=page.organization_id, page=page, kind=SubscriberKind.WEBHOOK,
            endpoint=endpoint, secret=secret_tokens.token_hex(24),
            confirmed_at=now if skip_confirmation else None,
            challenge="" if skip_confirmation else secret_tokens.token_urlsafe(24),
            challenge_sent_at=None if skip_confirmation else now,
        )  # fmt: skip
        subscriber.components.set(components)
        if not skip_confirmation:
            enqueue_on_commit(CHALLENGE_JOB, subscriber.pk)
        record_audit(page.organization, actor=actor, verb="subscriber.webhook_added",
                     target=subscriber, page=page,
                     after={"endpoint": endpoint, "confirmed": skip_confirmation})  # fmt: skip
    return subscriber


def send_webhook_challenge(subscriber: Subscriber) -> bool:
    """POST the pending webhook's challenge (a job's work: it waits on a stranger's server).
    Confirms the subscriber if the endpoint echoed the token; otherwise keeps it pending with
    the reason, for the console. Returns whether it is now confirmed by this call. A token
    replaced meanwhile (sent again) leaves this answer without effect."""
    if subscriber.kind != SubscriberKind.WEBHOOK or not subscriber.challenge:
        return False
    if subscriber.confirmed_at or subscriber.unsubscribed_at:
        return False
    token = subscriber.challenge
    still_pending = Subscriber.objects.filter(pk=subscriber.pk, challenge=token,
                                              confirmed_at__isnull=True)  # fmt: skip
    try:
        webhooks.challenge(subscriber)
    except webhooks.WebhookError as error:
        still_pending.update(challenge_error=str(error)[:300])
        return False
    with transaction.atomic():
        confirmed = still_pending.update(confirmed_at=timezone.now(), challenge_error="")
        if confirmed:
            record_audit(subscriber.page.organization, actor=SYSTEM,
                         verb="subscriber.webhook_confirmed", target=subscriber,
                         page=subscriber.page, after={"by": "challenge"})  # fmt: skip
    return bool(confirmed)


def confirm_webhook(subscriber: Subscriber, *, actor: Actor) -> Subscriber:
    """The operator vouches for a pending webhook endpoint (one that cannot echo)."""
    if subscriber.kind != SubscriberKind.WEBHOOK:
        raise DomainError("Email addresses confirm themselves, from the link we send.")
    if subscriber.confirmed_at:
        raise DomainError(f"{subscriber} is already confirmed.")
    with transaction.atomic():
        subscriber.confirmed_at = timezone.now()
        subscriber.challenge_error = ""
        subscriber.save(update_fields=["confirmed_at", "challenge_error"])
        record_audit(subscriber.page.organization, actor=actor,
                     verb="subscriber.webhook_confirmed", target=subscriber,
                     page=subscriber.page, after={"by": "operator"})  # fmt: skip
    return subscriber


def remove_subscriber(subscriber: Subscriber, *, actor: Actor) -> None:
    with transaction.atomic():
        record_audit(subscriber.page.organization, actor=actor, verb="subscriber.removed",
                     target=subscriber, page=subscriber.page)  # fmt: skip
        subscriber.delete()


def resend_confirmation(subscriber: Subscriber, *, actor: Actor) -> None:
    """The confirmation email again, or for a webhook a new challenge (a fresh token)."""
    if subscriber.confirmed_at:
        raise DomainError(f"{subscriber} has already confirmed.")
    now = timezone.now()
    with transaction.atomic():
        subscriber.unsubscribed_at = None
        if subscriber.kind == SubscriberKind.WEBHOOK:
            subscriber.challenge = secret_tokens.token_urlsafe(24)
            subscriber.challenge_sent_at, subscriber.challenge_error = now, ""
            subscriber.save(update_fields=["challenge", "challenge_sent_at", "challenge_error",
                                           "unsubscribed_at"])  # fmt: skip
            enqueue_on_commit(CHALLENGE_JOB, subscriber.pk)
        else:
            subscriber.confirmation_sent_at = now
            subscriber.save(update_fields=["confirmation_sent_at", "unsubscribed_at"])
            enqueue_on_commit(CONFIRM_JOB, subscriber.pk)
        record_audit(subscriber.page.organization, actor=actor,
                     verb="subscriber.confirmation_resent", target=subscriber,
                     page=subscriber.page)  # fmt: skip


def lift_quarantine(subscriber: Subscriber, *, actor: Actor) -> None:
    with transaction.atomic():
        subscriber.quarantined_at = None
        subscriber.hard_failures = 0
        subscriber.save(update_fields=["quarantined_at", "hard_failures"])
        record_audit(subscriber.page.organization, actor=actor,
                     verb="subscriber.quarantine_lifted", target=subscriber,
                     page=subscriber.page)  # fmt: skip


# --- Fan-out --------------------------------------------------------------------------------


def _active_subscribers(page_id: int):
    return Subscriber.objects.filter(
        page_id=page_id,
        confirmed_at__isnull=False,
        unsubscribed_at__isnull=True,
        quarantined_at__isnull=True,
    )


def _interested_in(component_ids: list[int]) -> Q:
    interested = Q(components__isnull=True)
    if component_ids:
        interested |= Q(components__in=component_ids)
    return interested


def recipients_of(update: IncidentUpdate):
    """Confirmed, active subscribers interested in everything or in an affected component."""
    incident = update.incident
    affected = list(incident.affected.values_list("component_id", flat=True))
    return _active_subscribers(incident.page_id).filter(_interested_in(affected)).distinct()


def is_public_component_change(change: ComponentStatusChange) -> bool:
    """Whether webhook subscribers hear of a status change: every live change visitors saw
    (set by hand, by the API, by a published incident or a running maintenance, or undone
    when one is deleted). Never backfilled history, and never a draft incident's effect
    (drafts claim no component status; this keeps a change of that from leaking)."""
    if change.is_backfilled:
        return False
    if change.cause in (StatusCause.INCIDENT, StatusCause.MAINTENANCE) and change.source_id:
        return not Incident.objects.filter(
            page_id=change.page_id, public_id=change.source_id, is_draft=True
        ).exists()
    return True


def webhook_recipients_of(change: ComponentStatusChange):
    """Confirmed, active webhook subscribers interested in everything or in the component."""
    return (
        _active_subscribers(change.page_id)
        .filter(kind=SubscriberKind.WEBHOOK)
        .filter(_interested_in([change.component_id]))
        .distinct()
    )


def _fan_out(event: dict, organization_id: int, recipients, *, outbox) -> int:
    """Insert one Delivery per recipient of `event` and hand the rows to send jobs, a batch
    of recipients at a time: each batch is committed and enqueued before the next is written,
    so the first emails leave while the rest are still being inserted. Returns the rows
    created now.

    Idempotent: the unique constraint skips rows an earlier run inserted, and those still
    due are enqueued again (the conditional claim sends each once). The outbox row is marked
    fanned out after the last batch; a crash before that leaves it to the sweep, which runs
    this again. Its commits do not wait for the disk: a batch lost in a database crash is
    written again by the sweep's fan-out (commits are lost from the newest back, so the
    outbox row is not marked either), and its recipients already emailed get it at most
    once more."""
    with _commits_without_waiting_for_the_disk():
        return _fan_out_in_batches(event, organization_id, recipients, outbox)


def _fan_out_in_batches(event: dict, organization_id: int, recipients, outbox) -> int:
    chosen = list(recipients.order_by("pk").values_list("pk", flat=True))
    if chosen:  # the sweep watches this event until none of its rows is pending
        EventBacklog.objects.get_or_create(**event, defaults={"organization_id": organization_id})
    size = settings.DELIVERY_BATCH_SIZE
    created = 0
    for start in range(0, len(chosen), size):
        batch = chosen[start : start + size]
        with transaction.atomic():
            new_ids = _insert_deliveries(
                event, organization_id, recipients.filter(pk__gte=batch[0], pk__lte=batch[-1])
            )
        created += len(new_ids)
        if len(new_ids) == len(batch):  # the usual case: every row is new, and due
            _enqueue_batches(sorted(new_ids), organization_id)
        else:  # a run again: some rows were there already, perhaps sent
            _enqueue_due(Delivery.objects.filter(**event, subscriber_id__gte=batch[0],
                                                 subscriber_id__lte=batch[-1]),
                         organization_id)  # fmt: skip
    outbox.filter(fanned_out_at__isnull=True).update(fanned_out_at=timezone.now())
    return created


@contextlib.contextmanager
def _commits_without_waiting_for_the_disk():
    """This connection's commits return before their WAL reaches the disk (PostgreSQL), for
    the length of a fan-out or a send: its claim, each batch of marks, each failure. Waiting
    for the disk on each would cost more than the sending; if the database crashes before
    writing them, those messages are sent again once (the guarantee), and a lost claim or
    failure only makes the row due again."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO OFF")
    try:
        yield
    finally:
        try:
            with connection.cursor() as cursor:
                cursor.execute("RESET synchronous_commit")
        except DatabaseError:  # a broken connection: closed, so the setting cannot outlive it
            connection.close()


def _insert_deliveries(event: dict, organization_id: int, recipients) -> list[int]:
    """INSERT … SELECT from the recipients' query, skipping rows the unique constraint already
    holds: the database does in milliseconds what a thousand model instances through
    bulk_create cost the worker tens of milliseconds for. Returns the new rows' ids."""
    ((name, target),) = event.items()
    columns = ["organization_id", "subscriber_id", f"{name}_id", "status", "attempts", "error",
               "created_at"]  # fmt: skip
    try:
        chosen, chosen_params = recipients.values("pk").query.sql_with_params()
    except EmptyResultSet:  # recipients.none(): nobody to insert
        return []
    quote = connection.ops.quote_name
    sql = (
        f"{connection.ops.insert_statement(on_conflict=OnConflict.IGNORE)} "
        f"{quote(Delivery._meta.db_table)} ({', '.join(map(quote, columns))}) "
        f"SELECT %s, chosen.pk, %s, %s, 0, '', %s FROM ({chosen}) chosen "
        f"{connection.ops.on_conflict_suffix_sql([], OnConflict.IGNORE, [], [])} "
        f"RETURNING {quote('id')}"
    )
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(
            sql, (organization_id, target.pk, DeliveryStatus.PENDING, now, *chosen_params)
        )
        return [pk for (pk,) in cursor.fetchall()]


def fan_out_update(update: IncidentUpdate) -> int:
    """Insert the update's Delivery rows (idempotent) and enqueue their sending; returns the
    number of rows created this time."""
    if not update.deliver_notifications:
        return 0
    return _fan_out({"update": update}, update.organization_id, recipients_of(update),
                    outbox=IncidentUpdate.objects.filter(pk=update.pk))  # fmt: skip


def fan_out_component_change(change: ComponentStatusChange) -> int:
    """The same for a component status change, to webhook subscribers only; a change that is
    not public is marked fanned out with no deliveries."""
    public = is_public_component_change(change)
    recipients = webhook_recipients_of(change) if public else Subscriber.objects.none()
    return _fan_out({"component_change": change}, change.organization_id, recipients,
                    outbox=ComponentStatusChange.objects.filter(pk=change.pk))  # fmt: skip


def _is_due(claimed_at, next_attempt_at, now: datetime.datetime) -> bool:
    """Whether a pending row may be claimed now: its back-off (if any) is over, and no job
    holds it, or the lease of the one that did has expired (its worker died). The claim's
    WHERE (CLAIM_SQL) says the same in SQL."""
    lease_expired = now - datetime.timedelta(seconds=settings.DELIVERY_LEASE_SECONDS)
    backed_off = next_attempt_at is None or next_attempt_at <= now
    return backed_off and (claimed_at is None or claimed_at < lease_expired)


def _enqueue_due(deliveries, organization_id: int) -> int:
    """Hand the event's due rows to send jobs in batches; returns the number of jobs."""
    now = timezone.now()
    rows = deliveries.filter(status=DeliveryStatus.PENDING).order_by("pk")
    due = [pk for pk, claimed_at, next_attempt_at in
           rows.values_list("pk", "claimed_at", "next_attempt_at")
           if _is_due(claimed_at, next_attempt_at, now)]  # fmt: skip
    return _enqueue_batches(due, organization_id)


def _enqueue_batches(ids: list[int], organization_id: int, *, at_front: bool = False) -> int:
    """Send jobs for these rows of one organisation, DELIVERY_BATCH_SIZE rows each (rows a
    dead worker held go to the front of the queue: they have waited already)."""
    size = settings.DELIVERY_BATCH_SIZE
    batches = [ids[i : i + size] for i in range(0, len(ids), size)]
    options = {"at_front": True} if at_front else {}
    for batch in batches:
        enqueue_now(SEND_JOB, batch, organization_id, **options)
    return len(batches)


# --- Sending --------------------------------------------------------------------------------


def _release(deliveries: list[ClaimedDelivery], error: Exception, lease: Lease) -> int:
    """The connection died: these rows go back to pending for the next attempt."""
    for delivery in deliveries:
        _mark_failed(delivery, error, permanent=False, lease=lease)
    return len(deliveries)


def _by_ids(ids):
    """Deliveries by primary key alone (the claim has checked their organisation): right
    after a 100,000-row fan-out the planner's statistics are stale, and given another
    condition it has chosen another index and scanned the whole backlog for every batch."""
    return Delivery.objects.with_scopes_disabled().filter(pk__any=ids)


@dataclass(slots=True)
class Recipient:
    """The subscriber of a claimed delivery: what its message and its failure need."""

    pk: int
    kind: str
    email: str
    public_id: str


@dataclass(slots=True)
class ClaimedDelivery:
    """A delivery this job holds the lease of: enough to send it and to record the outcome
    (webhooks, and component changes, which go to webhooks only, load their full rows)."""

    pk: int
    attempts: int
    update_id: int | None
    subscriber: Recipient


# The claim is one statement: READ COMMITTED checks an UPDATE's conditions again on the newest
# version of a row another job has just claimed, so two jobs never both hold one. It sets only
# the lease, not the status: with no indexed column changed (and the table's fillfactor
# leaving room on the page), PostgreSQL rewrites the row in place (a HOT update) instead of
# adding an entry to each index, 100,000 times per update to a big page.
CLAIM_SQL = """
UPDATE {table} SET claimed_at = %s
 WHERE {ids} AND organization_id = %s AND status = %s
   AND (next_attempt_at IS NULL OR next_attempt_at <= %s)
   AND (claimed_at IS NULL OR claimed_at < %s)
RETURNING id, attempts, update_id, subscriber_id"""


LEASE_META = "delivery_lease"


class Lease:
    """A send job's hold on the rows it claimed. Its token is the rows' `claimed_at`, and
    every write that renews or ends the hold is conditional on it (a fencing token): a job
    whose lease ran out and was taken over finds it has lost the rows at its next renewal
    and stops, and its late writes change nothing of the new holder's.

    The job renews the lease every quarter of DELIVERY_LEASE_SECONDS while it sends (one
    UPDATE, before the next message once that time has come), so a lease of a minute holds
    for a batch of any length and a dead worker's rows are free a minute later at the most;
    sooner once its RQ heartbeat has expired (`release_abandoned_sends`). Each message
    starts within a quarter lease of a successful renewal, so while the rows are still ours.
    Thread-safe: the lanes of a job share it."""

    def __init__(self, token: datetime.datetime):
        self.token = token
        self.ids: list[int] = []
        self.held: set[int] | None = None  # None: every claimed row, until a renewal says
        self.interval = settings.DELIVERY_LEASE_SECONDS / 4
        self.renew_at = time.monotonic() + self.interval
        self.lock = threading.Lock()
        self.job = current_job()
        self._remember(token)

    def _remember(self, *tokens: datetime.datetime) -> None:
        """The tokens the rows may carry, in the RQ job (a Redis write per renewal)."""
        if self.job is None:
            return
        self.job.meta[LEASE_META] = [t.isoformat() for t in tokens]
        try:
            self.job.save_meta()
        except Exception:  # Redis away: this job's rows are freed by their lease running out
            logger.warning("could not record the lease of job %s", self.job.id, exc_info=True)

    def holds(self, delivery_id: int) -> bool:
        return self.held is None or delivery_id in self.held

    def renew_if_due(self) -> bool:
        """Renew if a quarter lease has passed since the last time; returns whether it did
        (so the caller flushes its marks first next time: unflushed rows are renewed too)."""
        if time.monotonic() < self.renew_at:
            return False
        with self.lock:
            if time.monotonic() >= self.renew_at:
                self._renew()
        return True

    def _renew(self) -> None:
        new = timezone.now()
        self._remember(self.token, new)  # before the UPDATE: the rows carry one of the two
        ids, ids_params = any_of_sql("id", self.ids, connection.vendor)
        adapt = connection.ops.adapt_datetimefield_value
        try:
            with connection.cursor() as cursor:
                cursor.execute(RENEW_SQL.format(table=Delivery._meta.db_table, ids=ids),
                               [adapt(new), *ids_params, DeliveryStatus.PENDING,
                                adapt(self.token)])  # fmt: skip
                self.held = {pk for (pk,) in cursor.fetchall()}
        except DatabaseError:  # no renewal, no sending: the rows wait for the lease to end
            logger.warning("renewing a delivery lease failed; the job stops", exc_info=True)
            self.held = set()
            return
        lost = len(self.ids) - len(self.held)
        self.token, self.renew_at = new, time.monotonic() + self.interval
        self._remember(new)
        if lost and self.held == set():
            logger.info("a send job lost its lease (or finished its rows): stops")


RENEW_SQL = """
UPDATE {table} SET claimed_at = %s
 WHERE {ids} AND status = %s AND claimed_at = %s
RETURNING id"""


def _claim(delivery_ids: list[int], organization_id: int) -> tuple[list[ClaimedDelivery], Lease]:
    """Take the organisation's rows no one else is sending: pending, due (back-off over), and
    not leased, or leased by a job whose lease expired (its worker died). A row whose
    subscriber left after the fan-out (unsubscribed, quarantined) is withdrawn, never sent.
    Returns the claimed rows, each with its subscriber, in key order, and the job's lease on
    them (recorded in the RQ job before the claim, so that the sweep can release the rows of
    a job whose worker died: `release_abandoned_sends`). Plain tuples, not model
    instances: loading the row's models cost more than sending it, and a join made the
    planner hash the whole subscriber table for each batch of a fresh backlog."""
    now = timezone.now()
    lease_expired = now - datetime.timedelta(seconds=settings.DELIVERY_LEASE_SECONDS)
    ids, ids_params = any_of_sql("id", delivery_ids, connection.vendor)
    adapt = connection.ops.adapt_datetimefield_value
    lease = Lease(now)
    with transaction.atomic():
        with connection.cursor() as cursor:
            sql = CLAIM_SQL.format(table=Delivery._meta.db_table, ids=ids)
            cursor.execute(sql, [adapt(now), *ids_params, organization_id, DeliveryStatus.PENDING,
                                 adapt(now), adapt(lease_expired)])  # fmt: skip
            rows = sorted(cursor.fetchall())
        recipients = {}
        for pk, kind, email, public_id, unsubscribed_at, quarantined_at in (
            Subscriber.objects.with_scopes_disabled()
            .filter(pk__any=[row[-1] for row in rows])
            .values_list("pk", "kind", "email", "public_id", "unsubscribed_at", "quarantined_at")
        ):
            if not (unsubscribed_at or quarantined_at):
                recipients[pk] = Recipient(pk, kind, email, public_id)
        claimed, withdrawn = [], []
        for pk, attempts, update_id, subscriber_id in rows:
            if subscriber_id in recipients:
                claimed.append(ClaimedDelivery(pk, attempts, update_id, recipients[subscriber_id]))
            else:  # left, or removed while the fan-out wrote the row
                withdrawn.append(pk)
        _withdraw(withdrawn)
    lease.ids = [delivery.pk for delivery in claimed]
    return claimed, lease


def _withdraw(delivery_ids: list[int]) -> None:
    if delivery_ids:
        _by_ids(delivery_ids).update(status=DeliveryStatus.WITHDRAWN, claimed_at=None)


def _is_permanent(error: Exception) -> bool:
    code = getattr(error, "smtp_code", None)
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [c for c, _ in error.recipients.values()]
        code = min(codes) if codes else None
    return code is not None and 500 <= code < 600


MARK_SENT_SQL = (
    "UPDATE {table} SET status = %s, sent_at = %s, attempts = attempts + 1, error = '' WHERE {ids}"
)


class SentMarker:
    """Marks accepted messages sent, a few at a time: one UPDATE per message would cost more
    than sending it. A crash loses at most the unflushed marks, so each of those recipients
    gets at most one duplicate — the guarantee we state."""

    def __init__(self, every: int):
        self.every = every
        self.pending: list[int] = []

    def add(self, delivery: ClaimedDelivery) -> None:
        self.pending.append(delivery.pk)
        if len(self.pending) >= self.every:
            self.flush()

    def flush(self) -> None:
        """One statement, committed on its own. By hand rather than through the ORM, whose
        compiling an UPDATE cost as much as the database's running it (~0.8 ms a batch)."""
        if not self.pending:
            return
        ids, ids_params = any_of_sql("id", self.pending, connection.vendor)
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        with connection.cursor() as cursor:
            cursor.execute(MARK_SENT_SQL.format(table=Delivery._meta.db_table, ids=ids),
                           [DeliveryStatus.SENT, now, *ids_params])  # fmt: skip
        self.pending = []


def retry_delay(attempts: int, *, retry_after: float | None = None) -> datetime.timedelta:
    """How long the next try waits after the `attempts`-th transient failure: base × 2^(n-1)
    seconds, capped, less up to DELIVERY_RETRY_JITTER_PERCENT at random; or what the
    receiver asked for (Retry-After), capped the same."""
    cap = settings.DELIVERY_RETRY_MAX_SECONDS
    if retry_after is not None:
        return datetime.timedelta(seconds=min(cap, max(0.0, retry_after)))
    delay = min(cap, settings.DELIVERY_RETRY_BASE_SECONDS * 2 ** max(0, attempts - 1))
    jitter = delay * settings.DELIVERY_RETRY_JITTER_PERCENT / 100 * random.random()
    return datetime.timedelta(seconds=delay - jitter)


def _mark_failed(
    delivery: Delivery | ClaimedDelivery,
    error: Exception,
    *,
    permanent: bool,
    lease: Lease | None = None,
) -> None:
    """Back to pending with a back-off, or failed for good. With the job's `lease`, only if
    the job still holds the row (a row taken over is the new holder's to record)."""
    attempts = delivery.attempts + 1
    give_up = permanent or attempts >= settings.DELIVERY_MAX_ATTEMPTS
    reason = f"{type(error).__name__}: {error}"
    next_attempt_at = None
    if give_up and not permanent:
        reason += f" (gave up after {attempts} attempts)"
    elif not give_up:
        delay = retry_delay(attempts, retry_after=getattr(error, "retry_after", None))
        next_attempt_at = timezone.now() + delay
    rows = _by_ids([delivery.pk])
    with lease.lock if lease else contextlib.nullcontext():
        if lease:
            rows = rows.filter(claimed_at=lease.token)
        changed = rows.update(
            status=DeliveryStatus.FAILED if give_up else DeliveryStatus.PENDING,
            attempts=attempts, error=reason[:1000], claimed_at=None,
            next_attempt_at=next_attempt_at,
        )  # fmt: skip
    if changed and permanent and delivery.subscriber.kind == SubscriberKind.EMAIL:
        _count_hard_failure(delivery.subscriber.pk)


def _count_hard_failure(subscriber_id: int) -> None:
    """One more permanent failure for the address, quarantined at the threshold: one
    statement, so two jobs failing the same address at once both count."""
    already = settings.SUBSCRIBER_QUARANTINE_AFTER - 1  # SET sees the values before the +1
    Subscriber.objects.with_scopes_disabled().filter(pk=subscriber_id).update(
        hard_failures=F("hard_failures") + 1,
        quarantined_at=Case(
            When(quarantined_at__isnull=True, hard_failures__gte=already,
                 then=Value(timezone.now())),
            default=F("quarantined_at"),
        ),
    )  # fmt: skip


def _send(backend, prepared: PreparedUpdate, delivery: ClaimedDelivery, built: tuple) -> None:
    """`built` is `prepared.for_delivery(delivery)`: (the address on the wire, the message)."""
    wire, message = built
    smtp = getattr(backend, "connection", None)
    if not isinstance(smtp, smtplib.SMTP):  # a non-SMTP backend (console, locmem)
        if isinstance(message, bytes):
            message = message_for(prepared.rendered, delivery, to=wire.header)
        backend.send_messages([message])
        return
    if not isinstance(message, bytes):  # built in full: an encoding hid a placeholder
        message = message.message().as_bytes(linesep="\r\n")
    options = _mail_options(smtp, wire) if wire.needs_smtputf8 else ()
    try:
        refused = smtp.sendmail(prepared.envelope_sender, [wire.envelope], message, options)
    finally:
        smtp.command_encoding = "ascii"  # SMTPUTF8 switched it for this message only
    if refused:
        raise smtplib.SMTPRecipientsRefused(refused)


def _mail_options(smtp: smtplib.SMTP, wire: WireAddress) -> tuple[str, ...]:
    """MAIL FROM's options for an address whose local part is not ASCII (RFC 6531)."""
    smtp.ehlo_or_helo_if_needed()
    if not smtp.has_extn("smtputf8"):
        raise UndeliverableAddress(
            "The mail server does not offer SMTPUTF8, which this address needs for the "
            "non-ASCII letters before its @."
        )
    return ("SMTPUTF8", "BODY=8BITMIME") if smtp.has_extn("8bitmime") else ("SMTPUTF8",)


def _is_permanent_outcome(error: Exception) -> bool:
    """Whether a failure that is not the server's answer can never succeed: an address or
    a message that cannot be encoded. Anything else (a bug, a lost database) is retried
    with back-off, DELIVERY_MAX_ATTEMPTS times at most, like a deferral."""
    return isinstance(error, UndeliverableAddress | UnicodeError)


def _send_webhook(delivery: Delivery, lease: Lease) -> str:
    try:
        webhooks.post(delivery)
    except webhooks.WebhookError as error:
        _mark_failed(delivery, error, permanent=error.permanent, lease=lease)
        webhooks.count_failure(delivery.subscriber)
        return "failed" if error.permanent else "retry"
    except Exception as error:  # building the payload, or the request: this row alone fails
        logger.exception("webhook delivery %s failed", delivery.pk)
        permanent = _is_permanent_outcome(error)
        _mark_failed(delivery, error, permanent=permanent, lease=lease)
        return "failed" if permanent else "retry"
    SentMarker(1).add(delivery)
    return "sent"


def send_deliveries(delivery_ids: list[int], organization_id: int) -> dict[str, int]:
    """Send one batch: webhooks one by one, emails over DELIVERY_CONNECTIONS SMTP connections
    (more than one pays off with a remote relay, where round trips dominate). Returns counts
    by outcome; rows left pending by a transient error are retried by the sweep once their
    back-off has run out. Component changes go to webhooks only."""
    with _commits_without_waiting_for_the_disk():
        counts = _send_batch(delivery_ids, organization_id)
    if counts["retry"]:
        _schedule_retry(delivery_ids, organization_id)
    return counts


def _schedule_retry(delivery_ids: list[int], organization_id: int) -> None:
    """A job for the batch's rows that wait out a back-off, due when the last of them is: so
    a server that said 451 is tried again when the back-off says, not at the sweep after it.
    The claim decides again what to send (only due, unleased, pending rows), and the sweep
    stays the safety net when Redis refuses this."""
    with scopes_disabled():
        waiting = Delivery.objects.filter(
            pk__any=delivery_ids,
            organization_id=organization_id,
            status=DeliveryStatus.PENDING,
            next_attempt_at__isnull=False,
        )
        retry = list(waiting.order_by("pk").values_list("pk", "next_attempt_at"))
    if retry:
        enqueue_at(max(at for _, at in retry), SEND_JOB, [pk for pk, _ in retry], organization_id)


def _send_batch(delivery_ids: list[int], organization_id: int) -> dict[str, int]:
    claimed, lease = _claim(delivery_ids, organization_id)
    counts = {"sent": 0, "failed": 0, "retry": 0}
    emails = [d for d in claimed if d.subscriber.kind == SubscriberKind.EMAIL and d.update_id]
    hooks = [d.pk for d in claimed if d.subscriber.kind == SubscriberKind.WEBHOOK]
    full = _by_ids(hooks).select_related("subscriber__page", "update__incident__page")
    for delivery in full.order_by("pk"):
        lease.renew_if_due()
        if not lease.holds(delivery.pk):  # taken over by another job: its to send
            continue
        if delivery.update_id and delivery.update is None:  # deleted since the fan-out
            _withdraw([delivery.pk])
            continue
        counts[_send_webhook(delivery, lease)] += 1
    if not emails:
        return counts
    prepared, unprepared = prepared_updates({d.update_id for d in emails})  # each rendered once
    for delivery in emails:
        if delivery.update_id in unprepared:  # its message could not be built: retried later
            _mark_failed(delivery, unprepared[delivery.update_id], permanent=False, lease=lease)
            counts["retry"] += 1
    _withdraw([d.pk for d in emails if d.update_id not in prepared | unprepared])  # deleted
    emails = [d for d in emails if d.update_id in prepared]
    if not emails:
        return counts
    lanes = max(1, min(settings.DELIVERY_CONNECTIONS, len(emails)))
    chunks = [emails[i::lanes] for i in range(lanes)]
    if lanes == 1:
        results = [_send_over_one_connection(chunks[0], prepared, lease)]
    else:
        with ThreadPoolExecutor(max_workers=lanes) as pool:
            futures = [pool.submit(contextvars.copy_context().run, _send_in_thread, chunk,
                                   prepared, lease)
                       for chunk in chunks]  # fmt: skip
            results = [future.result() for future in futures]
    for result in results:
        for outcome, n in result.items():
            counts[outcome] += n
    return counts


def _send_in_thread(
    deliveries: list[ClaimedDelivery], prepared: dict, lease: Lease
) -> dict[str, int]:
    try:
        with _commits_without_waiting_for_the_disk():
            return _send_over_one_connection(deliveries, prepared, lease)
    finally:
        connection.close()  # each thread has its own database connection


def _build(prepared: dict, delivery: ClaimedDelivery) -> tuple | Exception:
    """The delivery's (address, message), or what building it raised: one recipient whose
    message cannot be built fails alone."""
    try:
        return prepared[delivery.update_id].for_delivery(delivery)
    except Exception as error:
        return error


def _send_over_one_connection(
    deliveries: list[ClaimedDelivery], prepared: dict, lease: Lease
) -> dict[str, int]:
    """Send each message over one SMTP connection and record its outcome. Whatever sending
    one message raises fails that message alone (for good if it never can succeed); a
    connection the failure broke is opened again, and only a server that is gone (timeout,
    reset, refused) leaves the rest of the batch for a retry. The lease is renewed as the
    loop goes (a clock check per message, an UPDATE per quarter lease); a row the job no
    longer holds is skipped, the new holder sends it."""
    counts = {"sent": 0, "failed": 0, "retry": 0}
    marker = SentMarker(settings.DELIVERY_MARK_EVERY)
    smtp = get_connection()
    try:
        smtp.open()
    except Exception as error:  # the server is unreachable: everything waits for a retry
        counts["retry"] = _release(deliveries, error, lease)
        return counts
    # Every message is built before the first is sent, in one tight loop (~9 µs each, a few
    # MB for a batch): built between two sends, with the caches gone cold while the worker
    # waited for the server, the same work cost the send loop ~10 % of its throughput.
    built = [_build(prepared, delivery) for delivery in deliveries]
    try:
        for index, delivery in enumerate(deliveries):
            if lease.renew_at <= time.monotonic():
                marker.flush()  # the renewal then sees them sent, not still ours
                lease.renew_if_due()
            if not lease.holds(delivery.pk):
                continue
            try:
                message = built[index]
                if isinstance(message, Exception):
                    raise message
                _send(smtp, prepared[delivery.update_id], delivery, message)
            except smtplib.SMTPServerDisconnected as error:
                counts["retry"] += _release(deliveries[index:], error, lease)
                break
            except smtplib.SMTPException as error:
                # The server answered for this message alone: 4xx retries, 5xx is final.
                permanent = _is_permanent(error)
                _mark_failed(delivery, error, permanent=permanent, lease=lease)
                counts["failed" if permanent else "retry"] += 1
            except OSError as error:  # timeouts, resets: the connection is gone
                counts["retry"] += _release(deliveries[index:], error, lease)
                break
            except Exception as error:  # the address or message could not be encoded, or a bug
                if not isinstance(error, UndeliverableAddress):
                    logger.exception("delivery %s failed while being sent", delivery.pk)
                permanent = _is_permanent_outcome(error)
                _mark_failed(delivery, error, permanent=permanent, lease=lease)
                counts["failed" if permanent else "retry"] += 1
                if not _ready_for_the_next(smtp):
                    counts["retry"] += _release(deliveries[index + 1 :], error, lease)
                    break
            else:
                marker.add(delivery)
                counts["sent"] += 1
    finally:
        marker.flush()
        try:
            smtp.close()
        except Exception:  # closing a broken connection must not hide the outcome
            logger.warning("closing the SMTP connection failed", exc_info=True)
    return counts


def _ready_for_the_next(backend) -> bool:
    """After a failure inside a transaction (MAIL FROM accepted, then an error of ours), the
    session is reset, or opened again if the reset fails. False: no connection to be had."""
    smtp = getattr(backend, "connection", None)
    if not isinstance(smtp, smtplib.SMTP):
        return True
    try:
        smtp.rset()
        return True
    except Exception:
        logger.warning("RSET failed; opening a new SMTP connection", exc_info=True)
    try:
        backend.close()
    except Exception:
        backend.connection = None
    try:
        backend.open()
    except Exception:
        return False
    return True


# --- The sweep ------------------------------------------------------------------------------


def release_abandoned_sends() -> int:
    """Free at once the rows of send jobs whose worker died (its RQ heartbeat expired, see
    statuspage.worker), and hand them to new send jobs at the front of the queue; returns the
    rows freed. Fenced like the job's own writes: only rows still carrying one of the lease
    tokens the job recorded are freed, never rows another job has taken over since. Runs
    every 15 seconds (PERIODIC_JOBS) and at the start of each sweep; without it a dead
    worker's rows wait for their lease to run out (DELIVERY_LEASE_SECONDS)."""
    jobs = abandoned_jobs(SEND_JOB)
    freed = 0
    for job in jobs:
        tokens = [datetime.datetime.fromisoformat(t) for t in job.meta.get(LEASE_META, [])]
        if not tokens or not job.args:
            continue
        rows = _by_ids(list(job.args[0])).filter(status=DeliveryStatus.PENDING,
                                                 claimed_at__in=tokens)  # fmt: skip
        by_organization: dict[int, list[int]] = {}
        for pk, organization_id in rows.order_by("pk").values_list("pk", "organization_id"):
            by_organization.setdefault(organization_id, []).append(pk)
        if not by_organization:
            continue
        released = rows.update(claimed_at=None)
        logger.warning("send job %s died with its worker: %s rows released", job.id, released)
        freed += released
        for organization_id, ids in by_organization.items():
            _enqueue_batches(ids, organization_id, at_front=True)
    if jobs:
        forget_abandoned_jobs()
    return freed


def sweep(now: datetime.datetime | None = None) -> dict[str, int]:
    """Enqueue whatever the on-commit path missed: updates and component changes due and not
    fanned out, and, among the rows of the events in the backlog, those pending and due (new
    for half a minute, or their back-off over) and not leased, or leased by a worker that
    died (lease expired). An event leaves the backlog once it is fanned out (for longer than
    a lease, so that a second fan-out running late has finished) and none of its rows is
    pending. A send job's rows all belong to one organisation (the job runs in its scope)."""
    released = release_abandoned_sends()
    now = now or timezone.now()
    lease_expired = now - datetime.timedelta(seconds=settings.DELIVERY_LEASE_SECONDS)
    waiting = now - datetime.timedelta(seconds=30)
    with scopes_disabled():
        due_updates = list(
            IncidentUpdate.objects.filter(
                deliver_notifications=True, fanned_out_at__isnull=True, created_at__lt=waiting
            ).values_list("pk", flat=True)
        )
        due_changes = list(
            ComponentStatusChange.objects.filter(
                is_backfilled=False, fanned_out_at__isnull=True, changed_at__lt=waiting
            ).values_list("pk", flat=True)
        )
        backlog = list(
            EventBacklog.objects.order_by("pk").values_list(
                "pk", "organization_id", "update_id", "component_change_id",
                "update__fanned_out_at", "component_change__fanned_out_at",
            )
        )  # fmt: skip
    for update_id in due_updates:
        enqueue_now(FAN_OUT_JOB, update_id)
    for change_id in due_changes:
        enqueue_now(COMPONENT_FAN_OUT_JOB, change_id)
    jobs, settled = 0, []
    for pk, organization_id, update_id, change_id, *fanned_out in backlog:
        event = {"update_id": update_id} if update_id else {"component_change_id": change_id}
        with scopes_disabled():
            pending = list(
                Delivery.objects.filter(**event, status=DeliveryStatus.PENDING)
                .order_by("pk")
                .values_list("pk", "claimed_at", "next_attempt_at", "created_at")
            )
        # A row never tried is left to its own send job for half a minute.
        due = [delivery_id for delivery_id, claimed_at, next_attempt_at, created_at in pending
               if _is_due(claimed_at, next_attempt_at, now)
               and (claimed_at or next_attempt_at or created_at < waiting)]  # fmt: skip
        jobs += _enqueue_batches(due, organization_id)
        fanned_out_at = fanned_out[0] or fanned_out[1]
        if not pending and fanned_out_at and fanned_out_at < lease_expired:
            settled.append(pk)
    EventBacklog.objects.with_scopes_disabled().filter(pk__in=settled).delete()
    return {"fan_outs": len(due_updates), "component_fan_outs": len(due_changes),
            "send_jobs": jobs, "released": released}  # fmt: skip
