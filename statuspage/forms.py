"""Forms of the tenant screens: they parse and validate; services do the writing."""

from __future__ import annotations

from django import forms
from django.utils.text import slugify

from statuspage.control_characters import SingleLineField
from statuspage.domains import slug_refusal
from statuspage.models import Page, accent_color_validator, slug_validator
from statuspage.time_zones import TIME_ZONE_MESSAGE, TIME_ZONES

TIME_ZONE_CHOICES = [(name, name.replace("_", " ")) for name in sorted(TIME_ZONES)]


def suggest_slug(name: str) -> str:
    # Hostnames allow no underscores, which slugify keeps.
    return slugify(name.replace("_", " "))[:63].strip("-")


class SlugField(forms.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 63)
        kwargs.setdefault("validators", [slug_validator])
        super().__init__(**kwargs)

    def clean(self, value):
        value = (value or "").strip().lower()
        value = super().clean(value)
        refusal = slug_refusal(value)
        if refusal:
            raise forms.ValidationError(refusal)
        return value


class TimeZoneField(forms.ChoiceField):
    def __init__(self, **kwargs):
        message = TIME_ZONE_MESSAGE.replace("{name}", "%(value)s")
        kwargs.setdefault("error_messages", {"invalid_choice": message})
        super().__init__(choices=TIME_ZONE_CHOICES, **kwargs)


class PageCreateForm(forms.Form):
    name = SingleLineField(max_length=100, label="Page name", help_text="E.g. Acme Cloud.")
    slug = SlugField(
        label="Subdomain",
        help_text="Your page's address: <code>&lt;subdomain&gt;.{base}</code>.",
    )
    time_zone = TimeZoneField(initial="UTC")

    def __init__(self, *args, base_domain: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["slug"].help_text = self.fields["slug"].help_text.replace("{base}", base_domain)


class PageSettingsForm(forms.ModelForm):
    name = SingleLineField(max_length=100)
    slug = SlugField(label="Subdomain")
    support_url = forms.URLField(
        required=False,
        assume_scheme="https",
        label="Support URL",
        help_text="Shown as “Contact support” on the public page.",
    )
    time_zone = TimeZoneField()
    accent_color = forms.CharField(
        max_length=7,
        validators=[accent_color_validator],
        widget=forms.TextInput(attrs={"type": "color"}),
        label="Accent colour",
    )

    class Meta:
        model = Page
        fields = [
            "name",
            "slug",
            "time_zone",
            "support_url",
            "accent_color",
            "show_severity",
            "allow_subscribers",
            "allow_feeds",
            "update_reminder_minutes",
        ]
        labels = {
            "support_url": "Support URL",
            "show_severity": "Show incident severity (impact) on the public page",
            "allow_subscribers": "Let visitors subscribe to updates by email",
            "allow_feeds": "Publish Atom and RSS feeds",
            "update_reminder_minutes": "Remind responders after this many quiet minutes",
        }
        help_texts = {
            "time_zone": "Times on the public page and in emails are shown in this zone.",
            "support_url": "Shown as “Contact support” on the public page.",
        }

    update_reminder_minutes = forms.IntegerField(
        required=False,
        min_value=5,
        max_value=24 * 60,
        label="Remind responders after this many quiet minutes",
        help_text="An open incident without a public update for this long emails its owner.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        current = self.instance.time_zone
        if current and current not in TIME_ZONES:
            # A zone chosen before the list was narrowed stays selectable until it is changed.
            self.fields["time_zone"].choices = [(current, current), *TIME_ZONE_CHOICES]

    def clean_update_reminder_minutes(self):
        return self.cleaned_data.get("update_reminder_minutes") or 30

    def clean_slug(self):
        # Uniqueness is the service's rule (it also checks reserved names); skip the model's.
        return self.cleaned_data["slug"]

    def validate_unique(self):
        pass


class LogoForm(forms.Form):
    logo = forms.FileField(
        required=False, help_text="PNG, JPEG, GIF or WebP, up to 256 KB. Shown in the header."
    )
    remove = forms.BooleanField(required=False, label="Remove the logo")


class ConfirmNameForm(forms.Form):
    confirm_name = forms.CharField(label="Type the name to confirm", max_length=150)


class CustomDomainForm(forms.Form):
    domain = forms.CharField(
        max_length=253,
        label="Custom domain",
        help_text="E.g. status.example.com",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )


class FilterForm(forms.Form):
    """A list's query-string filters, checked like any form (a CharField refuses NUL, a
    ChoiceField anything but its choices). A value that is missing or does not validate (a
    stale or hand-edited link) reads as the field's default, so the list shows, unfiltered."""

    def __init__(self, data):
        super().__init__(data)
        self.is_valid()

    @property
    def values(self) -> dict:
        values = {}
        for name, field in self.fields.items():
            default = field.initial if field.initial is not None else field.to_python(None)
            chosen = name in self.data and name not in self.errors
            values[name] = self.cleaned_data[name] if chosen else default
        return values


class AuditFilterForm(FilterForm):
    verb = forms.CharField(required=False, max_length=100)
    actor = forms.CharField(required=False, max_length=200)
    this_page_only = forms.BooleanField(required=False)


def add_domain_error(form: forms.Form, error) -> None:
    """Show a service's DomainError on its field when the form has one, else on the form."""
    field = error.field if error.field in form.fields else None
    form.add_error(field, error.message)
