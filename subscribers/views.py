"""Console screens for a page's subscribers."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from incidents.queries import get_incident_for_page, get_update_for_incident
from statuspage.access import page_console
from statuspage.actors import Actor
from statuspage.enums import Role
from statuspage.errors import DomainError
from statuspage.forms import add_domain_error
from subscribers import services
from subscribers.csv_io import export_csv
from subscribers.enums import SubscriberState
from subscribers.forms import AddSubscriberForm, AddWebhookForm, ImportForm, SubscriberFilterForm
from subscribers.queries import (
    delivery_stats,
    get_subscriber_for_page,
    list_failed_deliveries,
    list_subscribers,
    subscriber_counts,
)


def _render_list(request, form=None, status=200, webhook_form=None):
    query = SubscriberFilterForm(request.GET).values
    state, search = query["state"], query["q"]
    paginator = Paginator(list_subscribers(request.page, state=state, search=search), 50)
    counts = subscriber_counts(request.page)
    context = {
        "subscribers": paginator.get_page(request.GET.get("page")),
        "states": [(value, label, counts[value]) for value, label in SubscriberState.choices],
        "state": state,
        "search": search,
        "form": form or AddSubscriberForm(page=request.page),
        "webhook_form": webhook_form or AddWebhookForm(page=request.page, prefix="webhook"),
    }
    return render(request, "console/subscribers/list.html", context, status=status)


@page_console(Role.ADMIN)
def subscriber_list(request):
    return _render_list(request)


@require_POST
@page_console(Role.ADMIN)
def subscriber_add(request):
    form = AddSubscriberForm(request.POST, page=request.page)
    if form.is_valid():
        try:
            subscriber = services.add_subscriber(
                request.page, actor=Actor.for_user(request.user), **form.cleaned_data
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, f"{subscriber.email} added.")
            return redirect("subscribers:list", request.page.slug)
    return _render_list(request, form=form, status=400)


def _act(request, subscriber_id, action, done):
    subscriber = get_subscriber_for_page(request.page, subscriber_id)
    try:
        action(subscriber, actor=Actor.for_user(request.user))
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, done.format(who=subscriber))
    return redirect("subscribers:list", request.page.slug)


@require_POST
@page_console(Role.ADMIN)
def subscriber_remove(request, subscriber_id):
    return _act(request, subscriber_id, services.remove_subscriber, "{who} removed.")


@require_POST
@page_console(Role.ADMIN)
def subscriber_resend(request, subscriber_id):
    return _act(request, subscriber_id, services.resend_confirmation,
                "Confirmation sent again to {who}.")  # fmt: skip


@require_POST
@page_console(Role.ADMIN)
def subscriber_confirm(request, subscriber_id):
    """The operator vouches for a webhook endpoint that cannot echo the challenge."""
    return _act(request, subscriber_id, services.confirm_webhook, "{who} confirmed.")


@require_POST
@page_console(Role.ADMIN)
def subscriber_unquarantine(request, subscriber_id):
    return _act(request, subscriber_id, services.lift_quarantine,
                "{who} will get notifications again.")  # fmt: skip


@page_console(Role.RESPONDER)
def update_deliveries(request, incident_id, update_id):
    """How an update's notifications went: queued / sent / failed, and why they failed."""
    incident = get_incident_for_page(request.page, incident_id)
    update = get_update_for_incident(incident, update_id)
    context = {
        "incident": incident,
        "update": update,
        "stats": delivery_stats([update.pk])[update.pk],
        "failures": list_failed_deliveries(update),
    }
    return render(request, "console/subscribers/deliveries.html", context)


@page_console(Role.ADMIN)
def subscriber_export(request):
    text = export_csv(list_subscribers(request.page))
    response = HttpResponse(text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{request.page.slug}-subscribers.csv"'
    return response


@page_console(Role.ADMIN)
def subscriber_import(request):
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            text = form.cleaned_data["file"].read().decode("utf-8-sig")
            count = services.import_subscribers(
                request.page, actor=Actor.for_user(request.user), text=text,
                send_confirmation=form.cleaned_data["send_confirmation"],
            )  # fmt: skip
        except UnicodeDecodeError:
            form.add_error("file", "Save the file as UTF-8 CSV and try again.")
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, f"{count} subscribers imported.")
            return redirect("subscribers:list", request.page.slug)
    status = 400 if form.errors else 200
    return render(request, "console/subscribers/import.html", {"form": form}, status=status)


@require_POST
@page_console(Role.ADMIN)
def webhook_add(request):
    form = AddWebhookForm(request.POST, page=request.page, prefix="webhook")
    if form.is_valid():
        try:
            subscriber = services.add_webhook_subscriber(
                request.page, actor=Actor.for_user(request.user), **form.cleaned_data
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            then = "" if subscriber.confirmed_at else " We are sending it a challenge to echo."
            secret = f"Its signing secret (shown once): {subscriber.secret}."
            messages.success(request, f"Webhook added. {secret}{then}")
            return redirect("subscribers:list", request.page.slug)
    return _render_list(request, webhook_form=form, status=400)
