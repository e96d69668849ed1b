"""Canonical URLs of a page's public site, for emails, feeds, the console and the API.

Always built from settings and the page's own domain, never from a request's Host header, so a
forged Host cannot plant links in a subscriber's inbox.
"""

from django.conf import settings

from statuspage.models import Page


def _port_suffix() -> str:
    return f":{settings.SITE_PORT}" if settings.SITE_PORT else ""


def public_host(page: Page) -> str:
    if page.has_verified_custom_domain:
        return page.custom_domain or ""
    return f"{page.slug}.{settings.BASE_DOMAIN}"


def public_base_url(page: Page) -> str:
    """E.g. https://acme.status.example.com — no trailing slash."""
    return f"{settings.SITE_SCHEME}://{public_host(page)}{_port_suffix()}"


def public_url(page: Page, path: str = "/") -> str:
    return public_base_url(page) + (path if path.startswith("/") else "/" + path)


def app_url(path: str = "/") -> str:
    return f"{settings.SITE_SCHEME}://{settings.APP_HOST}{_port_suffix()}{path}"
