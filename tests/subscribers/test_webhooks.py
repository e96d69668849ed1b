"""Webhook subscribers against a real local HTTP receiver."""

import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django_scopes import scope

from statuspage.actors import Actor
from subscribers import services
from subscribers.models import Delivery, Subscriber
from tests.component_factories import ComponentFactory
from tests.incident_factories import open_incident

pytestmark = pytest.mark.django_db
ACTOR = Actor.system("tests")


@pytest.fixture
def receiver():
    received = []
    state = {"status": 200}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((dict(self.headers), body))
            self.send_response(state["status"])
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", received, state
    server.shutdown()


def add_webhook(page, url):
    with scope(organization=page.organization_id):
        return services.add_webhook_subscriber(page, actor=ACTOR, endpoint=url)


def fan_out(page, **kwargs):
    incident = open_incident(page, **kwargs)
    with scope(organization=page.organization_id):
        update = incident.updates.get()
        services.fan_out_update(update)
    return incident, update


def test_webhook_gets_signed_statuspage_json(page, receiver):
    url, received, _ = receiver
    api = ComponentFactory(page=page, name="API")
    subscriber = add_webhook(page, url)
    incident, update = fan_out(page, name="API errors", impact="major",
                               component_statuses={api: None})  # fmt: skip
    [(headers, body)] = received
    expected = "sha256=" + hmac.new(subscriber.secret.encode(), body, hashlib.sha256).hexdigest()
    assert headers["X-Status-Signature"] == expected
    data = json.loads(body)
    assert set(data) == {"meta", "page", "incident"}
    assert data["page"]["id"] == page.public_id
    assert data["page"]["status_indicator"] == "major"
    assert data["incident"]["id"] == incident.public_id
    assert data["incident"]["incident_updates"][0]["status"] == "investigating"
    assert "/subscribe/unsubscribe/" in data["meta"]["unsubscribe"]
    with scope(organization=page.organization_id):
        assert Delivery.objects.get(update=update).status == "sent"


def test_webhook_errors_retry_or_fail_and_ten_failures_quarantine(page, receiver):
    url, received, state = receiver
    subscriber = add_webhook(page, url)
    state["status"] = 503
    _, update = fan_out(page)
    with scope(organization=page.organization_id):
        assert Delivery.objects.get(update=update).status == "pending"  # retried later
    state["status"] = 410
    for _ in range(9):
        fan_out(page)
    subscriber.refresh_from_db()
    assert (subscriber.webhook_failures, subscriber.quarantined_at is not None) == (10, True)
    with scope(organization=page.organization_id):
        assert Delivery.objects.filter(status="failed").count() == 9
    before = len(received)
    fan_out(page)
    assert len(received) == before  # quarantined: no more posts


def test_private_addresses_are_refused_in_production(page, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    with pytest.raises(Exception) as error:
        add_webhook(page, "http://127.0.0.1:9/hook")
    assert str(error.value) == "127.0.0.1 resolves to a private address."
    with scope(organization=page.organization_id):
        assert Subscriber.objects.count() == 0


def test_console_adds_a_webhook_and_shows_the_secret_once(console_client, page, receiver):
    url, _, _ = receiver
    response = console_client.post("/console/acme/subscribers/webhooks/add/",
                                   {"webhook-endpoint": url}, follow=True)  # fmt: skip
    [message] = [str(m) for m in response.context["messages"]]
    with scope(organization=page.organization_id):
        subscriber = Subscriber.objects.get(kind="webhook")
    assert message == f"Webhook added. Its signing secret (shown once): {subscriber.secret}"
    again = console_client.post("/console/acme/subscribers/webhooks/add/",
                                {"webhook-endpoint": url})  # fmt: skip
    assert again.status_code == 400
