"""Forms of the account and team screens: sign-up, login, passwords, invitations, members."""

from __future__ import annotations

from django import forms
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import password_validation
from django.urls import reverse

from statuspage.control_characters import single_line_validator
from statuspage.enums import Role
from statuspage.forms import SlugField, TimeZoneField, suggest_slug
from statuspage.models import User
from statuspage.page_urls import app_url


class NameField(forms.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 150)
        # Names end up in email subjects, where a line break is a header injection.
        kwargs.setdefault("validators", [single_line_validator])
        super().__init__(**kwargs)


class PasswordField(forms.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("strip", False)
        kwargs.setdefault("widget", forms.PasswordInput(attrs={"autocomplete": "new-password"}))
        kwargs.setdefault(
            "help_text", "At least 8 characters; not a common or all-numeric password."
        )
        super().__init__(**kwargs)


def check_new_password(form: forms.Form, password: str | None, *, email: str, name: str) -> None:
    """Django's password validators, comparing with the user-to-be (an unsaved User)."""
    if password:
        try:
            password_validation.validate_password(password, User(email=email, name=name))
        except forms.ValidationError as error:
            form.add_error("password", error)


class SignUpForm(forms.Form):
    name = NameField(label="Your name", widget=forms.TextInput(attrs={"autocomplete": "name"}))
    email = forms.EmailField(
        label="Work email", widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    password = PasswordField()
    organization_name = NameField(label="Organisation name", help_text="Your company or team.")
    page_name = NameField(max_length=100, label="Status page name", help_text="E.g. Acme Cloud.")
    page_slug = SlugField(
        required=False,
        label="Subdomain",
        help_text="Letters, digits and hyphens. Leave empty to derive it from the page name.",
    )
    time_zone = TimeZoneField(initial="UTC", required=False)

    def clean_email(self):
        return self.cleaned_data["email"].strip().lower()

    def clean_time_zone(self):
        return self.cleaned_data["time_zone"] or "UTC"

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("page_slug") and cleaned.get("page_name"):
            cleaned["page_slug"] = self._derived_slug(cleaned["page_name"])
        check_new_password(
            self,
            cleaned.get("password"),
            email=cleaned.get("email", ""),
            name=cleaned.get("name", ""),
        )
        return cleaned

    def _derived_slug(self, page_name: str) -> str:
        # slugify keeps underscores, which a hostname cannot have.
        slug = suggest_slug(page_name.replace("_", " "))
        try:
            if not slug:
                raise forms.ValidationError("Choose a subdomain: the page name gives none.")
            return self.fields["page_slug"].clean(slug)  # the same checks as a typed one
        except forms.ValidationError as error:
            self.add_error("page_slug", error)
            return ""


class LoginForm(auth_forms.AuthenticationForm):
    """Django's login form; the field stays `username` (django-axes counts failures by it)."""

    username = forms.EmailField(
        label="Email", widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
    )
    error_messages = {
        "invalid_login": "That email and password do not match an account.",
        "inactive": "This account is disabled.",
    }

    def clean_username(self):
        # Addresses are stored lower-case. Axes counts the value passed to authenticate(), so
        # "A@x" and "a@x" share one failure counter too.
        return self.cleaned_data["username"].lower()


class PasswordResetForm(auth_forms.PasswordResetForm):
    """Django's reset form; the emailed link comes from our app URL, never the Host header."""

    def send_mail(self, subject_template_name, email_template_name, context, *args, **kwargs):
        path = reverse("accounts:password-reset-confirm", args=[context["uid"], context["token"]])
        context = {**context, "reset_url": app_url(path)}
        super().send_mail(subject_template_name, email_template_name, context, *args, **kwargs)


class InviteForm(forms.Form):
    email = forms.EmailField(label="Email address")
    role = forms.ChoiceField(choices=Role.choices, initial=Role.RESPONDER)


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


class AcceptInvitationForm(forms.Form):
    name = NameField(label="Your name", widget=forms.TextInput(attrs={"autocomplete": "name"}))
    password = PasswordField()

    def __init__(self, *args, email: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.email = email

    def clean(self):
        cleaned = super().clean()
        check_new_password(
            self, cleaned.get("password"), email=self.email, name=cleaned.get("name", "")
        )
        return cleaned


class OrganizationForm(forms.Form):
    name = NameField(label="Organisation name")
