"""Console screens for incidents, their updates, scheduled maintenance and templates."""

from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from components.queries import list_components
from incidents import responders, services
from incidents.enums import Category, Severity
from incidents.forms import (
    ConfirmTitleForm,
    IncidentFilterForm,
    IncidentForm,
    IntegrationForm,
    MaintenanceForm,
    NoteForm,
    PublishForm,
    ResponseForm,
    ResponsePolicyForm,
    RoutingForm,
    TeamForm,
    TemplateForm,
    UpdateEditForm,
    UpdateForm,
)
from incidents.queries import (
    alert_opt_ins,
    alert_webhook_failures,
    get_incident_for_page,
    get_integration_for_page,
    get_team_for_organization,
    get_template_for_page,
    get_update_for_incident,
    incident_alerts,
    list_incidents,
    list_integrations,
    list_responders,
    list_teams,
    list_templates,
    next_status_suggestion,
    response_policy,
    routes_by_category,
)
from incidents.reports import as_csv, bar_chart_svg, mtta_mttr
from statuspage.access import page_console
from statuspage.actors import Actor
from statuspage.enums import Role
from statuspage.errors import DomainError
from statuspage.forms import add_domain_error
from statuspage.page_urls import app_url

TABS = [("active", "Active"), ("resolved", "Resolved"), ("maintenance", "Maintenance")]
RESPONDER_TABS = [("drafts", "Drafts"), *TABS]


def _render(request, template, context, form):
    return render(request, template, context, status=400 if form.errors else 200)


def _detail(request, incident):
    return redirect("incidents:detail", request.page.slug, incident.public_id)


def _incident_list(request, default_tab):
    internal = request.can["respond"]
    tabs = RESPONDER_TABS if internal else TABS
    query = IncidentFilterForm(request.GET).values
    tab = query["tab"] or default_tab
    tab = tab if tab in dict(tabs) else "active"
    search = query["q"]
    filters = {
        "mine": internal and query["mine"],
        "unacknowledged": internal and query["unacknowledged"],
        "severity": query["severity"] if internal else "",
        "category": query["category"] if internal else "",
    }
    incidents = list_incidents(
        request.page,
        tab=tab,
        search=search,
        mine=request.user if filters["mine"] else None,
        unacknowledged=filters["unacknowledged"],
        severity=filters["severity"],
        category=filters["category"],
        with_drafts=internal,
    )
    listed = Paginator(incidents, 25).get_page(request.GET.get("page"))
    policy = response_policy(request.organization.pk)
    for incident in listed:
        incident.overdue = internal and incident.is_overdue_for(policy)
    context = {
        "incidents": listed,
        "tab": tab,
        "tabs": tabs,
        "search": search,
        "filters": filters,
        "filter_query": _filter_query(filters),
        "severities": Severity.choices,
        "categories": Category.choices,
    }
    return render(request, "console/incidents/list.html", context)


def _filter_query(filters) -> str:
    """The list's filters as a query string, for tab and pagination links."""
    return urlencode({k: ("1" if v is True else v) for k, v in filters.items() if v})


@page_console()
def incident_list(request):
    return _incident_list(request, "active")


@page_console()
def maintenance_list(request):
    return _incident_list(request, "maintenance")


def _template_initial(request):
    template_id = request.GET.get("template")
    if not template_id:
        return {}, {}, None
    template = get_template_for_page(request.page, template_id)
    initial = {
        "name": template.title,
        "status": template.status,
        "impact": template.impact,
        "body": template.body,
        "deliver_notifications": template.deliver_notifications,
    }
    components = {c.public_id: "impact" for c in template.components.all()}
    return initial, components, template


@page_console(Role.RESPONDER)
def incident_create(request):
    initial, initial_components, template = _template_initial(request)
    form = IncidentForm(
        request.POST or None,
        page=request.page,
        components=list_components(request.page),
        initial=initial,
        initial_components=initial_components,
    )
    if request.method == "POST" and form.is_valid():
        try:
            incident = _open(request, form)
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, f"“{incident.name}” is now on your status page.")
            return _detail(request, incident)
    context = {"form": form, "templates": list_templates(request.page), "template": template}
    return _render(request, "console/incidents/create.html", context, form)


