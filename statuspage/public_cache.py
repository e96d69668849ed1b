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

What one client can make us store is bounded by the page's real content: each public URL
declares the query parameters it understands (`cache_publicly(query=…)`), the variant keeps only
those, canonicalised, so `/?utm_source=x` is the entry of `/`; a path no route matches, or a
parameter value no page has, shares one 404 entry per page; a 404 a view decides (an incident
that does not exist) is not stored at all. Entries live one quarter hour, the only time they can
be read.

Stale-if-error: every good render also replaces a "last good" copy per (page, variant) that
depends on neither the version nor the clock, with the time it was rendered. When the database
cannot be reached, that copy is served (200, briefly cacheable, HTML with a notice of when it
was current; JSON as it was, with an `X-Stale-As-Of` header); without one, a plain 503.

Security headers are not stored: both doors add what Django's SecurityMiddleware adds to the
request in hand (HSTS on HTTPS only), and plain HTTP that must be redirected is left to Django.
"""

from __future__ import annotations

import datetime
import functools
import gzip
import hashlib
import logging
import re
import time
import zoneinfo
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.utils import formatdate
from threading import Lock
from urllib.parse import parse_qsl, urlencode

import brotli
from django.conf import settings
from django.core.cache import cache
from django.core.signals import setting_changed
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified
from django.middleware.security import SecurityMiddleware
from django.urls import Resolver404, resolve
from django.utils.functional import empty
from django.utils.html import escape

from statuspage import outage
from statuspage.public_ids import PublicIdConverter
from statuspage.publishing import content_version

logger = logging.getLogger(__name__)

CLOCK_STEP_SECONDS = 15 * 60
# An entry is only ever read during its quarter hour (the key holds it); a minute more covers
# clocks a little apart between web processes.
ENTRY_TTL = CLOCK_STEP_SECONDS + 60
LAST_GOOD_TTL = 60 * 60 * 24 * 7
STALE_IF_ERROR_SECONDS = 60 * 60 * 24
STALE_CACHE_CONTROL = f"public, max-age=10, stale-if-error={STALE_IF_ERROR_SECONDS}"
STALE_NOTICE_MARKER = b"<!--stale-notice-->"
COMPRESSIBLE = ("text/", "application/json", "application/javascript", "application/xml",
                "application/atom+xml", "application/rss+xml", "image/svg+xml")  # fmt: skip
MIN_COMPRESS_BYTES = 512
SKIPPED_HEADERS = {"content-length", "content-encoding", "date", "set-cookie", "vary", "etag"}


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


# --- Which requests share an entry ---------------------------------------------------------


class InvalidParameter(ValueError):
    """A query parameter's value no page of this kind has: the request is a 404."""


@dataclass(frozen=True)
class QuerySpec:
    """The query parameters a public URL understands, each with a canonicaliser (raw value →
    canonical value, "" for the default; raises InvalidParameter). Every other parameter is
    ignored by the view and dropped from the variant; one of `bypass` keeps the request away
    from the cache altogether (a signed preview)."""

    params: Mapping[str, Callable[[str], str]] = field(default_factory=dict)
    bypass: frozenset[str] = frozenset()

    def canonical_query(self, query: str) -> str | None:
        given: dict[str, str] = {}
        for name, value in parse_qsl(query, keep_blank_values=True, max_num_fields=MAX_FIELDS):
            if name in self.bypass:
                return None
            if name in self.params:
                given[name] = value  # the last one wins, as in request.GET.get()
        canonical = ((name, clean(given.get(name, ""))) for name, clean in self.params.items())
        return urlencode([(name, value) for name, value in canonical if value])


MAX_FIELDS = 100
NO_ROUTE = QuerySpec()  # a distinct object: the path matches no public route
NOT_FOUND_VARIANT = " 404"  # a space: no path ends like this


def positive_int_param(maximum: int) -> Callable[[str], str]:
    """`?page=3`: 0 (or nothing) is the default; non-numbers and numbers past `maximum` 404."""

    def canonical(value: str) -> str:
        if value in ("", "0"):
            return ""
        if not (value.isascii() and value.isdigit() and len(value) <= 6):
            raise InvalidParameter(value)
        number = int(value)
        if number > maximum:
            raise InvalidParameter(value)
        return str(number) if number else ""

    return canonical


