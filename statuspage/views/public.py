"""The public site: front page, incident pages, history, badge, embed and logo.

Every view here answers GET/HEAD only and marks its response cacheable; the public cache
(statuspage.public_cache) stores it per content version, so each is rendered once per change.
"""

import datetime
import zoneinfo

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_safe

from components.models import Component
from incidents.queries import get_incident_for_page, history_incidents
from postmortems.queries import find_postmortem, preview_allows, published_postmortems
from statuspage.page_urls import public_base_url
from statuspage.public_cache import (
    InvalidParameter,
    cache_publicly,
    mark_public,
    positive_int_param,
    public_id_param,
)
from statuspage.public_site import add_months, load_front_page, month_start

HISTORY_MONTHS = 3
# Ten years back, three months a page: what a page's history can hold, and the bound on the
# history variants one client can make the cache store.
HISTORY_MAX_PAGES = 40
history_page = positive_int_param(HISTORY_MAX_PAGES)
NOTHING_HERE = "There is nothing at this address."
CSP_NOT_FRAMED = "frame-ancestors 'none'"
CSP_FRAMEABLE = "frame-ancestors *"


def not_framed(response):
    response["Content-Security-Policy"] = CSP_NOT_FRAMED
    return response


def page_not_found(request, message="There is no such incident on this page."):
    response = render(request, "public/404.html", {"page": request.page, "message": message},
                      status=404)  # fmt: skip
    return not_framed(response)


def not_found(request, exception=None):
    """The public URLconf's handler404, and the answer to a query value no page has: one body
    for every such address, so the cache keeps one 404 per page (public_cache)."""
    return mark_public(page_not_found(request, NOTHING_HERE))


@require_safe
@cache_publicly()
def page_home(request):
    front = load_front_page(request.page)
    return not_framed(render(request, "public/home.html", {"page": request.page, "front": front}))


@require_safe
@cache_publicly()
def incident_detail(request, incident_id):
    try:
        incident = get_incident_for_page(request.page, incident_id)
    except Http404:
        return page_not_found(request)
    context = {
        "page": request.page,
        "incident": incident,
        "updates": list(incident.updates.all()),
        "postmortem": published_postmortems([incident.pk]).get(incident.pk),
    }
    return not_framed(render(request, "public/incident.html", context))


@require_safe
@cache_publicly(bypass=("preview",))
def incident_postmortem(request, incident_id):
    """The published report; a console preview link (signed, one hour) shows a draft,
    uncached, exactly as it will look."""
    try:
        incident = get_incident_for_page(request.page, incident_id)
    except Http404:
        return page_not_found(request)
    postmortem = find_postmortem(incident)
    preview = request.GET.get("preview", "")
    if postmortem is None or not (postmortem.is_published or preview_allows(preview, postmortem)):
        return page_not_found(request, "This incident has no published postmortem.")
    context = {"page": request.page, "incident": incident, "postmortem": postmortem,
               "is_preview": not postmortem.is_published or bool(preview)}  # fmt: skip
    response = not_framed(render(request, "public/postmortem.html", context))
    if preview:
        response["Cache-Control"] = "private, no-store"
    return response


@require_safe
@cache_publicly(query={"page": history_page, "component": public_id_param})
def history(request):
    page = request.page
    zone = zoneinfo.ZoneInfo(page.time_zone)
    try:
        offset = int(history_page(request.GET.get("page", "")) or 0)
        component_id = public_id_param(request.GET.get("component", ""))
    except InvalidParameter:
        return not_found(request)
    components = list(Component.objects.filter(page=page).order_by("name"))
    if component_id and component_id not in {c.public_id for c in components}:
        return page_not_found(request, "There is no such component on this page.")
    this_month = month_start(timezone.localtime(timezone.now(), zone).date())
    newest = add_months(this_month, -offset * HISTORY_MONTHS)
    months = [add_months(newest, -i) for i in range(HISTORY_MONTHS)]
    start = datetime.datetime.combine(months[-1], datetime.time.min, tzinfo=zone)
    end = datetime.datetime.combine(add_months(newest, 1), datetime.time.min, tzinfo=zone)
    incidents = history_incidents(page, start=start, end=end, component_id=component_id)
    by_month = [
        (
            month,
            [
                i
                for i in incidents
                if month_start(timezone.localtime(i.started_at, zone).date()) == month
            ],
        )
        for month in months
    ]
    context = {
        "page": page,
        "by_month": by_month,
        "offset": offset,
        "older": offset + 1 if offset < HISTORY_MAX_PAGES else None,
        "newer": offset - 1 if offset > 0 else None,
        "components": components,
        "component_id": component_id,
    }
    return not_framed(render(request, "public/history.html", context))


@require_safe
@cache_publicly(max_age=300)
def logo(request):
    page = request.page
    if not page.logo:
        raise Http404("No logo.")
    return HttpResponse(bytes(page.logo), content_type=page.logo_content_type)


BADGE_COLOURS = {"none": "#12b76a", "maintenance": "#2e90fa", "minor": "#f5b60b",
                 "major": "#f79009", "critical": "#d92d20"}  # fmt: skip


@require_safe
@cache_publicly(max_age=30, stale_while_revalidate=30)
def badge(request):
    front = load_front_page(request.page, with_uptime=False)
    label, message = "status", front.description
    label_width, message_width = 6 * len(label) + 12, 6 * len(message) + 12
    svg = render_to_string("public/badge.svg", {
        "label": label, "message": message, "colour": BADGE_COLOURS[front.indicator],
        "label_width": label_width, "message_width": message_width,
        "width": label_width + message_width, "message_x": label_width + message_width / 2,
        "label_x": label_width / 2,
    })  # fmt: skip
    response = HttpResponse(svg, content_type="image/svg+xml")
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_safe
@cache_publicly(max_age=30, stale_while_revalidate=60)
def embed_script(request):
    script = render_to_string("public/embed.js", {"base_url": public_base_url(request.page)})
    response = HttpResponse(script, content_type="application/javascript; charset=utf-8")
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_safe
@xframe_options_exempt
@cache_publicly(max_age=30, stale_while_revalidate=60)
def embed_frame(request):
    front = load_front_page(request.page, with_uptime=False)
    response = render(request, "public/embed.html", {"page": request.page, "front": front})
    response["Content-Security-Policy"] = CSP_FRAMEABLE
    return response
