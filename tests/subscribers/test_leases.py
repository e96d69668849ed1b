"""A send job's lease: renewed while it sends, fenced by its token, so that two jobs never
hold one row at once and a job whose lease was taken over changes nothing any more."""

import datetime
import threading

import pytest
import time_machine
from django.db import connection
from django_scopes import scope, scopes_disabled

from subscribers import services
from subscribers.models import Delivery
from tests.conftest import needs_postgresql
from tests.subscribers.test_flows import after_the_lease, confirmed, fanned_out_with_jobs_lost
from tests.subscribers.test_smtp_faults import fan_out, statuses

pytestmark = pytest.mark.django_db


def rows(ids):
    with scopes_disabled():
        return list(Delivery.objects.filter(pk__in=ids).order_by("pk").values_list(
            "status", "claimed_at", "attempts", "error"))  # fmt: skip


def test_a_lease_taken_over_is_lost_and_its_late_writes_change_nothing(page, settings):
    for n in range(3):
        confirmed(page, f"r{n}@example.test")
    _, ids = fanned_out_with_jobs_lost(page, settings)
    with scope(organization=page.organization_id):
        first, first_lease = services._claim(ids, page.organization_id)
        with after_the_lease(settings):  # the first job stalled past its lease
            second, second_lease = services._claim(ids, page.organization_id)
            assert [d.pk for d in second] == ids
            first_lease._renew()
            assert [first_lease.holds(pk) for pk in ids] == [False, False, False]
            services._mark_failed(first[0], RuntimeError("late"), permanent=False,
                                  lease=first_lease)  # fmt: skip
            assert rows(ids) == [("pending", second_lease.token, 0, "")] * 3
            second_lease._renew()
            assert [second_lease.holds(pk) for pk in ids] == [True, True, True]


def test_a_renewed_lease_holds_past_its_first_term(page, settings):
    confirmed(page, "r@example.test")
    _, ids = fanned_out_with_jobs_lost(page, settings)
    start = datetime.datetime.now(datetime.UTC)
    lease_seconds = settings.DELIVERY_LEASE_SECONDS
    with scope(organization=page.organization_id):
        with time_machine.travel(start, tick=False):
            _, lease = services._claim(ids, page.organization_id)
        with time_machine.travel(start + datetime.timedelta(seconds=lease_seconds * 0.75)):
            lease._renew()
        later = start + datetime.timedelta(seconds=lease_seconds * 1.5)
        with time_machine.travel(later, tick=False):
            assert services._claim(ids, page.organization_id)[0] == []  # still held
            assert services.sweep(later)["send_jobs"] == 0
        with time_machine.travel(later + datetime.timedelta(seconds=lease_seconds)):
            assert [d.pk for d in services._claim(ids, page.organization_id)[0]] == ids


@pytest.mark.django_db(transaction=True)
def test_a_job_whose_lease_was_taken_over_stops_sending(page, smtp_sink, settings):
    """A job stalls on its first message past its lease; another takes the rows over and
    sends them; the first, back, finds at its renewal that it lost them and sends no more.
    Only the message in flight during the stall arrives twice."""
    needs_postgresql("two jobs writing at once need a database that takes concurrent writes")
    settings.DELIVERY_LEASE_SECONDS = 1
    emails = [f"t{n}@example.test" for n in range(5)]
    update = fan_out(page, [])
    for email in emails:
        confirmed(page, email)
    with scope(organization=page.organization_id):
        settings.JOBS_RUN_IN_PROCESS = False
        settings.RQ_QUEUES = {"default": {"URL": "redis://127.0.0.1:1/0"}}
        services.fan_out_update(update)
        ids = sorted(Delivery.objects.filter(update=update).values_list("pk", flat=True))
    smtp_sink.stall_first = 1
    smtp_sink.stall_seconds = 2.0
    settings.EMAIL_TIMEOUT = 5  # the stall outlasts the lease, not the timeout
    outcome = {}

    def first_job():
        with scope(organization=page.organization_id):
            outcome["first"] = services.send_deliveries(ids, page.organization_id)
        connection.close()

    thread = threading.Thread(target=first_job)
    thread.start()
    deadline = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=10)
    while smtp_sink.seen == 0 and datetime.datetime.now(datetime.UTC) < deadline:
        threading.Event().wait(0.05)
    threading.Event().wait(1.2)  # the first job's lease has run out mid-stall
    with scope(organization=page.organization_id):
        second = services.send_deliveries(ids, page.organization_id)
    thread.join()
    # The first sent the message in flight and stopped; the second took over the others
    # (and that one too, unless the first marked it sent just before the takeover).
    assert outcome["first"] == {"sent": 1, "failed": 0, "retry": 0}
    assert second in ({"sent": 5, "failed": 0, "retry": 0}, {"sent": 4, "failed": 0, "retry": 0})
    received = smtp_sink.recipients()
    assert sorted(set(received)) == emails
    copies = sorted(received.count(e) for e in emails)
    assert copies == [1, 1, 1, 1, second["sent"] - 3]  # one duplicate at most: the one in flight
    assert set(statuses(update).values()) == {"sent"}
