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
    queue.empty()
    yield queue
    queue.empty()


def run_worker(smtp_port: int) -> None:
    database = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "statuspage.settings",
        "DEBUG": "true",
        "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST'] or '127.0.0.1'}:"
        f"{database['PORT'] or 5432}/{database['NAME']}",
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}/?timeout=5",
        "APP_HOST": django_settings.APP_HOST,
        "BASE_DOMAIN": django_settings.BASE_DOMAIN,
        "SITE_PORT": "",
        "SITE_SCHEME": "http",
    }
    subprocess.run(
        [sys.executable, "manage.py", "rqworker", "default", "--burst"],
        cwd=ROOT, env=env, check=True, capture_output=True, timeout=300,
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
                                     component_statuses={api: None})  # fmt: skip
    assert real_queue.count == 1  # the fan-out job, enqueued on commit
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
