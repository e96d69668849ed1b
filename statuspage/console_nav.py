"""The console's navigation for the current page, and the page switcher, as template context."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse

from statuspage.page_urls import public_base_url
from statuspage.queries import list_pages_for_user

# (label, URL name, capability needed to see it). A section appears once its app is installed
# and its URL exists, so nothing here changes when an app gains its console screens.
SECTIONS = [
    ("Overview", "console:page-dashboard", "view"),
    ("Incidents", "incidents:list", "view"),
    ("Maintenance", "incidents:maintenance-list", "view"),
    ("Components", "components:list", "view"),
    ("Subscribers", "subscribers:list", "configure"),
    ("Postmortems", "postmortems:list", "view"),
    ("Settings", "console:page-settings", "configure"),
    ("Team", "console:members", "view"),
    ("API keys", "console:api-keys", "configure"),
    ("Audit log", "console:audit-log", "configure"),
]


@dataclass(frozen=True)
class NavItem:
    label: str
    url: str
    is_active: bool


def build_nav(request) -> list[NavItem]:
    page = request.page
    items = []
    for label, url_name, capability in SECTIONS:
        if not request.can.get(capability):
            continue
        try:
            url = reverse(url_name, kwargs={"page_slug": page.slug})
        except NoReverseMatch:
            continue
        is_active = (
            request.path == url
            if url_name == "console:page-dashboard"
            else request.path.startswith(url)
        )
        items.append(NavItem(label, url, is_active))
    return items


def console_context(request) -> dict[str, object]:
    """Context processor: navigation and page switcher for console pages."""
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    context: dict[str, object] = {}
    if getattr(request, "membership", None) is not None:
        context["nav"] = build_nav(request)
        context["current_page"] = request.page
        context["current_page_public_url"] = public_base_url(request.page) + "/"
        context["can"] = request.can
        context["switchable_pages"] = list_pages_for_user(request.user)
    return context
