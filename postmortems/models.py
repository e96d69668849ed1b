"""Postmortems: the post-incident report, its structured timeline and its action items."""

from django.db import models
from django_scopes import ScopedManager

from incidents.models import Incident
from statuspage.models import Organization, User
from statuspage.public_ids import PublicIdField

SECTIONS = [
    ("summary", "Summary"),
    ("impact", "Impact"),
    ("root_cause", "Root cause"),
    ("resolution", "Resolution"),
    ("corrective_actions", "Corrective actions"),
]


class Postmortem(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    incident = models.OneToOneField(Incident, on_delete=models.CASCADE, related_name="postmortem")
    public_id = PublicIdField()
    title = models.CharField(max_length=255)
    summary = models.TextField(blank=True)
    impact = models.TextField(blank=True)
    root_cause = models.TextField(blank=True)
    resolution = models.TextField(blank=True)
    corrective_actions = models.TextField(blank=True)
    # The whole report as Markdown (Statuspage's postmortem_body) and rendered once.
    body = models.TextField(blank=True)
    body_html = models.TextField(blank=True)
    show_action_items = models.BooleanField(default=True)
    published_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager(organization="organization")

    def __str__(self) -> str:
        return self.title

    @property
    def is_published(self) -> bool:
        return self.published_at is not None


class TimelineEntry(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    postmortem = models.ForeignKey(Postmortem, on_delete=models.CASCADE, related_name="timeline")
    at = models.DateTimeField()
    description = models.TextField()

    objects = ScopedManager(organization="organization")

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.description[:40]}"


class ActionItem(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    postmortem = models.ForeignKey(
        Postmortem, on_delete=models.CASCADE, related_name="action_items"
    )
    public_id = PublicIdField()
    description = models.CharField(max_length=500)
    owner = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    due_date = models.DateField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager(organization="organization")

    class Meta:
        ordering = ["done_at", "due_date", "id"]
        indexes = [models.Index(fields=["organization", "done_at", "due_date"])]

    def __str__(self) -> str:
        return self.description
