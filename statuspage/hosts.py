"""Host → page resolution: every request belongs to the app host or to exactly one page.

- `APP_HOST` serves sign-up, the console, the API, and `/s/<slug>/`, a preview of a page's
  public site (the prefix becomes the script prefix, so `reverse()` builds preview links).
- `<slug>.<BASE_DOMAIN>` and a *verified* custom domain serve that page's public site.
- Anything else is a plain 404, never a guess at another tenant's page.

The host → page map is cached (ids only) so that a cached public response is served without
touching the database; services that change a page's slug or domain call `forget_hosts`.

With the cache unreachable, hosts resolve from the database. Each process also keeps the last
mapping it saw of every host that named a page (bounded by the number of pages), so that with
the database down as well a host that resolved before still resolves, to serve what the
public cache still holds.
"""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import Error as DatabaseError
from django.http import HttpRequest, HttpResponseNotFound
from django.http.request import split_domain_port
from django.template.loader import render_to_string
from django.urls import get_script_prefix, set_script_prefix
from django.utils.functional import SimpleLazyObject
from django_scopes import scope

from statuspage import publishing
from statuspage.cache_backend import cache_is_available
from statuspage.models import Page

PREVIEW_PATH = re.compile(r"^/s/(?P<slug>[a-z0-9-]{1,63})(?P<rest>/.*)?$")
HOST_INDEPENDENT_PATHS = ("/internal/",)
HOST_MAP_TTL = 300
NO_PAGE = "-"  # what older code stored for an unknown host; still read until it expires
# Unknown hosts are remembered per process only, and only so many: any client can send any
# Host header, and a shared entry per name would let one client fill the cache.
UNKNOWN_HOSTS_REMEMBERED = 4096
UNKNOWN_HOST_SECONDS = 30


@dataclass(frozen=True)
class PageRef:
    page_id: int
    organization_id: int


def normalise_host(raw_host: str) -> str:
    domain, _port = split_domain_port(raw_host)
    return domain.lower().rstrip(".")


def page_slug_for_host(host: str) -> str | None:
    """The slug a `<slug>.<BASE_DOMAIN>` host names, or None for any other host."""
    suffix = "." + settings.BASE_DOMAIN
    if host.endswith(suffix):
        label = host[: -len(suffix)]
        if label and "." not in label:
            return label
    return None


def find_page_for_host(host: str) -> Page | None:
    """The page a public host serves: by subdomain, else by verified custom domain."""
    pages = Page.objects.with_scopes_disabled().select_related("organization")
    slug = page_slug_for_host(host)
    if slug is not None:
        return pages.filter(slug=slug).first()
    return pages.filter(custom_domain=host, custom_domain_verified_at__isnull=False).first()


def _ref_for_host(host: str) -> PageRef | None:
    """`find_page_for_host`'s answer as ids only: what a request without Redis reads each time."""
    pages = Page.objects.with_scopes_disabled()
    slug = page_slug_for_host(host)
    if slug is not None:
        pages = pages.filter(slug=slug)
    else:
        pages = pages.filter(custom_domain=host, custom_domain_verified_at__isnull=False)
    found = pages.values_list("pk", "organization_id").first()
    return PageRef(*found) if found else None


def _ref_for_slug(slug: str) -> PageRef | None:
    found = Page.objects.with_scopes_disabled().filter(slug=slug)
    found = found.values_list("pk", "organization_id").first()
    return PageRef(*found) if found else None


def _host_key(host: str) -> str:
    return f"host:{host}"


def _preview_key(slug: str) -> str:
    return f"preview:{slug}"


# Host (or preview) key → the page it named when this process last looked; only real pages.
_last_known: dict[str, PageRef] = {}


# Host key → (the host map's generation then, monotonic deadline): names no page had when
# this process last looked. A new generation (`forget_hosts`, e.g. a page was created with
# that slug) or the deadline makes the process look again.
_unknown: OrderedDict[str, tuple[str, float]] = OrderedDict()
_unknown_lock = threading.Lock()


def _known_unknown(key: str) -> bool:
    remembered = _unknown.get(key)
    if remembered is None:
        return False
    generation, deadline = remembered
    if time.monotonic() < deadline and publishing.shared_token(GENERATION_KEY) == generation:
        return True
    _unknown.pop(key, None)
    return False


def _remember_unknown(key: str, generation: str) -> None:
    with _unknown_lock:
        _unknown[key] = (generation, time.monotonic() + UNKNOWN_HOST_SECONDS)
        _unknown.move_to_end(key)
        while len(_unknown) > UNKNOWN_HOSTS_REMEMBERED:
            _unknown.popitem(last=False)


def _cached_ref(key: str, find) -> PageRef | None:
    if _known_unknown(key):
        return None
    cached = cache.get(key)
    if cached == NO_PAGE:
        _last_known.pop(key, None)
        return None
    if cached is not None:
        ref = _last_known[key] = PageRef(*cached)
        return ref
    # Read before the lookup, so a page created meanwhile shows as a new generation.
    generation = publishing.shared_token(GENERATION_KEY)
    try:
        ref = find()
    except DatabaseError:
        if key in _last_known:  # the database is down: the last mapping this process saw
            return _last_known[key]
        raise
    if ref is None:
        _last_known.pop(key, None)
        _remember_unknown(key, generation)
    else:
        cache.set(key, (ref.page_id, ref.organization_id), HOST_MAP_TTL)
        _last_known[key] = ref
    return ref


