"""Webhook subscribers against a real local HTTP receiver: incident events, the challenge that
confirms a new endpoint, the private-address guard."""

import hashlib
import hmac
import json

import pytest
from django_scopes import scope

from subscribers import services
from subscribers.models import Delivery, Subscriber
from tests.component_factories import ComponentFactory
from tests.incident_factories import open_incident
from tests.subscribers.conftest import ACTOR, add_webhook

pytestmark = pytest.mark.django_db


def fan_out(page, **kwargs):
    incident = open_incident(page, **kwargs)
    with scope(organization=page.organization_id):
        update = incident.updates.get()
        services.fan_out_update(update)
    return incident, update


def signed_by(subscriber, headers, body) -> bool:
    expected = "sha256=" + hmac.new(subscriber.secret.encode(), body, hashlib.sha256).hexdigest()
    return headers["X-Status-Signature"] == expected


def echo(body: bytes) -> bytes:
    """An endpoint that answers a challenge with its token (and any event with nothing)."""
    return json.loads(body).get("challenge", "").encode()


def test_webhook_gets_signed_statuspage_json(page, receiver):
    api = ComponentFactory(page=page, name="API")
    subscriber = add_webhook(page, receiver.url)
    incident, update = fan_out(page, name="API errors", impact="major",
                               component_statuses={api: None})  # fmt: skip
    [(headers, body)] = receiver.received
    assert signed_by(subscriber, headers, body)
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
    subscriber = add_webhook(page, receiver.url)
    receiver.status = 503
    _, update = fan_out(page)
    with scope(organization=page.organization_id):
        assert Delivery.objects.get(update=update).status == "pending"  # retried later
    receiver.status = 410
    for _ in range(9):
        fan_out(page)
    subscriber.refresh_from_db()
    assert (subscriber.webhook_failures, subscriber.quarantined_at is not None) == (10, True)
    with scope(organization=page.organization_id):
        assert Delivery.objects.filter(status="failed").count() == 9
    before = len(receiver.received)
    fan_out(page)
    assert len(receiver.received) == before  # quarantined: no more posts


def test_private_addresses_are_refused_in_production(page, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    with pytest.raises(Exception) as error:
        add_webhook(page, "http://127.0.0.1:9/hook")
    assert str(error.value) == "127.0.0.1 resolves to a private address."
    with scope(organization=page.organization_id):
        assert Subscriber.objects.count() == 0


# --- The challenge --------------------------------------------------------------------------


def challenged(page, receiver, django_capture_on_commit_callbacks):
    """A webhook added without the operator's word: the challenge job runs on commit."""
    with django_capture_on_commit_callbacks(execute=True):
        subscriber = add_webhook(page, receiver.url, skip_confirmation=False)
    subscriber.refresh_from_db()
    return subscriber


@pytest.mark.parametrize(
    "answer_for", [echo, lambda body: json.dumps({"challenge": echo(body).decode()}).encode()]
)
def test_an_endpoint_that_echoes_the_challenge_is_confirmed(
    page, receiver, django_capture_on_commit_callbacks, answer_for
):
    receiver.answer_for = answer_for
    subscriber = challenged(page, receiver, django_capture_on_commit_callbacks)
    [(headers, body)] = receiver.received
    data = json.loads(body)
    assert data["type"] == "challenge"
    assert data["challenge"] == subscriber.challenge
    assert len(subscriber.challenge) == 32
    assert data["page"] == {"id": page.public_id, "name": page.name}
    assert signed_by(subscriber, headers, body)
    assert (subscriber.state, subscriber.challenge_error) == ("confirmed", "")


@pytest.mark.parametrize(
    ("status", "answer", "delay", "reason"),
    [
        (200, b"not-the-token", 0, "The endpoint answered without echoing the challenge."),
        (200, b"", 0, "The endpoint answered without echoing the challenge."),
        (404, b"", 0, "HTTP 404"),
        (500, b"", 0, "HTTP 500"),
        (200, b"", 1.5, "TimeoutError: timed out"),
    ],
)
def test_a_wrong_echo_an_error_or_a_timeout_leaves_the_webhook_pending_with_the_reason(
    page, receiver, settings, django_capture_on_commit_callbacks, status, answer, delay, reason
):
    settings.WEBHOOK_TIMEOUT = 0.5
    receiver.status, receiver.answer, receiver.delay_seconds = status, answer, delay
    subscriber = challenged(page, receiver, django_capture_on_commit_callbacks)
    assert (subscriber.state, subscriber.challenge_error) == ("pending", reason)
    assert len(receiver.received) == 1


def test_the_challenge_is_never_posted_inside_the_request(console_client, page, receiver):
    receiver.answer_for = echo
    response = console_client.post("/console/acme/subscribers/webhooks/add/",
                                   {"webhook-endpoint": receiver.url})  # fmt: skip
    assert response.status_code == 302
    assert receiver.received == []  # the job runs after commit, on a worker
    with scope(organization=page.organization_id):
        subscriber = Subscriber.objects.get(kind="webhook")
    assert (subscriber.state, len(subscriber.challenge)) == ("pending", 32)


def test_a_challenge_sent_again_uses_a_new_token_and_confirms(
    page, receiver, django_capture_on_commit_callbacks
):
    subscriber = challenged(page, receiver, django_capture_on_commit_callbacks)
    first_token = subscriber.challenge
    assert subscriber.challenge_error == "The endpoint answered without echoing the challenge."
    receiver.answer_for = echo
    with scope(organization=page.organization_id), django_capture_on_commit_callbacks(execute=True):
        services.resend_confirmation(subscriber, actor=ACTOR)
    subscriber.refresh_from_db()
    assert subscriber.challenge != first_token
    assert json.loads(receiver.received[-1][1])["challenge"] == subscriber.challenge
    assert (subscriber.state, subscriber.challenge_error) == ("confirmed", "")


def test_a_stale_challenge_answer_confirms_nothing(page, receiver):
    receiver.answer_for = echo
    subscriber = add_webhook(page, receiver.url, skip_confirmation=False)  # job not run yet
    stale = Subscriber.objects.with_scopes_disabled().get(pk=subscriber.pk)
    with scope(organization=page.organization_id):
        services.resend_confirmation(subscriber, actor=ACTOR)  # a new token replaces it
        assert services.send_webhook_challenge(stale) is False
    subscriber.refresh_from_db()
    assert subscriber.state == "pending"


def test_a_confirmed_webhook_is_not_challenged_again(page, receiver):
    subscriber = add_webhook(page, receiver.url)
    from subscribers.jobs import send_webhook_challenge_job

    send_webhook_challenge_job(subscriber.pk)
    assert receiver.received == []


def test_pending_webhooks_get_no_events(page, receiver, django_capture_on_commit_callbacks):
    challenged(page, receiver, django_capture_on_commit_callbacks)  # the echo is wrong
    fan_out(page)
    assert [json.loads(body)["type"] for _, body in receiver.received] == ["challenge"]


def test_the_challenge_respects_the_private_address_guard(page, receiver, settings):
    subscriber = add_webhook(page, receiver.url, skip_confirmation=False)
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    from subscribers.jobs import send_webhook_challenge_job

    send_webhook_challenge_job(subscriber.pk)
    subscriber.refresh_from_db()
    assert receiver.received == []
    assert (subscriber.state, subscriber.challenge_error) == (
        "pending",
        "127.0.0.1 resolves to a private address.",
    )


def test_api_webhook_subscribers_take_the_challenge(
    page, receiver, django_capture_on_commit_callbacks
):
    from django.test import Client

    from statuspage.services import create_api_key

    _, raw = create_api_key(page.organization, actor=ACTOR, name="k", access="admin")
    client = Client(HTTP_AUTHORIZATION=f"OAuth {raw}")
    receiver.answer_for = echo
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/api/v1/pages/{page.public_id}/subscribers",
                               {"subscriber": {"endpoint": receiver.url}},
                               content_type="application/json")  # fmt: skip
    assert (response.status_code, response.json()["confirmed_at"]) == (201, None)
    with scope(organization=page.organization_id):
        subscriber = Subscriber.objects.get(kind="webhook")
    assert json.loads(receiver.received[0][1])["challenge"] == subscriber.challenge
    assert subscriber.state == "confirmed"


