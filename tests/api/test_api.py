"""The management API through HTTP: keys, access, Statuspage shapes, JSON and form bodies."""

import json

import pytest
from django.test import Client
from django_scopes import scope, scopes_disabled

from components.models import Component
from incidents.models import Incident
from statuspage.actors import Actor
from statuspage.services import create_api_key, revoke_api_key
from tests.component_factories import ComponentFactory

pytestmark = pytest.mark.django_db


def key(org, access="admin", pages=()):
    return create_api_key(org, actor=Actor.system("t"), name="ci", access=access, pages=list(pages))


def client_for(raw, scheme="OAuth"):
    return Client(HTTP_AUTHORIZATION=f"{scheme} {raw}")


def test_missing_wrong_and_revoked_keys_are_401(org, page):
    api_key, raw = key(org)
    assert Client().get("/api/v1/pages").status_code == 401
    assert client_for("sp_nope_nope").get("/api/v1/pages").status_code == 401
    assert client_for(raw, "Bearer").get("/api/v1/pages").status_code == 200
    with scope(organization=org.pk):
        revoke_api_key(api_key, actor=Actor.system("t"))
    response = client_for(raw).get("/api/v1/pages")
    assert response.status_code == 401
    assert json.loads(response.content) == {"detail": "Invalid or revoked API key."}


def test_pages_list_and_patch(org, page):
    _, raw = key(org)
    client = client_for(raw)
    [data] = json.loads(client.get("/api/v1/pages").content)
    assert (data["id"], data["name"], data["subdomain"]) == (page.public_id, "Acme Cloud", "acme")
    response = client.patch(
        f"/api/v1/pages/{page.public_id}",
        {"page": {"name": "Acme Status"}},
        content_type="application/json",
    )
    assert json.loads(response.content)["name"] == "Acme Status"


def test_keys_restricted_to_a_page_see_only_it(org, page):
    with scopes_disabled():
        from tests.factories import PageFactory

        second = PageFactory(organization=org, slug="second")
    _, raw = key(org, pages=[second])
    client = client_for(raw)
    assert [p["id"] for p in json.loads(client.get("/api/v1/pages").content)] == [second.public_id]
    assert client.get(f"/api/v1/pages/{page.public_id}").status_code == 404


def test_component_crud(org, page):
    _, raw = key(org)
    client = client_for(raw)
    base = f"/api/v1/pages/{page.public_id}/components"
    response = client.post(
        base,
        {"component": {"name": "API", "status": "degraded_performance"}},
        content_type="application/json",
    )
    assert response.status_code == 201
    created = json.loads(response.content)
    assert (created["name"], created["status"], created["group"]) == (
        "API",
        "degraded_performance",
        False,
    )
    url = f"{base}/{created['id']}"
    patched = client.patch(
        url, {"component": {"status": "major_outage"}}, content_type="application/json"
    )
    assert json.loads(patched.content)["status"] == "major_outage"
    bad = client.patch(url, {"component": {"status": "on_fire"}}, content_type="application/json")
    assert bad.status_code == 400
    assert "status" in json.loads(bad.content)
    assert client.delete(url).status_code == 204
    with scopes_disabled():
        assert Component.objects.count() == 0


def test_incident_create_json_and_form_encoded_then_update(org, page):
    api = ComponentFactory(page=page, name="API")
    _, raw = key(org, access="responder")
    client = client_for(raw)
    base = f"/api/v1/pages/{page.public_id}/incidents"
    response = client.post(
        base,
        {
            "incident": {
                "name": "API errors",
                "status": "investigating",
                "impact_override": "major",
                "body": "Looking",
                "component_ids": [api.public_id],
                "deliver_notifications": False,
            }
        },
        content_type="application/json",
    )
    assert response.status_code == 201
    data = json.loads(response.content)
    assert (data["severity"], data["owner"], data["acknowledged_at"]) == (None, None, None)
    assert (data["status"], data["impact"], data["components"][0]["status"]) == (
        "investigating",
        "major",
        "partial_outage",
    )
    form = client.post(
        base,
        {
            "incident[name]": "Form made",
            "incident[status]": "identified",
            "incident[component_ids][]": [api.public_id],
            f"incident[components][{api.public_id}]": "major_outage",
        },
    )
    assert form.status_code == 201
    assert json.loads(form.content)["components"][0]["status"] == "major_outage"
    url = f"{base}/{data['id']}"
    updated = json.loads(
        client.patch(
            url,
            {"incident": {"status": "resolved", "body": "Done"}},
            content_type="application/json",
        ).content
    )
    assert updated["status"] == "resolved"
    assert [u["status"] for u in updated["incident_updates"]] == ["resolved", "investigating"]
    unresolved = json.loads(client.get(f"{base}/unresolved").content)
    assert [i["name"] for i in unresolved] == ["Form made"]


def test_read_only_keys_cannot_write(org, page):
    _, raw = key(org, access="read_only")
    client = client_for(raw)
    base = f"/api/v1/pages/{page.public_id}/incidents"
    assert client.get(base).status_code == 200
    assert (
        client.post(base, {"incident": {"name": "X"}}, content_type="application/json").status_code
        == 403
    )
    with scopes_disabled():
        assert Incident.objects.count() == 0


def test_domain_errors_are_422_with_the_field(org, page):
    _, raw = key(org)
    response = client_for(raw).post(
        f"/api/v1/pages/{page.public_id}/incidents",
        {"incident": {"name": ""}},
        content_type="application/json",
    )
    assert response.status_code == 422
    assert json.loads(response.content) == {
        "error": "Give the incident a title.",
        "name": ["Give the incident a title."],
    }


