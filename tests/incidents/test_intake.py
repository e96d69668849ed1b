"""Alert intake fixtures for each sender."""

import hashlib
import hmac
import json

import pytest
from django.test import Client
from django_scopes import scope, scopes_disabled

from incidents.intake import parse_time
from incidents.models import Incident, IntegrationEvent
from incidents.services import create_integration
from statuspage.actors import Actor
from tests.component_factories import ComponentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(page):
    return ComponentFactory(page=page, name="API")


def integration(page, kind, api, **extra):
    with scope(organization=page.organization_id):
        return create_integration(
            page,
            actor=Actor.system("t"),
            name=kind,
            kind=kind,
            components=[api],
            impact="critical",
            **extra,
        )


def post(integration, payload, **headers):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return Client().post(
        f"/integrations/{integration.kind}/{integration.token}",
        body,
        content_type="application/json",
        **headers,
    )


def incidents(page):
    with scopes_disabled():
        return list(Incident.objects.filter(page=page).order_by("id").values_list("name", "status"))


def am_alert(status, fingerprint="abc", summary="High error rate"):
    return {
        "status": status,
        "fingerprint": fingerprint,
        "labels": {"alertname": "HighErrors"},
        "annotations": {"summary": summary},
        "startsAt": "2026-11-24T10:00:00.123456789Z",
        "endsAt": "0001-01-01T00:00:00Z" if status == "firing" else "2026-11-24T10:30:00Z",
    }


def test_alertmanager_firing_opens_and_resolved_closes(page, api):
    hook = integration(page, "alertmanager", api)
    firing = {"version": "4", "groupKey": "g", "status": "firing", "alerts": [am_alert("firing")]}
    response = post(hook, firing)
    assert response.json() == {"opened": 1, "grouped": 0, "resolved": 0, "ignored": 0}
    api.refresh_from_db()
    assert (incidents(page), api.status) == ([("High error rate", "investigating")], "major_outage")
    assert post(hook, firing).json() == {
        "opened": 0,
        "grouped": 0,
        "resolved": 0,
        "ignored": 1,
    }  # replay
    resolved = {"version": "4", "status": "resolved", "alerts": [am_alert("resolved")]}
    assert post(hook, resolved).json()["resolved"] == 1
    assert incidents(page) == [("High error rate", "resolved")]
    assert post(hook, firing).json()["ignored"] == 1  # stale: started before it resolved


def test_one_post_may_mix_firing_and_resolved(page, api):
    hook = integration(page, "alertmanager", api)
    post(hook, {"alerts": [am_alert("firing", "one", "One")]})
    result = post(
        hook, {"alerts": [am_alert("resolved", "one", "One"), am_alert("firing", "two", "Two")]}
    ).json()
    assert result == {"opened": 1, "grouped": 0, "resolved": 1, "ignored": 0}
    assert incidents(page) == [("One", "resolved"), ("Two", "investigating")]


def test_grafana_signature(page, api):
    hook = integration(page, "grafana", api, signing_secret="s3cret")
    body = json.dumps({"alerts": [am_alert("firing")]}).encode()
    assert post(hook, body, HTTP_X_GRAFANA_ALERTING_SIGNATURE="bad").status_code == 401
    good = hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert post(hook, body, HTTP_X_GRAFANA_ALERTING_SIGNATURE=good).status_code == 200
    assert incidents(page) == [("High error rate", "investigating")]


def test_uptime_kuma_down_and_up(page, api):
    hook = integration(page, "uptime-kuma", api)
    down = {
        "heartbeat": {
            "status": 0,
            "monitorID": 7,
            "time": "2026-11-24 10:00:00.123",
            "msg": "timeout",
        },
        "monitor": {"id": 7, "name": "Website"},
    }
    post(hook, down)
    up = {
        "heartbeat": {"status": 1, "monitorID": 7, "time": "2026-11-24 10:05:00.000"},
        "monitor": {"id": 7, "name": "Website"},
    }
    post(hook, up)
    assert incidents(page) == [("Website is down", "resolved")]
    assert post(hook, {"msg": "test notification"}).json() == {
        "opened": 0,
        "grouped": 0,
        "resolved": 0,
        "ignored": 0,
    }


def test_healthchecks_and_generic(page, api):
    checks = integration(page, "healthchecks", api)
    post(checks, {"check_id": "uuid-1", "name": "Backups", "status": "down"})
    post(checks, {"check_id": "uuid-1", "name": "Backups", "status": "up"})
    generic = integration(page, "generic", api, title_template="[ops] {title}")
    post(generic, {"key": "k", "status": "firing", "title": "Queue stuck"})
    assert incidents(page) == [
        ("Backups is down", "resolved"),
        ("[ops] Queue stuck", "investigating"),
    ]


def test_bad_payloads_are_400_with_a_message_and_logged(page, api):
    hook = integration(page, "alertmanager", api)
    response = post(hook, b"{not json")
    assert (response.status_code, response.json()) == (
        400,
        {"error": "Malformed JSON: Expecting property name enclosed in double quotes: "
                  "line 1 column 2 (char 1)."},
    )  # fmt: skip
    response = post(hook, {"status": "firing"})
    assert response.json() == {
        "error": "Expected an Alertmanager/Grafana payload with an `alerts` list."
    }
    with scopes_disabled():
        assert [e.error for e in IntegrationEvent.objects.all()][:1] == [
            "Expected an Alertmanager/Grafana payload with an `alerts` list."
        ]


def test_unknown_token_is_404(page, api):
    assert (
        Client()
        .post("/integrations/generic/nope", "{}", content_type="application/json")
        .status_code
        == 404
    )


def test_sender_timestamps():
    assert (
        parse_time("2026-11-24T10:00:00.123456789Z").isoformat()
        == "2026-11-24T10:00:00.123456+00:00"
    )
    assert parse_time("0001-01-01T00:00:00Z") is None
    assert parse_time("2026-11-24 10:00:00.123").isoformat() == "2026-11-24T10:00:00.123000+00:00"


def test_console_shows_the_url_and_payloads(console_client, page, api):
    response = console_client.post(
        "/console/acme/incidents/integrations/",
        {
            "name": "Prometheus",
            "kind": "alertmanager",
            "components": [api.public_id],
            "impact": "major",
            "title_template": "{title}",
        },
    )
    assert response.status_code == 302
    detail = console_client.get(response["Location"])
    assert detail.context["url"].startswith("http://testserver/integrations/alertmanager/")
