"""Incident, update, maintenance and template forms. Times are typed in the page's time zone."""

from __future__ import annotations

import datetime
import zoneinfo

from django import forms
from django.utils import timezone

from components.enums import ComponentStatus
from components.models import Component
from incidents.enums import (
    INCIDENT_IMPACTS,
    INCIDENT_STATUSES,
    MAINTENANCE_STATUSES,
    SEVERITY_CHOICES,
    Category,
    Impact,
    Severity,
)
from incidents.models import Integration
from statuspage.control_characters import SingleLineField
from statuspage.forms import FilterForm
from statuspage.models import User

FROM_IMPACT = "impact"
NOT_AFFECTED = ""
DATETIME_LOCAL = "%Y-%m-%dT%H:%M"
REMIND_CHOICES = [
    ("", "No reminder"),
    ("15", "15 minutes before"),
    ("30", "30 minutes before"),
    ("60", "1 hour before"),
    ("120", "2 hours before"),
    ("1440", "1 day before"),
]


class PageDateTimeField(forms.DateTimeField):
    """A datetime-local input read and shown in the page's time zone, stored in UTC."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL)

    def __init__(self, *args, zone: zoneinfo.ZoneInfo | None = None, **kwargs):
        kwargs.setdefault("input_formats", [DATETIME_LOCAL, "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"])
        super().__init__(*args, **kwargs)
        self.zone = zone or datetime.UTC

    def prepare_value(self, value):
        if isinstance(value, datetime.datetime) and timezone.is_aware(value):
            return timezone.localtime(value, self.zone).strftime(DATETIME_LOCAL)
        return value

    def to_python(self, value):
        result = super().to_python(value)
        if result is None:
            return None
        naive = timezone.make_naive(result, datetime.UTC) if timezone.is_aware(result) else result
        return timezone.make_aware(naive, self.zone)


def page_zone(page) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(page.time_zone)


def component_field_name(component: Component) -> str:
    return f"component_{component.public_id}"


class ComponentStatusFieldsMixin:
    """One select per component of the page, named component_<public id>."""

    components: list[Component]

    def add_component_fields(self, components, choices, initial=None):
        self.components = list(components)
        initial = initial or {}
        for component in self.components:
            self.fields[component_field_name(component)] = forms.ChoiceField(
                choices=choices,
                required=False,
                label=component.name,
                initial=initial.get(component.public_id, ""),
            )

    def component_rows(self):
        return [(c, self[component_field_name(c)]) for c in self.components]

    def chosen_component_statuses(self) -> dict[Component, str | None]:
        chosen: dict[Component, str | None] = {}
        for component in self.components:
            value = self.cleaned_data.get(component_field_name(component)) or NOT_AFFECTED
            if value == FROM_IMPACT:
                chosen[component] = None
            elif value:
                chosen[component] = value
        return chosen


class IncidentFilterForm(FilterForm):
    tab = forms.CharField(required=False, max_length=20)
    q = forms.CharField(required=False, max_length=200)
    mine = forms.BooleanField(required=False)
    unacknowledged = forms.BooleanField(required=False)
    severity = forms.ChoiceField(required=False, choices=[("", ""), *Severity.choices])
    category = forms.ChoiceField(required=False, choices=[("", ""), *Category.choices])


class IncidentForm(ComponentStatusFieldsMixin, forms.Form):
    name = SingleLineField(
        max_length=255,
        label="Title",
        help_text="Plain words customers understand, e.g. “Email delivery delays”.",
    )
    status = forms.ChoiceField(
        choices=[(s.value, s.label) for s in INCIDENT_STATUSES], initial="investigating"
    )
    impact = forms.ChoiceField(
        choices=[(i.value, i.label) for i in INCIDENT_IMPACTS],
        initial="minor",
        help_text="Sets the default status of affected components: minor → degraded, "
        "major → partial outage, critical → major outage.",
    )
    body = forms.CharField(
        required=False,
        widget=forms.Textarea,
        label="Initial message",
        help_text="Markdown. What you know, what customers should do.",
    )
    deliver_notifications = forms.BooleanField(
        required=False, initial=True, label="Notify subscribers"
    )
    severity = forms.ChoiceField(
        choices=[("", "—"), *SEVERITY_CHOICES],
        required=False,
        help_text="Internal. Critical and high alert the responders at once.",
    )
    category = forms.ChoiceField(
        choices=[("", "—"), *Category.choices],
        required=False,
        help_text="Internal. Routes the incident to its category's owner or team.",
    )
    is_backfilled = forms.BooleanField(
        required=False, label="This incident is already over (backfill it)"
    )
    started_at = PageDateTimeField(required=False, label="Started")
    resolved_at = PageDateTimeField(required=False, label="Resolved")

    def __init__(self, *args, page, components, initial_components=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.page = page
        zone = page_zone(page)
        self.fields["started_at"].zone = zone
        self.fields["resolved_at"].zone = zone
        if not page.show_severity:
            self.fields["impact"].required = False
            self.fields["impact"].widget = forms.HiddenInput()
        choices = [(NOT_AFFECTED, "Not affected"), (FROM_IMPACT, "Affected: status from impact")]
        choices += [(s.value, s.label) for s in ComponentStatus if s != "operational"]
        choices.append((ComponentStatus.OPERATIONAL.value, "Affected: still operational"))
        self.add_component_fields(components, choices, initial_components)

    def clean_impact(self):
        return self.cleaned_data.get("impact") or Impact.NONE

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("is_backfilled"):
            for name in ("started_at", "resolved_at"):
                if not cleaned.get(name):
                    self.add_error(name, "A backfilled incident needs its start and end.")
        return cleaned


class UpdateForm(ComponentStatusFieldsMixin, forms.Form):
    status = forms.ChoiceField()
    body = forms.CharField(
        required=False,
        widget=forms.Textarea,
        label="Message",
        help_text="Markdown. Even “still investigating” beats silence.",
    )
    deliver_notifications = forms.BooleanField(
        required=False, initial=True, label="Notify subscribers"
    )

    def __init__(self, *args, incident, components, **kwargs):
        super().__init__(*args, **kwargs)
        statuses = MAINTENANCE_STATUSES if incident.is_maintenance else INCIDENT_STATUSES
        self.fields["status"].choices = [(s.value, s.label) for s in statuses]
        choices = [(NOT_AFFECTED, "No change")] + [(s.value, s.label) for s in ComponentStatus]
        self.add_component_fields(components, choices)


class PublishForm(ComponentStatusFieldsMixin, forms.Form):
    """What customers will see of a draft when a responder publishes it."""

    name = SingleLineField(max_length=255, label="Public title")
    status = forms.ChoiceField(choices=[(s.value, s.label) for s in INCIDENT_STATUSES[:3]])
    impact = forms.ChoiceField(choices=[(i.value, i.label) for i in INCIDENT_IMPACTS])
    body = forms.CharField(
        required=False,
        widget=forms.Textarea,
        label="First public message",
        help_text="Markdown. The alert's own text is rarely what customers need to read.",
    )
    deliver_notifications = forms.BooleanField(
        required=False, initial=True, label="Notify subscribers"
    )

    def __init__(self, *args, incident, components, **kwargs):
        affected = {row.component_id: row.status for row in incident.affected.all()}
        kwargs.setdefault(
            "initial",
            {"name": incident.name, "impact": incident.impact, "body": incident.draft_message,
             "status": incident.status if not incident.is_closed else "investigating"},
        )  # fmt: skip
        super().__init__(*args, **kwargs)
        if incident.is_closed:
            del self.fields["status"]
        choices = [(NOT_AFFECTED, "Not affected"), (FROM_IMPACT, "Affected: status from impact")]
        choices += [(s.value, s.label) for s in ComponentStatus if s != "operational"]
        choices.append((ComponentStatus.OPERATIONAL.value, "Affected: still operational"))
        initial = {
            c.public_id: (affected[c.pk] or ComponentStatus.OPERATIONAL.value)
            for c in components
            if c.pk in affected
        }
        self.add_component_fields(components, choices, initial)


class UpdateEditForm(forms.Form):
    body = forms.CharField(required=False, widget=forms.Textarea, label="Message")
    display_at = PageDateTimeField(label="Shown as posted at")

    def __init__(self, *args, page, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["display_at"].zone = page_zone(page)


class ConfirmTitleForm(forms.Form):
    confirm_name = forms.CharField(label="Type the title to confirm", max_length=255)


class ComponentChoiceField(forms.ModelMultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def label_from_instance(self, obj):
        return obj.name


class MaintenanceForm(forms.Form):
    name = SingleLineField(max_length=255, label="Title")
    scheduled_for = PageDateTimeField(label="Starts")
    scheduled_until = PageDateTimeField(label="Ends")
    body = forms.CharField(
        required=False,
        widget=forms.Textarea,
        label="Message",
        help_text="Markdown. What will happen and what customers should expect.",
    )
    components = ComponentChoiceField(
        queryset=Component.objects.none(),
        required=False,
        to_field_name="public_id",
        label="Affected components",
    )
    deliver_notifications = forms.BooleanField(
        required=False, initial=True, label="Notify subscribers now"
    )
    remind_prior_minutes = forms.TypedChoiceField(
        choices=REMIND_CHOICES,
        coerce=int,
        empty_value=None,
        required=False,
        initial="60",
        label="Remind subscribers",
    )
    auto_in_progress = forms.BooleanField(
        required=False, initial=True, label="Start automatically at the window's start"
    )
    auto_completed = forms.BooleanField(
        required=False, initial=True, label="Complete automatically at the window's end"
    )
    notify_at_start = forms.BooleanField(
        required=False, initial=True, label="Notify subscribers when it starts"
    )
    notify_at_end = forms.BooleanField(
        required=False, initial=True, label="Notify subscribers when it completes"
    )
    allow_past = forms.BooleanField(
        required=False, label="The window is in the past (backfill on purpose)"
    )

    def __init__(self, *args, page, **kwargs):
        super().__init__(*args, **kwargs)
        zone = page_zone(page)
        self.fields["scheduled_for"].zone = zone
        self.fields["scheduled_until"].zone = zone
        self.fields["components"].queryset = Component.objects.filter(page=page)
        self.time_zone = page.time_zone


class TemplateForm(forms.Form):
    name = SingleLineField(max_length=100, label="Template name")
    title = SingleLineField(max_length=255, label="Incident title")
    status = forms.ChoiceField(choices=[(s.value, s.label) for s in INCIDENT_STATUSES])
    impact = forms.ChoiceField(choices=[(i.value, i.label) for i in INCIDENT_IMPACTS])
    body = forms.CharField(required=False, widget=forms.Textarea, label="Message")
    components = ComponentChoiceField(
        queryset=Component.objects.none(), required=False, to_field_name="public_id"
    )
    deliver_notifications = forms.BooleanField(
        required=False, initial=True, label="Notify subscribers"
    )

    def __init__(self, *args, page, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["components"].queryset = Component.objects.filter(page=page)


class IntegrationForm(forms.Form):
    name = forms.CharField(max_length=100)
    kind = forms.ChoiceField(label="Tool", choices=[])
    components = ComponentChoiceField(queryset=Component.objects.none(), required=False,
                                      to_field_name="public_id",
                                      label="Components its alerts affect")  # fmt: skip
    impact = forms.ChoiceField(choices=[(i.value, i.label) for i in INCIDENT_IMPACTS],
                               initial="major")  # fmt: skip
    title_template = forms.CharField(max_length=255, initial="{title}",
                                     help_text="{title} is the alert's summary.")  # fmt: skip
    signing_secret = forms.CharField(max_length=128, required=False,
                                     help_text="Grafana: the same secret as its webhook's "
                                     "HMAC signature setting.")  # fmt: skip
    creates_drafts = forms.BooleanField(
        required=False,
        label="Open internal drafts for a responder to publish",
        help_text="Otherwise each firing alert is on the public page and emailed at once.",
    )
    severity = forms.ChoiceField(choices=[("", "—"), *SEVERITY_CHOICES], required=False,
                                 help_text="Critical and high alert the responders.")  # fmt: skip
    category = forms.ChoiceField(choices=[("", "—"), *Category.choices], required=False)

    def __init__(self, *args, page, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = Integration.Kind.choices
        self.fields["components"].queryset = Component.objects.filter(page=page)


class ResponseForm(forms.Form):
    """The responders' classification and owner of an incident (never public)."""

    severity = forms.ChoiceField(choices=[("", "—"), *SEVERITY_CHOICES], required=False)
    category = forms.ChoiceField(choices=[("", "—"), *Category.choices], required=False)
    owner = forms.ModelChoiceField(
        queryset=User.objects.none(),
        required=False,
        to_field_name="public_id",
        empty_label="Nobody",
    )

    def __init__(self, *args, responders, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = responders


class NoteForm(forms.Form):
    body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Internal note",
        help_text="Only your team sees notes. Markdown.",
    )


