"""Incidents and scheduled maintenance, their timeline of updates, and templates.

An `IncidentUpdate` is also the notification outbox: `deliver_notifications` says whether
subscribers should hear of it, `fanned_out_at` whether they have been (the subscribers app
fills it), so no event is lost between a commit and a queue.
"""

from __future__ import annotations

import datetime

from django.db import models
from django.utils import timezone
from django_scopes import ScopedManager

from components.enums import ComponentStatus
from components.models import Component
from incidents.enums import (
    SEVERITY_CHOICES,
    SEVERITY_TARGET_MINUTES,
    AlertReason,
    Category,
    Impact,
    IncidentKind,
    IncidentStatus,
    Severity,
    UpdateEvent,
)
from statuspage.models import Organization, Page, User
from statuspage.public_ids import PublicIdField


class Incident(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    page = models.ForeignKey(Page, on_delete=models.CASCADE, related_name="incidents")
    public_id = PublicIdField()
    kind = models.CharField(max_length=16, choices=IncidentKind.choices, default="incident")
    name = models.CharField(max_length=255)
    status = models.CharField(max_length=16, choices=IncidentStatus.choices)
    impact = models.CharField(max_length=16, choices=Impact.choices, default=Impact.NONE)
    components = models.ManyToManyField(
        Component, through="IncidentComponent", related_name="incidents"
    )
    started_at = models.DateTimeField()
    monitoring_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    is_backfilled = models.BooleanField(default=False)
    # An internal draft (opened by an alert for a responder to check) is invisible to the
    # public, claims no component status and notifies nobody until it is published.
    is_draft = models.BooleanField(default=False)
    draft_message = models.TextField(blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    # Scheduled maintenance only.
    scheduled_for = models.DateTimeField(null=True, blank=True)
    scheduled_until = models.DateTimeField(null=True, blank=True)
    remind_prior_minutes = models.PositiveIntegerField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    auto_in_progress = models.BooleanField(default=True)
    auto_completed = models.BooleanField(default=True)
    notify_at_start = models.BooleanField(default=True)
    notify_at_end = models.BooleanField(default=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    # The responders' side, never shown publicly.
    severity = models.CharField(max_length=16, choices=Severity.choices, blank=True)
    category = models.CharField(max_length=16, choices=Category.choices, blank=True)
    owner = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    team = models.ForeignKey(
        "ResponderTeam", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    update_reminder_sent_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager(organization="organization")

    class Meta:
        indexes = [
            models.Index(fields=["organization", "page", "kind", "status"]),
            models.Index(fields=["organization", "page", "-started_at"]),
            models.Index(fields=["kind", "status", "scheduled_for"]),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_maintenance(self) -> bool:
        return self.kind == IncidentKind.MAINTENANCE

    @property
    def is_closed(self) -> bool:
        return self.status in {"resolved", "postmortem", "completed"}

    @property
    def awaits_acknowledgement(self) -> bool:
        return not (self.is_closed or self.acknowledged_at or self.is_backfilled)

    def is_overdue_for(self, policy: ResponsePolicy) -> bool:
        """Unacknowledged past its severity's response target (the organisation's)."""
        if not self.severity or not self.awaits_acknowledgement:
            return False
        return timezone.now() - self.created_at > policy.target(self.severity)

    @property
    def severity_label(self) -> str:
        """ "High (public impact: major)": responders see both scales at once."""
        return dict(SEVERITY_CHOICES).get(self.severity, "")

    @property
    def response_state(self) -> str:
        """The responders' lifecycle beside the public status."""
        if self.is_closed:
            return "resolved"
        if self.acknowledged_at is None and not self.is_backfilled:
            return "triggered"
        return "acknowledged" if self.is_draft else self.status


class IncidentComponent(models.Model):
    """A component an incident affects, and the status it applies while open ('' = none)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="affected")
    component = models.ForeignKey(Component, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=32, choices=ComponentStatus.choices, blank=True)

    objects = ScopedManager(organization="organization")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "component"], name="incident_component_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.incident_id} affects {self.component_id}: {self.status or 'no change'}"


class IncidentUpdate(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="updates")
    public_id = PublicIdField()
    status = models.CharField(max_length=16, choices=IncidentStatus.choices)
    body = models.TextField(blank=True)
    body_html = models.TextField(blank=True)
    display_at = models.DateTimeField()
    author = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL)
    author_label = models.CharField(max_length=200, blank=True)
    event = models.CharField(max_length=32, choices=UpdateEvent.choices, blank=True, default="")
    # [{code, name, old_status, new_status}] of the component changes this update made.
    affected_components = models.JSONField(default=list, blank=True)
    deliver_notifications = models.BooleanField(default=True)
    fanned_out_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager(organization="organization")

    class Meta:
        ordering = ["-display_at", "-id"]
        indexes = [
            models.Index(fields=["organization", "incident", "-display_at"]),
            models.Index(
                fields=["created_at"],
                condition=models.Q(deliver_notifications=True, fanned_out_at__isnull=True),
                name="incident_update_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.incident_id} {self.status} at {self.display_at:%Y-%m-%d %H:%M}"


class IncidentTemplate(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    page = models.ForeignKey(Page, on_delete=models.CASCADE, related_name="incident_templates")
    public_id = PublicIdField()
    name = models.CharField(max_length=100)
    title = models.CharField(max_length=255)
    body = models.TextField(blank=True)
    status = models.CharField(
        max_length=16, choices=IncidentStatus.choices, default=IncidentStatus.INVESTIGATING
    )
    impact = models.CharField(max_length=16, choices=Impact.choices, default=Impact.NONE)
    components = models.ManyToManyField(Component, blank=True, related_name="+")
    deliver_notifications = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager(organization="organization")

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class Integration(models.Model):
    """A monitoring tool that opens and resolves incidents by webhook."""

    class Kind(models.TextChoices):
        ALERTMANAGER = "alertmanager", "Prometheus Alertmanager"
        GRAFANA = "grafana", "Grafana alerting"
        UPTIME_KUMA = "uptime-kuma", "Uptime Kuma"
        HEALTHCHECKS = "healthchecks", "healthchecks.io"
        GENERIC = "generic", "Generic JSON"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    page = models.ForeignKey(Page, on_delete=models.CASCADE, related_name="integrations")
    public_id = PublicIdField()
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    token = models.CharField(max_length=64, unique=True)
    # Optional HMAC secret (Grafana's X-Grafana-Alerting-Signature).
    signing_secret = models.CharField(max_length=128, blank=True)
    components = models.ManyToManyField(Component, blank=True, related_name="+")
    impact = models.CharField(max_length=16, choices=Impact.choices, default=Impact.MAJOR)
    title_template = models.CharField(max_length=255, default="{title}")
    # Drafts wait for a responder to check and publish them; otherwise alerts go public at once.
    creates_drafts = models.BooleanField(default=False)
    severity = models.CharField(max_length=16, choices=Severity.choices, blank=True)
    category = models.CharField(max_length=16, choices=Category.choices, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager(organization="organization")

    def __str__(self) -> str:
        return self.name


class AlertLink(models.Model):
    """Which incident an alert (by the sender's key) opened, so replays change nothing."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="links")
    alert_key = models.CharField(max_length=255)
    incident = models.ForeignKey(Incident, null=True, on_delete=models.SET_NULL, related_name="+")
    last_resolved_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(organization="organization")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["integration", "alert_key"], name="alert_link_unique")
        ]

    def __str__(self) -> str:
        return self.alert_key


class IncidentAlert(models.Model):
    """An alert an integration attached to an incident: the one that opened it, and those of
    the same storm grouped into it. The incident resolves when all of them have resolved."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="alerts")
    integration = models.ForeignKey(
        Integration, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    alert_key = models.CharField(max_length=255)
    title = models.CharField(max_length=255)
    # The sender's times (when it says the alert started / ended), where it gave them.
    started_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    is_firing = models.BooleanField(default=True)
    # Our clock: when it last fired into this incident (the grouping window starts here).
    last_fired_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager(organization="organization")

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "incident", "alert_key"], name="incident_alert_unique"
            )
        ]
        indexes = [
            models.Index(
                fields=["organization", "integration", "-last_fired_at"],
                name="incident_alert_recent",
            )
        ]

    def __str__(self) -> str:
        return f"{self.alert_key} on {self.incident_id}"


class IntegrationEvent(models.Model):
    """The last payloads an integration received, with what they did (shown in the console)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="events")
    received_at = models.DateTimeField(auto_now_add=True)
    payload = models.TextField()
    outcome = models.CharField(max_length=255, blank=True)
    error = models.TextField(blank=True)

    objects = ScopedManager(organization="organization")

    class Meta:
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return f"{self.integration_id} {self.received_at:%Y-%m-%d %H:%M}"


class InternalNote(models.Model):
    """A responders-only note on an incident's timeline: never public, never emailed."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    author_label = models.CharField(max_length=200)
    body = models.TextField()
    body_html = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager(organization="organization")

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"note on {self.incident_id}"


class ResponsePolicy(models.Model):
    """An organisation's response targets per severity and where urgent alerts are POSTed."""

    organization = models.OneToOneField(
        Organization, on_delete=models.CASCADE, related_name="response_policy"
    )
    critical_target_minutes = models.PositiveIntegerField(
        default=SEVERITY_TARGET_MINUTES[Severity.CRITICAL]
    )
    high_target_minutes = models.PositiveIntegerField(
        default=SEVERITY_TARGET_MINUTES[Severity.HIGH]
    )
    medium_target_minutes = models.PositiveIntegerField(
        default=SEVERITY_TARGET_MINUTES[Severity.MEDIUM]
    )
    low_target_minutes = models.PositiveIntegerField(default=SEVERITY_TARGET_MINUTES[Severity.LOW])
    # Chat or paging tools hear of urgent incidents here (signed like subscriber webhooks).
    alert_webhook_url = models.URLField(max_length=500, blank=True)
    alert_webhook_secret = models.CharField(max_length=64, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager(organization="organization")

    def __str__(self) -> str:
        return f"response policy of {self.organization_id}"

    def target_minutes(self, severity: str) -> int:
        return getattr(self, f"{severity}_target_minutes")

    def target(self, severity: str) -> datetime.timedelta:
        return datetime.timedelta(minutes=self.target_minutes(severity))


class ResponderTeam(models.Model):
    """A group of responders an incident can be routed to before anyone owns it."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    public_id = PublicIdField()
    name = models.CharField(max_length=100)
    members = models.ManyToManyField(User, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager(organization="organization")

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="responder_team_unique")
        ]

    def __str__(self) -> str:
        return self.name


class CategoryRoute(models.Model):
    """Who gets an incident of a category when it is triggered: an owner, or a team."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    category = models.CharField(max_length=16, choices=Category.choices)
    owner = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    team = models.ForeignKey(
        ResponderTeam, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )

    objects = ScopedManager(organization="organization")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "category"], name="category_route_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.category} → {self.owner_id or self.team_id}"


class AlertOptIn(models.Model):
    """A responder who wants an email when an urgent incident is triggered or overdue."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager(organization="organization")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "user"], name="alert_opt_in_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} alerted in {self.organization_id}"


class ResponderAlert(models.Model):
    """The responders' outbox: one row per alert to send (email and organisation webhook).

    Triggered and overdue alerts are unique per incident, so each goes out once however often
    the periodic check runs; quiet-incident reminders may repeat, once per interval. Email and
    webhook are marked separately so a webhook retry never emails twice.
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(max_length=16, choices=AlertReason.choices)
    created_at = models.DateTimeField(default=timezone.now)
    emailed_at = models.DateTimeField(null=True, blank=True)
    webhook_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # Also the lease: a dispatcher pushes it forward before sending, so two never send at once.
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.TextField(blank=True)
    # Why the organisation's webhook refused the alert (kept while retrying), and when we
    # gave up on it (a permanent refusal, or out of attempts): shown on the responders page.
    webhook_error = models.TextField(blank=True)
    webhook_failed_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    quiet_minutes = models.PositiveIntegerField(default=0)

    objects = ScopedManager(organization="organization")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "reason"],
                condition=~models.Q(reason="quiet"),
                name="responder_alert_once",
            )
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(done_at__isnull=True),
                name="responder_alert_due",
            )
        ]

    def __str__(self) -> str:
        return f"{self.reason} alert for {self.incident_id}"
