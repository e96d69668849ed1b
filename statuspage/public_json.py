"""Statuspage's public JSON shapes (`/api/v2`), as plain functions over our models.

Field names and values are a contract: existing Statuspage clients must work by changing only
the base URL. Timestamps are ISO 8601 in the page's time zone with exactly three fractional
digits and an explicit offset.
"""

from __future__ import annotations

import datetime
import zoneinfo

from components.enums import worst_status
from components.models import Component, ComponentGroup
from incidents.models import Incident, IncidentUpdate
from statuspage.models import Page
from statuspage.page_urls import public_base_url


def timestamp(value: datetime.datetime | None, zone: zoneinfo.ZoneInfo) -> str | None:
    if value is None:
        return None
    local = value.astimezone(zone)
    text = local.strftime("%Y-%m-%dT%H:%M:%S.") + f"{local.microsecond // 1000:03d}"
    offset = local.strftime("%z")
    return f"{text}{offset[:3]}:{offset[3:]}"


def page_json(page: Page, updated_at: datetime.datetime) -> dict:
    zone = zoneinfo.ZoneInfo(page.time_zone)
    return {
        "id": page.public_id,
        "name": page.name,
        "url": public_base_url(page),
        "time_zone": page.time_zone,
        "updated_at": timestamp(updated_at, zone),
    }


def component_json(component: Component, page: Page, zone) -> dict:
    return {
        "id": component.public_id,
        "name": component.name,
        "status": component.status,
        "created_at": timestamp(component.created_at, zone),
        "updated_at": timestamp(component.updated_at, zone),
        "position": component.position + 1,
        "description": component.description or None,
        "showcase": component.showcase,
        "start_date": component.start_date.isoformat() if component.start_date else None,
        "group_id": component.group.public_id if component.group_id else None,
        "page_id": page.public_id,
        "group": False,
        "only_show_if_degraded": component.only_show_if_degraded,
    }


def group_json(group: ComponentGroup, children: list[Component], page: Page, zone) -> dict:
    return {
        "id": group.public_id,
        "name": group.name,
        "status": worst_status(c.status for c in children).value,
        "created_at": timestamp(group.created_at, zone),
        "updated_at": timestamp(group.updated_at, zone),
        "position": group.position + 1,
        "description": group.description or None,
        "showcase": False,
        "start_date": None,
        "group_id": None,
        "page_id": page.public_id,
        "group": True,
        "only_show_if_degraded": False,
        "components": [c.public_id for c in children],
    }


def components_json(layout, page: Page) -> list[dict]:
    """The flat list Statuspage returns: groups as rows with `group: true`, children after."""
    zone = zoneinfo.ZoneInfo(page.time_zone)
    rows = []
    for group, children in layout:
        if group is not None:
            rows.append(group_json(group, children, page, zone))
        rows += [component_json(c, page, zone) for c in children]
    return rows


def update_json(update: IncidentUpdate, incident: Incident, zone) -> dict:
    return {
        "id": update.public_id,
        "status": update.status,
        "body": update.body,
        "incident_id": incident.public_id,
        "created_at": timestamp(update.created_at, zone),
        "updated_at": timestamp(update.updated_at, zone),
        "display_at": timestamp(update.display_at, zone),
        "affected_components": update.affected_components or None,
        "deliver_notifications": update.deliver_notifications,
    }


def incident_json(incident: Incident, page: Page, zone, postmortem=None) -> dict:
    """An incident (or maintenance, which adds its window) with its updates and components;
    expects `with_timeline` prefetching."""
    data = {
        "id": incident.public_id,
        "name": incident.name,
        "status": incident.status,
        "created_at": timestamp(incident.created_at, zone),
        "updated_at": timestamp(incident.updated_at, zone),
        "monitoring_at": timestamp(incident.monitoring_at, zone),
        "resolved_at": timestamp(incident.resolved_at, zone),
        "impact": incident.impact,
        "shortlink": f"{public_base_url(page)}/incidents/{incident.public_id}",
        "started_at": timestamp(incident.started_at, zone),
        "page_id": page.public_id,
        "incident_updates": [update_json(u, incident, zone) for u in incident.updates.all()],
        "components": [
            component_json(row.component, page, zone) for row in incident.affected.all()
        ],
        "postmortem_body": postmortem.body if postmortem else None,
        "postmortem_published_at": timestamp(postmortem.published_at, zone) if postmortem else None,
    }
    if incident.is_maintenance:
        data["scheduled_for"] = timestamp(incident.scheduled_for, zone)
        data["scheduled_until"] = timestamp(incident.scheduled_until, zone)
    return data


def status_json(indicator: str, description: str) -> dict:
    # Statuspage's indicator is none/minor/major/critical; a maintenance says so in words only.
    return {"indicator": "none" if indicator == "maintenance" else indicator,
            "description": description}  # fmt: skip
