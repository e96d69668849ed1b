"""Cached public responses: rendered once per content version, then served as stored bytes.

A public response whose view marked it `Cache-Control: public` is stored with its headers, a
strong ETag and gzip/brotli variants, under a key holding the page's content version
(statuspage.publishing). A write bumps the version, so the next request misses and renders
anew; nothing stale is ever served and nothing needs purging.

Two doors read the same entries:
- `PublicCacheMiddleware`, in Django's middleware stack right after host routing, before
  sessions, CSRF and auth, so a hit costs no SQL query;
- `PublicFastPath`, a WSGI wrapper (statuspage.wsgi) that answers hits before Django builds a
  request object at all, which is what lets a warm page keep up with a static file.

Entries live in the shared cache (Redis in production) and in a small per-process LRU, keyed by
version, so the hot path usually costs one cache read: the version.

The key also holds the current quarter hour (UTC). What a page shows moves with the clock as
well as with writes: at midnight in the page's time zone a new day starts on the uptime bars
and in the past days, and an ongoing outage keeps adding downtime to today. Every time zone's
midnight falls on a quarter hour, so no entry outlives its day, and a page with no writes is
rendered anew at most every 15 minutes (its ETag stays the same when nothing changed).
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import time
from collections import OrderedDict
from dataclasses import dataclass
from email.utils import formatdate
from threading import Lock

import brotli
from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified

from statuspage.publishing import content_version

ENTRY_TTL = 60 * 60 * 24
COMPRESSIBLE = ("text/", "application/json", "application/javascript", "application/xml",
                "application/atom+xml", "application/rss+xml", "image/svg+xml")  # fmt: skip
MIN_COMPRESS_BYTES = 512
SKIPPED_HEADERS = {"content-length", "content-encoding", "date", "set-cookie", "vary", "etag"}
CLOCK_STEP_SECONDS = 15 * 60


@dataclass(frozen=True)
class CachedResponse:
    status: int
    headers: tuple[tuple[str, str], ...]
    etag: str
    bodies: dict[str, bytes]  # by content-coding: "identity", "gzip", "br"

    def representation(self, accept_encoding: str) -> tuple[str, bytes, str]:
        """(coding, body, etag) of the variant this client should get."""
        coding = choose_coding(accept_encoding, self.bodies)
        etag = self.etag if coding == "identity" else f'{self.etag[:-1]}-{coding}"'
        return coding, self.bodies[coding], etag

    def wire_headers(self, coding: str, etag: str, length: int) -> list[tuple[str, str]]:
        headers = [*self.headers, ("ETag", etag), ("Vary", "Accept-Encoding")]
        headers.append(("Date", formatdate(usegmt=True)))
        if coding != "identity":
            headers.append(("Content-Encoding", coding))
        headers.append(("Content-Length", str(length)))
        return headers


def choose_coding(accept_encoding: str, bodies: dict[str, bytes]) -> str:
    accepted = {part.split(";")[0].strip().lower() for part in accept_encoding.split(",")}
    for coding in ("br", "gzip"):
        if coding in bodies and coding in accepted:
            return coding
    return "identity"


def etag_matches(if_none_match: str, etag: str) -> bool:
    if not if_none_match:
        return False
    candidates = {tag.strip() for tag in if_none_match.split(",")}
    return "*" in candidates or etag in candidates or f"W/{etag}" in candidates


# --- The store ----------------------------------------------------------------------------

_local: OrderedDict[str, CachedResponse] = OrderedDict()
_local_lock = Lock()
LOCAL_ENTRIES = 512


def entry_key(page_id: int, version: str, variant: str) -> str:
    """The key of a response rendered now: the page, its content version, the quarter hour."""
    digest = hashlib.blake2s(variant.encode(), digest_size=12).hexdigest()
    step = int(time.time() // CLOCK_STEP_SECONDS)
    return f"public:{page_id}:{version}:{step}:{digest}"


def lookup(key: str) -> CachedResponse | None:
    with _local_lock:
        entry = _local.get(key)
        if entry is not None:
            _local.move_to_end(key)
            return entry
    entry = cache.get(key)
    if entry is not None:
        _remember_locally(key, entry)
    return entry


def _remember_locally(key: str, entry: CachedResponse) -> None:
    with _local_lock:
        _local[key] = entry
        while len(_local) > LOCAL_ENTRIES:
            _local.popitem(last=False)


def is_cacheable(response: HttpResponse) -> bool:
    cache_control = response.get("Cache-Control", "")
    return (
        response.status_code in (200, 404)
        and "public" in cache_control
        and not response.cookies
        and not getattr(response, "streaming", False)
    )


def build_entry(response: HttpResponse) -> CachedResponse:
    body = response.content
    # Security headers SecurityMiddleware would add on the way out are stored too, so the WSGI
    # fast path (which never reaches that middleware) sends the same headers as Django does.
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", settings.SECURE_REFERRER_POLICY)
    response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers = tuple(
        (name, value) for name, value in response.items() if name.lower() not in SKIPPED_HEADERS
    )
    bodies = {"identity": body}
    content_type = response.get("Content-Type", "")
    if len(body) >= MIN_COMPRESS_BYTES and content_type.startswith(COMPRESSIBLE):
        bodies["gzip"] = gzip.compress(body, compresslevel=6, mtime=0)
        # Quality 5: within 6% of the best size at a fifth of the time, on every cold render.
        bodies["br"] = brotli.compress(body, quality=5)
    etag = '"' + hashlib.blake2s(body, digest_size=16).hexdigest() + '"'
    return CachedResponse(response.status_code, headers, etag, bodies)


def store(key: str, entry: CachedResponse) -> None:
    cache.set(key, entry, timeout=ENTRY_TTL)
    _remember_locally(key, entry)


def request_variant(path: str, query: str, is_head: bool = False) -> str:
    """What distinguishes one cached response from another on the same page and version."""
    return f"{path}?{query}"


# --- Django middleware ----------------------------------------------------------------------


def django_response(entry: CachedResponse, request: HttpRequest) -> HttpResponse:
    coding, body, etag = entry.representation(request.META.get("HTTP_ACCEPT_ENCODING", ""))
    if etag_matches(request.META.get("HTTP_IF_NONE_MATCH", ""), etag):
        response: HttpResponse = HttpResponseNotModified()
        response["ETag"] = etag
        response["Vary"] = "Accept-Encoding"
        for name, value in entry.headers:
            if name.lower() in ("cache-control", "content-location", "expires"):
                response[name] = value
        return response
    response = HttpResponse(body, status=entry.status)
    for name, value in entry.wire_headers(coding, etag, len(body)):
        response[name] = value
    return response


class PublicCacheMiddleware:
    """Serves public GET/HEAD requests from the cache and fills it on a miss.

    Sits right after `HostRoutingMiddleware`, which sets `request.page_ref` (ids only, from the
    cached host map) on public requests; nothing here touches the database."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        page_ref = getattr(request, "page_ref", None)
        if page_ref is None or request.method not in ("GET", "HEAD"):
            return self.get_response(request)
        variant = request_variant(request.path, request.META.get("QUERY_STRING", ""))
        key = entry_key(page_ref.page_id, content_version(page_ref.page_id), variant)
        entry = lookup(key)
        if entry is None:
            response = self.get_response(request)
            if not is_cacheable(response):
                return response
            entry = build_entry(response)
            # Stored under the version and quarter hour read *before* rendering: if a write
            # landed meanwhile, this entry is already stale and will never be asked for.
            store(key, entry)
        return django_response(entry, request)


