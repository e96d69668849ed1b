"""Signed JSON POSTs to URLs tenants give us (subscriber webhooks, responder alert webhooks).

A 2xx is delivered; 408, 429 and 5xx, timeouts and refused connections may succeed on a retry;
any other 4xx is final, and so is a 3xx: we never follow redirects, which could lead anywhere.
The body is signed with HMAC-SHA256 in `X-Status-Signature` (`sha256=<hex>`) so the receiver can
check it came from us.

In production a tenant must not be able to make us reach our own network (the cloud metadata
service at 169.254.169.254, loopback, private ranges, ...). So the host is resolved once, every
address it resolves to must be globally routable unicast (judged by the IPv4 address inside an
IPv6 wrapper), and the connection goes to those checked addresses themselves, never to a second
lookup a rebinding DNS server could answer differently; the Host header, SNI and certificate
check still use the name. Development and tests may reach private addresses via
WEBHOOK_ALLOW_PRIVATE_ADDRESSES (the lookup and pinning are the same). No HTTP(S)_PROXY from
the environment is used: a proxy would resolve the name again, out of our sight.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import http.client
import ipaddress
import socket
import ssl
from email.message import Message
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import SplitResult, urlsplit

from django.conf import settings

SIGNATURE_HEADER = "X-Status-Signature"
USER_AGENT = "StatusPage-Webhook/1.0"
ANSWER_LIMIT = 1024  # bytes of the answer we read and hand back (a challenge echo fits)

# (family, type, proto, sockaddr), as getaddrinfo gives them.
Address = tuple[socket.AddressFamily, socket.SocketKind, int, Any]
IP = ipaddress.IPv4Address | ipaddress.IPv6Address


class OutboundError(Exception):
    def __init__(self, message: str, *, permanent: bool, retry_after: float | None = None):
        super().__init__(message)
        self.permanent = permanent
        # Seconds the receiver asked us to wait (Retry-After on a 429 or 503), if it did.
        self.retry_after = retry_after


def _retry_after(status: int, headers: Message) -> float | None:
    """Retry-After in seconds, from either form (delta-seconds or an HTTP date)."""
    value = (headers.get("Retry-After") or "").strip()
    if not value or status not in (429, 503):
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


def _is_public_address(ip: IP) -> bool:
    """Whether we may connect to `ip`: globally routable unicast. An IPv6 address that carries
    an IPv4 one (mapped, 6to4) is judged by that IPv4 address, where the packet ends up;
    Teredo, site-local and the reserved blocks (IPv4-compatible, NAT64) are refused outright."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return _is_public_address(ip.ipv4_mapped)
        if ip.sixtofour is not None and not _is_public_address(ip.sixtofour):
            return False
        if ip.teredo is not None or ip.is_site_local:
            return False
    # is_global alone lets multicast (224.0.0.0/4, ff0e::/16) and some reserved IPv6 through.
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_unspecified)


def _split(url: str) -> tuple[SplitResult, str, int]:
    """The URL's parts, host and port, or a permanent error if it is no http(s) URL."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise OutboundError(f"The endpoint is not a valid URL: {error}", permanent=True) from error
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise OutboundError("The endpoint must be an http(s) URL.", permanent=True)
    default_port = http.client.HTTPS_PORT if parts.scheme == "https" else http.client.HTTP_PORT
    return parts, parts.hostname, default_port if port is None else port


def _resolve(host: str, port: int) -> list[Address]:
    try:
        answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as error:  # UnicodeError: a name IDNA cannot encode
        raise OutboundError(f"Cannot resolve {host}: {error}", permanent=False) from error
    addresses: list[Address] = []
    for family, kind, proto, _canonical_name, sockaddr in answers:
        if family in (socket.AF_INET, socket.AF_INET6):
            addresses.append((family, kind, proto, sockaddr))
    if not addresses:
        raise OutboundError(f"Cannot resolve {host}: no IP address", permanent=False)
    return addresses


def _refuse_private(host: str, addresses: list[Address]) -> None:
    if settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES:
        return
    for *_, sockaddr in addresses:
        if not _is_public_address(ipaddress.ip_address(sockaddr[0])):
            raise OutboundError(f"{host} resolves to a private address.", permanent=True)


def check_destination(url: str) -> None:
    """Raise OutboundError unless `url` is an http(s) URL we may POST to (checked when a
    tenant saves it; post_signed_json checks again, against the addresses it connects to)."""
    _, host, port = _split(url)
    if settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES:
        return
    _refuse_private(host, _resolve(host, port))


class _PinnedConnection(http.client.HTTPConnection):
    """An HTTP(S) connection to addresses resolved (and checked) beforehand. `host` is only
    the name: it goes into the Host header and, with TLS, into SNI and the certificate check."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        addresses: list[Address],
        timeout: float,
        tls: ssl.SSLContext | None,
    ):
        super().__init__(host, port, timeout=timeout)
        # So the Host header carries the port only when it is not the scheme's own.
        self.default_port = http.client.HTTPS_PORT if tls else http.client.HTTP_PORT
        self._addresses = addresses
        self._tls = tls

    def connect(self) -> None:
        sock = _open_socket(self._addresses, self.timeout)
        if self._tls is not None:
            try:
                sock = self._tls.wrap_socket(sock, server_hostname=self.host)
            except BaseException:
                sock.close()
                raise
        self.sock = sock


def _open_socket(addresses: list[Address], timeout: float | None) -> socket.socket:
    """A TCP connection to the first of `addresses` that answers."""
    last_error: OSError | None = None
    for family, kind, proto, sockaddr in addresses:
        sock = socket.socket(family, kind, proto)
        try:
            sock.settimeout(timeout)
            sock.connect(sockaddr)
        except OSError as error:
            sock.close()
            last_error = error
        else:
            return sock
    raise last_error or OSError("No address to connect to")


def _status_error(response: http.client.HTTPResponse) -> OutboundError:
    status = response.status
    if 300 <= status < 400:
        # Following it would connect to a destination nobody checked.
        return OutboundError(f"HTTP {status}: webhooks do not follow redirects", permanent=True)
    retryable = status in (408, 429) or status >= 500
    return OutboundError(
        f"HTTP {status}", permanent=not retryable, retry_after=_retry_after(status, response.msg)
    )


def post_signed_json(url: str, body: bytes, *, secret: str, headers: dict | None = None) -> bytes:
    """POST `body`; return the first KB of the answer, or raise OutboundError saying whether
    a retry could help. Resolves the host once (checking every address unless private ones
    are allowed) and connects only to what it resolved; never follows a redirect."""
    parts, host, port = _split(url)
    addresses = _resolve(host, port)
    _refuse_private(host, addresses)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    request_headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        SIGNATURE_HEADER: signature(secret, body),
        **(headers or {}),
    }
    tls = ssl.create_default_context() if parts.scheme == "https" else None
    connection = None
    try:
        connection = _PinnedConnection(
            host, port, addresses=addresses, timeout=settings.WEBHOOK_TIMEOUT, tls=tls
        )
        connection.request("POST", target, body=body, headers=request_headers)
        response = connection.getresponse()
        if not 200 <= response.status < 300:
            raise _status_error(response)
        return response.read(ANSWER_LIMIT)
    except http.client.InvalidURL as error:  # control characters in the host or path
        raise OutboundError(f"The endpoint is not a valid URL: {error}", permanent=True) from error
    except (http.client.HTTPException, OSError) as error:
        raise OutboundError(f"{type(error).__name__}: {error}", permanent=False) from error
    finally:
        if connection is not None:
            connection.close()
