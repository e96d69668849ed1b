"""The console shell: choosing a page, creating one, its overview and its settings."""

import copy

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from statuspage import services
from statuspage.access import page_console
from statuspage.actors import Actor
from statuspage.enums import Role
from statuspage.errors import DomainError
from statuspage.forms import (
    ConfirmNameForm,
    LogoForm,
    PageCreateForm,
    PageSettingsForm,
    add_domain_error,
)
from statuspage.onboarding import getting_started
from statuspage.page_urls import public_base_url
from statuspage.queries import list_memberships_for_user, list_pages_for_user


@login_required
def home(request):
    pages = list_pages_for_user(request.user)
    if len(pages) == 1:
        return redirect("console:page-dashboard", pages[0].slug)
    return render(request, "console/home.html", {"pages": pages})


@login_required
def page_create(request):
    memberships = [m for m in list_memberships_for_user(request.user) if m.has_role(Role.ADMIN)]
    if not memberships:
        messages.error(request, "Only admins and owners can create pages.")
        return redirect("console:home")
    form = PageCreateForm(request.POST or None, base_domain=settings.BASE_DOMAIN)
    organizations = {m.organization.public_id: m.organization for m in memberships}
    if request.method == "POST" and form.is_valid():
        organization = organizations.get(request.POST.get("organization", ""))
        organization = organization or memberships[0].organization
        try:
            page = services.create_page(
                organization, actor=Actor.for_user(request.user), **form.cleaned_data
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, f"Page “{page.name}” created.")
            return redirect("console:page-dashboard", page.slug)
    status = 400 if form.errors else 200
    context = {"form": form, "organizations": list(organizations.values())}
    return render(request, "console/page_create.html", context, status=status)


@page_console()
def page_dashboard(request):
    steps = getting_started(request.page)
    context = {
        "steps": steps,
        "steps_done": sum(step.is_done for step in steps),
        "public_url": public_base_url(request.page) + "/",
    }
    return render(request, "console/page_dashboard.html", context)


@page_console(Role.ADMIN)
def page_settings(request):
    page = request.page
    # The form validates against a copy: a ModelForm writes into its instance as it cleans,
    # and the service must compare the new values with the page as it is.
    form = PageSettingsForm(request.POST or None, instance=copy.copy(page))
    if request.method == "POST" and form.is_valid():
        try:
            services.update_page_settings(
                page, actor=Actor.for_user(request.user), **form.cleaned_data
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, "Settings saved.")
            return redirect("console:page-settings", page.slug)
    context = {"form": form, "logo_form": LogoForm(), "delete_form": ConfirmNameForm()}
    return render(
        request, "console/page_settings.html", context, status=400 if form.errors else 200
    )


@require_POST
@page_console(Role.ADMIN)
def page_logo(request):
    page = request.page
    form = LogoForm(request.POST, request.FILES)
    if form.is_valid():
        upload = form.cleaned_data["logo"]
        data = None if form.cleaned_data["remove"] or not upload else upload.read()
        try:
            services.set_page_logo(page, actor=Actor.for_user(request.user), data=data)
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, "Logo removed." if data is None else "Logo updated.")
    return redirect("console:page-settings", page.slug)


@require_POST
@page_console(Role.ADMIN)
def page_delete(request):
    page = request.page
    form = ConfirmNameForm(request.POST)
    if form.is_valid():
        try:
            services.delete_page(
                page,
                actor=Actor.for_user(request.user),
                confirm_name=form.cleaned_data["confirm_name"],
            )
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, f"Page “{page.name}” deleted.")
            return redirect("console:home")
    else:
        messages.error(request, "Type the page's name to confirm.")
    return redirect("console:page-settings", page.slug)


@page_console()
def embed(request):
    services.mark_embed_viewed(request.page)
    return render(request, "console/embed.html", {"public_url": public_base_url(request.page)})