def test_rate_limit_answers_429_with_retry_after(org, page, settings):
    settings.API_REQUESTS_PER_MINUTE = 3
    _, raw = key(org)
    client = client_for(raw)
    codes = [client.get("/api/v1/pages").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    assert client.get("/api/v1/pages")["Retry-After"] == "60"


def test_openapi_schema_is_served(db):
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert b"/api/v1/pages/{page_id}/incidents" in response.content
    docs = Client().get("/api/v1/docs").content.decode()
    assert "/static/drf_spectacular_sidecar/redoc/" in docs and "cdn" not in docs.lower()


def test_groups_uptime_maintenance_lists_and_update_edit(org, page):
    import datetime

    api = ComponentFactory(page=page, name="API")
    _, raw = key(org)
    client = client_for(raw)
    base = f"/api/v1/pages/{page.public_id}"
    group = client.post(
        f"{base}/component-groups",
        {"component_group": {"name": "Core", "components": [api.public_id]}},
        content_type="application/json",
    ).json()
    assert (group["group"], group["components"]) == (True, [api.public_id])
    uptime = client.get(f"{base}/components/{api.public_id}/uptime").json()
    assert (uptime["uptime_percentage"], uptime["major_outage"]) == (100.0, 0)
    start = (datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=1)).isoformat()
    made = client.post(
        f"{base}/incidents",
        {
            "incident": {
                "name": "DB upgrade",
                "scheduled_for": start,
                "component_ids": [api.public_id],
            }
        },
        content_type="application/json",
    ).json()
    assert made["status"] == "scheduled"
    assert [i["name"] for i in client.get(f"{base}/incidents/upcoming").json()] == ["DB upgrade"]
    assert client.get(f"{base}/incidents/active_maintenance").json() == []
    update_id = made["incident_updates"][0]["id"]
    edited = client.patch(
        f"{base}/incidents/{made['id']}/incident_updates/{update_id}",
        {"incident_update": {"body": "New *text*"}},
        content_type="application/json",
    ).json()
    assert edited["body"] == "New *text*"


def test_postmortem_subscribers_and_templates(org, page):
    from django.core import mail

    api = ComponentFactory(page=page, name="API")
    _, raw = key(org)
    client = client_for(raw)
    base = f"/api/v1/pages/{page.public_id}"
    incident = client.post(
        f"{base}/incidents", {"incident": {"name": "Outage"}}, content_type="application/json"
    ).json()
    pm_url = f"{base}/incidents/{incident['id']}/postmortem"
    refused = client.put(
        pm_url, {"postmortem": {"body_draft": "x"}}, content_type="application/json"
    )
    assert refused.status_code == 422
    client.patch(
        f"{base}/incidents/{incident['id']}",
        {"incident": {"status": "resolved"}},
        content_type="application/json",
    )
    saved = client.put(
        pm_url, {"postmortem": {"body_draft": "What happened"}}, content_type="application/json"
    ).json()
    assert (saved["published_at"], "What happened" in saved["body"]) == (None, True)
    published = client.put(f"{pm_url}/publish", content_type="application/json").json()
    assert published["published_at"] is not None
    assert client.get(f"{base}/incidents/{incident['id']}").json()["status"] == "postmortem"
    client.put(f"{pm_url}/revert", content_type="application/json")
    assert client.get(f"{base}/incidents/{incident['id']}").json()["status"] == "resolved"

    made = client.post(
        f"{base}/subscribers",
        {
            "subscriber": {
                "email": "api@example.test",
                "component_ids": [api.public_id],
            }
        },
        content_type="application/json",
    )
    assert made.status_code == 201
    sub = made.json()
    assert (sub["email"], sub["components"], sub["confirmed_at"]) == (
        "api@example.test",
        [api.public_id],
        None,
    )
    assert [s["email"] for s in client.get(f"{base}/subscribers").json()] == ["api@example.test"]
    assert client.delete(f"{base}/subscribers/{sub['id']}").status_code == 200
    assert client.get(f"{base}/subscribers").json() == []
    assert mail.outbox == [] or all(m.to == ["api@example.test"] for m in mail.outbox)

    template = client.post(
        f"{base}/incident_templates",
        {
            "template": {
                "name": "DB",
                "title": "Database down",
                "impact": "critical",
                "component_ids": [api.public_id],
            }
        },
        content_type="application/json",
    ).json()
    assert (template["title"], template["components"]) == ("Database down", [api.public_id])
    renamed = client.patch(
        f"{base}/incident_templates/{template['id']}",
        {"template": {"title": "DB down"}},
        content_type="application/json",
    ).json()
    assert renamed["title"] == "DB down"
    assert client.delete(f"{base}/incident_templates/{template['id']}").status_code == 204


def test_page_values_are_checked_like_the_console(org, page):
    _, raw = key(org)
    response = client_for(raw).patch(
        f"/api/v1/pages/{page.public_id}",
        {"page": {"brand_color": "red"}},
        content_type="application/json",
    )
    assert response.status_code == 422
    assert (
        response.json()["error"] == "Enter a colour as # followed by six hex digits, e.g. #2563eb."
    )


def test_read_only_keys_do_not_see_the_responders_fields(org, page):
    from tests.incident_factories import open_incident

    incident = open_incident(page)
    _, raw = key(org, access="read_only")
    data = client_for(raw).get(f"/api/v1/pages/{page.public_id}/incidents/{incident.public_id}")
    assert "owner" not in data.json() and "severity" not in data.json()
