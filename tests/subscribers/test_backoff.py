"""Retries with exponential back-off, on a frozen clock: the schedule, its cap, the last
attempt, Retry-After, and a sweep (or a repeated send job) that leaves rows not yet due."""

import datetime

import pytest
import time_machine
from django_scopes import scope, scopes_disabled

from subscribers import services
from subscribers.jobs import send_deliveries_job
from subscribers.models import Delivery, Subscriber
from tests.incident_factories import open_incident
from tests.subscribers.conftest import add_webhook

pytestmark = pytest.mark.django_db
T0 = datetime.datetime(2026, 12, 1, 12, 0, tzinfo=datetime.UTC)
NOTHING = {"fan_outs": 0, "component_fan_outs": 0, "send_jobs": 0, "released": 0}


@pytest.fixture(autouse=True)
def _no_jitter(settings):
    settings.DELIVERY_RETRY_BASE_SECONDS = 30
    settings.DELIVERY_RETRY_MAX_SECONDS = 300
    settings.DELIVERY_RETRY_JITTER_PERCENT = 0
    settings.DELIVERY_MAX_ATTEMPTS = 8


def at(seconds: float):
    return time_machine.travel(T0 + datetime.timedelta(seconds=seconds), tick=False)


def notify(page, *, seconds: float = 0) -> Delivery:
    """An incident update fanned out `seconds` after T0 to the page's subscribers; its one
    delivery."""
    with at(seconds):
        incident = open_incident(page)
        with scope(organization=page.organization_id):
            services.fan_out_update(incident.updates.get())
    with scopes_disabled():
        return Delivery.objects.get()


def reload(delivery) -> Delivery:
    return Delivery.objects.with_scopes_disabled().get(pk=delivery.pk)


def test_retries_wait_30s_1m_2m_4m_then_the_cap_and_stop_at_max_attempts(page, receiver):
    add_webhook(page, receiver.url)
    receiver.status = 503
    delivery = notify(page)
    now, waits = 0.0, []
    while (delivery := reload(delivery)).status == "pending":
        wait = (delivery.next_attempt_at - (T0 + datetime.timedelta(seconds=now))).total_seconds()
        waits.append(wait)
        with at(now + wait - 1):
            assert services.sweep() == NOTHING  # not yet due: left alone
        now += wait
        with at(now):
            assert services.sweep() == {**NOTHING, "send_jobs": 1}
    assert waits == [30, 60, 120, 240, 300, 300, 300]
    assert len(receiver.received) == 8
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == ("failed", 8, None)
    assert delivery.error == "OutboundError: HTTP 503 (gave up after 8 attempts)"
    with at(now + 3600):
        assert services.sweep() == NOTHING


def test_a_send_job_run_again_does_not_jump_the_back_off(page, receiver):
    add_webhook(page, receiver.url)
    receiver.status = 500
    delivery = notify(page)
    receiver.status = 200
    with at(10):
        assert send_deliveries_job([delivery.pk]) == {"sent": 0, "failed": 0, "retry": 0}
    assert (reload(delivery).status, len(receiver.received)) == ("pending", 1)
    with at(30):
        assert send_deliveries_job([delivery.pk]) == {"sent": 1, "failed": 0, "retry": 0}
    assert (reload(delivery).status, len(receiver.received)) == ("sent", 2)


@pytest.mark.parametrize(
    ("retry_after", "wait"),
    [
        ("120", 120),
        ("Tue, 01 Dec 2026 12:07:00 GMT", 120),  # an HTTP date, two minutes after the attempt
        ("86400", 300),  # the cap
        ("soon", 30),  # unreadable: the ordinary back-off
    ],
)
def test_a_429_with_retry_after_is_honoured_within_the_cap(page, receiver, retry_after, wait):
    add_webhook(page, receiver.url)
    receiver.status, receiver.headers = 429, {"Retry-After": retry_after}
    delivery = reload(notify(page, seconds=300))
    assert delivery.error == "OutboundError: HTTP 429"
    assert delivery.next_attempt_at == T0 + datetime.timedelta(seconds=300 + wait)


def test_a_down_smtp_server_backs_every_row_off_with_jitter(page, smtp_sink, settings):
    settings.DELIVERY_RETRY_JITTER_PERCENT = 20
    settings.EMAIL_PORT = 1  # nothing listens there
    with scope(organization=page.organization_id):
        Subscriber.objects.bulk_create(
            Subscriber(organization=page.organization, page=page, email=f"j{i}@example.test",
                       confirmed_at=T0)
            for i in range(30)
        )  # fmt: skip
    with at(0):
        incident = open_incident(page)
        with scope(organization=page.organization_id):
            services.fan_out_update(incident.updates.get())
    with scopes_disabled():
        rows = list(Delivery.objects.values_list("status", "attempts", "next_attempt_at"))
    assert {(status, attempts) for status, attempts, _ in rows} == {("pending", 1)}
    waits = [(when - T0).total_seconds() for _, _, when in rows]
    assert all(24 <= wait <= 30 for wait in waits), waits
    assert len(set(waits)) > 1  # spread out, so they do not all come back at once


def test_retry_delay_schedule_and_cap(settings):
    settings.DELIVERY_RETRY_MAX_SECONDS = 3600
    waits = [services.retry_delay(n).total_seconds() for n in range(1, 10)]
    assert waits == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]
    assert services.retry_delay(3, retry_after=5).total_seconds() == 5
    assert services.retry_delay(3, retry_after=-5).total_seconds() == 0
