"""Host → page resolution: every request belongs to the app host or to exactly one page.

- `APP_HOST` serves sign-up, the console, the API, and `/s/<slug>/`, a preview of a page's
  public site (the prefix becomes the script prefix, so `reverse()` builds preview links).
- `<slug>.<BASE_DOMAIN>` and a *verified* custom domain serve that page's public site.
- Anything else is a plain 404, never a guess at another tenant's page.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.http import HttpRequest, HttpResponseNotFound
from django.http.request import split_domain_port
from django.template.loader import render_to_string
from django.urls import set_script_prefix
from django_scopes import scope

from statuspage.models import Page

PREVIEW_PATH = re.compile(r"^/s/(?P<slug>[a-z0-9-]{1,63})(?P<rest>/.*)?$")
HOST_INDEPENDENT_PATHS = ("/internal/",)


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


def find_page_by_slug(slug: str) -> Page | None:
    return (
        Page.objects.with_scopes_disabled().select_related("organization").filter(slug=slug).first()
    )


def unknown_host_response(request: HttpRequest) -> HttpResponseNotFound:
    return HttpResponseNotFound(render_to_string("public/unknown_host.html", request=None))


class HostRoutingMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        request.page = None  # type: ignore[attr-defined]
        host = normalise_host(request.get_host())
        if request.path_info.startswith(HOST_INDEPENDENT_PATHS):
            return self.get_response(request)
        if host == settings.APP_HOST:
            preview = PREVIEW_PATH.match(request.path_info)
            if preview is None:
                return self.get_response(request)
            page = find_page_by_slug(preview["slug"])
            if page is None:
                return unknown_host_response(request)
            request.path_info = preview["rest"] or "/"
            set_script_prefix(f"{request.META.get('SCRIPT_NAME', '')}/s/{page.slug}/")
            request.is_preview = True  # type: ignore[attr-defined]
            return self.serve_page(request, page)
        page = find_page_for_host(host)
        if page is None:
            return unknown_host_response(request)
        request.is_preview = False  # type: ignore[attr-defined]
        return self.serve_page(request, page)

    def serve_page(self, request: HttpRequest, page: Page):
        request.page = page  # type: ignore[attr-defined]
        request.urlconf = settings.PUBLIC_URLCONF  # type: ignore[attr-defined]
        with scope(organization=page.organization_id):
            return self.get_response(request)
