"""The public site in a real browser: fresh after a post, and accessible (axe-core)."""

import json

import pytest
from axe_playwright_python.sync_playwright import Axe
from django_scopes import scope

from incidents.services import open_incident
from statuspage.actors import Actor
from tests.component_factories import ComponentFactory
from tests.e2e.conftest import public_url
from tests.e2e.test_incident_flow import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_incident_posted_in_the_console_is_public_on_the_next_load(
    app_server, browser_page, member, page
):
    ComponentFactory(page=page, name="API")
    home = public_url(app_server, "acme")
    browser_page.goto(home)
    assert "All Systems Operational" in browser_page.inner_text(".banner")

    log_in(browser_page, app_server, member.user.email)
    browser_page.goto(app_server + "/console/acme/incidents/new/")
    browser_page.get_by_label("Title").fill("Checkout is failing")
    browser_page.get_by_label("Impact").select_option("critical")
    browser_page.get_by_label("API", exact=True).select_option("impact")
    browser_page.get_by_label("Initial message").fill("We are on it.")
    browser_page.get_by_role("button", name="Declare incident").click()
    browser_page.wait_for_url("**/console/acme/incidents/*/")

    browser_page.goto(home)
    # max-age lets a browser reuse its copy for a few seconds; a reload asks the server, which
    # has already moved on to the new content version.
    browser_page.reload()
    assert "Major System Outage" in browser_page.inner_text(".banner")
    assert browser_page.get_by_role("link", name="Checkout is failing").is_visible()
    browser_page.goto(public_url(app_server, "acme", "/api/v2/summary.json"))
    browser_page.reload()
    summary = json.loads(browser_page.inner_text("body"))
    assert [i["name"] for i in summary["incidents"]] == ["Checkout is failing"]
    assert summary["status"]["indicator"] == "critical"


def test_public_pages_pass_axe(app_server, browser_page, page):
    api = ComponentFactory(page=page, name="API")
    with scope(organization=page.organization_id):
        incident = open_incident(page, actor=Actor.system("t"), name="API errors", impact="major",
                                 body="Details", component_statuses={api: None})  # fmt: skip
    axe = Axe()
    for path in ["/", f"/incidents/{incident.public_id}", "/history"]:
        browser_page.goto(public_url(app_server, "acme", path))
        results = axe.run(browser_page)
        violations = [(v["id"], len(v["nodes"])) for v in results.response["violations"]]
        assert violations == [], path


def test_console_pages_pass_axe(app_server, browser_page, member, page):
    api = ComponentFactory(page=page, name="API")
    with scope(organization=page.organization_id):
        incident = open_incident(page, actor=Actor.system("t"), name="API errors",
                                 component_statuses={api: None})  # fmt: skip
        draft = open_incident(page, actor=Actor.system("t"), name="Alert: disk full",
                              component_statuses={api: None}, draft=True,
                              severity="critical")  # fmt: skip
    log_in(browser_page, app_server, member.user.email)
    axe = Axe()
    paths = ["/console/acme/", "/console/acme/incidents/new/", "/console/acme/components/",
             f"/console/acme/incidents/{incident.public_id}/", "/console/acme/subscribers/",
             "/console/acme/settings/", "/console/acme/team/", "/console/acme/incidents/",
             f"/console/acme/incidents/{draft.public_id}/", "/console/acme/incidents/responders/",
             "/console/acme/incidents/report/"]  # fmt: skip
    for path in paths:
        browser_page.goto(app_server + path)
        results = axe.run(browser_page)
        violations = [(v["id"], len(v["nodes"])) for v in results.response["violations"]]
        assert violations == [], path


def test_public_pages_fit_a_320px_screen(app_server, browser, page):
    api = ComponentFactory(page=page, name="API with a rather long component name")
    with scope(organization=page.organization_id):
        incident = open_incident(page, actor=Actor.system("t"), name="API errors", impact="major",
                                 body="Details", component_statuses={api: None})  # fmt: skip
    narrow = browser.new_context(viewport={"width": 320, "height": 640})
    tab = narrow.new_page()
    widths = {}
    for path in ["/", f"/incidents/{incident.public_id}", "/history", "/subscribe"]:
        tab.goto(public_url(app_server, "acme", path))
        widths[path] = tab.evaluate("document.documentElement.scrollWidth")
    assert set(widths.values()) == {320}, widths
    tab.goto(public_url(app_server, "acme"))
    for bar in (".bars li:first-child", ".bars li:last-child"):
        tab.hover(bar)
        label = tab.locator(f"{bar} span").bounding_box()
        assert label["x"] >= 0 and label["x"] + label["width"] <= 320, (bar, label)
    assert (
        tab.locator(".bars li:last-child span")
        .inner_text()
        .endswith("uptime, 1 incident: API errors")
    )
    narrow.close()
