"""Incidents and scheduled maintenance, their timeline of updates, and templates.

An `IncidentUpdate` is also the notification outbox: `deliver_notifications` says whether
subscribers should hear of it, `fanned_out_at` whether they have been (the subscribers app
fills it), so no event is lost between a commit and a queue.
"""

import datetime

from django.db import models
from django.utils import timezone
from django_scopes import ScopedManager

from components.enums import ComponentStatus
from components.models import Component
from incidents.enums import (
    SEVERITY_TARGET_MINUTES,
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
    def is_overdue(self) -> bool:
        """Unacknowledged past its severity's response target."""
        if self.is_closed or self.acknowledged_at or not self.severity or self.is_backfilled:
            return False
        target = datetime.timedelta(minutes=SEVERITY_TARGET_MINUTES[self.severity])
        return timezone.now() - self.created_at > target


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
