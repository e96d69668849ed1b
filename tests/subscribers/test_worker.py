"""The real pipeline: PostgreSQL, Redis, an RQ worker process in burst mode and an SMTP sink."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django_scopes import scope

from components.models import Component
from incidents.services import open_incident
from statuspage.actors import Actor
from subscribers.models import Subscriber
from tests.component_factories import ComponentFactory

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def real_queue(settings):
    if connection.vendor != "postgresql" or not os.environ.get("REDIS_URL"):
        if os.environ.get("REQUIRE_SERVICES"):
            pytest.fail("REQUIRE_SERVICES is set but PostgreSQL and REDIS_URL are not both in use")
        pytest.skip("needs PostgreSQL and a real Redis (REDIS_URL)")
    import django_rq

    settings.JOBS_RUN_IN_PROCESS = False
    queue = django_rq.get_queue("default")
    _empty(queue)
    yield queue
    _empty(queue)


def _empty(queue) -> None:
    """The queue and its scheduled jobs (retries a send job scheduled for later)."""
    queue.empty()
    registry = queue.scheduled_job_registry
    for job_id in registry.get_job_ids():
        registry.remove(job_id, delete_job=True)


def _worker_env(smtp_port: int, redis_url: str | None = None, **extra: str) -> dict:
    database = connection.settings_dict
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "statuspage.settings",
        "DEBUG": "true",
        "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST'] or '127.0.0.1'}:"
        f"{database['PORT'] or 5432}/{database['NAME']}",
        "REDIS_URL": redis_url or os.environ["REDIS_URL"],
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}/?timeout=5",
        "APP_HOST": django_settings.APP_HOST,
        "BASE_DOMAIN": django_settings.BASE_DOMAIN,
        "SITE_PORT": "",
        "SITE_SCHEME": "http",
        **extra,
    }


def run_worker(smtp_port: int, redis_url: str | None = None, **extra: str) -> None:
    subprocess.run(
        [sys.executable, "manage.py", "rqworker", "default", "--burst"],
        cwd=ROOT, env=_worker_env(smtp_port, redis_url, **extra), check=True,
        capture_output=True, timeout=300,
    )  # fmt: skip


def test_one_email_per_interested_subscriber_through_a_real_worker(
    page, smtp_sink, real_queue, django_capture_on_commit_callbacks
):
    api = ComponentFactory(page=page, name="API")
    web = ComponentFactory(page=page, name="Web")
    with scope(organization=page.organization_id):
        Subscriber.objects.bulk_create(
            Subscriber(organization=page.organization, page=page, email=f"s{i}@example.test",
                       confirmed_at="2026-01-01T00:00Z")
            for i in range(1000)
        )  # fmt: skip
        only_web = list(Subscriber.objects.filter(page=page).order_by("pk")[:100])
        for subscriber in only_web:
            subscriber.components.set([web])
        with django_capture_on_commit_callbacks(execute=True):
            incident = open_incident(page, actor=Actor.system("test"), name="API errors",
                                     impact="major", component_statuses={api: None})  # fmt: skip
    # Enqueued on commit: the update's fan-out, and the API component change's (webhooks).
    assert sorted(job.func_name for job in real_queue.jobs) == [
        "subscribers.jobs.fan_out_component_change_job",
        "subscribers.jobs.fan_out_job",
    ]
    run_worker(django_settings.EMAIL_PORT)
    expected = sorted(
        f"s{i}@example.test"
        for i in range(1000)
        if f"s{i}@example.test" not in {s.email for s in only_web}
    )
    assert smtp_sink.recipients() == expected
    _, message = smtp_sink.messages[0]
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "/subscribe/unsubscribe/" in message["List-Unsubscribe"]

    # Running the fan-out again sends nothing new.
    with scope(organization=page.organization_id):
        update = incident.updates.get()
    real_queue.enqueue("subscribers.jobs.fan_out_job", update.pk)
    run_worker(django_settings.EMAIL_PORT)
    assert len(smtp_sink.messages) == 900
    assert Component.objects.with_scopes_disabled().count() == 2


def test_redis_down_while_posting_loses_nothing(
    page, smtp_sink, real_queue, settings, django_capture_on_commit_callbacks
):
    """The operator's post succeeds with Redis down; the sweep delivers once it is back."""
    import time as clock

    port = _free_port()
    redis = _start_redis(port)
    settings.RQ_QUEUES = {"default": {"URL": f"redis://127.0.0.1:{port}/0"}}
    with scope(organization=page.organization_id):
        Subscriber.objects.create(
            organization=page.organization, page=page, email="a@example.test",
            confirmed_at="2026-01-01T00:00Z",
        )  # fmt: skip
    redis.terminate()
    redis.wait()
    with scope(organization=page.organization_id), django_capture_on_commit_callbacks(execute=True):
        incident = open_incident(page, actor=Actor.system("test"), name="Redis is down")
    assert incident.pk is not None
    redis = _start_redis(port)
    try:
        import datetime

        import time_machine

        from subscribers.services import sweep

        later = datetime.datetime.now(datetime.UTC) + datetime.timedelta(minutes=2)
        with time_machine.travel(later, tick=False):
            assert sweep()["fan_outs"] == 1
        clock.sleep(0.1)
        run_worker(django_settings.EMAIL_PORT, redis_url=f"redis://127.0.0.1:{port}/0")
    finally:
        redis.terminate()
        redis.wait()
    assert smtp_sink.recipients() == ["a@example.test"]


