from collections.abc import Iterable

from django.db import models


class ComponentStatus(models.TextChoices):
    """Statuspage's component statuses, in order of severity (the order matters)."""

    OPERATIONAL = "operational", "Operational"
    UNDER_MAINTENANCE = "under_maintenance", "Under maintenance"
    DEGRADED_PERFORMANCE = "degraded_performance", "Degraded performance"
    PARTIAL_OUTAGE = "partial_outage", "Partial outage"
    MAJOR_OUTAGE = "major_outage", "Major outage"

    @property
    def severity(self) -> int:
        return list(ComponentStatus).index(self)


def worst_status(statuses: Iterable[str]) -> ComponentStatus:
    """The most severe of `statuses`; operational when there are none."""
    return max((ComponentStatus(s) for s in statuses), key=lambda s: s.severity,
               default=ComponentStatus.OPERATIONAL)  # fmt: skip


class StatusCause(models.TextChoices):
    INCIDENT = "incident", "Incident"
    MAINTENANCE = "maintenance", "Maintenance"
    MANUAL = "manual", "Set by hand"
    API = "api", "API"