_PUBLIC_ID = re.compile(PublicIdConverter.regex)


def public_id_param(value: str) -> str:
    """`?component=<public id>`: anything that cannot be a public id 404s."""
    if value and not _PUBLIC_ID.fullmatch(value):
        raise InvalidParameter(value)
    return value


@functools.lru_cache(maxsize=1024)
def route_query_spec(path_info: str) -> QuerySpec | None:
    """The QuerySpec of the public view `path_info` names; NO_ROUTE when it names none; None
    when that view is not cached."""
    try:
        match = resolve(path_info, urlconf=settings.PUBLIC_URLCONF)
    except Resolver404:
        return NO_ROUTE
    return getattr(match.func, "public_query", None)


def request_variant(path: str, path_info: str, query: str) -> str | None:
    """What distinguishes one cached response from another on the same page and version, or
    None when the request is neither served from nor stored in the cache. `path` is the full
    path (a preview's prefix included), `path_info` the part the public URLconf routes."""
    spec = route_query_spec(path_info)
    if spec is None:
        return None
    if spec is NO_ROUTE:
        return path[: len(path) - len(path_info)] + NOT_FOUND_VARIANT
    if not query:
        return f"{path}?"
    try:
        canonical = spec.canonical_query(query)
    except InvalidParameter:
        return path[: len(path) - len(path_info)] + NOT_FOUND_VARIANT
    except ValueError:  # more fields than any page has: Django answers, nothing is stored
        return None
    return None if canonical is None else f"{path}?{canonical}"


def is_not_found_variant(variant: str) -> bool:
    return variant.endswith(NOT_FOUND_VARIANT)


# --- The store ----------------------------------------------------------------------------

_local: OrderedDict[str, CachedResponse] = OrderedDict()
_local_lock = Lock()
LOCAL_ENTRIES = 512


def _digest(variant: str) -> str:
    return hashlib.blake2s(variant.encode(), digest_size=12).hexdigest()