def test_a_killed_worker_loses_nothing_and_is_recovered_within_a_minute(
    page, smtp_sink, real_queue, settings, django_capture_on_commit_callbacks
):
    """SIGKILL mid-batch, with the production lease (DELIVERY_LEASE_SECONDS, a minute): the
    dead worker's heartbeat expires, the periodic release frees its rows and another worker
    sends them, well within the minute. Nothing is lost, and only the messages the dead job
    had not marked sent yet (DELIVERY_MARK_EVERY) arrive twice."""
    import signal
    import time as clock

    from statuspage.worker import HEARTBEAT_SECONDS, HEARTBEAT_TTL
    from subscribers.services import release_abandoned_sends

    smtp_sink.stall_seconds = 0.02
    emails = [f"k{i}@example.test" for i in range(200)]
    with scope(organization=page.organization_id):
        Subscriber.objects.bulk_create(
            Subscriber(organization=page.organization, page=page, email=email,
                       confirmed_at="2026-01-01T00:00Z")
            for email in emails
        )  # fmt: skip
        with django_capture_on_commit_callbacks(execute=True):
            open_incident(page, actor=Actor.system("test"), name="Kill the worker")
    extra = {"DELIVERY_BATCH_SIZE": "100", "DELIVERY_MARK_EVERY": "5"}
    killed = _start_worker(**extra)
    deadline = clock.time() + 60
    while len(smtp_sink.messages) < 30 and clock.time() < deadline:
        clock.sleep(0.05)
    os.killpg(killed.pid, signal.SIGKILL)  # the worker, mid-batch (it runs jobs itself)
    killed.wait()
    killed_at = clock.monotonic()
    delivered_before = len(smtp_sink.messages)
    assert 30 <= delivered_before < 200
    smtp_sink.stall_seconds = 0
    survivor = _start_worker(**extra)
    try:
        released = 0
        while set(smtp_sink.recipients()) != set(emails) and clock.monotonic() < killed_at + 90:
            released += release_abandoned_sends()  # what the scheduler runs every 15 s
            clock.sleep(1)
        recovered_after = clock.monotonic() - killed_at
    finally:
        os.killpg(survivor.pid, signal.SIGKILL)
        survivor.wait()
    received = smtp_sink.recipients()
    assert sorted(set(received)) == sorted(emails)  # nothing lost
    assert recovered_after < 60, recovered_after
    assert recovered_after >= HEARTBEAT_TTL - HEARTBEAT_SECONDS  # by the expired heartbeat
    assert 0 < released <= 100 - 30 + 5  # the dead job's rows it had not marked sent
    copies = {email: received.count(email) for email in emails}
    assert max(copies.values()) <= 2  # at most one duplicate per recipient
    assert sum(c - 1 for c in copies.values()) <= 5  # only the marks it had not flushed
    print(
        f"recovered {recovered_after:.1f} s after SIGKILL; {released} rows released; "
        f"{sum(c - 1 for c in copies.values())} duplicates"
    )


