"""Statuspage-compatible public JSON at /api/v2/ (GET and HEAD, CORS open, no credentials)."""

import zoneinfo

from django.http import JsonResponse
from django.views.decorators.http import require_safe

from incidents.enums import IncidentKind
from incidents.queries import (
    active_maintenances,
    recent_incidents,
    unresolved_incidents,
    upcoming_maintenances,
)
from postmortems.queries import published_postmortems
from statuspage.public_cache import cache_publicly
from statuspage.public_json import components_json, incident_json, page_json, status_json
from statuspage.public_site import component_layout, load_front_page


def api_view(build):
    """GET/HEAD, cached per content version, JSON with `Access-Control-Allow-Origin: *`."""

    @require_safe
    @cache_publicly()
    def view(request):
        page = request.page
        front = load_front_page(page, with_uptime=False)  # the v2 JSON has no uptime bars
        zone = zoneinfo.ZoneInfo(page.time_zone)
        data = {"page": page_json(page, front.updated_at), **build(page, front, zone)}
        response = JsonResponse(data, json_dumps_params={"ensure_ascii": False})
        response["Access-Control-Allow-Origin"] = "*"
        return response

    view.__name__ = build.__name__
    view.__doc__ = build.__doc__
    return view


def _incidents(incidents, page, zone):
    incidents = list(incidents)
    postmortems = published_postmortems(i.pk for i in incidents) if incidents else {}
    return [incident_json(i, page, zone, postmortems.get(i.pk)) for i in incidents]


@api_view
def summary(page, front, zone):
    return {
        "components": components_json(component_layout(page), page),
        "incidents": _incidents(front.active_incidents, page, zone),
        "scheduled_maintenances": _incidents(
            front.active_maintenances + front.upcoming_maintenances, page, zone
        ),
        "status": status_json(front.indicator, front.description),
    }


@api_view
def status(page, front, zone):
    return {"status": status_json(front.indicator, front.description)}


@api_view
def components(page, front, zone):
    return {"components": components_json(component_layout(page), page)}


@api_view
def incidents(page, front, zone):
    return {"incidents": _incidents(recent_incidents(page, kind=IncidentKind.INCIDENT), page, zone)}


@api_view
def incidents_unresolved(page, front, zone):
    return {"incidents": _incidents(unresolved_incidents(page), page, zone)}


@api_view
def scheduled_maintenances(page, front, zone):
    maintenances = recent_incidents(page, kind=IncidentKind.MAINTENANCE)
    return {"scheduled_maintenances": _incidents(maintenances, page, zone)}


@api_view
def scheduled_maintenances_upcoming(page, front, zone):
    return {"scheduled_maintenances": _incidents(upcoming_maintenances(page), page, zone)}


@api_view
def scheduled_maintenances_active(page, front, zone):
    return {"scheduled_maintenances": _incidents(active_maintenances(page), page, zone)}
