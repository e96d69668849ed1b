"""The isolation harness: every console URL, filled with another organisation's objects, is 404.

For each URL pattern of the app host we request it (GET and POST) as the owner of `ours`, with
every tenant parameter naming an object of `theirs`: once with their page slug, once with our
page slug and their objects. Every answer must be 404 (or 405 for a GET on a POST-only view) and
no body may contain the intruder's marker text.
"""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from tests.isolation.samples import (
    API_ROUTE_PREFIX,
    API_SAMPLES,
    NON_TENANT_SAMPLES,
    PUBLIC_ROUTE_PREFIXES,
    PUBLIC_SAMPLES,
    TENANT_SAMPLES,
)
from tests.isolation.world import MARKER, build_tenant

PARAMETER = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")


def walk(patterns, prefix: str = ""):
    for entry in patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from walk(entry.url_patterns, route)
        elif isinstance(entry, URLPattern):
            yield route


def console_routes(urlconf: str | None = None) -> list[str]:
    return [
        route
        for route in walk(get_resolver(urlconf).url_patterns)
        if PARAMETER.search(route)
        and not route.startswith(PUBLIC_ROUTE_PREFIXES)
        and not route.startswith(API_ROUTE_PREFIX)
    ]


def fill(route: str, values: dict[str, str]) -> str:
    return "/" + PARAMETER.sub(lambda m: str(values[m["name"]]), route)


def test_every_console_parameter_has_a_sample():
    missing = {
        match["name"]
        for route in console_routes()
        for match in PARAMETER.finditer(route)
        if match["name"] not in TENANT_SAMPLES and match["name"] not in NON_TENANT_SAMPLES
    }
    assert missing == set(), f"add samples for these URL parameters: {sorted(missing)}"


def test_harness_covers_the_console():
    routes = console_routes()
    assert "console/<slug:page_slug>/settings/" in routes
    assert "console/<slug:page_slug>/subscribers/<pid:subscriber_id>/confirm/" in routes
    assert len(routes) >= 15


@pytest.mark.django_db
def test_console_urls_refuse_another_organisations_objects():
    ours = build_tenant("ours", marker="ours-marker")
    theirs = build_tenant("theirs", marker=MARKER)
    client = Client()
    client.force_login(ours.owner.user)
    failures = []
    for route in console_routes():
        names = [m["name"] for m in PARAMETER.finditer(route)]
        their_values = {
            name: (
                TENANT_SAMPLES[name](theirs) if name in TENANT_SAMPLES else NON_TENANT_SAMPLES[name]
            )
            for name in names
        }
        variants = [their_values]
        if "page_slug" in names and len(names) > 1:
            variants.append({**their_values, "page_slug": ours.page.slug})
        for values in variants:
            url = fill(route, values)
            for method in ("get", "post"):
                response = getattr(client, method)(url)
                allowed = {404, 405} if method == "get" else {404}
                body = response.content.decode(errors="replace")
                if response.status_code not in allowed or MARKER in body:
                    failures.append(f"{method.upper()} {url} → {response.status_code}")
    assert failures == []


@pytest.mark.django_db
def test_another_organisations_webhook_cannot_be_confirmed_or_challenged():
    """The webhook routes with their webhook subscriber (the walk above names their email
    subscriber): 404, and it stays pending with its old token."""
    ours = build_tenant("ours", marker="ours-marker")
    theirs = build_tenant("theirs", marker=MARKER)
    client = Client()
    client.force_login(ours.owner.user)
    webhook = theirs.objects["webhook_subscriber"]
    answers = {
        (slug, action): client.post(
            f"/console/{slug}/subscribers/{webhook.public_id}/{action}/"
        ).status_code
        for slug in (ours.page.slug, theirs.page.slug)
        for action in ("confirm", "resend", "remove")
    }
    assert set(answers.values()) == {404}
    listing = client.get(f"/console/{ours.page.slug}/subscribers/").content.decode()
    assert MARKER not in listing
    webhook.refresh_from_db()
    assert (webhook.confirmed_at, webhook.challenge) == (None, "token")


def public_routes() -> list[str]:
    return list(walk(get_resolver("statuspage.public_urls").url_patterns))


@pytest.mark.django_db
def test_public_urls_never_show_another_pages_objects():
    """Every public route with a parameter, on our page's host, given their object: 404."""
    ours = build_tenant("ours", marker="ours-marker")
    theirs = build_tenant("theirs", marker=MARKER)
    client = Client(HTTP_HOST=f"{ours.page.slug}.status.test")
    routes = [route for route in public_routes() if PARAMETER.search(route)]
    assert routes, "the public site has parameterised routes"
    failures = []
    for route in routes:
        url = fill(route, {m["name"]: PUBLIC_SAMPLES[m["name"]](theirs)
                           for m in PARAMETER.finditer(route)})  # fmt: skip
        response = client.get(url)
        if response.status_code != 404 or MARKER in response.content.decode(errors="replace"):
            failures.append(f"GET {url} → {response.status_code}")
    # Their page's own host serves their incident, so the 404 above is isolation, not a typo.
    own = Client(HTTP_HOST=f"{theirs.page.slug}.status.test")
    assert own.get(f"/incidents/{theirs.objects['incident'].public_id}").status_code == 200
    assert failures == []


@pytest.mark.django_db
def test_api_routes_refuse_another_organisations_objects(settings):
    """Every /api/v1 route with our key: their page, or our page with their objects → 404."""
    from statuspage.actors import Actor
    from statuspage.services import create_api_key

    settings.API_REQUESTS_PER_MINUTE = 10_000
    ours = build_tenant("ours", marker="ours-marker")
    theirs = build_tenant("theirs", marker=MARKER)
    _, raw = create_api_key(ours.organization, actor=Actor.system("t"), name="k", access="admin")
    client = Client(HTTP_AUTHORIZATION=f"OAuth {raw}")
    routes = [r for r in walk(get_resolver().url_patterns) if r.startswith(API_ROUTE_PREFIX)]
    routes = [r for r in routes if PARAMETER.search(r)]
    assert len(routes) >= 4
    failures = []
    for route in routes:
        names = [m["name"] for m in PARAMETER.finditer(route)]
        their_values = {name: API_SAMPLES[name](theirs) for name in names}
        variants = [their_values]
        if len(names) > 1:
            variants.append({**their_values, "page_id": ours.page.public_id})
        for values in variants:
            url = fill(route, values)
            for method in ("get", "patch", "delete"):
                response = getattr(client, method)(url, content_type="application/json")
                body = response.content.decode(errors="replace")
                if response.status_code not in (404, 405) or MARKER in body:
                    failures.append(f"{method.upper()} {url} → {response.status_code}")
    assert failures == []
