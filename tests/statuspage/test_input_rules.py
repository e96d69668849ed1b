"""Slugs, time zones and names: the same rule at every door (sign-up, console forms, the API)."""

import html
import re

import pytest
from django.test import Client
from django_scopes import scopes_disabled

from statuspage.actors import Actor
from statuspage.control_characters import SINGLE_LINE_MESSAGE
from statuspage.models import Page
from statuspage.services import create_api_key
from statuspage.time_zones import TIME_ZONES
from tests.statuspage.test_accounts import SIGNUP

pytestmark = pytest.mark.django_db

IDNA = "A subdomain may not have “--” as its third and fourth characters (as in xn--)."
NOT_A_ZONE = "“{}” is not a time zone we know: choose a place (Europe/Paris) or UTC."
SETTINGS = {"name": "Acme Cloud", "slug": "acme", "time_zone": "UTC", "accent_color": "#112233"}


def api_client(org) -> Client:
    _, raw = create_api_key(org, actor=Actor.system("t"), name="k", access="admin")
    return Client(HTTP_AUTHORIZATION=f"OAuth {raw}")


def form_errors(response) -> list[str]:
    found = re.findall(r'<p class="error"[^>]*>([^<]+)</p>', response.content.decode())
    return [html.unescape(error) for error in found]


def test_the_time_zones_are_places_and_utc():
    assert {"Europe/Paris", "America/Argentina/Buenos_Aires", "UTC"} <= TIME_ZONES
    refused = {"localtime", "Factory", "posixrules", "EST5EDT", "Etc/GMT+5", "US/Eastern", "GMT"}
    assert refused & TIME_ZONES == set()


@pytest.mark.parametrize("slug", ["xn--bcher-kva", "ab--cd"])
def test_signup_refuses_idna_like_slugs(slug):
    response = Client().post("/accounts/signup/", {**SIGNUP, "page_slug": slug})
    assert (response.status_code, form_errors(response)) == (400, [IDNA])
    with scopes_disabled():
        assert not Page.objects.filter(slug=slug).exists()


def test_a_hyphen_elsewhere_is_fine():
    response = Client().post("/accounts/signup/", {**SIGNUP, "page_slug": "a-b--c"})
    assert response.status_code == 302
    with scopes_disabled():
        assert Page.objects.filter(slug="a-b--c").exists()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"page_name": "Nia\r\nBcc: x@example.test"}, SINGLE_LINE_MESSAGE),
        ({"organization_name": "Nia\x1b[31m"}, SINGLE_LINE_MESSAGE),
        ({"time_zone": "localtime"}, NOT_A_ZONE.format("localtime")),
    ],
)
def test_signup_refuses_control_characters_and_non_place_zones(changes, message):
    response = Client().post("/accounts/signup/", {**SIGNUP, **changes})
    assert (response.status_code, form_errors(response)) == (400, [message])


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"slug": "xn--acme"}, IDNA),
        ({"name": "Acme\nCloud"}, SINGLE_LINE_MESSAGE),
        ({"time_zone": "Factory"}, NOT_A_ZONE.format("Factory")),
    ],
)
def test_page_settings_refuse(console_client, page, changes, message):
    response = console_client.post("/console/acme/settings/", {**SETTINGS, **changes})
    assert (response.status_code, form_errors(response)) == (400, [message])
    page.refresh_from_db()
    assert (page.slug, page.name, page.time_zone) == ("acme", "Acme Cloud", "UTC")


def test_page_create_refuses_an_idna_slug(console_client, page):
    response = console_client.post(
        "/console/pages/new/", {"name": "Two", "slug": "xn--two", "time_zone": "UTC"}
    )
    assert (response.status_code, form_errors(response)) == (400, [IDNA])


def test_trailing_whitespace_in_a_name_is_trimmed_not_refused(console_client, page):
    response = console_client.post("/console/acme/settings/", {**SETTINGS, "name": " Acme 2\n"})
    assert response.status_code == 302
    page.refresh_from_db()
    assert page.name == "Acme 2"


