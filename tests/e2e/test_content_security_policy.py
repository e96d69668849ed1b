"""No Content-Security-Policy violation on the console, the API reference and public pages.

Each page is loaded in chromium with a listener for `securitypolicyviolation` events (added
before any of the page's own scripts run) and for console errors, which is where chromium
also reports a blocked resource or a malformed policy header.
"""

import base64
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django_scopes import scope

from incidents.services import open_incident
from statuspage import services
from statuspage.actors import Actor
from tests.component_factories import ComponentFactory
from tests.e2e.conftest import public_url
from tests.e2e.test_incident_flow import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ONE_PIXEL_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
)
COLLECT_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__violations.push(`${event.violatedDirective} blocked ${event.blockedURI || "inline"}`);
});
"""


@pytest.fixture
def watched_page(browser_page):
    errors = []
    browser_page.add_init_script(COLLECT_VIOLATIONS)

    def on_console(message):
        # A missing favicon is the browser's own request, not one of ours.
        if message.type == "error" and not message.location.get("url", "").endswith("favicon.ico"):
            errors.append(message.text)

    browser_page.on("console", on_console)
    browser_page.on("pageerror", lambda error: errors.append(str(error)))
    # A request that fails (or is blocked) names its URL here.
    browser_page.on("requestfailed", lambda request: errors.append(f"failed: {request.url}"))
    browser_page.errors = errors
    return browser_page


def visit(page, url: str) -> list[str]:
    page.goto(url)
    page.wait_for_load_state("networkidle")
    return [*page.evaluate("window.__violations"), *page.errors]


def test_console_and_api_reference_run_without_violations(app_server, watched_page, member, page):
    with scope(organization=page.organization_id):
        services.set_page_logo(page, actor=Actor.system("t"), data=ONE_PIXEL_PNG)
    log_in(watched_page, app_server, member.user.email)
    paths = ["/console/acme/", "/console/acme/incidents/new/", "/console/acme/api-keys/"]
    for path in [*paths, "/console/acme/settings/"]:
        assert visit(watched_page, app_server + path) == [], path
    logo = watched_page.get_by_alt_text("Current logo")
    assert logo.evaluate("image => image.complete && image.naturalWidth") == 1
    visit(watched_page, app_server + "/api/v1/docs")
    # Redoc rendered the description (its script ran under the policy).
    watched_page.wait_for_selector("text=Status page management API", timeout=15_000)
    watched_page.wait_for_load_state("networkidle")
    # Its "powered by" logo is on a CDN, which our img-src leaves out (on purpose).
    redoc_logo = "https://cdn.redoc.ly/redoc/logo-mini.svg"
    found = [*watched_page.evaluate("window.__violations"), *watched_page.errors]
    assert [problem for problem in found if redoc_logo not in problem] == []


def test_public_pages_run_without_violations(app_server, watched_page, member, page):
    ComponentFactory(page=page, name="API")
    with scope(organization=page.organization_id):
        incident = open_incident(
            page, actor=Actor.system("t"), name="Checkout is failing", impact="major",
            body="We are on it.", component_statuses={},
        )  # fmt: skip
    for path in ("/", f"/incidents/{incident.public_id}", "/history", "/subscribe"):
        url = public_url(app_server, "acme", path)
        assert visit(watched_page, url) == [], path
        assert visit(watched_page, url) == [], f"{path} (from the cache)"


@pytest.fixture
def customer_site():
    """A customer's web page on another origin, which frames /embed and loads /embed.js."""
    pages = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            body = pages.get(self.path, "").encode()
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield pages, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    thread.join()


def test_the_embed_widget_and_frame_work_on_a_customer_site(
    app_server, watched_page, page, customer_site
):
    pages, origin = customer_site
    embed = public_url(app_server, "acme", "/embed")
    script = public_url(app_server, "acme", "/embed.js")
    pages["/"] = (
        f'<!doctype html><title>Customer</title><iframe src="{embed}" title="Status"></iframe>'
        f'<script async src="{script}"></script>'
    )
    assert visit(watched_page, origin + "/") == []
    frame = watched_page.frame(url=embed)
    assert frame is not None
    assert "All Systems Operational" in frame.inner_text("body")
