"""The console's Responders screen: targets, alert webhook, teams, routing and opt-in."""

import pytest
from django_scopes import scopes_disabled

from incidents.models import AlertOptIn, CategoryRoute, ResponderTeam, ResponsePolicy
from statuspage.enums import Role
from tests.conftest import login_client, member_with_role

pytestmark = pytest.mark.django_db
URL = "/console/acme/incidents/responders/"


def policy_form(*, critical, url="https://chat.example.com/hooks/abc"):
    return {"critical_target_minutes": critical, "high_target_minutes": "30",
            "medium_target_minutes": "120", "low_target_minutes": "600",
            "alert_webhook_url": url}  # fmt: skip


def test_admin_sets_targets_webhook_team_and_routing(console_client, org, page, member):
    response = console_client.post(f"{URL}policy/", policy_form(critical="10"))
    assert response.status_code == 302
    console_client.post(
        f"{URL}teams/", {"team-name": "Platform", "team-members": [member.user.public_id]}
    )
    with scopes_disabled():
        policy = ResponsePolicy.objects.get(organization=org)
        team = ResponderTeam.objects.get(organization=org)
    assert (policy.critical_target_minutes, policy.low_target_minutes) == (10, 600)
    assert len(policy.alert_webhook_secret) == 48
    console_client.post(
        f"{URL}routing/",
        {
            "route-outage": f"team:{team.public_id}",
            "route-security": f"user:{member.user.public_id}",
        },
    )
    with scopes_disabled():
        routes = {r.category: (r.owner_id, r.team_id) for r in CategoryRoute.objects.all()}
    assert routes == {"outage": (None, team.pk), "security": (member.user.pk, None)}
    body = console_client.get(URL).content.decode()
    assert "Platform" in body and policy.alert_webhook_secret in body


def test_policy_form_errors_keep_the_input(console_client):
    response = console_client.post(
        f"{URL}policy/", policy_form(critical="120", url="https://chat.example.com/keep-me")
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "no longer than a less severe one" in body and "keep-me" in body


def test_responders_opt_in_and_read_but_cannot_configure(org, page):
    responder = member_with_role(org, Role.RESPONDER)
    client = login_client(responder)
    body = client.get(URL).content.decode()
    assert "Email me about critical and high incidents" in body and "Save routing" not in body
    client.post(f"{URL}alerts/", {"enabled": "1"})
    with scopes_disabled():
        assert AlertOptIn.objects.filter(user=responder.user).exists()
    client.post(f"{URL}alerts/", {"enabled": "0"})
    with scopes_disabled():
        assert not AlertOptIn.objects.exists()
    assert client.post(f"{URL}policy/", {}).status_code == 403
    viewer = login_client(member_with_role(org, Role.VIEWER))
    assert viewer.get(URL).status_code == 403


def test_integration_form_offers_drafts_and_severity(console_client, page):
    response = console_client.post(
        "/console/acme/incidents/integrations/",
        {"name": "Prometheus", "kind": "alertmanager", "impact": "major",
         "title_template": "{title}", "creates_drafts": "on", "severity": "critical",
         "category": "outage"},
    )  # fmt: skip
    assert response.status_code == 302
    detail = console_client.get(response["Location"]).content.decode()
    assert "internal draft" in detail and "responders who opted in are alerted" in detail