def test_a_page_keeps_a_zone_chosen_before_the_list_narrowed(console_client, page):
    with scopes_disabled():
        Page.objects.filter(pk=page.pk).update(time_zone="US/Eastern")
    form = console_client.get("/console/acme/settings/").content.decode()
    assert '<option value="US/Eastern" selected>' in form
    response = console_client.post(
        "/console/acme/settings/", {**SETTINGS, "time_zone": "US/Eastern", "name": "Renamed"}
    )
    assert response.status_code == 302
    page.refresh_from_db()
    assert (page.name, page.time_zone) == ("Renamed", "US/Eastern")


@pytest.mark.parametrize(
    ("sent", "field", "expected", "message"),
    [
        ({"subdomain": "xn--acme"}, "slug", 422, IDNA),
        ({"time_zone": "localtime"}, "time_zone", 422, NOT_A_ZONE.format("localtime")),
        ({"name": "Acme\r\nCloud"}, "name", 400, SINGLE_LINE_MESSAGE),
    ],
)
def test_the_api_refuses_the_same(org, page, sent, field, expected, message):
    response = api_client(org).patch(
        f"/api/v1/pages/{page.public_id}", {"page": sent}, content_type="application/json"
    )
    assert (response.status_code, response.json()[field]) == (expected, [message])
    page.refresh_from_db()
    assert (page.slug, page.name, page.time_zone) == ("acme", "Acme Cloud", "UTC")


def test_api_names_and_titles_are_single_lines(org, page):
    client = api_client(org)
    base = f"/api/v1/pages/{page.public_id}"
    sent = {
        "components": {"component": {"name": "API\nv2"}},
        "component-groups": {"component_group": {"name": "Core\r"}},
        "incidents": {"incident": {"name": "Down\x07"}},
        "incident_templates": {"template": {"name": "T", "title": "Line\u2028break"}},
    }
    answers = {
        path: client.post(f"{base}/{path}", body, content_type="application/json")
        for path, body in sent.items()
    }
    assert {path: r.status_code for path, r in answers.items()} == dict.fromkeys(sent, 400)
    assert SINGLE_LINE_MESSAGE in answers["incidents"].content.decode()


def test_console_component_and_incident_names_are_single_lines(console_client, page):
    component = console_client.post("/console/acme/components/new/", {"name": "A\nB"})
    incident = console_client.post(
        "/console/acme/incidents/new/",
        {"name": "Down\r\nhere", "status": "investigating", "impact": "minor", "body": "x"},
    )
    assert (component.status_code, incident.status_code) == (400, 400)
    assert SINGLE_LINE_MESSAGE in form_errors(component)
    assert SINGLE_LINE_MESSAGE in form_errors(incident)


def test_list_filters_read_garbage_as_their_default():
    from django.http import QueryDict

    from postmortems.forms import ActionItemFilterForm
    from statuspage.forms import AuditFilterForm

    def values(form_class, query):
        return form_class(QueryDict(query)).values

    assert values(ActionItemFilterForm, "") == {"state": "open", "owner": ""}
    assert values(ActionItemFilterForm, "state=bogus&owner=" + "x" * 40) == {
        "state": "open",
        "owner": "",
    }
    assert values(ActionItemFilterForm, "state=all&owner=abc") == {"state": "all", "owner": "abc"}
    assert values(AuditFilterForm, "verb=+page.created+&this_page_only=1") == {
        "verb": "page.created",
        "actor": "",
        "this_page_only": True,
    }


def test_incident_list_ignores_an_unknown_severity(console_client, page):
    from tests.incident_factories import open_incident

    open_incident(page, name="Still listed")
    response = console_client.get("/console/acme/incidents/?severity=bogus&category=%F0%9F%98%80")
    assert response.status_code == 200
    assert "Still listed" in response.content.decode()