def mark_public(response, max_age: int = 10, stale_while_revalidate: int = 60):
    """Let browsers and CDNs keep `response` `max_age` seconds and serve it stale while they
    revalidate; we store it until the content changes."""
    if response.status_code in (200, 404) and not response.has_header("Cache-Control"):
        response["Cache-Control"] = (
            f"public, max-age={max_age}, stale-while-revalidate={stale_while_revalidate}"
        )
    return response


def cache_publicly(max_age: int = 10, stale_while_revalidate: int = 60):
    """View decorator: the response is shareable (see `mark_public`)."""

    def decorator(view):
        @functools.wraps(view)
        def wrapped(request, *args, **kwargs):
            return mark_public(view(request, *args, **kwargs), max_age, stale_while_revalidate)

        return wrapped

    return decorator


# --- WSGI fast path -------------------------------------------------------------------------


class PublicFastPath:
    """Answer cached public GET/HEAD requests before Django builds a request object.

    Only a host already in the cached host map and an entry for the current content version
    are served here; everything else (misses, the app host, writes) goes to Django unchanged."""

    def __init__(self, application):
        self.application = application

    def __call__(self, environ, start_response):
        from statuspage.hosts import normalise_host, page_and_version_for_host

        method = environ.get("REQUEST_METHOD")
        if method not in ("GET", "HEAD"):
            return self.application(environ, start_response)
        host = normalise_host(environ.get("HTTP_HOST") or environ.get("SERVER_NAME", ""))
        found = page_and_version_for_host(host) if host else None
        if found is None:
            return self.application(environ, start_response)
        page_ref, version = found
        path = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "/")
        if path.startswith("/internal/"):
            return self.application(environ, start_response)
        variant = request_variant(path, environ.get("QUERY_STRING", ""))
        entry = lookup(entry_key(page_ref.page_id, version, variant))
        if entry is None:
            return self.application(environ, start_response)
        coding, body, etag = entry.representation(environ.get("HTTP_ACCEPT_ENCODING", ""))
        if etag_matches(environ.get("HTTP_IF_NONE_MATCH", ""), etag):
            headers = [("ETag", etag), ("Vary", "Accept-Encoding")]
            headers += [(n, v) for n, v in entry.headers if n.lower() == "cache-control"]
            start_response("304 Not Modified", headers)
            return [b""]
        start_response(f"{entry.status} {STATUS_PHRASES[entry.status]}",
                       entry.wire_headers(coding, etag, len(body)))  # fmt: skip
        return [b"" if method == "HEAD" else body]


STATUS_PHRASES = {200: "OK", 404: "Not Found"}
