"""Components, their groups, and the history of the status visitors saw."""

from django.db import models
from django_scopes import ScopedManager

from components.enums import ComponentStatus, StatusCause
from statuspage.models import Organization, Page
from statuspage.public_ids import PublicIdField


class ComponentGroup(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    page = models.ForeignKey(Page, on_delete=models.CASCADE, related_name="component_groups")
    public_id = PublicIdField()
    name = models.CharField(max_length=255)
    description = models.TextField(blank=True)
    position = models.PositiveIntegerField(default=0)
    is_collapsed = models.BooleanField(
        default=False, help_text="Collapsed by default on the public page."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager(organization="organization")

    class Meta:
        ordering = ["position", "id"]
        indexes = [models.Index(fields=["organization", "page", "position"])]

    def __str__(self) -> str:
        return self.name


class Component(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    page = models.ForeignKey(Page, on_delete=models.CASCADE, related_name="components")
    group = models.ForeignKey(
        ComponentGroup,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="components",
    )
    public_id = PublicIdField()
    name = models.CharField(max_length=255)
    description = models.TextField(blank=True)
    position = models.PositiveIntegerField(default=0)
    showcase = models.BooleanField(default=True, help_text="Show 90-day uptime bars.")
    only_show_if_degraded = models.BooleanField(default=False)
    start_date = models.DateField(null=True, blank=True)
    # What an operator set by hand; `status` is derived from it and the open incidents'
    # claims by components.services.recompute_statuses, and stored for fast reads.
    baseline_status = models.CharField(
        max_length=32, choices=ComponentStatus.choices, default=ComponentStatus.OPERATIONAL
    )
    status = models.CharField(
        max_length=32, choices=ComponentStatus.choices, default=ComponentStatus.OPERATIONAL
    )
    # Daily uptime rows (ComponentUptimeDay) are exact up to this moment; after it the
    # component has kept `status`, which readers add on the fly.
    uptime_covered_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager(organization="organization")

    class Meta:
        ordering = ["position", "id"]
        indexes = [models.Index(fields=["organization", "page", "position"])]

    def __str__(self) -> str:
        return self.name


class ComponentStatusClaim(models.Model):
    """The status an unresolved incident or running maintenance applies to a component."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    component = models.ForeignKey(Component, on_delete=models.CASCADE, related_name="claims")
    source_id = models.CharField(max_length=32)
    cause = models.CharField(max_length=16, choices=StatusCause.choices)
    status = models.CharField(max_length=32, choices=ComponentStatus.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager(organization="organization")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["component", "source_id"], name="component_claim_unique_source"
            )
        ]
        indexes = [models.Index(fields=["organization", "source_id"])]

    def __str__(self) -> str:
        return f"{self.source_id} claims {self.status} on {self.component_id}"


class ComponentStatusChange(models.Model):
    """One change of the status visitors saw. Uptime is computed from these rows.

    Rows flagged `is_backfilled` record a retroactive incident's past impact: they count in
    uptime but never moved the live status. Every other row is also the outbox of a
    `component_update` webhook event: `fanned_out_at` says whether its deliveries exist."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    page = models.ForeignKey(Page, on_delete=models.CASCADE, related_name="+")
    # Names the event in webhook payloads, so a receiver can drop a repeated delivery.
    public_id = PublicIdField()
    component = models.ForeignKey(
        Component, on_delete=models.CASCADE, related_name="status_changes"
    )
    old_status = models.CharField(max_length=32, choices=ComponentStatus.choices)
    new_status = models.CharField(max_length=32, choices=ComponentStatus.choices)
    changed_at = models.DateTimeField()
    cause = models.CharField(max_length=16, choices=StatusCause.choices)
    source_id = models.CharField(max_length=32, blank=True)
    is_backfilled = models.BooleanField(default=False)
    fanned_out_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(organization="organization")

    class Meta:
        ordering = ["changed_at", "id"]
        indexes = [
            models.Index(fields=["organization", "component", "changed_at"]),
            models.Index(fields=["organization", "page", "changed_at"]),
            models.Index(
                fields=["changed_at"],
                condition=models.Q(is_backfilled=False, fanned_out_at__isnull=True),
                name="component_change_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.component_id}: {self.old_status} → {self.new_status}"


class ComponentUptimeDay(models.Model):
    """Seconds of outage on one day (in the page's time zone), precomputed from the history so
    the public page never scans raw history."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    component = models.ForeignKey(Component, on_delete=models.CASCADE, related_name="uptime_days")
    day = models.DateField()
    major_outage_seconds = models.FloatField(default=0)
    partial_outage_seconds = models.FloatField(default=0)

    objects = ScopedManager(organization="organization")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["component", "day"], name="uptime_day_unique")
        ]
        indexes = [models.Index(fields=["organization", "component", "day"])]

    def __str__(self) -> str:
        return f"{self.component_id} {self.day}"
