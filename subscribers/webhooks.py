"""Webhook deliveries: Statuspage-shaped JSON, signed with HMAC-SHA256, POSTed with a timeout.

Two events, as Statuspage sends them: `incident` (an incident update) and `component_update`
(a component's status changed). A 2xx is delivered; 408, 429 and 5xx, timeouts and refused
connections are retried (a Retry-After is honoured); any other 4xx is final. Ten failures
within an hour quarantine the endpoint. The transport, the signature and the guard against
private addresses are statuspage.outbound_http's.

A new endpoint is confirmed by a challenge: we POST `{"type": "challenge", "challenge": token}`
and it answers with the token in its body, as it is or as `{"challenge": token}`.
"""

from __future__ import annotations

import datetime
import json
import zoneinfo

from django.utils import timezone

from components.models import ComponentStatusChange
from incidents.queries import overall_status
from statuspage.models import Page
from statuspage.outbound_http import OutboundError, check_destination, post_signed_json
from statuspage.public_json import incident_json, timestamp
from subscribers.links import unsubscribe_url
from subscribers.models import Delivery, Subscriber

WebhookError = OutboundError
FAILURES_BEFORE_QUARANTINE = 10
DOCUMENTATION = "https://support.atlassian.com/statuspage/docs/enable-webhook-notifications/"

__all__ = ["WebhookError", "challenge", "check_destination", "count_failure", "payload", "post"]


def _page_json(page: Page) -> dict:
    indicator, description = overall_status(page)
    return {"id": page.public_id, "status_indicator": indicator,
            "status_description": description}  # fmt: skip


def _component_update_json(change: ComponentStatusChange, zone: zoneinfo.ZoneInfo) -> dict:
    component = change.component
    return {
        "component_update": {
            "created_at": timestamp(change.changed_at, zone),
            "new_status": change.new_status,
            "old_status": change.old_status,
            "id": change.public_id,
            "component_id": component.public_id,
        },
        # The component as this change left it (a later change is its own event).
        "component": {
            "created_at": timestamp(component.created_at, zone),
            "id": component.public_id,
            "name": component.name,
            "status": change.new_status,
        },
    }


def payload(delivery: Delivery) -> bytes:
    meta = {"unsubscribe": unsubscribe_url(delivery.subscriber), "documentation": DOCUMENTATION,
            "generated_at": timezone.now().isoformat()}  # fmt: skip
    if delivery.update_id is not None:
        incident = delivery.update.incident
        page = incident.page
        zone = zoneinfo.ZoneInfo(page.time_zone)
        event = {"incident": incident_json(incident, page, zone)}
    else:
        change = ComponentStatusChange.objects.select_related("component", "page").get(
            pk=delivery.component_change_id
        )
        page = change.page
        event = _component_update_json(change, zoneinfo.ZoneInfo(page.time_zone))
    return json.dumps({"meta": meta, "page": _page_json(page), **event}).encode()


def post(delivery: Delivery) -> None:
    """Deliver one webhook; raises WebhookError saying whether a retry could help."""
    subscriber = delivery.subscriber
    post_signed_json(subscriber.endpoint, payload(delivery), secret=subscriber.secret,
                     headers={"X-Status-Delivery": str(delivery.pk)})  # fmt: skip


def _echoes(answer: bytes, token: str) -> bool:
    text = answer.decode("utf-8", errors="replace").strip()
    if text == token:
        return True
    try:
        data = json.loads(text)
    except ValueError:
        return False
    return isinstance(data, dict) and data.get("challenge") == token


def challenge(subscriber: Subscriber) -> None:
    """POST the subscriber's challenge; returns if the endpoint echoed the token, raises
    WebhookError saying what went wrong otherwise."""
    body = json.dumps({
        "type": "challenge",
        "challenge": subscriber.challenge,
        "page": {"id": subscriber.page.public_id, "name": subscriber.page.name},
        "meta": {"documentation": DOCUMENTATION, "generated_at": timezone.now().isoformat()},
    }).encode()  # fmt: skip
    answer = post_signed_json(subscriber.endpoint, body, secret=subscriber.secret)
    if not _echoes(answer, subscriber.challenge):
        raise WebhookError("The endpoint answered without echoing the challenge.", permanent=True)


def count_failure(subscriber: Subscriber) -> None:
    now = timezone.now()
    window_start = subscriber.webhook_failures_since
    if window_start is None or now - window_start > datetime.timedelta(hours=1):
        subscriber.webhook_failures_since, subscriber.webhook_failures = now, 0
    subscriber.webhook_failures += 1
    fields = ["webhook_failures", "webhook_failures_since"]
    if subscriber.webhook_failures >= FAILURES_BEFORE_QUARANTINE:
        subscriber.quarantined_at = now
        fields.append("quarantined_at")
    subscriber.save(update_fields=fields)
