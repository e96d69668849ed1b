"""Webhook deliveries: Statuspage-shaped JSON, signed with HMAC-SHA256, POSTed with a timeout.

A 2xx is delivered; 408, 429 and 5xx, timeouts and refused connections are retried; any other
4xx is final. Ten failures within an hour quarantine the endpoint. Endpoints that resolve to
private or loopback addresses are refused in production (they would let a tenant probe our
network), allowed in development and tests via WEBHOOK_ALLOW_PRIVATE_ADDRESSES.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import ipaddress
import json
import socket
import urllib.error
import urllib.request
import zoneinfo
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone

from incidents.queries import overall_status
from statuspage.public_json import incident_json
from subscribers.links import unsubscribe_url
from subscribers.models import Delivery, Subscriber

SIGNATURE_HEADER = "X-Status-Signature"
FAILURES_BEFORE_QUARANTINE = 10


class WebhookError(Exception):
    def __init__(self, message: str, *, permanent: bool):
        super().__init__(message)
        self.permanent = permanent


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def payload(delivery: Delivery) -> bytes:
    update = delivery.update
    incident = update.incident
    page = incident.page
    indicator, description = overall_status(page)
    data = {
        "meta": {"unsubscribe": unsubscribe_url(delivery.subscriber),
                 "generated_at": timezone.now().isoformat()},
        "page": {"id": page.public_id, "status_indicator": indicator,
                 "status_description": description},
        "incident": incident_json(incident, page, zoneinfo.ZoneInfo(page.time_zone)),
    }  # fmt: skip
    return json.dumps(data).encode()


def check_destination(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WebhookError("The endpoint must be an http(s) URL.", permanent=True)
    if settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES:
        return
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(parts.hostname, parts.port or 443)}
    except OSError as error:
        raise WebhookError(f"Cannot resolve {parts.hostname}: {error}", permanent=False) from error
    for address in addresses:
        ip = ipaddress.ip_address(address)
        if ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved:
            raise WebhookError(f"{parts.hostname} resolves to a private address.", permanent=True)


def post(delivery: Delivery) -> None:
    """Deliver one webhook; raises WebhookError saying whether a retry could help."""
    subscriber = delivery.subscriber
    check_destination(subscriber.endpoint)
    body = payload(delivery)
    request = urllib.request.Request(
        subscriber.endpoint,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "StatusPage-Webhook/1.0",
            SIGNATURE_HEADER: signature(subscriber.secret, body),
            "X-Status-Delivery": str(delivery.pk),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=settings.WEBHOOK_TIMEOUT) as response:
            response.read(1024)
    except urllib.error.HTTPError as error:
        retryable = error.code in (408, 429) or error.code >= 500
        raise WebhookError(f"HTTP {error.code}", permanent=not retryable) from error
    except (urllib.error.URLError, OSError) as error:
        raise WebhookError(f"{type(error).__name__}: {error}", permanent=False) from error


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
