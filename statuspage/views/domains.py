"""Custom domain screens: connect, show the DNS records to create, verify, remove."""

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from statuspage import services
from statuspage.access import page_console
from statuspage.actors import Actor
from statuspage.domains import (
    claim_has_lapsed,
    verification_record_name,
    verification_record_value,
)
from statuspage.enums import Role
from statuspage.errors import DomainError
from statuspage.forms import CustomDomainForm, add_domain_error


@page_console(Role.ADMIN)
def domain(request):
    page = request.page
    form = CustomDomainForm(request.POST or None, initial={"domain": page.custom_domain or ""})
    if request.method == "POST" and form.is_valid():
        try:
            services.set_custom_domain(
                page, actor=Actor.for_user(request.user), domain=form.cleaned_data["domain"]
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, "Now create the two DNS records below, then verify.")
            return redirect("console:domain", page.slug)
    context = {
        "form": form,
        "cname_target": settings.CUSTOM_DOMAIN_CNAME_TARGET,
        "txt_name": verification_record_name(page.custom_domain) if page.custom_domain else "",
        "txt_value": verification_record_value(page.custom_domain_token),
        "claim_lapsed": claim_has_lapsed(page),
        "claim_days": settings.CUSTOM_DOMAIN_CLAIM_DAYS,
    }
    return render(request, "console/domain.html", context, status=400 if form.errors else 200)


@require_POST
@page_console(Role.ADMIN)
def domain_verify(request):
    try:
        services.verify_custom_domain(request.page, actor=Actor.for_user(request.user))
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request, f"{request.page.custom_domain} is verified and now serves your page."
        )
    return redirect("console:domain", request.page.slug)


@require_POST
@page_console(Role.ADMIN)
def domain_remove(request):
    services.remove_custom_domain(request.page, actor=Actor.for_user(request.user))
    messages.success(request, "Custom domain removed.")
    return redirect("console:domain", request.page.slug)
