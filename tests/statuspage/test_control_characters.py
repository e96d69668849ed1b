"""NUL anywhere in a request's text is a 400 before any view runs; the rest goes through."""

import json

import pytest
from django.test import Client

from statuspage.actors import Actor
from statuspage.api_parsers import MAX_DEPTH, nesting_depth
from statuspage.control_characters import NUL_MESSAGE
from statuspage.services import create_api_key
from tests.incident_factories import open_incident

pytestmark = pytest.mark.django_db

HTML_400 = "We could not read this request"


@pytest.mark.parametrize(
    "url",
    [
        "/console/acme/incidents/?q=%00",
        "/console/acme/incidents/?category=%00",
        "/console/acme/subscribers/?q=a%00b",
        "/console/acme/audit/?verb=%00",
        "/console/acme/audit/?actor=%00",
        "/console/acme/postmortems/action-items/?owner=%00",
        "/console/acme/incidents/new/?template=%00",
        "/console/acme/incidents/?%00=1",
        "/console/acme/incidents/?q=ok&q=%00",
        "/console/acme/%00/",
    ],
)
def test_nul_in_a_console_query_is_a_400_page(console_client, url):
    response = console_client.get(url)
    assert (response.status_code, response["Content-Type"]) == (400, "text/html; charset=utf-8")
    assert HTML_400 in response.content.decode()
    assert NUL_MESSAGE in response.content.decode()


def test_nul_in_a_public_query_is_a_400(public_client):
    response = public_client.get("/history?component=%00")
    assert response.status_code == 400
    assert NUL_MESSAGE in response.content.decode()
    v2 = public_client.get("/api/v2/incidents.json?x=%00")
    assert (v2.status_code, v2.json()) == (400, {"error": NUL_MESSAGE})


def test_nul_in_a_form_field_is_a_400_and_changes_nothing(console_client, page):
    response = console_client.post(
        "/console/acme/settings/", {"name": "Acme\x00", "slug": "acme", "time_zone": "UTC"}
    )
    assert response.status_code == 400
    page.refresh_from_db()
    assert page.name == "Acme Cloud"


def test_nul_in_an_api_body_is_a_json_400(org, page):
    _, raw = create_api_key(org, actor=Actor.system("t"), name="k", access="admin")
    client = Client(HTTP_AUTHORIZATION=f"OAuth {raw}")
    url = f"/api/v1/pages/{page.public_id}"
    sent = {
        "json escape": (json.dumps({"page": {"name": "a\x00"}}), "application/json"),
        "raw byte": (b'{"page": {"name": "a\x00"}}', "application/json"),
        "form patch": ("page[name]=a%00", "application/x-www-form-urlencoded"),
    }
    answers = {
        label: (response.status_code, response.json())
        for label, (body, content_type) in sent.items()
        for response in [client.patch(url, body, content_type=content_type)]
    }
    assert answers == dict.fromkeys(sent, (400, {"error": NUL_MESSAGE}))
    page.refresh_from_db()
    assert page.name == "Acme Cloud"


def test_nul_to_alert_intake_is_a_json_400_naming_the_field_and_logged(page):
    """Intake checks its own bodies, so the operator's event log says which field was bad."""
    from django_scopes import scope

    from incidents.models import IntegrationEvent
    from incidents.services import create_integration

    with scope(organization=page.organization_id):
        integration = create_integration(page, actor=Actor.system("t"), name="i", kind="generic")
    response = Client().post(
        f"/integrations/generic/{integration.token}",
        b'{"key": "k", "status": "firing", "title": "a\\u0000"}',
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "NUL" in response.json()["error"] and "title" in response.json()["error"]
    with scope(organization=page.organization_id):
        logged = list(IntegrationEvent.objects.values_list("error", flat=True))
    assert logged == [response.json()["error"]]


def test_an_escaped_backslash_before_u0000_is_text_not_nul(org, page):
    _, raw = create_api_key(org, actor=Actor.system("t"), name="k", access="admin")
    client = Client(HTTP_AUTHORIZATION=f"OAuth {raw}")
    body = json.dumps({"page": {"name": "C:\\u0000 drive"}})  # the text C:\u0000 drive
    response = client.patch(
        f"/api/v1/pages/{page.public_id}", body, content_type="application/json"
    )
    assert (response.status_code, response.json()["name"]) == (200, "C:\\u0000 drive")


def test_uploaded_files_may_hold_zero_bytes(console_client, page):
    from django.core.files.uploadedfile import SimpleUploadedFile

    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    response = console_client.post(
        "/console/acme/settings/logo/", {"logo": SimpleUploadedFile("logo.png", png)}
    )
    assert response.status_code == 302
    page.refresh_from_db()
    assert bytes(page.logo) == png


def test_tabs_newlines_and_unicode_in_queries_pass(console_client, page):
    open_incident(page, name="Tab\there")
    response = console_client.get("/console/acme/incidents/?q=%09%0A%F0%9F%98%80")
    assert response.status_code == 200


def test_deeply_nested_api_json_is_a_400(org, page):
    _, raw = create_api_key(org, actor=Actor.system("t"), name="k", access="admin")
    client = Client(HTTP_AUTHORIZATION=f"OAuth {raw}")
    url = f"/api/v1/pages/{page.public_id}/incidents"
    too_deep = "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1)
    very_deep = "[" * 100_000 + "]" * 100_000
    message = f"JSON parse error - nested deeper than {MAX_DEPTH} levels."
    for body in (too_deep, very_deep, '{"a":' * 100_000 + "1" + "}" * 100_000):
        response = client.post(url, body, content_type="application/json")
        assert (response.status_code, response.json()) == (400, {"detail": message})


def test_nesting_depth():
    assert [nesting_depth(v) for v in (1, [], {"a": [1, {"b": []}]}, [[[[]]]])] == [0, 1, 4, 4]
    assert nesting_depth([[[[[]]]]], limit=2) == 3  # stops once past the limit


def test_nul_in_a_cookie_is_a_400(page):
    # The session key would be looked up in the database, which cannot compare it.
    response = Client(HTTP_COOKIE="sessionid=abcdefgh\x00ijkl").get("/console/")
    assert (response.status_code, NUL_MESSAGE in response.content.decode()) == (400, True)
