"""Redis gone must degrade, never fail.

One private redis-server is both the cache and the queue (as docker-compose had it); the test
kills it, freezes it, or cuts it off behind a proxy and heals the partition with its old data
still there. Throughout, the public site answers from PostgreSQL with current content, the
console and the API work, posts commit, health says what is degraded, the outage is logged
once, and once Redis is back a real worker and the sweep deliver the notifications once.
"""

from __future__ import annotations

import datetime
import io
import json
import logging
import sys
import time
from collections.abc import Callable

import pytest
from django.conf import settings as django_settings
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection
from django.test import Client
from django_scopes import scope, scopes_disabled

from incidents.models import Incident
from statuspage import hosts, public_cache, publishing, queue
from statuspage.actors import Actor
from statuspage.breaker import _breakers
from statuspage.enums import Role
from statuspage.models import Page
from statuspage.periodic import run_due_jobs
from statuspage.public_cache import PublicFastPath
from statuspage.services import create_api_key
from statuspage.settings import redis_cache
from subscribers.models import Subscriber
from tests.component_factories import ComponentFactory
from tests.conftest import BASE_DOMAIN, member_with_role, needs_postgresql
from tests.factories import PASSWORD
from tests.faults import PrivateRedis, TcpProxy, free_port
from tests.subscribers import conftest as subscriber_fixtures

pytestmark = pytest.mark.django_db(transaction=True)

smtp_sink = subscriber_fixtures.smtp_sink  # a real SMTP sink (aiosmtpd)
HOST = f"acme.{BASE_DOMAIN}"
COOLDOWN = 1.0
FAST = 1.0  # "well under a second": every request, even the one that pays the timeout
timings: dict[str, list[float]] = {}


@pytest.fixture(scope="module", autouse=True)
def _report_timings():
    """The slowest request of each kind, printed once the module has run (`pytest -s`)."""
    yield
    for label, values in sorted(timings.items()):
        print(f"{label:32} n={len(values):3} max={max(values) * 1000:7.1f} ms")


def reset_process_state() -> None:
    """What a fresh process would have: no breaker tripped, nothing remembered."""
    for breaker in _breakers.values():
        breaker._reset()  # cache backends of this thread hold theirs
    _breakers.clear()
    queue._redis.cache_clear()
    hosts._remembered.clear()
    hosts._last_known.clear()
    publishing._last_known.clear()
    with public_cache._local_lock:
        public_cache._local.clear()


def use_redis(settings, url: str, queue_url: str | None = None) -> None:
    config = redis_cache(url)
    config["OPTIONS"]["BREAKER_COOLDOWN"] = COOLDOWN
    settings.CACHES = {"default": config}
    settings.RQ_QUEUES = {"default": {"URL": queue_url or url, "DEFAULT_TIMEOUT": 600}}
    settings.JOBS_RUN_IN_PROCESS = False
    settings.REDIS_BREAKER_COOLDOWN = COOLDOWN


@pytest.fixture
def redis_server(settings):
    """One private Redis used as both the cache and the queue."""
    server = PrivateRedis().start()
    reset_process_state()
    use_redis(settings, server.url())
    yield server
    server.close()
    reset_process_state()


@pytest.fixture
def world(page, member):
    api = ComponentFactory(page=page, name="API")
    with scope(organization=page.organization_id):
        Subscriber.objects.create(
            organization=page.organization,
            page=page,
            email="a@example.test",
            confirmed_at="2026-01-01T00:00Z",
        )
    _, raw_key = create_api_key(
        page.organization, actor=Actor.system("t"), name="ci", access="responder", pages=[]
    )
    return {"page": page, "api": api, "key": raw_key, "member": member}


def timed(label: str, call: Callable):
    started = time.perf_counter()
    result = call()
    took = time.perf_counter() - started
    timings.setdefault(label, []).append(took)
    assert took < FAST, f"{label} took {took:.3f}s"
    return result


