"""The getting-started checklist on the console home, ticked off from what the data shows.

The steps follow the order seed 004 recommends. Each app is asked through its own queries
module; an app that is not built yet simply leaves its step open.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse
from django.utils.module_loading import import_string

from statuspage.models import Page


@dataclass(frozen=True)
class Step:
    title: str
    description: str
    is_done: bool
    url: str | None


def _ask(dotted_path: str, page: Page) -> bool:
    """Ask an app whether a step is done, through a function in its queries module."""
    try:
        return bool(import_string(dotted_path)(page))
    except ImportError:
        return False


def _url(name: str, page: Page) -> str | None:
    try:
        return reverse(name, kwargs={"page_slug": page.slug})
    except NoReverseMatch:
        return None


def getting_started(page: Page) -> list[Step]:
    return [
        Step(
            "Add your components",
            "Name the parts of your service customers care about: API, Dashboard, Email…",
            _ask("components.queries.page_has_components", page),
            _url("components:list", page),
        ),
        Step(
            "Post a test incident and resolve it",
            "Walk one incident from investigating to resolved to see the whole flow.",
            _ask("incidents.queries.page_has_resolved_incident", page),
            _url("incidents:list", page),
        ),
        Step(
            "Get your first subscriber",
            "Notifications reach no one until someone subscribes. Subscribe yourself to try it.",
            _ask("subscribers.queries.page_has_confirmed_subscriber", page),
            _url("subscribers:list", page),
        ),
        Step(
            "Embed the status widget",
            "Show your current status on your own site with one script tag.",
            page.embed_viewed_at is not None,
            _url("console:embed", page),
        ),
        Step(
            "Connect a custom domain",
            "Serve the page at status.yourcompany.com.",
            page.has_verified_custom_domain,
            _url("console:domain", page),
        ),
    ]
