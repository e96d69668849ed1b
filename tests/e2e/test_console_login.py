import pytest

from tests.e2e.conftest import public_url
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_operator_logs_in_and_opens_the_public_page(app_server, browser_page, member, page):
    browser_page.goto(app_server + "/accounts/login/")
    browser_page.get_by_label("Email").fill(member.user.email)
    browser_page.get_by_label("Password").fill(PASSWORD)
    browser_page.get_by_role("button", name="Log in").click()
    browser_page.wait_for_url(app_server + "/console/acme/")
    assert browser_page.get_by_role("heading", level=1).inner_text() == "Acme Cloud"
    browser_page.goto(public_url(app_server, "acme"))
    assert browser_page.title() == "Acme Cloud Status"