def wsgi_get(path: str = "/", host: str = HOST) -> tuple[str, bytes]:
    """A request through the WSGI fast path, as gunicorn would make it."""
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": host,
        "SERVER_PORT": "80",
        "HTTP_HOST": host,
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": sys.stderr,
    }
    captured = {}

    def start_response(status, headers, exc_info=None):
        captured["status"] = status

    body = b"".join(PublicFastPath(WSGIHandler())(environ, start_response))
    return captured["status"], body


def post_incident_from_console(client: Client, world, name: str):
    return client.post(
        f"/console/{world['page'].slug}/incidents/new/",
        {
            "name": name,
            "status": "investigating",
            "impact": "major",
            "body": "Looking into it.",
            f"component_{world['api'].public_id}": "impact",
            "deliver_notifications": "on",
        },
    )


def post_incident_from_api(world, name: str):
    client = Client(HTTP_AUTHORIZATION=f"OAuth {world['key']}")
    return client.post(
        f"/api/v1/pages/{world['page'].public_id}/incidents",
        {
            "incident": {
                "name": name,
                "status": "investigating",
                "body": "Looking",
                "deliver_notifications": True,
            }
        },
        content_type="application/json",
    )


def public_views_show(public: Client, name: str, incident: Incident | None = None) -> None:
    """Home, v2 summary and the incident's page: 200 and current."""
    home = timed("public /", lambda: public.get("/"))
    assert (home.status_code, name in home.content.decode()) == (200, True)
    summary = timed("public summary.json", lambda: public.get("/api/v2/summary.json"))
    names = [i["name"] for i in json.loads(summary.content)["incidents"]]
    assert (summary.status_code, name in names) == (200, True)
    if incident is not None:
        detail = timed("public incident", lambda: public.get(f"/incidents/{incident.public_id}"))
        assert (detail.status_code, name in detail.content.decode()) == (200, True)


def history_shows(public: Client, name: str) -> bool:
    history = timed("public /history", lambda: public.get("/history"))
    assert history.status_code == 200
    return name in history.content.decode()


def incident_named(name: str) -> Incident:
    with scopes_disabled():
        return Incident.objects.get(name=name)


def readiness() -> tuple[int, dict]:
    response = Client().get("/healthz/ready")
    return response.status_code, json.loads(response.content)


def check_degraded_everywhere(world, public: Client, label: str) -> None:
    """With Redis unreachable (however): everything answers, fast, with current content."""
    page = world["page"]
    public_views_show(public, "Warm-up incident", incident_named("Warm-up incident"))
    status, body = timed("fast path /", lambda: wsgi_get("/"))
    assert (status, b"Warm-up incident" in body) == ("200 OK", True)

    login = Client()
    response = timed(
        "login POST",
        lambda: login.post(
            "/accounts/login/", {"username": world["member"].user.email, "password": PASSWORD}
        ),
    )
    assert (response.status_code, response["Location"]) == (302, "/console/")
    dashboard = timed("console dashboard", lambda: login.get(f"/console/{page.slug}/"))
    assert dashboard.status_code == 200
    listing = timed("console incidents", lambda: login.get(f"/console/{page.slug}/incidents/"))
    assert (listing.status_code, "Warm-up incident" in listing.content.decode()) == (200, True)

    response = timed(
        "console post incident",
        lambda: post_incident_from_console(login, world, f"Console {label}"),
    )
    incident = incident_named(f"Console {label}")
    assert response["Location"] == f"/console/{page.slug}/incidents/{incident.public_id}/"
    public_views_show(public, f"Console {label}", incident)  # the very next request
    assert not history_shows(public, f"Console {label}")
    updates = f"/console/{page.slug}/incidents/{incident.public_id}/updates/"
    response = timed("console resolve", lambda: login.post(updates, {"status": "resolved"}))
    assert response.status_code == 302
    assert history_shows(public, f"Console {label}")  # closed: in the history now

    response = timed("API post incident", lambda: post_incident_from_api(world, f"API {label}"))
    assert response.status_code == 201
    public_views_show(public, f"API {label}", incident_named(f"API {label}"))
    api = Client(HTTP_AUTHORIZATION=f"OAuth {world['key']}")
    pages = timed("API GET pages", lambda: api.get("/api/v1/pages"))
    assert [p["id"] for p in json.loads(pages.content)] == [page.public_id]

    health = timed("healthz", lambda: Client().get("/healthz"))
    assert (health.status_code, health.content) == (200, b"ok")
    status, body = timed("healthz/ready", readiness)
    assert (status, body["status"], body["checks"]["database"]) == (
        200,
        "degraded",
        {"status": "ok"},
    )
    assert body["checks"]["cache"]["status"] == "unavailable"
    assert body["checks"]["queue"]["status"] == "unavailable"


