"""Console screens for a page's subscribers."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from statuspage.access import page_console
from statuspage.actors import Actor
from statuspage.enums import Role
from statuspage.errors import DomainError
from statuspage.forms import add_domain_error
from subscribers import services
from subscribers.enums import SubscriberState
from subscribers.forms import AddSubscriberForm
from subscribers.queries import get_subscriber_for_page, list_subscribers, subscriber_counts


def _render_list(request, form=None, status=200):
    state = request.GET.get("state", "")
    search = request.GET.get("q", "").strip()
    paginator = Paginator(list_subscribers(request.page, state=state, search=search), 50)
    counts = subscriber_counts(request.page)
    context = {
        "subscribers": paginator.get_page(request.GET.get("page")),
        "states": [(value, label, counts[value]) for value, label in SubscriberState.choices],
        "state": state,
        "search": search,
        "form": form or AddSubscriberForm(page=request.page),
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
        messages.success(request, done.format(email=subscriber.email))
    return redirect("subscribers:list", request.page.slug)


@require_POST
@page_console(Role.ADMIN)
def subscriber_remove(request, subscriber_id):
    return _act(request, subscriber_id, services.remove_subscriber, "{email} removed.")


@require_POST
@page_console(Role.ADMIN)
def subscriber_resend(request, subscriber_id):
    return _act(request, subscriber_id, services.resend_confirmation,
                "Confirmation sent again to {email}.")  # fmt: skip


@require_POST
@page_console(Role.ADMIN)
def subscriber_unquarantine(request, subscriber_id):
    return _act(request, subscriber_id, services.lift_quarantine,
                "{email} will get emails again.")  # fmt: skip