class ResponsePolicyForm(forms.Form):
    critical_target_minutes = forms.IntegerField(
        min_value=1, label="Critical: acknowledge within (minutes)"
    )
    high_target_minutes = forms.IntegerField(min_value=1, label="High (minutes)")
    medium_target_minutes = forms.IntegerField(min_value=1, label="Medium (minutes)")
    low_target_minutes = forms.IntegerField(min_value=1, label="Low (minutes)")
    alert_webhook_url = forms.URLField(
        required=False,
        max_length=500,
        assume_scheme="https",
        label="Alert webhook URL",
        help_text="Critical and high incidents, overdue ones and quiet-incident reminders are "
        "POSTed here as signed JSON (its “text” field suits Slack-style incoming webhooks).",
    )


class TeamForm(forms.Form):
    name = forms.CharField(max_length=100)
    members = forms.ModelMultipleChoiceField(
        queryset=User.objects.none(), to_field_name="public_id", required=False
    )

    def __init__(self, *args, responders, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["members"].queryset = responders


class RoutingForm(forms.Form):
    """One choice per category: nobody, a responder (user:<id>) or a team (team:<id>)."""

    def __init__(self, *args, responders, teams, routes, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", "Nobody (unassigned)")]
        choices += [(f"user:{u.public_id}", u.name or u.email) for u in responders]
        choices += [(f"team:{t.public_id}", f"Team {t.name}") for t in teams]
        self.users = {u.public_id: u for u in responders}
        self.teams = {t.public_id: t for t in teams}
        for category in Category:
            route = routes.get(category.value)
            initial = ""
            if route is not None and route.owner_id:
                initial = f"user:{route.owner.public_id}"
            elif route is not None and route.team_id:
                initial = f"team:{route.team.public_id}"
            self.fields[category.value] = forms.ChoiceField(
                choices=choices, required=False, label=category.label, initial=initial
            )

    def targets(self):
        """{category: (owner, team)} from the cleaned choices."""
        chosen = {}
        for category in Category.values:
            kind, _, public_id = (self.cleaned_data.get(category) or "").partition(":")
            chosen[category] = (
                self.users.get(public_id) if kind == "user" else None,
                self.teams.get(public_id) if kind == "team" else None,
            )
        return chosen
