"""Subscribing on the public site: double opt-in, login-free manage and one-click unsubscribe.

These pages are never cached (they are per visitor). The POSTs carry no CSRF token: the public
site sets no cookies, so a cached page can hold no per-visitor token. What CSRF would protect
is covered otherwise: subscribing only sends a confirmation (double opt-in), and unsubscribing
needs a signed link only its recipient has (RFC 8058 requires a cookie-less POST anyway).
"""

from django.core import signing
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from statuspage.client_address import client_key
from statuspage.errors import DomainError
from statuspage.throttle import allow
from subscribers import services
from subscribers.forms import ManageForm, SubscribeForm
from subscribers.links import read_confirm_token, read_manage_token
from subscribers.models import Subscriber

# (attempts, seconds): per page and client address, and per page and email address.
LIMITS = {"client": (20, 3600), "email": (5, 3600)}


def subscribe_allowed(request, page, email: str) -> bool:
    """Both limits count every attempt (neither short-circuits the other)."""
    client_ok = allow("subscribe-client", f"{page.pk}:{client_key(request)}",
                      limit=LIMITS["client"][0], window_seconds=LIMITS["client"][1])  # fmt: skip
    email_ok = allow("subscribe-email", f"{page.pk}:{email}",
                     limit=LIMITS["email"][0], window_seconds=LIMITS["email"][1])  # fmt: skip
    return client_ok and email_ok


def _subscriber_from(request, token, read) -> Subscriber:
    try:
        public_id = read(token)
    except signing.SignatureExpired:
        raise Http404("This link has expired.") from None
    except signing.BadSignature:
        raise Http404("This link is not valid.") from None
    subscriber = Subscriber.objects.filter(page=request.page, public_id=public_id).first()
    if subscriber is None:
        raise Http404("No such subscription.")
    return subscriber


@csrf_exempt
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def subscribe(request):
    page = request.page
    if not page.allow_subscribers:
        raise Http404("This page does not take subscriptions.")
    form = SubscribeForm(request.POST or None, page=page)
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"].strip().lower()
        if not subscribe_allowed(request, page, email):
            return render(request, "public/subscribe_throttled.html", {"page": page}, status=429)
        if not form.is_bot:
            try:
                services.subscribe(page, email=email, components=form.cleaned_data["components"])
            except DomainError as error:
                form.add_error(None, error.message)
        if not form.errors:
            # The same answer for a new, pending or confirmed address: nothing to enumerate.
            return render(request, "public/subscribe_sent.html", {"page": page, "email": email})
    status = 400 if form.errors else 200
    return render(request, "public/subscribe.html", {"page": page, "form": form}, status=status)


@never_cache
def confirm(request, token):
    subscriber = _subscriber_from(request, token, read_confirm_token)
    try:
        services.confirm_subscription(subscriber)
    except DomainError as error:
        return render(request, "public/subscription_problem.html",
                      {"page": request.page, "problem": error.message}, status=400)  # fmt: skip
    context = {"page": request.page, "subscriber": subscriber}
    return render(request, "public/subscription_confirmed.html", context)


@csrf_exempt
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def manage(request, token):
    subscriber = _subscriber_from(request, token, read_manage_token)
    initial = {"components": list(subscriber.components.all())}
    form = ManageForm(request.POST or None, page=request.page, initial=initial)
    saved = False
    if request.method == "POST" and form.is_valid():
        services.change_subscription(subscriber, components=form.cleaned_data["components"])
        saved = True
    context = {"page": request.page, "subscriber": subscriber, "form": form, "saved": saved,
               "token": token}  # fmt: skip
    return render(request, "public/subscription_manage.html", context)


@csrf_exempt
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request, token):
    """GET asks (link scanners must not unsubscribe anyone); POST acts, without cookies,
    CSRF token or redirect, as RFC 8058 one-click requires."""
    subscriber = _subscriber_from(request, token, read_manage_token)
    if request.method == "POST":
        services.unsubscribe(subscriber)
        return render(request, "public/unsubscribed.html", {"page": request.page})
    context = {"page": request.page, "subscriber": subscriber, "token": token}
    return render(request, "public/unsubscribe.html", context)