def _open(request, form):
    data = form.cleaned_data
    common = {
        "actor": Actor.for_user(request.user),
        "name": data["name"],
        "impact": data["impact"],
        "body": data["body"],
        "component_statuses": form.chosen_component_statuses(),
        "deliver_notifications": data["deliver_notifications"],
    }
    if data["is_backfilled"]:
        return services.create_backfilled_incident(
            request.page, started_at=data["started_at"], resolved_at=data["resolved_at"], **common
        )
    return services.open_incident(
        request.page,
        status=data["status"],
        severity=data["severity"],
        category=data["category"],
        **common,
    )


def _detail_context(request, incident, update_form=None, delete_form=None, publish_form=None):
    components = list_components(request.page)
    alerts, alert_counts = incident_alerts(incident)
    return {
        "incident": incident,
        "alerts": alerts,
        "alert_counts": alert_counts,
        "publish_form": publish_form
        or (PublishForm(incident=incident, components=components) if incident.is_draft else None),
        "overdue": incident.is_overdue_for(response_policy(request.organization.pk)),
        "updates": list(incident.updates.all()),
        "affected": list(incident.affected.all()),
        "update_form": update_form
        or UpdateForm(
            incident=incident,
            components=components,
            initial={"status": next_status_suggestion(incident)},
        ),
        "delete_form": delete_form or ConfirmTitleForm(),
        "response_form": ResponseForm(
            responders=list_responders(request.organization.pk),
            initial={
                "severity": incident.severity,
                "category": incident.category,
                "owner": incident.owner.public_id if incident.owner else None,
            },
        ),
        "notes": list(incident.notes.select_related("author")),
        "note_form": NoteForm(prefix="note"),
    }


def _incident(request, incident_id):
    """Drafts are part of the internal side: responders see them, viewers do not."""
    return get_incident_for_page(request.page, incident_id, with_drafts=request.can["respond"])


@page_console()
def incident_detail(request, incident_id):
    incident = _incident(request, incident_id)
    return render(request, "console/incidents/detail.html", _detail_context(request, incident))


@require_POST
@page_console(Role.RESPONDER)
def update_create(request, incident_id):
    incident = _incident(request, incident_id)
    form = UpdateForm(request.POST, incident=incident, components=list_components(request.page))
    if form.is_valid():
        try:
            services.post_incident_update(
                incident,
                actor=Actor.for_user(request.user),
                status=form.cleaned_data["status"],
                body=form.cleaned_data["body"],
                component_statuses=form.chosen_component_statuses(),
                deliver_notifications=form.cleaned_data["deliver_notifications"],
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, "Update posted.")
            return _detail(request, incident)
    context = _detail_context(request, incident, update_form=form)
    return render(request, "console/incidents/detail.html", context, status=400)


@page_console(Role.RESPONDER)
def update_edit(request, incident_id, update_id):
    incident = _incident(request, incident_id)
    update = get_update_for_incident(incident, update_id)
    initial = {"body": update.body, "display_at": update.display_at}
    form = UpdateEditForm(request.POST or None, page=request.page, initial=initial)
    if request.method == "POST" and form.is_valid():
        services.edit_incident_update(
            update, actor=Actor.for_user(request.user), **form.cleaned_data
        )
        messages.success(request, "Update edited.")
        return _detail(request, incident)
    context = {"incident": incident, "update": update, "form": form}
    return _render(request, "console/incidents/update_edit.html", context, form)