def resolve_host(host: str) -> PageRef | None:
    return _cached_ref(_host_key(host), lambda: _ref_for_host(host))


def resolve_preview_slug(slug: str) -> PageRef | None:
    return _cached_ref(_preview_key(slug), lambda: _ref_for_slug(slug))


def cached_host_ref(host: str) -> PageRef | None:
    """The cached mapping only (None when unknown or not cached): for the WSGI fast path."""
    cached = cache.get(_host_key(host))
    return PageRef(*cached) if cached not in (None, NO_PAGE) else None


# The shared map's generation: `forget_hosts` replaces it. What this process has read of the
# map (host → page, under the generation read just before) stays good while it is current,
# so a warm hit needs one cache round trip (generation and content version together), not two.
GENERATION_KEY = "host-map-generation"
_remembered: dict[str, tuple[str, PageRef]] = {}


def page_and_version_for_host(host: str) -> tuple[PageRef, int] | None:
    """For the WSGI fast path: the host's page (cached mapping only) and its content version;
    None when the mapping is not cached, for the app host, and while the cache is unreachable
    (Django's path then resolves from the database, which may have moved on since). The
    version comes from the mirror, else from `publishing.content_version` (the database, or
    with it down the last version this process saw)."""
    if host == settings.APP_HOST or not cache_is_available():
        return None
    remembered = _remembered.get(host)
    if remembered is not None:
        generation, ref = remembered
        version_key = publishing.KEY.format(page_id=ref.page_id)
        found = cache.get_many([GENERATION_KEY, version_key])
        if found.get(GENERATION_KEY) == generation and version_key in found:
            return ref, found[version_key]
        del _remembered[host]
    # Read before the mapping, so a forget in between shows as a new generation next time.
    generation = publishing.shared_token(GENERATION_KEY)
    ref = cached_host_ref(host)
    if ref is None:
        return None
    _remembered[host] = (generation, ref)  # only hosts of real pages: bounded
    _last_known[_host_key(host)] = ref
    try:
        return ref, publishing.content_version(ref.page_id)
    except DatabaseError:  # no mirror, no database, never seen: Django's path decides
        return None


def forget_hosts(*, slugs: tuple[str, ...] = (), domains: tuple[str | None, ...] = ()) -> None:
    """Drop cached mappings after a page's slug or custom domain changed (old and new), and
    what every process remembers of them."""
    keys = [_host_key(f"{slug}.{settings.BASE_DOMAIN}") for slug in slugs]
    keys += [_preview_key(slug) for slug in slugs]
    keys += [_host_key(domain) for domain in domains if domain]
    for key in keys:
        _last_known.pop(key, None)
        _unknown.pop(key, None)
    cache.delete_many(keys)
    if not publishing.replace_token(GENERATION_KEY):
        # The cache is unreachable: if it comes back with its old data, these keys would
        # still name the old page (maybe for another tenant's new page) until they expire.
        with _unforgotten_lock:
            _unforgotten.update(keys)


_unforgotten: set[str] = set()
_unforgotten_lock = threading.Lock()


def forget_after_outage() -> None:
    """Cache recovery hook (settings.CACHES OPTIONS): the forgets that failed during the
    outage, again. (A process that died meanwhile leaves them to HOST_MAP_TTL.)"""
    with _unforgotten_lock:
        keys = list(_unforgotten)
        _unforgotten.clear()
    if keys:
        cache.delete_many(keys)
        publishing.replace_token(GENERATION_KEY)


def unknown_host_response(request: HttpRequest) -> HttpResponseNotFound:
    return HttpResponseNotFound(render_to_string("public/unknown_host.html", request=None))


def _load_page(page_id: int) -> Page:
    return Page.objects.with_scopes_disabled().select_related("organization").get(pk=page_id)


class HostRoutingMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        request.page = None  # type: ignore[attr-defined]
        request.page_ref = None  # type: ignore[attr-defined]
        host = normalise_host(request.get_host())
        if request.path_info.startswith(HOST_INDEPENDENT_PATHS):
            return self.get_response(request)
        if host == settings.APP_HOST:
            preview = PREVIEW_PATH.match(request.path_info)
            if preview is None:
                return self.get_response(request)
            page_ref = resolve_preview_slug(preview["slug"])
            if page_ref is None:
                return unknown_host_response(request)
            request.path_info = preview["rest"] or "/"
            request.is_preview = True  # type: ignore[attr-defined]
            previous_prefix = get_script_prefix()
            set_script_prefix(f"{request.META.get('SCRIPT_NAME', '')}/s/{preview['slug']}/")
            try:
                return self.serve_page(request, page_ref)
            finally:
                set_script_prefix(previous_prefix)
        page_ref = resolve_host(host)
        if page_ref is None:
            return unknown_host_response(request)
        request.is_preview = False  # type: ignore[attr-defined]
        return self.serve_page(request, page_ref)

    def serve_page(self, request: HttpRequest, page_ref: PageRef):
        request.page_ref = page_ref  # type: ignore[attr-defined]
        # Loaded only if a view needs it: a cached response never does.
        request.page = SimpleLazyObject(lambda: _load_page(page_ref.page_id))  # type: ignore[attr-defined]
        request.urlconf = settings.PUBLIC_URLCONF  # type: ignore[attr-defined]
        with scope(organization=page_ref.organization_id):
            return self.get_response(request)