def warm_up(world) -> Client:
    public = Client(HTTP_HOST=HOST)
    response = post_incident_from_api(world, "Warm-up incident")
    assert response.status_code == 201
    public_views_show(public, "Warm-up incident", incident_named("Warm-up incident"))
    assert wsgi_get("/")[0] == "200 OK"
    assert readiness() == (
        200,
        {
            "status": "ok",
            "checks": {
                "database": {"status": "ok"},
                "cache": {"status": "ok"},
                "queue": {"status": "ok"},
            },
        },
    )
    return public


def test_redis_killed_everything_answers_and_the_outage_is_logged_once(redis_server, world, caplog):
    public = warm_up(world)
    caplog.set_level(logging.WARNING, logger="statuspage.breaker")
    redis_server.stop()
    check_degraded_everywhere(world, public, "while Redis is dead")
    outage_lines = [r.getMessage() for r in caplog.records if "unavailable since" in r.getMessage()]
    assert sorted(line.split(" unavailable")[0] for line in outage_lines) == [
        f"cache redis at 127.0.0.1:{redis_server.port}/0",
        f"queue redis at 127.0.0.1:{redis_server.port}/0",
    ]
    with scopes_disabled():
        assert Page.objects.get(pk=world["page"].pk).is_version_mirrored is False

    redis_server.start()  # empty, as after a crash
    time.sleep(COOLDOWN)
    public_views_show(public, "API while Redis is dead")
    assert timed("fast path /", lambda: wsgi_get("/"))[0] == "200 OK"
    assert readiness()[1]["status"] == "ok"
    with scopes_disabled():  # the recovery reconciled the version marker
        assert Page.objects.get(pk=world["page"].pk).is_version_mirrored is True
    assert any("available again" in r.getMessage() for r in caplog.records)


def test_redis_frozen_costs_one_timeout_per_outage_not_per_request(redis_server, world):
    public = warm_up(world)
    redis_server.pause()
    try:
        check_degraded_everywhere(world, public, "while Redis is frozen")
        time.sleep(COOLDOWN)  # the breaker probes again: one more timeout, still fast
        public_views_show(public, "API while Redis is frozen")
    finally:
        redis_server.resume()
    time.sleep(COOLDOWN)
    public_views_show(public, "API while Redis is frozen")


@pytest.fixture
def partitioned(settings, redis_server):
    """The cache and queue reached through a proxy the test may cut and heal, Redis keeping
    its data meanwhile."""
    proxy = TcpProxy(redis_server.port).start()
    use_redis(settings, f"redis://127.0.0.1:{proxy.port}/0")
    yield proxy
    proxy.close()


