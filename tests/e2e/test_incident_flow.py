import pytest
from django_scopes import scope

from components.models import Component
from incidents.services import create_incident_template
from statuspage.actors import Actor
from tests.component_factories import ComponentFactory
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(browser_page, app_server, email):
    browser_page.goto(app_server + "/accounts/login/")
    browser_page.get_by_label("Email").fill(email)
    browser_page.get_by_label("Password").fill(PASSWORD)
    browser_page.get_by_role("button", name="Log in").click()
    browser_page.wait_for_url("**/console/**")


def component_status(browser_page, app_server, name):
    browser_page.goto(app_server + "/console/acme/components/")
    row = browser_page.get_by_role("row").filter(has_text=name)
    return row.get_by_role("cell").nth(1).inner_text().split("\n")[0].strip()


def test_incident_from_template_through_to_resolved(app_server, browser_page, member, page):
    api = ComponentFactory(page=page, name="API")
    web = ComponentFactory(page=page, name="Web")
    with scope(organization=page.organization_id):
        create_incident_template(
            page, actor=Actor.system("test"), name="Full outage", title="Service unavailable",
            impact="critical", components=[api, web], body="We are investigating.",
        )  # fmt: skip
    log_in(browser_page, app_server, member.user.email)

    browser_page.goto(app_server + "/console/acme/incidents/new/")
    browser_page.get_by_label("Start from a template").select_option(label="Full outage")
    browser_page.get_by_role("button", name="Use template").click()
    assert browser_page.get_by_label("Title").input_value() == "Service unavailable"
    browser_page.get_by_role("button", name="Declare incident").click()
    browser_page.wait_for_url("**/console/acme/incidents/*/")
    incident_url = browser_page.url

    assert component_status(browser_page, app_server, "API") == "Major outage"
    assert component_status(browser_page, app_server, "Web") == "Major outage"

    for status, message in [
        ("Identified", "A bad deploy; rolling back."),
        ("Monitoring", "Rolled back; watching."),
        ("Resolved", "All good again."),
    ]:
        browser_page.goto(incident_url)
        browser_page.get_by_label("Status").select_option(label=status)
        browser_page.get_by_label("Message").fill(message)
        browser_page.get_by_role("button", name="Post update").click()
        browser_page.wait_for_url(incident_url)
        assert message in browser_page.inner_text("main")

    assert component_status(browser_page, app_server, "API") == "Operational"
    assert component_status(browser_page, app_server, "Web") == "Operational"
    with scope(organization=page.organization_id):
        assert set(Component.objects.values_list("status", flat=True)) == {"operational"}
