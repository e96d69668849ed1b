from django.db import models

from components.enums import ComponentStatus


class IncidentKind(models.TextChoices):
    INCIDENT = "incident", "Incident"
    MAINTENANCE = "maintenance", "Scheduled maintenance"


class IncidentStatus(models.TextChoices):
    """Statuspage's statuses for incidents and, after them, for scheduled maintenance."""

    INVESTIGATING = "investigating", "Investigating"
    IDENTIFIED = "identified", "Identified"
    MONITORING = "monitoring", "Monitoring"
    RESOLVED = "resolved", "Resolved"
    POSTMORTEM = "postmortem", "Postmortem"
    SCHEDULED = "scheduled", "Scheduled"
    IN_PROGRESS = "in_progress", "In progress"
    VERIFYING = "verifying", "Verifying"
    COMPLETED = "completed", "Completed"


INCIDENT_STATUSES = [
    IncidentStatus.INVESTIGATING,
    IncidentStatus.IDENTIFIED,
    IncidentStatus.MONITORING,
    IncidentStatus.RESOLVED,
]
MAINTENANCE_STATUSES = [
    IncidentStatus.SCHEDULED,
    IncidentStatus.IN_PROGRESS,
    IncidentStatus.VERIFYING,
    IncidentStatus.COMPLETED,
]
CLOSED_STATUSES = {IncidentStatus.RESOLVED, IncidentStatus.POSTMORTEM, IncidentStatus.COMPLETED}
MAINTENANCE_RUNNING = {IncidentStatus.IN_PROGRESS, IncidentStatus.VERIFYING}


class Impact(models.TextChoices):
    NONE = "none", "None"
    MINOR = "minor", "Minor"
    MAJOR = "major", "Major"
    CRITICAL = "critical", "Critical"
    MAINTENANCE = "maintenance", "Maintenance"


INCIDENT_IMPACTS = [Impact.NONE, Impact.MINOR, Impact.MAJOR, Impact.CRITICAL]

# The status an affected component gets when the operator leaves it to the impact.
IMPACT_COMPONENT_STATUS: dict[str, str] = {
    Impact.NONE: "",
    Impact.MINOR: ComponentStatus.DEGRADED_PERFORMANCE,
    Impact.MAJOR: ComponentStatus.PARTIAL_OUTAGE,
    Impact.CRITICAL: ComponentStatus.MAJOR_OUTAGE,
    Impact.MAINTENANCE: ComponentStatus.UNDER_MAINTENANCE,
}


class UpdateEvent(models.TextChoices):
    """What produced an update, when it was not a person's free-form message."""

    MESSAGE = "", "Message"
    MAINTENANCE_SCHEDULED = "maintenance_scheduled", "Maintenance scheduled"
    MAINTENANCE_REMINDER = "maintenance_reminder", "Maintenance reminder"
    MAINTENANCE_STARTED = "maintenance_started", "Maintenance started"
    MAINTENANCE_COMPLETED = "maintenance_completed", "Maintenance completed"
    MAINTENANCE_CANCELLED = "maintenance_cancelled", "Maintenance cancelled"


MAINTENANCE_STARTED_MESSAGE = (
    "Scheduled maintenance is currently in progress. We will provide updates as necessary."
)
MAINTENANCE_COMPLETED_MESSAGE = "The scheduled maintenance has been completed."
MAINTENANCE_CANCELLED_MESSAGE = "This scheduled maintenance has been cancelled."


class Severity(models.TextChoices):
    """The responders' urgency (FanDesk's scale), each with a public impact and a target."""

    CRITICAL = "critical", "Critical"
    HIGH = "high", "High"
    MEDIUM = "medium", "Medium"
    LOW = "low", "Low"


SEVERITY_IMPACT = {"critical": "critical", "high": "major", "medium": "minor", "low": "none"}
# Responders think in severity, customers see impact: every severity choice names both.
SEVERITY_CHOICES = [
    (severity.value, f"{severity.label} (public impact: {SEVERITY_IMPACT[severity.value]})")
    for severity in Severity
]
# Critical and high incidents page people at once; medium and low wait for someone to look.
URGENT_SEVERITIES = {"critical", "high"}
# Default minutes to acknowledge before an incident counts as overdue (each organisation's
# ResponsePolicy may change them).
SEVERITY_TARGET_MINUTES = {"critical": 15, "high": 60, "medium": 240, "low": 1440}


class Category(models.TextChoices):
    OUTAGE = "outage", "Outage"
    SECURITY = "security", "Security"
    PERFORMANCE = "performance", "Performance"
    BUG = "bug", "Bug"
    INFRASTRUCTURE = "infrastructure", "Infrastructure"
    DATA = "data", "Data"


class AlertReason(models.TextChoices):
    TRIGGERED = "triggered", "Urgent incident triggered"
    OVERDUE = "overdue", "Not acknowledged within its response target"
    QUIET = "quiet", "No public update for a while"
