"""Signed JSON POSTs to URLs tenants give us (subscriber webhooks, responder alert webhooks).

A 2xx is delivered; 408, 429 and 5xx, timeouts and refused connections may succeed on a retry;
any other 4xx is final. URLs that resolve to private or loopback addresses are refused in
production (they would let a tenant probe our network), allowed in development and tests via
WEBHOOK_ALLOW_PRIVATE_ADDRESSES. The body is signed with HMAC-SHA256 in `X-Status-Signature`
(`sha256=<hex>`) so the receiver can check it came from us.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import ipaddress
import socket
import urllib.error
import urllib.request
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

from django.conf import settings

SIGNATURE_HEADER = "X-Status-Signature"
USER_AGENT = "StatusPage-Webhook/1.0"


class OutboundError(Exception):
    def __init__(self, message: str, *, permanent: bool, retry_after: float | None = None):
        super().__init__(message)
        self.permanent = permanent
        # Seconds the receiver asked us to wait (Retry-After on a 429 or 503), if it did.
        self.retry_after = retry_after


def _retry_after(error: urllib.error.HTTPError) -> float | None:
    """Retry-After in seconds, from either form (delta-seconds or an HTTP date)."""
    value = (error.headers.get("Retry-After") or "").strip() if error.headers else ""
    if not value or error.code not in (429, 503):
        return None
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.UTC)
    return max(0.0, (when - datetime.datetime.now(datetime.UTC)).total_seconds())


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def check_destination(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise OutboundError("The endpoint must be an http(s) URL.", permanent=True)
    if settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES:
        return
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(parts.hostname, parts.port or 443)}
    except OSError as error:
        raise OutboundError(f"Cannot resolve {parts.hostname}: {error}", permanent=False) from error
    for address in addresses:
        ip = ipaddress.ip_address(address)
        if ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved:
            raise OutboundError(f"{parts.hostname} resolves to a private address.", permanent=True)


def post_signed_json(url: str, body: bytes, *, secret: str, headers: dict | None = None) -> bytes:
    """POST `body`; return the first KB of the answer, or raise OutboundError saying whether
    a retry could help."""
    check_destination(url)
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            SIGNATURE_HEADER: signature(secret, body),
            **(headers or {}),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=settings.WEBHOOK_TIMEOUT) as response:
            return response.read(1024)
    except urllib.error.HTTPError as error:
        retryable = error.code in (408, 429) or error.code >= 500
        raise OutboundError(
            f"HTTP {error.code}", permanent=not retryable, retry_after=_retry_after(error)
        ) from error
    except (urllib.error.URLError, OSError) as error:
        raise OutboundError(f"{type(error).__name__}: {error}", permanent=False) from error
