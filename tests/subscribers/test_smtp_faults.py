"""Sending through a real SMTP server (aiosmtpd) that defers, refuses and disappears."""

import datetime

import pytest
import time_machine
from django_scopes import scope

from subscribers import services
from subscribers.jobs import send_deliveries_job
from subscribers.models import Delivery, EventBacklog, Subscriber
from tests.conftest import needs_postgresql
from tests.incident_factories import open_incident

pytestmark = pytest.mark.django_db


def fan_out(page, emails):
    with scope(organization=page.organization_id):
        for email in emails:
            Subscriber.objects.create(organization=page.organization, page=page, email=email,
                                      confirmed_at="2026-01-01T00:00Z")  # fmt: skip
    incident = open_incident(page)
    with scope(organization=page.organization_id):
        update = incident.updates.get()
        services.fan_out_update(update)
    return update


def statuses(update):
    with scope(organization=update.organization_id):
        return dict(
            Delivery.objects.filter(update=update).values_list("subscriber__email", "status")
        )


def later(minutes):
    return time_machine.travel(
        datetime.datetime.now(datetime.UTC) + datetime.timedelta(minutes=minutes)
    )


def test_every_subscriber_gets_one_message_with_headers(page, smtp_sink):
    update = fan_out(page, [f"r{i}@example.test" for i in range(20)])
    assert smtp_sink.recipients() == sorted(f"r{i}@example.test" for i in range(20))
    rcpts, message = smtp_sink.messages[0]
    assert message["To"] == rcpts[0]
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Message-ID"].startswith("<delivery-")
    with scope(organization=page.organization_id):
        subscriber = Subscriber.objects.get(email=rcpts[0])
    import re

    from subscribers.links import read_manage_token, subscription_base_url

    # The tokens are timestamped to the second: read back, not compared with fresh ones.
    base = re.escape(subscription_base_url(page))
    text, html = (part.get_payload(decode=True).decode() for part in message.get_payload())
    for body in (text, html):
        for kind in ("manage", "unsubscribe"):
            (token,) = set(re.findall(rf"{base}/{kind}/([^\s\"<]+)", body))
            assert read_manage_token(token) == subscriber.public_id
        assert "%%" not in body
    (token,) = re.findall(rf"^<{base}/unsubscribe/([^>]+)>", message["List-Unsubscribe"])
    assert read_manage_token(token) == subscriber.public_id
    assert set(statuses(update).values()) == {"sent"}
    with scope(organization=page.organization_id):
        services.fan_out_update(update)
    assert len(smtp_sink.messages) == 20


def test_deferred_messages_are_retried_and_delivered(page, smtp_sink):
    smtp_sink.defer_first = 2
    update = fan_out(page, ["a@example.test", "b@example.test", "c@example.test"])
    assert sorted(statuses(update).values()) == ["pending", "pending", "sent"]
    with later(2):
        services.sweep()
    assert set(statuses(update).values()) == {"sent"}
    assert smtp_sink.recipients() == ["a@example.test", "b@example.test", "c@example.test"]


def test_a_refused_address_fails_alone_and_is_quarantined_after_three(page, smtp_sink, settings):
    smtp_sink.refuse = {"bad@example.test"}
    updates = [fan_out(page, ["bad@example.test", "good@example.test"])]
    assert statuses(updates[0]) == {"bad@example.test": "failed", "good@example.test": "sent"}
    with scope(organization=page.organization_id):
        for _ in range(2):
            update = open_incident(page).updates.get()
            services.fan_out_update(update)
        bad = Subscriber.objects.get(email="bad@example.test")
        assert (bad.hard_failures, bad.quarantined_at is not None) == (3, True)
        update = open_incident(page).updates.get()
        services.fan_out_update(update)
    assert statuses(update) == {"good@example.test": "sent"}
    with scope(organization=page.organization_id):
        delivery = Delivery.objects.filter(subscriber=bad).first()
    assert "550" in delivery.error


def test_an_unreachable_server_loses_nothing(page, smtp_sink, settings):
    port = settings.EMAIL_PORT
    settings.EMAIL_PORT = 1  # nothing listens there
    update = fan_out(page, ["a@example.test", "b@example.test"])
    assert set(statuses(update).values()) == {"pending"}
    settings.EMAIL_PORT = port
    with later(2):
        services.sweep()
    assert set(statuses(update).values()) == {"sent"}


def test_a_stalled_server_times_out_and_is_retried(page, smtp_sink, settings):
    settings.EMAIL_TIMEOUT = 0.5
    smtp_sink.stall_seconds = 1.0
    update = fan_out(page, ["a@example.test"])
    assert statuses(update) == {"a@example.test": "pending"}
    smtp_sink.stall_seconds = 0
    with later(2):
        services.sweep()
    assert statuses(update)["a@example.test"] == "sent"


def test_rows_leased_by_a_dead_worker_are_reclaimed_after_the_lease(page, smtp_sink):
    update = fan_out(page, [])
    with scope(organization=page.organization_id):
        subscriber = Subscriber.objects.create(organization=page.organization, page=page,
                                               email="x@example.test",
                                               confirmed_at="2026-01-01T00:00Z")  # fmt: skip
        delivery = Delivery.objects.create(
            organization=page.organization, update=update, subscriber=subscriber,
            claimed_at=datetime.datetime.now(datetime.UTC),
        )  # fmt: skip
        EventBacklog.objects.create(organization=page.organization, update=update)
    services.sweep()
    assert statuses(update) == {"x@example.test": "pending"}  # lease not expired: hands off
    assert send_deliveries_job([delivery.pk], page.organization_id)["sent"] == 0
    with later(10):
        services.sweep()
    assert statuses(update) == {"x@example.test": "sent"}


@pytest.mark.django_db(transaction=True)
def test_several_connections_per_job_send_each_message_once(page, smtp_sink, settings):
    # SQLite serialises writers across threads ("table is locked").
    needs_postgresql("parallel SMTP lanes need a database that takes concurrent writes")
    settings.DELIVERY_CONNECTIONS = 3
    emails = [f"p{i}@example.test" for i in range(40)]
    update = fan_out(page, emails)
    assert smtp_sink.recipients() == sorted(emails)
    assert set(statuses(update).values()) == {"sent"}
