"""Subscribers of a page and the delivery of each event to each of them.

An event is an incident update (email and webhook subscribers) or a component status change
(webhook subscribers only). A `Delivery` row per (event, subscriber) under a unique constraint
is what makes the fan-out idempotent: however often it runs, each subscriber has one row per
event, and a row is sent at most once unless a worker dies between the server accepting it and
marking it sent.
"""

from django.db import models
from django.db.models.functions import Lower
from django_scopes import ScopedManager

from components.models import Component, ComponentStatusChange
from incidents.models import IncidentUpdate
from statuspage.models import Organization, Page
from statuspage.public_ids import PublicIdField
from subscribers.enums import DeliveryStatus, SubscriberKind, SubscriberState

# A delivery, and a backlog entry, belong to exactly one event: an update or a component change.
ONE_EVENT = models.Q(update__isnull=False, component_change__isnull=True) | models.Q(
    update__isnull=True, component_change__isnull=False
)


class Subscriber(models.Model):
    """An email address, or a webhook endpoint that gets Statuspage-shaped JSON."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    page = models.ForeignKey(Page, on_delete=models.CASCADE, related_name="subscribers")
    public_id = PublicIdField()
    kind = models.CharField(max_length=8, choices=SubscriberKind.choices, default="email")
    email = models.EmailField(blank=True)
    endpoint = models.URLField(max_length=500, blank=True)
    # Signs each webhook body (HMAC-SHA256) so the receiver knows it came from us.
    secret = models.CharField(max_length=64, blank=True)
    webhook_failures = models.PositiveIntegerField(default=0)
    webhook_failures_since = models.DateTimeField(null=True, blank=True)
    # A new webhook is confirmed when its endpoint echoes this token (or by the operator).
    challenge = models.CharField(max_length=64, blank=True)
    challenge_sent_at = models.DateTimeField(null=True, blank=True)
    challenge_error = models.CharField(max_length=300, blank=True)
    # Empty means "everything"; otherwise only updates touching one of these components.
    components = models.ManyToManyField(Component, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    confirmation_sent_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    quarantined_at = models.DateTimeField(null=True, blank=True)
    hard_failures = models.PositiveIntegerField(default=0)

    objects = ScopedManager(organization="organization")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                "page", Lower("email"), condition=models.Q(kind="email"),
                name="subscriber_unique_email",
            ),
            models.UniqueConstraint(
                fields=["page", "endpoint"], condition=models.Q(kind="webhook"),
                name="subscriber_unique_endpoint",
            ),
        ]  # fmt: skip
        indexes = [models.Index(fields=["organization", "page", "confirmed_at"])]

    def __str__(self) -> str:
        return self.email or self.endpoint

    @property
    def state(self) -> SubscriberState:
        if self.unsubscribed_at:
            return SubscriberState.UNSUBSCRIBED
        if self.quarantined_at:
            return SubscriberState.QUARANTINED
        if self.confirmed_at:
            return SubscriberState.CONFIRMED
        return SubscriberState.PENDING


class Delivery(models.Model):
    """One event for one subscriber: an incident update, or (webhooks only) a component change."""

    # Every index here is paid for on each of a row's three writes (insert, claim, mark sent),
    # 100,000 times per update to a big page: the foreign keys below that lead a unique
    # constraint need no index of their own, and the organisation's (the scope's filter, which
    # always comes with an indexed one) is read only when a whole tenant is deleted. No index
    # names `status`, `claimed_at` or `sent_at`, so that the claim and the mark rewrite the
    # row in place (HOT, with the table's fillfactor leaving room on each page); the sweep
    # finds unfinished rows through `EventBacklog` instead.
    # The organisation, update and subscriber keys carry no constraint in the database:
    # checking them (deferred, at commit) cost a third of a 100,000-row fan-out (2.1 → 1.3 s).
    # Deleting an organisation, an update or a subscriber still deletes its rows (Django
    # cascades), and the send path withdraws a row whose subscriber or update vanished in a
    # race with its fan-out. Component changes, which go to a few webhooks, keep theirs.
    organization = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    update = models.ForeignKey(
        IncidentUpdate,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="deliveries",
        db_index=False,
        db_constraint=False,
    )
    component_change = models.ForeignKey(
        ComponentStatusChange,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="deliveries",
        db_index=False,
    )
    subscriber = models.ForeignKey(
        Subscriber, on_delete=models.CASCADE, related_name="deliveries", db_constraint=False
    )  # fmt: skip
    status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    # After a transient failure: not before this (back-off). Empty: as soon as possible.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager(organization="organization")

    class Meta:
        constraints = [
            # Partial, so each row has an entry in only the one that names its event.
            models.UniqueConstraint(
                fields=["update", "subscriber"],
                condition=models.Q(update__isnull=False),
                name="delivery_unique",
            ),
            models.UniqueConstraint(
                fields=["component_change", "subscriber"],
                condition=models.Q(component_change__isnull=False),
                name="delivery_unique_component_change",
            ),
            models.CheckConstraint(condition=ONE_EVENT, name="delivery_one_event"),
        ]

    def __str__(self) -> str:
        event = self.update_id or f"change {self.component_change_id}"
        return f"{event} → {self.subscriber_id}: {self.status}"


class EventBacklog(models.Model):
    """An event some of whose deliveries may not be final yet: written by the fan-out, removed
    by the sweep once none is pending. The sweep reads the rows of these few events, not the
    whole delivery table, which carries no index on its status (see Delivery)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    # Indexed by the unique constraints below.
    update = models.ForeignKey(
        IncidentUpdate,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
    )
    component_change = models.ForeignKey(
        ComponentStatusChange, null=True, blank=True, on_delete=models.CASCADE, related_name="+",
        db_index=False,
    )  # fmt: skip
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager(organization="organization")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["update"], condition=models.Q(update__isnull=False),
                name="event_backlog_unique_update",
            ),
            models.UniqueConstraint(
                fields=["component_change"], condition=models.Q(component_change__isnull=False),
                name="event_backlog_unique_component_change",
            ),
            models.CheckConstraint(condition=ONE_EVENT, name="event_backlog_one_event"),
        ]  # fmt: skip

    def __str__(self) -> str:
        return f"backlog of {self.update_id or f'change {self.component_change_id}'}"
