import pytest
from django_scopes import scope

from incidents.services import resolve_incident
from statuspage.actors import Actor
from tests.e2e.conftest import public_url
from tests.e2e.test_incident_flow import log_in
from tests.incident_factories import open_incident

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_write_preview_publish_and_track_an_action_item(app_server, browser_page, member, page):
    incident = open_incident(page, name="Checkout down", body="Investigating")
    with scope(organization=page.organization_id):
        resolve_incident(incident, actor=Actor.system("t"), body="Fixed")
    log_in(browser_page, app_server, member.user.email)
    browser_page.goto(app_server + f"/console/acme/incidents/{incident.public_id}/")
    browser_page.get_by_role("link", name="Write postmortem").click()
    browser_page.get_by_label("Summary").fill("Checkout failed for 20 minutes.")
    browser_page.get_by_label("Root cause").fill("An expired certificate.")
    rows = browser_page.get_by_label("What happened")
    rows.nth(2).fill("Certificate renewed")
    browser_page.get_by_label("Time").nth(2).fill("2026-11-01T10:15")
    browser_page.get_by_role("button", name="Save draft").click()
    browser_page.get_by_label("Description").fill("Alert 30 days before certificates expire")
    browser_page.get_by_role("button", name="Add").click()
    with browser_page.expect_popup() as popup:
        browser_page.get_by_role("link", name="Preview").click()
    preview = popup.value
    assert "this draft is not public yet" in preview.inner_text("body")
    assert "An expired certificate." in preview.inner_text("body")
    preview.close()
    browser_page.get_by_role("button", name="Publish").click()
    browser_page.goto(public_url(app_server, "acme", f"/incidents/{incident.public_id}"))
    browser_page.get_by_role("link", name="Read the postmortem").click()
    body = browser_page.inner_text("body")
    assert "Certificate renewed" in body
    assert "Alert 30 days before certificates expire" in body
    browser_page.goto(app_server + "/console/acme/postmortems/action-items/")
    browser_page.get_by_role("button", name="Mark done").click()
    browser_page.goto(app_server + "/console/acme/postmortems/action-items/?state=done")
    assert browser_page.get_by_text("Alert 30 days before certificates expire").is_visible()
