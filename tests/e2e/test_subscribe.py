import re

import pytest
from django.core import mail

from tests.e2e.conftest import public_url

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_subscribe_and_confirm_from_the_email(app_server, browser_page, page):
    browser_page.goto(public_url(app_server, "acme"))
    browser_page.get_by_role("link", name="Subscribe to updates").click()
    browser_page.get_by_label("Email address").fill("reader@example.test")
    browser_page.get_by_role("button", name="Subscribe").click()
    assert browser_page.get_by_role("heading", name="Check your inbox").is_visible()
    [message] = mail.outbox
    link = re.search(r"(http://acme\.localhost:\d+/subscribe/confirm/\S+)", message.body)[1]
    browser_page.goto(link)
    assert browser_page.get_by_role("heading", name="You're subscribed").is_visible()
