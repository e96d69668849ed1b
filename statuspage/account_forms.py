"""Forms of the account and team screens: sign-up, login, invitations, members."""

from __future__ import annotations

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm

from statuspage.enums import Role
from statuspage.forms import TIME_ZONE_CHOICES, SlugField, suggest_slug


class PasswordField(forms.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("strip", False)
        kwargs.setdefault("widget", forms.PasswordInput(attrs={"autocomplete": "new-password"}))
        kwargs.setdefault(
            "help_text", "At least 8 characters; not a common or all-numeric password."
        )
        super().__init__(**kwargs)


class SignUpForm(forms.Form):
    name = forms.CharField(max_length=150, label="Your name")
    email = forms.EmailField(
        label="Work email", widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    password = PasswordField()
    organization_name = forms.CharField(max_length=150, label="Organisation name")
    page_name = forms.CharField(
        max_length=100, label="Status page name", help_text="E.g. Acme Cloud."
    )
    page_slug = SlugField(
        required=False,
        label="Subdomain",
        help_text="Letters, digits and hyphens. Leave empty to derive it from the page name.",
    )
    time_zone = forms.ChoiceField(choices=TIME_ZONE_CHOICES, initial="UTC")

    def clean_email(self):
        return self.cleaned_data["email"].strip().lower()

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("page_slug") and cleaned.get("page_name"):
            slug = suggest_slug(cleaned["page_name"])
            if not slug:
                self.add_error("page_slug", "Choose a subdomain: the page name gives none.")
            cleaned["page_slug"] = slug
        password = cleaned.get("password")
        if password:
            probe = _UserProbe(cleaned.get("email", ""), cleaned.get("name", ""))
            try:
                password_validation.validate_password(password, probe)
            except forms.ValidationError as error:
                self.add_error("password", error)
        return cleaned


class _UserProbe:
    """What the password validators compare the password with, before the user exists."""

    def __init__(self, email: str, name: str):
        self.email = email
        self.name = name


class LoginForm(AuthenticationForm):
    """Django's login form; the field stays `username` (django-axes counts failures by it)."""

    username = forms.EmailField(
        label="Email", widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
    )
    error_messages = {
        "invalid_login": "That email and password do not match an account.",
        "inactive": "This account is disabled.",
    }


class InviteForm(forms.Form):
    email = forms.EmailField(label="Email address")
    role = forms.ChoiceField(choices=Role.choices, initial=Role.RESPONDER)


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


class AcceptInvitationForm(forms.Form):
    name = forms.CharField(max_length=150, label="Your name")
    password = PasswordField()

    def __init__(self, *args, email: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.email = email

    def clean(self):
        cleaned = super().clean()
        password = cleaned.get("password")
        if password:
            try:
                password_validation.validate_password(
                    password, _UserProbe(self.email, cleaned.get("name", ""))
                )
            except forms.ValidationError as error:
                self.add_error("password", error)
        return cleaned


class OrganizationForm(forms.Form):
    name = forms.CharField(max_length=150, label="Organisation name")