def _start_worker(**extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "manage.py", "rqworker", "default"], cwd=ROOT,
        env=_worker_env(django_settings.EMAIL_PORT, **extra), start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_redis(port: int) -> subprocess.Popen:
    import shutil
    import time as clock

    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    import redis as redis_client

    for _ in range(100):
        try:
            redis_client.Redis(port=port).ping()
            return process
        except redis_client.ConnectionError:
            clock.sleep(0.05)
    raise RuntimeError("redis-server did not start")


def test_webhook_challenge_and_component_update_through_a_real_worker(
    page, smtp_sink, real_queue, receiver, django_capture_on_commit_callbacks
):
    import json

    from components.services import set_component_status
    from subscribers.models import Delivery
    from subscribers.services import add_webhook_subscriber
    from tests.subscribers.test_webhooks import echo

    receiver.answer_for = echo
    api = ComponentFactory(page=page, name="API")
    with scope(organization=page.organization_id), django_capture_on_commit_callbacks(execute=True):
        subscriber = add_webhook_subscriber(page, actor=Actor.system("test"), endpoint=receiver.url)
    assert receiver.received == []  # the challenge waits for a worker
    run_worker(django_settings.EMAIL_PORT)
    subscriber.refresh_from_db()
    assert subscriber.state == "confirmed"
    with scope(organization=page.organization_id), django_capture_on_commit_callbacks(execute=True):
        set_component_status(api, actor=Actor.system("test"), status="major_outage")
    run_worker(django_settings.EMAIL_PORT)
    challenge, event = (json.loads(body) for _, body in receiver.received)
    assert challenge["type"] == "challenge"
    assert event["component_update"]["new_status"] == "major_outage"
    assert list(Delivery.objects.with_scopes_disabled().values_list("status", flat=True)) == [
        "sent"
    ]
    assert smtp_sink.messages == []


def test_a_deferred_batch_is_scheduled_again_when_its_back_off_ends(page, smtp_sink, real_queue):
    """451 for two of three: one job, in RQ's scheduler, for exactly those two rows, due when
    the later back-off ends, so they go out then rather than at the next sweep."""
    from subscribers import services
    from subscribers.models import Delivery

    smtp_sink.defer_first = 2
    with scope(organization=page.organization_id):
        for email in ("a@example.test", "b@example.test", "c@example.test"):
            Subscriber.objects.create(organization=page.organization, page=page, email=email,
                                      confirmed_at="2026-01-01T00:00Z")  # fmt: skip
        incident = open_incident(page, actor=Actor.system("t"), name="Down", impact="major")
        update = incident.updates.get()
        services.fan_out_update(update)  # enqueues the send job; run here instead
        ids = sorted(Delivery.objects.filter(update=update).values_list("pk", flat=True))
        assert services.send_deliveries(ids, page.organization_id) == {
            "sent": 1, "failed": 0, "retry": 2,
        }  # fmt: skip
        waiting = dict(
            Delivery.objects.filter(update=update, status="pending").values_list(
                "pk", "next_attempt_at"
            )
        )
    registry = real_queue.scheduled_job_registry
    (job_id,) = registry.get_job_ids()
    job = real_queue.fetch_job(job_id)
    assert (job.func_name, job.args) == (services.SEND_JOB, (sorted(waiting), page.organization_id))
    due = registry.get_scheduled_time(job)
    assert abs((due - max(waiting.values())).total_seconds()) < 1
