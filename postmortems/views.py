"""Console screens for postmortems and their action items."""

import zoneinfo

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from incidents.queries import get_incident_for_page
from postmortems import services
from postmortems.forms import (
    ActionItemFilterForm,
    ActionItemForm,
    PostmortemForm,
    TimelineFormSet,
)
from postmortems.queries import (
    default_timeline,
    find_postmortem,
    get_action_item_for_member,
    list_action_items,
    list_postmortems,
    preview_token,
)
from statuspage.access import page_console
from statuspage.actors import Actor
from statuspage.enums import Role
from statuspage.errors import DomainError
from statuspage.forms import add_domain_error
from statuspage.page_urls import public_base_url


@page_console()
def postmortem_list(request):
    context = {"postmortems": list_postmortems(request.page)}
    return render(request, "console/postmortems/list.html", context)


def _initial(incident, postmortem):
    if postmortem is None:
        started = timezone.localtime(
            incident.started_at, zoneinfo.ZoneInfo(incident.page.time_zone)
        )
        title = f"Post-Incident Report: {incident.name} — {started:%-d %B %Y}"
        return {"title": title, "show_action_items": True}, [
            {"at": at, "description": text} for at, text in default_timeline(incident)
        ]
    fields = ["title", "summary", "impact", "root_cause", "resolution", "corrective_actions",
              "show_action_items"]  # fmt: skip
    timeline = [{"at": e.at, "description": e.description} for e in postmortem.timeline.all()]
    return {f: getattr(postmortem, f) for f in fields}, timeline


@page_console(Role.RESPONDER)
def postmortem_edit(request, incident_id):
    incident = get_incident_for_page(request.page, incident_id)
    postmortem = find_postmortem(incident)
    initial, timeline = _initial(incident, postmortem)
    data = request.POST if request.method == "POST" else None
    form = PostmortemForm(data, initial=initial)
    formset = TimelineFormSet(data, initial=timeline, form_kwargs={"page": request.page})
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        entries = [
            (f.cleaned_data["at"], f.cleaned_data["description"].strip())
            for f in formset
            if f.cleaned_data.get("at") and not f.cleaned_data.get("DELETE")
        ]
        try:
            postmortem = services.save_postmortem(
                incident, actor=Actor.for_user(request.user), timeline=entries, **form.cleaned_data
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, "Postmortem saved.")
            if "preview" in request.POST:
                return redirect(_preview_url(request, incident, postmortem))
            return redirect("postmortems:edit", request.page.slug, incident.public_id)
    context = {
        "incident": incident,
        "postmortem": postmortem,
        "form": form,
        "formset": formset,
        "item_form": ActionItemForm(organization=request.organization),
        "preview_url": _preview_url(request, incident, postmortem) if postmortem else "",
    }
    status = 400 if (form.errors or formset.total_error_count()) else 200
    return render(request, "console/postmortems/edit.html", context, status=status)


def _preview_url(request, incident, postmortem) -> str:
    return (
        f"{public_base_url(request.page)}/incidents/{incident.public_id}/postmortem"
        f"?preview={preview_token(postmortem)}"
    )


def _postmortem_or_404(request, incident_id):
    incident = get_incident_for_page(request.page, incident_id)
    postmortem = find_postmortem(incident)
    if postmortem is None:
        raise Http404("This incident has no postmortem yet.")
    return incident, postmortem


@require_POST
@page_console(Role.RESPONDER)
def postmortem_publish(request, incident_id):
    _, postmortem = _postmortem_or_404(request, incident_id)
    services.publish_postmortem(postmortem, actor=Actor.for_user(request.user))
    messages.success(request, "Postmortem published. Subscribers are not emailed about it.")
    return redirect("postmortems:edit", request.page.slug, incident_id)


@require_POST
@page_console(Role.RESPONDER)
def postmortem_unpublish(request, incident_id):
    _, postmortem = _postmortem_or_404(request, incident_id)
    services.unpublish_postmortem(postmortem, actor=Actor.for_user(request.user))
    messages.success(request, "Postmortem back to draft.")
    return redirect("postmortems:edit", request.page.slug, incident_id)


@page_console()
def postmortem_markdown(request, incident_id):
    incident, postmortem = _postmortem_or_404(request, incident_id)
    text = f"# {postmortem.title}\n\n{postmortem.body}\n"
    response = HttpResponse(text, content_type="text/markdown; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="postmortem-{incident.public_id}.md"'
    return response


@require_POST
@page_console(Role.RESPONDER)
def action_item_add(request, incident_id):
    _, postmortem = _postmortem_or_404(request, incident_id)
    form = ActionItemForm(request.POST, organization=request.organization)
    if form.is_valid():
        try:
            services.add_action_item(
                postmortem, actor=Actor.for_user(request.user), **form.cleaned_data
            )
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, "Action item added.")
    else:
        messages.error(request, "Describe the action (and pick an owner from the team).")
    return redirect("postmortems:edit", request.page.slug, incident_id)


@require_POST
@page_console(Role.RESPONDER)
def action_item_toggle(request, item_id):
    item = get_action_item_for_member(request.organization, item_id)
    done = request.POST.get("done") == "1"
    services.set_action_item_done(item, actor=Actor.for_user(request.user), done=done)
    messages.success(request, "Marked done." if done else "Reopened.")
    if request.POST.get("return_to") == "list":
        return redirect("postmortems:action-items", request.page.slug)
    return redirect("postmortems:edit", request.page.slug, item.postmortem.incident.public_id)


@require_POST
@page_console(Role.RESPONDER)
def action_item_delete(request, item_id):
    item = get_action_item_for_member(request.organization, item_id)
    incident_id = item.postmortem.incident.public_id
    services.delete_action_item(item, actor=Actor.for_user(request.user))
    return redirect("postmortems:edit", request.page.slug, incident_id)


@page_console()
def action_items(request):
    query = ActionItemFilterForm(request.GET).values
    state, owner = query["state"], query["owner"]
    context = {
        "items": list_action_items(request.organization, state=state, owner_id=owner),
        "state": state,
        "owner": owner,
        "owners": ActionItemForm(organization=request.organization).fields["owner"].queryset,
    }
    return render(request, "console/postmortems/action_items.html", context)
