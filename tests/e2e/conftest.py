"""Browser tests: Playwright driving Debian's chromium (never a downloaded browser).

The live server listens on localhost:<port>; the app host is `localhost` and each page's
public site is `<slug>.localhost:<port>`, which chromium resolves to loopback by itself.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

import pytest

CHROMIUM_PATH = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(autouse=True)
def _allow_orm_beside_playwright(monkeypatch):
    # Playwright's sync API keeps an event loop on this thread; our test code calls the ORM
    # synchronously between browser steps, which is safe here.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def app_server(live_server, settings):
    """The live server's base URL, with hosts routed as in production."""
    port = urlsplit(live_server.url).port
    settings.APP_HOST = "localhost"
    settings.BASE_DOMAIN = "localhost"
    settings.SITE_PORT = str(port)
    settings.CSRF_TRUSTED_ORIGINS = [f"http://localhost:{port}"]
    settings.AXES_ENABLED = False
    return f"http://localhost:{port}"


@pytest.fixture
def browser():
    """A fresh chromium per test: Playwright's sync API runs an event loop on this thread,
    which must not outlive the test (Django refuses ORM calls while a loop is running)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM_PATH, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def browser_page(browser):
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def public_url(app_server: str, slug: str, path: str = "/") -> str:
    port = urlsplit(app_server).port
    return f"http://{slug}.localhost:{port}{path}"