def entry_key(page_id: int, version: str, variant: str) -> str:
    """The key of a response rendered now: the page, its content version, the quarter hour."""
    step = int(time.time() // CLOCK_STEP_SECONDS)
    return f"public:{page_id}:{version}:{step}:{_digest(variant)}"


def lookup(key: str) -> CachedResponse | None:
    with _local_lock:
        entry = _local.get(key)
        if entry is not None:
            _local.move_to_end(key)
            return entry
    entry = cache.get(key)
    if entry is not None:
        _remember_locally(_local, key, entry, LOCAL_ENTRIES)
    return entry


def _remember_locally(store: OrderedDict, key: str, value, limit: int) -> None:
    with _local_lock:
        store[key] = value
        store.move_to_end(key)
        while len(store) > limit:
            store.popitem(last=False)


def is_cacheable(response: HttpResponse) -> bool:
    cache_control = response.get("Cache-Control", "")
    return (
        response.status_code in (200, 404)
        and "public" in cache_control
        and not response.cookies
        and not getattr(response, "streaming", False)
        and not getattr(response, "is_last_good_copy", False)
    )


def _compressed(body: bytes, content_type: str) -> dict[str, bytes]:
    bodies = {"identity": body}
    if len(body) >= MIN_COMPRESS_BYTES and content_type.startswith(COMPRESSIBLE):
        bodies["gzip"] = gzip.compress(body, compresslevel=6, mtime=0)
        # Quality 5: within 6% of the best size at a fifth of the time, on every cold render.
        bodies["br"] = brotli.compress(body, quality=5)
    return bodies


def build_entry(response: HttpResponse) -> CachedResponse:
    body = response.content
    headers = tuple(
        (name, value) for name, value in response.items() if name.lower() not in SKIPPED_HEADERS
    )
    bodies = _compressed(body, response.get("Content-Type", ""))
    etag = '"' + hashlib.blake2s(body, digest_size=16).hexdigest() + '"'
    return CachedResponse(response.status_code, headers, etag, bodies)


def store(key: str, entry: CachedResponse) -> None:
    cache.set(key, entry, timeout=ENTRY_TTL)
    _remember_locally(_local, key, entry, LOCAL_ENTRIES)


# --- Last good copies (stale-if-error) ----------------------------------------------------


@dataclass(frozen=True)
class LastGood:
    rendered_at: float  # Unix time
    time_zone: str  # the page's, for the notice
    entry: CachedResponse


_last_good: OrderedDict[str, LastGood] = OrderedDict()
_stale_built: OrderedDict[tuple[str, float], CachedResponse] = OrderedDict()
LOCAL_LAST_GOOD = 128


def last_good_key(page_id: int, variant: str) -> str:
    return f"public-last:{page_id}:{_digest(variant)}"


def remember_last_good(page_id: int, variant: str, entry: CachedResponse, time_zone: str):
    key = last_good_key(page_id, variant)
    copy = LastGood(time.time(), time_zone, entry)
    cache.set(key, copy, timeout=LAST_GOOD_TTL)
    _remember_locally(_last_good, key, copy, LOCAL_LAST_GOOD)


def find_last_good(page_id: int, variant: str) -> LastGood | None:
    """The shared copy (another process may have rendered later), else this process's own."""
    key = last_good_key(page_id, variant)
    try:
        copy = cache.get(key)
    except Exception as error:  # the cache may be down too: this is already the failure path
        outage.log_outage(error, "cache read of a last good copy")
        copy = None
    if copy is not None:
        _remember_locally(_last_good, key, copy, LOCAL_LAST_GOOD)
        return copy
    with _local_lock:
        return _last_good.get(key)


def stale_entry(copy: LastGood) -> CachedResponse:
    """The copy as served while the database is down (built once per process and copy)."""
    memo_key = (copy.entry.etag, copy.rendered_at)
    with _local_lock:
        built = _stale_built.get(memo_key)
    if built is not None:
        return built
    entry = copy.entry
    as_of = datetime.datetime.fromtimestamp(copy.rendered_at, tz=datetime.UTC)
    headers = [(n, v) for n, v in entry.headers if n.lower() != "cache-control"]
    headers += [("Cache-Control", STALE_CACHE_CONTROL),
                ("X-Stale-As-Of", as_of.isoformat(timespec="seconds"))]  # fmt: skip
    body, etag, bodies = entry.bodies["identity"], entry.etag, entry.bodies
    if STALE_NOTICE_MARKER in body:
        notice = stale_notice_html(as_of, copy.time_zone).encode()
        body = body.replace(STALE_NOTICE_MARKER, notice, 1)
        content_type = next((v for n, v in entry.headers if n.lower() == "content-type"), "")
        bodies, etag = _compressed(body, content_type), f'{entry.etag[:-1]}-stale"'
    built = CachedResponse(entry.status, tuple(headers), etag, bodies)
    _remember_locally(_stale_built, memo_key, built, LOCAL_LAST_GOOD)
    return built


def stale_notice_html(as_of: datetime.datetime, time_zone: str) -> str:
    try:
        local = as_of.astimezone(zoneinfo.ZoneInfo(time_zone))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        local = as_of
    when = f"{local:%H:%M} {local.tzname()}"
    if local.utcoffset() or local.tzname() != "UTC":
        when += f" ({as_of:%H:%M} UTC)"
    when += f" on {local.day} {local:%B %Y}"
    return (
        '<p class="notice" role="status"><strong>Live updates are delayed.</strong> '
        f'This page shows the status as of <time datetime="{as_of.isoformat()}">'
        f"{escape(when)}</time>.</p>"
    )


def serve_last_good(request: HttpRequest, page_id: int, variant: str | None) -> HttpResponse:
    """The database is unreachable: the last good copy of this response, or a plain 503."""
    copy = find_last_good(page_id, variant) if variant is not None else None
    if copy is None:
        return outage.public_unavailable_response(request.path)
    response = django_response(stale_entry(copy), request)
    response.is_last_good_copy = True  # type: ignore[attr-defined]  # never stored as current
    return response


def _page_time_zone(request: HttpRequest) -> str:
    """The page's time zone if the view loaded the page (it always does), never a query."""
    page = getattr(request, "page", None)
    loaded = getattr(page, "_wrapped", page)
    return getattr(loaded, "time_zone", "UTC") if loaded not in (None, empty) else "UTC"


# --- Security headers: the same from both doors ---------------------------------------------

_security_added: dict[bool, tuple[tuple[str, str], ...]] = {}


class _SchemeOnly:
    """All SecurityMiddleware.process_response asks of a request."""

    def __init__(self, secure: bool):
        self.secure = secure

    def is_secure(self) -> bool:
        return self.secure


def security_headers(secure: bool) -> tuple[tuple[str, str], ...]:
    """What Django's SecurityMiddleware adds to a response that has none of these headers,
    computed by that middleware itself once per process (and settings change), so the fast
    path sends what the full stack sends."""
    added = _security_added.get(secure)
    if added is None:
        response = HttpResponse()
        before = {name.lower() for name in response.headers}
        SecurityMiddleware(lambda request: response).process_response(_SchemeOnly(secure), response)
        added = tuple((n, v) for n, v in response.items() if n.lower() not in before)
        _security_added[secure] = added
    return added


def _forget_security_headers(**kwargs) -> None:
    _security_added.clear()
    route_query_spec.cache_clear()


setting_changed.connect(_forget_security_headers)


def is_secure_environ(environ) -> bool:
    """HttpRequest.is_secure() for a WSGI environ (SECURE_PROXY_SSL_HEADER, else the scheme)."""
    proxy_header = settings.SECURE_PROXY_SSL_HEADER
    if proxy_header:
        header, secure_value = proxy_header
        value = environ.get(header)
        if value is not None:
            return value.split(",", 1)[0].strip() == secure_value
    return environ.get("wsgi.url_scheme") == "https"


def _with_security_headers(entry_headers, headers: list[tuple[str, str]], secure: bool):
    present = {name.lower() for name, _value in entry_headers}
    headers += [(n, v) for n, v in security_headers(secure) if n.lower() not in present]
    return headers


# --- Django middleware ----------------------------------------------------------------------


def django_response(entry: CachedResponse, request: HttpRequest) -> HttpResponse:
    """The entry as Django's response; SecurityMiddleware, outside, adds its headers."""
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
    """Serves public GET/HEAD requests from the cache and fills it on a miss; serves the last
    good copy when the database is unreachable.

    Sits right after `HostRoutingMiddleware`, which sets `request.page_ref` (ids only, from the
    cached host map) on public requests; nothing here touches the database."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        page_ref = getattr(request, "page_ref", None)
        if page_ref is None or request.method not in ("GET", "HEAD"):
            return self.get_response(request)
        variant = request_variant(
            request.path, request.path_info, request.META.get("QUERY_STRING", "")
        )
        if variant is None:
            return self.get_response(request)
        try:
            version = content_version(page_ref.page_id)
        except outage.DATABASE_UNAVAILABLE as error:  # once the version lives in PostgreSQL
            outage.log_outage(error, "content version")
            return serve_last_good(request, page_ref.page_id, variant)
        key = entry_key(page_ref.page_id, version, variant)
        entry = lookup(key)
        if entry is None:
            response = self.get_response(request)
            # A 404 is stored only as the page's one 404 entry: one per missing incident id
            # would let any client fill the cache.
            not_found = is_not_found_variant(variant)
            if not is_cacheable(response) or (response.status_code == 404) != not_found:
                return response
            entry = build_entry(response)
            # Stored under the version and quarter hour read *before* rendering: if a write
            # landed meanwhile, this entry is already stale and will never be asked for.
            store(key, entry)
            remember_last_good(page_ref.page_id, variant, entry, _page_time_zone(request))
        return django_response(entry, request)

    def process_exception(self, request: HttpRequest, exception: Exception):
        """A public view could not reach the database: its last good copy instead of a 500."""
        page_ref = getattr(request, "page_ref", None)
        if page_ref is None or not outage.is_database_unavailable(exception):
            return None
        outage.log_outage(exception, request.path)
        if request.method not in ("GET", "HEAD"):
            return outage.public_unavailable_response(request.path)
        variant = request_variant(
            request.path, request.path_info, request.META.get("QUERY_STRING", "")
        )
        return serve_last_good(request, page_ref.page_id, variant)


def mark_public(response, max_age: int = 10, stale_while_revalidate: int = 60):
    """Let browsers and CDNs keep `response` `max_age` seconds, serve it stale while they
    revalidate, and for a day if we fail; we store it until the content changes."""
    if response.status_code in (200, 404) and not response.has_header("Cache-Control"):
        response["Cache-Control"] = (
            f"public, max-age={max_age}, stale-while-revalidate={stale_while_revalidate}, "
            f"stale-if-error={STALE_IF_ERROR_SECONDS}"
        )
    return response


def cache_publicly(
    max_age: int = 10,
    stale_while_revalidate: int = 60,
    *,
    query: Mapping[str, Callable[[str], str]] | None = None,
    bypass: tuple[str, ...] = (),
):
    """View decorator: the response is shareable (see `mark_public`) and cached per variant.

    `query` names the parameters the view reads, each with its canonicaliser (the view must
    read them through the same functions); the cache drops every other parameter."""
    spec = QuerySpec(dict(query or {}), frozenset(bypass))

    def decorator(view):
        @functools.wraps(view)
        def wrapped(request, *args, **kwargs):
            return mark_public(view(request, *args, **kwargs), max_age, stale_while_revalidate)

        wrapped.public_query = spec  # type: ignore[attr-defined]
        return wrapped

    return decorator


# --- WSGI fast path -------------------------------------------------------------------------


class PublicFastPath:
    """Answer cached public GET/HEAD requests before Django builds a request object.

    Only a host already in the cached host map and an entry for the current content version
    are served here; everything else (misses, the app host, writes, plain HTTP that Django
    redirects to HTTPS) goes to Django unchanged."""

    def __init__(self, application):
        self.application = application

    def __call__(self, environ, start_response):
        from statuspage.hosts import normalise_host, page_and_version_for_host

        method = environ.get("REQUEST_METHOD")
        if method not in ("GET", "HEAD"):
            return self.application(environ, start_response)
        secure = is_secure_environ(environ)
        if not secure and settings.SECURE_SSL_REDIRECT:
            return self.application(environ, start_response)  # SecurityMiddleware redirects
        host = normalise_host(environ.get("HTTP_HOST") or environ.get("SERVER_NAME", ""))
        try:
            found = page_and_version_for_host(host) if host else None
        except outage.DATABASE_UNAVAILABLE:  # Django serves the last good copy
            found = None
        if found is None:
            return self.application(environ, start_response)
        page_ref, version = found
        path_info = environ.get("PATH_INFO") or "/"
        path = environ.get("SCRIPT_NAME", "") + path_info
        if path.startswith("/internal/"):
            return self.application(environ, start_response)
        variant = request_variant(path, path_info, environ.get("QUERY_STRING", ""))
        entry = lookup(entry_key(page_ref.page_id, version, variant)) if variant else None
        if entry is None:
            return self.application(environ, start_response)
        coding, body, etag = entry.representation(environ.get("HTTP_ACCEPT_ENCODING", ""))
        if etag_matches(environ.get("HTTP_IF_NONE_MATCH", ""), etag):
            headers = [("ETag", etag), ("Vary", "Accept-Encoding")]
            headers += [(n, v) for n, v in entry.headers if n.lower() == "cache-control"]
            start_response("304 Not Modified", _with_security_headers((), headers, secure))
            return [b""]
        headers = entry.wire_headers(coding, etag, len(body))
        start_response(f"{entry.status} {STATUS_PHRASES[entry.status]}",
                       _with_security_headers(entry.headers, headers, secure))  # fmt: skip
        return [b"" if method == "HEAD" else body]


STATUS_PHRASES = {200: "OK", 404: "Not Found"}
