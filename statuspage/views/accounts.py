"""Sign-up, login and logout, passwords, and accepting an invitation."""

from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.views.decorators.http import require_POST

from statuspage import services
from statuspage.account_forms import AcceptInvitationForm, LoginForm, SignUpForm
from statuspage.errors import DomainError
from statuspage.forms import add_domain_error
from statuspage.page_urls import app_url
from statuspage.queries import account_exists

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def signup(request):
    if request.user.is_authenticated:
        return redirect("console:home")
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            result = services.sign_up(**form.cleaned_data)
        except DomainError as error:
            field = {"slug": "page_slug"}.get(error.field or "", error.field)
            form.add_error(field if field in form.fields else None, error.message)
        else:
            auth_login(request, result.user, backend=MODEL_BACKEND)
            messages.success(request, f"Welcome! {result.page.name} is ready to set up.")
            return redirect("console:page-dashboard", result.page.slug)
    return render(
        request, "accounts/signup.html", {"form": form}, status=400 if form.errors else 200
    )


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def form_invalid(self, form):
        return self.render_to_response(self.get_context_data(form=form), status=400)


login = LoginView.as_view()


@require_POST
def logout(request):
    auth_logout(request)
    messages.success(request, "You have been logged out.")
    return redirect("accounts:login")


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


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "accounts/password_reset.html"
    subject_template_name = "emails/password_reset.subject.txt"
    email_template_name = "emails/password_reset.txt"
    html_email_template_name = "emails/password_reset.html"
    success_url = reverse_lazy("accounts:password-reset-sent")

    def form_valid(self, form):
        # Links are built from our configured app URL, never from the request's Host header.
        self.extra_email_context = {"app_base_url": app_url("").rstrip("/")}
        return super().form_valid(form)


password_reset = PasswordResetView.as_view()
password_reset_sent = auth_views.PasswordResetDoneView.as_view(
    template_name="accounts/password_reset_sent.html"
)
password_reset_confirm = auth_views.PasswordResetConfirmView.as_view(
    template_name="accounts/password_reset_confirm.html",
    success_url=reverse_lazy("accounts:password-reset-complete"),
)
password_reset_complete = auth_views.PasswordResetCompleteView.as_view(
    template_name="accounts/password_reset_complete.html"
)


def invitation_accept(request, token):
    try:
        invitation = services.find_invitation_by_token(token)
    except DomainError as error:
        return render(
            request, "accounts/invitation_problem.html", {"problem": error.message}, status=400
        )
    user = request.user
    if user.is_authenticated:
        if user.email.lower() != invitation.email.lower():
            context = {"invitation": invitation, "wrong_user": True}
            return render(request, "accounts/invitation.html", context, status=403)
        if request.method == "POST":
            return _accepted(request, lambda: services.accept_invitation(invitation, user=user))
        return render(request, "accounts/invitation.html", {"invitation": invitation})
    if account_exists(invitation.email):
        return render(
            request, "accounts/invitation.html", {"invitation": invitation, "log_in": True}
        )
    form = AcceptInvitationForm(request.POST or None, email=invitation.email)
    if request.method == "POST" and form.is_valid():
        return _accepted(
            request,
            lambda: services.accept_invitation_with_new_account(invitation, **form.cleaned_data),
            form=form,
            invitation=invitation,
        )
    context = {"invitation": invitation, "form": form}
    return render(request, "accounts/invitation.html", context, status=400 if form.errors else 200)


def _accepted(request, accept, form=None, invitation=None):
    try:
        membership = accept()
    except DomainError as error:
        if form is None:
            return render(
                request, "accounts/invitation_problem.html", {"problem": error.message}, status=400
            )
        add_domain_error(form, error)
        context = {"invitation": invitation, "form": form}
        return render(request, "accounts/invitation.html", context, status=400)
    if not request.user.is_authenticated:
        auth_login(request, membership.user, backend=MODEL_BACKEND)
    messages.success(request, f"You joined {membership.organization.name}.")
    return redirect("console:home")
