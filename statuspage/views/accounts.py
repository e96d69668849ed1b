"""Sign-up, login and logout, passwords, and accepting an invitation."""

import math

from axes.utils import reset as reset_login_failures
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.core.exceptions import NON_FIELD_ERRORS
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from statuspage import login_protection, services, throttle
from statuspage.account_forms import (
    AcceptInvitationForm,
    LoginForm,
    PasswordResetForm,
    SignUpForm,
)
from statuspage.client_address import client_key
from statuspage.errors import DomainError
from statuspage.forms import add_domain_error
from statuspage.queries import account_exists

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
# Service errors name the page's field; the sign-up form calls it page_slug.
SIGNUP_FIELDS = {"slug": "page_slug"}


def signup(request):
    if request.user.is_authenticated:
        return redirect("console:home")
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and not signup_allowed(request):
        context = {"form": form, "throttled": True}
        return render(request, "accounts/signup.html", context, status=429)
    if request.method == "POST" and form.is_valid():
        try:
            result = services.sign_up(**form.cleaned_data)
        except DomainError as error:
            field = SIGNUP_FIELDS.get(error.field or "", error.field)
            form.add_error(field if field in form.fields else None, error.message)
        else:
            auth_login(request, result.user, backend=MODEL_BACKEND)
            messages.success(request, f"Welcome! {result.page.name} is ready to set up.")
            return redirect("console:page-dashboard", result.page.slug)
    status = 400 if form.errors else 200
    return render(request, "accounts/signup.html", {"form": form}, status=status)


def signup_allowed(request) -> bool:
    """Every POST counts, valid or not: each one costs a password hash, and a valid one an
    organisation and a page."""
    return throttle.allow("signup", client_key(request),
                          limit=settings.SIGNUP_LIMIT_PER_HOUR, window_seconds=3600)  # fmt: skip


class LoginView(auth_views.LoginView):
    """AuthenticationForm calls authenticate(request, ...), so django-axes counts failures by
    client address and answers a locked-out address with accounts/locked_out.html (429).
    statuspage.login_protection slows addresses that keep failing on one account: while one
    must wait, its password is not checked at all. `next` must be ours."""

    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        self.attempt = login_protection.attempt_of(request, request.POST.get("username", ""))
        wait = login_protection.wait_seconds(self.attempt)
        if wait:
            context = {"wait_minutes": math.ceil(wait / 60)}
            return render(request, "accounts/locked_out.html", context, status=429)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        login_protection.record_success(self.attempt)
        return super().form_valid(form)

    def form_invalid(self, form):
        locked_out = getattr(self.request, "axes_locked_out", False)
        if form.has_error(NON_FIELD_ERRORS, "invalid_login") and not locked_out:
            login_protection.record_failure(self.attempt)
        return self.render_to_response(self.get_context_data(form=form), status=400)


login = LoginView.as_view()


def safe_next(request) -> str | None:
    target = request.POST.get("next") or request.GET.get("next")
    is_safe = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return target if is_safe else None


@require_POST
def logout(request):
    target = safe_next(request)
    auth_logout(request)
    messages.success(request, "You have been logged out.")
    return redirect(target or "accounts:login")


@login_required
def password_change(request):
    form = PasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        # Keep this session; every other session's auth hash no longer matches and ends.
        update_session_auth_hash(request, user)
        messages.success(request, "Password changed. Other sessions have been logged out.")
        return redirect("console:home")
    status = 400 if form.errors else 200
    return render(request, "accounts/password_change.html", {"form": form}, status=status)


# Reset emails: per client address, and per address asked for (nobody can flood a mailbox).
RESET_LIMITS = {"client": (10, 3600), "email": (3, 3600)}


def password_reset_allowed(request, email: str) -> bool:
    client_ok = throttle.allow("reset-client", client_key(request),
                               limit=RESET_LIMITS["client"][0],
                               window_seconds=RESET_LIMITS["client"][1])  # fmt: skip
    email_ok = throttle.allow("reset-email", email.strip().lower(),
                              limit=RESET_LIMITS["email"][0],
                              window_seconds=RESET_LIMITS["email"][1])  # fmt: skip
    return client_ok and email_ok


class PasswordResetView(auth_views.PasswordResetView):
    """Answers the same whether or not an account uses the address, and whether or not a
    limit held the email back (so neither can be probed)."""

    form_class = PasswordResetForm
    template_name = "accounts/password_reset.html"
    subject_template_name = "emails/password_reset.subject.txt"
    email_template_name = "emails/password_reset.txt"
    html_email_template_name = "emails/password_reset.html"
    success_url = reverse_lazy("accounts:password-reset-sent")

    def form_valid(self, form):
        if not password_reset_allowed(self.request, form.cleaned_data["email"]):
            return redirect(self.success_url)
        return super().form_valid(form)

    def form_invalid(self, form):
        return self.render_to_response(self.get_context_data(form=form), status=400)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password-reset-complete")

    def form_valid(self, form):
        response = super().form_valid(form)
        # Proving control of the mailbox lifts the account's delays and this address's
        # lockout, as locked_out.html promises.
        reset_login_failures(ip=client_key(self.request))
        login_protection.record_success(login_protection.attempt_of(self.request, form.user.email))
        return response

    def form_invalid(self, form):
        return self.render_to_response(self.get_context_data(form=form), status=400)


password_reset = PasswordResetView.as_view()
password_reset_sent = auth_views.PasswordResetDoneView.as_view(
    template_name="accounts/password_reset_sent.html"
)
password_reset_confirm = PasswordResetConfirmView.as_view()
password_reset_complete = auth_views.PasswordResetCompleteView.as_view(
    template_name="accounts/password_reset_complete.html"
)


def invitation_accept(request, token):
    """GET shows the invitation, POST accepts it. Who is asking decides what is offered: the
    invited person logged in joins; someone else is told to log out; an existing account is
    asked to log in; a new person creates an account with the invited address."""
    try:
        invitation = services.find_invitation_by_token(token)
    except DomainError as error:
        return invitation_problem(request, error)
    user = request.user
    context = {"invitation": invitation}
    if user.is_authenticated:
        if user.email.lower() != invitation.email.lower():
            context["wrong_user"] = True
            return render(request, "accounts/invitation.html", context, status=403)
        if request.method == "POST":
            return accepted(request, invitation, user=user)
        return render(request, "accounts/invitation.html", context)
    if account_exists(invitation.email):
        return render(request, "accounts/invitation.html", {**context, "log_in": True})
    form = AcceptInvitationForm(request.POST or None, email=invitation.email)
    if request.method == "POST" and form.is_valid():
        return accepted(request, invitation, form=form)
    status = 400 if form.errors else 200
    return render(request, "accounts/invitation.html", {**context, "form": form}, status=status)


def accepted(request, invitation, *, user=None, form=None):
    try:
        if user is not None:
            membership = services.accept_invitation(invitation, user=user)
        else:
            membership = services.accept_invitation_with_new_account(
                invitation, **form.cleaned_data
            )
    except DomainError as error:
        if form is None:
            return invitation_problem(request, error)
        add_domain_error(form, error)
        context = {"invitation": invitation, "form": form}
        return render(request, "accounts/invitation.html", context, status=400)
    if user is None:
        auth_login(request, membership.user, backend=MODEL_BACKEND)
    messages.success(request, f"You joined {membership.organization.name}.")
    return redirect("console:home")


def invitation_problem(request, error):
    context = {"problem": error.message}
    return render(request, "accounts/invitation_problem.html", context, status=400)