def test_a_healed_partition_serves_no_stale_page(partitioned, world):
    public = warm_up(world)
    assert b"Warm-up incident" in wsgi_get("/")[1]  # the old version, cached in Redis
    partitioned.cut()
    response = post_incident_from_api(world, "During the partition")
    assert response.status_code == 201
    public_views_show(public, "During the partition")
    partitioned.restore()  # Redis still holds the old mirror and the old responses
    time.sleep(COOLDOWN)
    status, body = wsgi_get("/")  # the first request finds Redis back: reconciled first
    assert (status, b"During the partition" in body) == ("200 OK", True)
    public_views_show(public, "During the partition")
    with scopes_disabled():
        assert Page.objects.get(pk=world["page"].pk).is_version_mirrored is True


def test_the_periodic_reconcile_fixes_a_mirror_another_process_left_behind(partitioned, world):
    public = warm_up(world)
    partitioned.cut()
    assert post_incident_from_api(world, "Written elsewhere").status_code == 201
    partitioned.restore()
    reset_process_state()  # a process that never saw the outage: no recovery hook runs here
    assert b"Written elsewhere" not in wsgi_get("/")[1]  # the stale mirror, until reconciled
    from statuspage.jobs import reconcile_content_versions_job

    assert reconcile_content_versions_job() == 1
    assert b"Written elsewhere" in wsgi_get("/")[1]
    public_views_show(public, "Written elsewhere")
    assert reconcile_content_versions_job() == 0


def test_a_host_resolved_before_still_resolves_without_database_and_cache(redis_server, world):
    needs_postgresql("only a database server can be unreachable")
    page = world["page"]
    ref = hosts.resolve_host(HOST)
    version = publishing.content_version(page.pk)
    redis_server.stop()
    database = connection.settings_dict
    saved = (database["HOST"], database["PORT"])
    connection.close()
    database["HOST"], database["PORT"] = "127.0.0.1", free_port()  # nothing listens there
    try:
        assert hosts.resolve_host(HOST) == ref
        assert publishing.content_version(page.pk) == version
    finally:
        connection.close()
        database["HOST"], database["PORT"] = saved


def test_periodic_jobs_survive_redis_down_and_resume(redis_server, settings):
    import django_rq

    redis_server.stop()
    last_run: dict[str, float] = {}
    done = timed("run_due_jobs, Redis down", lambda: run_due_jobs(last_run, 1000.0))
    assert (done, last_run) == ([], {})  # refused: every job stays due for the next tick
    redis_server.start()
    time.sleep(COOLDOWN)
    done = run_due_jobs(last_run, 1001.0)  # the next tick, not a whole interval later
    assert done == [path for path, _ in settings.PERIODIC_JOBS]
    assert last_run == dict.fromkeys(done, 1001.0)
    jobs = django_rq.get_queue("default", connection=queue._redis(redis_server.url())).jobs
    assert sorted(job.func_name for job in jobs) == sorted(p for p, _ in settings.PERIODIC_JOBS)


@pytest.mark.services
def test_notifications_posted_while_redis_was_dead_go_out_once_it_is_back(
    redis_server, world, smtp_sink
):
    needs_postgresql("the worker subprocess")
    import time_machine

    from subscribers.services import sweep
    from tests.subscribers.test_worker import run_worker

    console = Client()
    console.force_login(member_with_role(world["page"].organization, Role.RESPONDER).user)
    redis_server.stop()
    response = timed(
        "console post incident",
        lambda: post_incident_from_console(console, world, "Posted while Redis was dead"),
    )
    assert response.status_code == 302
    redis_server.start()
    time.sleep(COOLDOWN)
    later = datetime.datetime.now(datetime.UTC) + datetime.timedelta(minutes=2)
    with time_machine.travel(later, tick=False):
        assert sweep()["fan_outs"] == 1
    run_worker(django_settings.EMAIL_PORT, redis_url=redis_server.url())
    assert smtp_sink.recipients() == ["a@example.test"]
    with time_machine.travel(later + datetime.timedelta(minutes=2), tick=False):
        sweep()  # nothing due any more: the fan-out was recorded
    run_worker(django_settings.EMAIL_PORT, redis_url=redis_server.url())
    assert smtp_sink.recipients() == ["a@example.test"]  # exactly once