# --- Console --------------------------------------------------------------------------------


def test_console_adds_a_webhook_and_shows_the_secret_once(console_client, page, receiver):
    response = console_client.post("/console/acme/subscribers/webhooks/add/",
                                   {"webhook-endpoint": receiver.url}, follow=True)  # fmt: skip
    [message] = [str(m) for m in response.context["messages"]]
    with scope(organization=page.organization_id):
        subscriber = Subscriber.objects.get(kind="webhook")
    assert message == (
        f"Webhook added. Its signing secret (shown once): {subscriber.secret}. "
        "We are sending it a challenge to echo."
    )
    again = console_client.post("/console/acme/subscribers/webhooks/add/",
                                {"webhook-endpoint": receiver.url})  # fmt: skip
    assert again.status_code == 400


def test_console_operator_vouches_for_a_webhook_at_once(console_client, page, receiver):
    console_client.post("/console/acme/subscribers/webhooks/add/",
                        {"webhook-endpoint": receiver.url,
                         "webhook-skip_confirmation": "on"})  # fmt: skip
    with scope(organization=page.organization_id):
        subscriber = Subscriber.objects.get(kind="webhook")
    assert (subscriber.state, subscriber.challenge) == ("confirmed", "")


def test_console_shows_the_challenge_state_and_confirms_by_hand(
    console_client, page, receiver, django_capture_on_commit_callbacks
):
    receiver.status = 404
    subscriber = challenged(page, receiver, django_capture_on_commit_callbacks)
    listing = console_client.get("/console/acme/subscribers/").content.decode()
    assert "Challenge not echoed: HTTP 404" in listing
    assert f"/console/acme/subscribers/{subscriber.public_id}/confirm/" in listing
    assert "Send the challenge again" in listing
    response = console_client.post(
        f"/console/acme/subscribers/{subscriber.public_id}/confirm/", follow=True
    )
    assert [str(m) for m in response.context["messages"]] == [f"{receiver.url} confirmed."]
    subscriber.refresh_from_db()
    assert (subscriber.state, subscriber.challenge_error) == ("confirmed", "")
    listing = console_client.get("/console/acme/subscribers/").content.decode()
    assert "Challenge not echoed" not in listing


def test_console_cannot_confirm_an_email_subscriber_by_hand(console_client, page):
    with scope(organization=page.organization_id):
        subscriber = services.add_subscriber(page, actor=ACTOR, email="p@example.test")
    response = console_client.post(
        f"/console/acme/subscribers/{subscriber.public_id}/confirm/", follow=True
    )
    assert [str(m) for m in response.context["messages"]] == [
        "Email addresses confirm themselves, from the link we send."
    ]
    subscriber.refresh_from_db()
    assert subscriber.state == "pending"
