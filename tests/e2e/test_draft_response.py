"""A responder's whole loop in a browser: an alert opens an internal draft, which is
acknowledged, assigned, published and resolved; the report shows its MTTA and MTTR."""

import datetime
import json
import urllib.request
from urllib.parse import urlsplit

import pytest
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from incidents.models import Incident
from incidents.services import create_integration
from statuspage.actors import Actor
from statuspage.enums import Role
from tests.component_factories import ComponentFactory
from tests.e2e.conftest import public_url
from tests.e2e.test_incident_flow import log_in
from tests.factories import MembershipFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def fire_alert(app_server, integration):
    payload = {"version": "4", "status": "firing", "alerts": [{
        "status": "firing", "fingerprint": "db1", "labels": {"alertname": "DBDown"},
        "annotations": {"summary": "Primary database unreachable"},
        "startsAt": "2026-11-24T10:00:00Z", "endsAt": "0001-01-01T00:00:00Z"}]}  # fmt: skip
    request = urllib.request.Request(
        f"{app_server}/integrations/alertmanager/{integration.token}",
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json", "Host": urlsplit(app_server).netloc},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert json.loads(response.read()) == {
            "drafted": 1,
            "grouped": 0,
            "resolved": 0,
            "ignored": 0,
        }


def test_alert_draft_acknowledged_assigned_published_resolved_and_reported(
    app_server, browser_page, member, org, page
):
    api = ComponentFactory(page=page, name="API")
    colleague = MembershipFactory(
        organization=org, role=Role.RESPONDER, user__email="dana@acme.test", user__name="Dana"
    )
    with scope(organization=org.pk):
        integration = create_integration(
            page, actor=Actor.system("test"), name="Prometheus", kind="alertmanager",
            components=[api], impact="critical", creates_drafts=True, severity="critical",
            category="data",
        )  # fmt: skip
    fire_alert(app_server, integration)
    # The alert fired twenty minutes ago, so the report has round figures to show.
    twenty_ago = timezone.now() - datetime.timedelta(minutes=20)
    with scopes_disabled():
        Incident.objects.update(created_at=twenty_ago, started_at=twenty_ago)
        draft = Incident.objects.get()

    log_in(browser_page, app_server, member.user.email)
    browser_page.goto(app_server + "/console/acme/incidents/?tab=drafts")
    browser_page.get_by_role("link", name="Primary database unreachable").click()
    browser_page.wait_for_url(f"**/incidents/{draft.public_id}/")
    main = browser_page.locator("main")
    assert "Draft: customers don't see this yet" in main.inner_text()
    assert "Overdue" in main.inner_text()  # critical, 20 minutes, nobody on it

    browser_page.get_by_role("button", name="Acknowledge").click()
    assert "Acknowledged: you own it." in main.inner_text()
    browser_page.get_by_label("Owner").select_option(label="Dana")
    browser_page.get_by_role("button", name="Save", exact=True).click()
    assert "Owner: Dana" in main.inner_text()

    browser_page.get_by_label("Public title").fill("Database outage")
    browser_page.get_by_label("First public message").fill("The primary database is down.")
    browser_page.get_by_role("button", name="Publish").click()
    assert "is now public" in main.inner_text()

    browser_page.goto(public_url(app_server, "acme", f"/incidents/{draft.public_id}"))
    assert "The primary database is down." in browser_page.inner_text("main")

    browser_page.goto(f"{app_server}/console/acme/incidents/{draft.public_id}/")
    browser_page.get_by_label("Status").select_option(label="Resolved")
    browser_page.get_by_label("Message").fill("Failed over; all good.")
    browser_page.get_by_role("button", name="Post update").click()
    assert "Failed over; all good." in main.inner_text()

    browser_page.goto(app_server + "/console/acme/incidents/report/")
    row = browser_page.get_by_role("row").nth(1)
    cells = [cell.strip() for cell in row.inner_text().split("\t")]
    _period, count, mtta, never, mttr = cells
    assert (count, never) == ("1", "0")
    assert 20 <= float(mtta) < 22 and 20 <= float(mttr) < 22
    with scopes_disabled():
        incident = Incident.objects.get()
    assert incident.owner == colleague.user and incident.status == "resolved"