@require_POST
@page_console(Role.RESPONDER)
def incident_delete(request, incident_id):
    incident = _incident(request, incident_id)
    form = ConfirmTitleForm(request.POST)
    if form.is_valid():
        try:
            services.delete_incident(
                incident,
                actor=Actor.for_user(request.user),
                confirm_name=form.cleaned_data["confirm_name"],
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, f"“{incident.name}” and its updates were deleted.")
            return redirect("incidents:list", request.page.slug)
    context = _detail_context(request, incident, delete_form=form)
    return render(request, "console/incidents/detail.html", context, status=400)


# --- Scheduled maintenance ----------------------------------------------------------------


@page_console(Role.RESPONDER)
def maintenance_create(request):
    form = MaintenanceForm(request.POST or None, page=request.page)
    if request.method == "POST" and form.is_valid():
        try:
            incident = services.schedule_maintenance(
                request.page, actor=Actor.for_user(request.user), **form.cleaned_data
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, f"Maintenance “{incident.name}” scheduled.")
            return _detail(request, incident)
    return _render(request, "console/incidents/maintenance_create.html", {"form": form}, form)


TRANSITIONS = {
    "start": (services.start_maintenance, "Maintenance started."),
    "verify": (services.mark_maintenance_verifying, "Maintenance is being verified."),
    "complete": (services.complete_maintenance, "Maintenance completed."),
    "cancel": (services.cancel_maintenance, "Maintenance cancelled."),
}


@require_POST
@page_console(Role.RESPONDER)
def maintenance_transition(request, incident_id, transition):
    incident = _incident(request, incident_id)
    action, done = TRANSITIONS[transition]
    try:
        action(incident, actor=Actor.for_user(request.user))
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, done)
    return _detail(request, incident)


# --- Templates ----------------------------------------------------------------------------


@page_console()
def template_list(request):
    context = {"templates": list_templates(request.page)}
    return render(request, "console/incidents/template_list.html", context)


@page_console(Role.ADMIN)
def template_create(request):
    form = TemplateForm(request.POST or None, page=request.page)
    if request.method == "POST" and form.is_valid():
        try:
            services.create_incident_template(
                request.page, actor=Actor.for_user(request.user), **form.cleaned_data
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, "Template saved.")
            return redirect("incidents:template-list", request.page.slug)
    return _render(request, "console/incidents/template_form.html", {"form": form}, form)


@page_console(Role.ADMIN)
def template_edit(request, template_id):
    template = get_template_for_page(request.page, template_id)
    initial = {
        **{f: getattr(template, f) for f in ("name", "title", "body", "status", "impact")},
        "deliver_notifications": template.deliver_notifications,
        "components": list(template.components.all()),
    }
    form = TemplateForm(request.POST or None, page=request.page, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_incident_template(
                template, actor=Actor.for_user(request.user), **form.cleaned_data
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, "Template saved.")
            return redirect("incidents:template-list", request.page.slug)
    context = {"form": form, "template": template}
    return _render(request, "console/incidents/template_form.html", context, form)


@require_POST
@page_console(Role.ADMIN)
def template_delete(request, template_id):
    template = get_template_for_page(request.page, template_id)
    services.delete_incident_template(template, actor=Actor.for_user(request.user))
    messages.success(request, f"Template “{template.name}” deleted.")
    return redirect("incidents:template-list", request.page.slug)


# --- Integrations (alert intake) ------------------------------------------------------------


@page_console(Role.ADMIN)
def integration_list(request):
    form = IntegrationForm(request.POST or None, page=request.page)
    if request.method == "POST" and form.is_valid():
        try:
            integration = services.create_integration(
                request.page, actor=Actor.for_user(request.user), **form.cleaned_data
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, f"“{integration.name}” added: paste its URL into the tool.")
            return redirect(
                "incidents:integration-detail", request.page.slug, integration.public_id
            )
    context = {"form": form, "integrations": list_integrations(request.page)}
    return _render(request, "console/incidents/integrations.html", context, form)


@page_console(Role.ADMIN)
def integration_detail(request, integration_id):
    integration = get_integration_for_page(request.page, integration_id)
    context = {
        "integration": integration,
        "url": app_url(reverse("integration-receive", args=[integration.kind, integration.token])),
        "events": list(integration.events.all()[:20]),
    }
    return render(request, "console/incidents/integration_detail.html", context)


@require_POST
@page_console(Role.ADMIN)
def integration_delete(request, integration_id):
    integration = get_integration_for_page(request.page, integration_id)
    services.delete_integration(integration, actor=Actor.for_user(request.user))
    messages.success(request, f"“{integration.name}” removed.")
    return redirect("incidents:integrations", request.page.slug)


# --- The responders' side -------------------------------------------------------------------


@require_POST
@page_console(Role.RESPONDER)
def incident_acknowledge(request, incident_id):
    incident = _incident(request, incident_id)
    responders.acknowledge_incident(incident, actor=Actor.for_user(request.user))
    messages.success(request, "Acknowledged: you own it.")
    return _detail(request, incident)


@require_POST
@page_console(Role.RESPONDER)
def incident_response(request, incident_id):
    incident = _incident(request, incident_id)
    form = ResponseForm(request.POST, responders=list_responders(request.organization.pk))
    if not form.is_valid():
        messages.error(request, "Choose a severity, a category and an owner from the team.")
        return _detail(request, incident)
    actor = Actor.for_user(request.user)
    owner = request.user if "assign_to_me" in request.POST else form.cleaned_data["owner"]
    try:
        responders.classify_incident(
            incident,
            actor=actor,
            severity=form.cleaned_data["severity"],
            category=form.cleaned_data["category"],
        )
        responders.assign_incident(incident, actor=actor, owner=owner)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Saved.")
    return _detail(request, incident)


@require_POST
@page_console(Role.RESPONDER)
def incident_note(request, incident_id):
    incident = _incident(request, incident_id)
    form = NoteForm(request.POST, prefix="note")
    if form.is_valid():
        responders.add_internal_note(
            incident, actor=Actor.for_user(request.user), body=form.cleaned_data["body"]
        )
        messages.success(request, "Note added (visible to your team only).")
    else:
        messages.error(request, "Write something first.")
    return _detail(request, incident)


@page_console(Role.RESPONDER)
def incident_report(request):
    period = "week" if request.GET.get("period") == "week" else "month"
    by = request.GET.get("by") if request.GET.get("by") in ("severity", "category") else ""
    rows = mtta_mttr(request.page, period=period, by=by)
    if request.GET.get("format") == "csv":
        response = HttpResponse(as_csv(rows), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = (
            f'attachment; filename="{request.page.slug}-mtta-mttr.csv"'
        )
        return response
    context = {"rows": rows, "period": period, "by": by, "chart": mark_safe(bar_chart_svg(rows))}
    return render(request, "console/incidents/report.html", context)


@require_POST
@page_console(Role.RESPONDER)
def incident_publish(request, incident_id):
    incident = _incident(request, incident_id)
    form = PublishForm(request.POST, incident=incident, components=list_components(request.page))
    if form.is_valid():
        try:
            services.publish_draft(
                incident,
                actor=Actor.for_user(request.user),
                name=form.cleaned_data["name"],
                impact=form.cleaned_data["impact"],
                body=form.cleaned_data["body"],
                status=form.cleaned_data.get("status") or "investigating",
                component_statuses=form.chosen_component_statuses(),
                deliver_notifications=form.cleaned_data["deliver_notifications"],
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, f"“{form.cleaned_data['name']}” is now public.")
            return _detail(request, incident)
    context = _detail_context(request, incident, publish_form=form)
    return render(request, "console/incidents/detail.html", context, status=400)


@require_POST
@page_console(Role.RESPONDER)
def incident_discard(request, incident_id):
    incident = _incident(request, incident_id)
    try:
        services.discard_draft(incident, actor=Actor.for_user(request.user))
    except DomainError as error:
        messages.error(request, error.message)
        return _detail(request, incident)
    messages.success(request, f"Draft “{incident.name}” discarded.")
    return redirect("incidents:list", request.page.slug)


# --- The responders' organisation: targets, alert webhook, teams, routing, opt-in -------------


def _responders_context(request, policy_form=None, team_form=None, routing_form=None):
    organization_id = request.organization.pk
    policy = response_policy(organization_id)
    responders_qs = list_responders(organization_id)
    teams = list(list_teams(organization_id))
    return {
        "policy": policy,
        "policy_form": policy_form
        or ResponsePolicyForm(
            initial={field: getattr(policy, field) for field in responders.POLICY_FIELDS}
        ),
        "team_form": team_form or TeamForm(responders=responders_qs, prefix="team"),
        "routing_form": routing_form
        or RoutingForm(
            responders=list(responders_qs),
            teams=teams,
            routes=routes_by_category(organization_id),
            prefix="route",
        ),
        "teams": teams,
        "responders": list(responders_qs),
        "opted_in": alert_opt_ins(organization_id),
        "webhook_failures": alert_webhook_failures(organization_id),
    }


@page_console(Role.RESPONDER)
def responder_settings(request):
    return render(request, "console/incidents/responders.html", _responders_context(request))


def _back_to_responders(request):
    return redirect("incidents:responders", request.page.slug)


@require_POST
@page_console(Role.ADMIN)
def response_policy_save(request):
    form = ResponsePolicyForm(request.POST)
    if form.is_valid():
        try:
            responders.save_response_policy(
                request.organization, actor=Actor.for_user(request.user), **form.cleaned_data
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, "Response targets and alert webhook saved.")
            return _back_to_responders(request)
    context = _responders_context(request, policy_form=form)
    return render(request, "console/incidents/responders.html", context, status=400)


@require_POST
@page_console(Role.ADMIN)
def alert_webhook_rotate(request):
    responders.rotate_alert_webhook_secret(request.organization, actor=Actor.for_user(request.user))
    messages.success(request, "New signing secret: update it in the receiving tool.")
    return _back_to_responders(request)


@require_POST
@page_console(Role.ADMIN)
def team_create(request):
    form = TeamForm(
        request.POST, responders=list_responders(request.organization.pk), prefix="team"
    )
    if form.is_valid():
        try:
            responders.save_team(
                request.organization,
                actor=Actor.for_user(request.user),
                name=form.cleaned_data["name"],
                members=list(form.cleaned_data["members"]),
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, f"Team “{form.cleaned_data['name']}” created.")
            return _back_to_responders(request)
    context = _responders_context(request, team_form=form)
    return render(request, "console/incidents/responders.html", context, status=400)


@require_POST
@page_console(Role.ADMIN)
def team_delete(request, team_id):
    team = get_team_for_organization(request.organization.pk, team_id)
    responders.delete_team(team, actor=Actor.for_user(request.user))
    messages.success(request, f"Team “{team.name}” deleted.")
    return _back_to_responders(request)


@require_POST
@page_console(Role.ADMIN)
def routing_save(request):
    organization_id = request.organization.pk
    form = RoutingForm(
        request.POST,
        responders=list(list_responders(organization_id)),
        teams=list(list_teams(organization_id)),
        routes=routes_by_category(organization_id),
        prefix="route",
    )
    if form.is_valid():
        actor = Actor.for_user(request.user)
        for category, (owner, team) in form.targets().items():
            responders.set_category_route(
                request.organization, actor=actor, category=category, owner=owner, team=team
            )
        messages.success(request, "Routing saved: new incidents go to their category's owner.")
        return _back_to_responders(request)
    context = _responders_context(request, routing_form=form)
    return render(request, "console/incidents/responders.html", context, status=400)


@require_POST
@page_console(Role.RESPONDER)
def alert_opt_in(request):
    enabled = request.POST.get("enabled") == "1"
    responders.set_alert_opt_in(request.organization, request.user, enabled=enabled)
    if enabled:
        messages.success(request, "You will be emailed when a critical or high incident starts.")
    else:
        messages.success(request, "You will no longer be emailed about urgent incidents.")
    return _back_to_responders(request)
