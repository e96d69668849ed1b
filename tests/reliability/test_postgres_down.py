"""PostgreSQL cut while the site runs (issue item 2): the public page serves its last good copy,
saying when it was current; the console says the database is unavailable; and a write cut at
any point of its transaction leaves all of it or none of it.

The app's connection goes through a TcpProxy in front of the test database, so the fault is a
real reset and refusal, never the PostgreSQL the rest of the suite uses.
"""

import pytest
from django.db import connection
from django.test import Client
from django_scopes import scopes_disabled

from components.models import Component, ComponentStatusChange
from incidents.models import Incident, IncidentComponent, IncidentUpdate
from statuspage.models import AuditEntry
from statuspage.publishing import public_content_changed
from tests.component_factories import ComponentFactory
from tests.conftest import BASE_DOMAIN, login_client, needs_postgresql
from tests.faults import TcpProxy

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

HOST = f"acme.{BASE_DOMAIN}"
MESSAGE = "Database unavailable: your changes were not saved. Try again in a minute."


@pytest.fixture
def proxy():
    """The app's database connection, through a proxy the test may cut."""
    needs_postgresql("a database server to cut off")
    settings_dict = connection.settings_dict
    real = (settings_dict["HOST"], settings_dict["PORT"])
    server = TcpProxy(target_port=int(real[1] or 5432), target_host=real[0] or "127.0.0.1")
    server.start()
    connection.close()
    settings_dict["HOST"], settings_dict["PORT"] = "127.0.0.1", str(server.port)
    try:
        yield server
    finally:
        connection.close()
        settings_dict["HOST"], settings_dict["PORT"] = real
        server.close()


def reconnect(proxy):
    """Forward again, and end the server sessions the cut left behind.

    A cut network resets our side only: PostgreSQL keeps its end of each cut connection (and
    the row locks of an open transaction) until TCP keepalive notices, hours later by default;
    production wants `idle_in_transaction_session_timeout` for that. Here, the test ends them
    at once, over a connection of its own that bypasses the proxy."""
    import psycopg

    proxy.restore()
    connection.close()
    database = connection.settings_dict
    with psycopg.connect(host=proxy.target[0], port=proxy.target[1], dbname=database["NAME"],
                         user=database["USER"], password=database["PASSWORD"] or None,
                         autocommit=True) as direct:  # fmt: skip
        direct.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


def test_the_public_page_serves_its_last_good_copy_while_postgres_is_cut(page, member, proxy):
    visitor = Client(HTTP_HOST=HOST, raise_request_exception=False)
    console = login_client(member)
    console.raise_request_exception = False
    good = visitor.get("/")
    good_json = visitor.get("/api/v2/summary.json")
    assert good.status_code == 200 and b"Live updates are delayed" not in good.content
    public_content_changed(page)  # a write since: the cached entries are no longer current
    proxy.cut()
    try:
        stale = visitor.get("/")
        stale_json = visitor.get("/api/v2/summary.json")
        nothing = visitor.get("/history?page=2")  # never rendered: no copy to show
        console_page = console.get("/console/acme/incidents/")
    finally:
        reconnect(proxy)
    assert (stale.status_code, stale["Cache-Control"]) == (
        200,
        "public, max-age=10, stale-if-error=86400",
    )
    assert b"Live updates are delayed." in stale.content
    assert (stale_json.status_code, stale_json.content) == (200, good_json.content)
    assert "X-Stale-As-Of" in stale_json
    assert (nothing.status_code, nothing["Retry-After"]) == (503, "60")
    assert console_page.status_code == 503 and MESSAGE in console_page.content.decode()
    assert b"Traceback" not in console_page.content
    fresh = visitor.get("/")  # back: rendered from the database again
    assert fresh.status_code == 200 and b"Live updates are delayed" not in fresh.content


def test_connection_refused_at_connect_time_is_handled_the_same(page, proxy):
    visitor = Client(HTTP_HOST=HOST, raise_request_exception=False)
    visitor.get("/")
    public_content_changed(page)
    connection.close()  # no open connection: the next query has to connect, and is refused
    proxy.cut()
    try:
        stale = visitor.get("/")
    finally:
        reconnect(proxy)
    assert stale.status_code == 200 and b"Live updates are delayed." in stale.content


def written(page):
    with scopes_disabled():
        return {
            "incidents": Incident.objects.filter(page=page).count(),
            "updates": IncidentUpdate.objects.filter(incident__page=page).count(),
            "affected": IncidentComponent.objects.filter(incident__page=page).count(),
            "status changes": ComponentStatusChange.objects.filter(component__page=page).count(),
            "audit entries": AuditEntry.objects.filter(organization=page.organization).count(),
            "component status": Component.objects.get(page=page).status,
        }


def undo(page, before):
    """Remove a complete write, so the next attempt starts from the same rows."""
    with scopes_disabled():
        Incident.objects.filter(page=page).delete()
        ComponentStatusChange.objects.filter(component__page=page).delete()
        AuditEntry.objects.filter(organization=page.organization).delete()
        Component.objects.filter(page=page).update(status="operational",
                                                   baseline_status="operational")  # fmt: skip
    assert written(page) == before


def test_a_console_post_cut_at_any_point_writes_all_of_it_or_none_of_it(
    page, member, proxy, settings
):
    """The incident post is cut before each of its queries in turn, and before its commit:
    afterwards either the whole incident is there (and the console said so), or nothing is
    (and the console said the change was not saved)."""
    import django_rq

    settings.JOBS_RUN_IN_PROCESS = False  # side effects go to the queue, as in production
    component = ComponentFactory(page=page, name="API")
    console = login_client(member)
    console.raise_request_exception = False
    form = {"name": "API errors", "status": "investigating", "impact": "major",
            "body": "Looking into it.", f"component_{component.public_id}": "impact"}  # fmt: skip
    before = written(page)
    state = {"cut_at": None, "queries": 0}

    def cut_before_query(execute, sql, params, many, context):
        state["queries"] += 1
        if state["queries"] == state["cut_at"]:
            proxy.cut()
        return execute(sql, params, many, context)

    real_commit = connection._commit

    def cut_before_commit():
        if state["cut_at"] == "commit":
            proxy.cut()
        return real_commit()

    def post_cut_at(point):
        state.update(cut_at=point, queries=0)
        connection._commit = cut_before_commit
        try:
            with connection.execute_wrapper(cut_before_query):
                return console.post("/console/acme/incidents/new/", form)
        finally:
            connection._commit = real_commit
            reconnect(proxy)

    def check(point, response):
        after = written(page)
        if response.status_code == 503:
            assert MESSAGE in response.content.decode(), point
            assert after == before, point  # "not saved" is true
        else:
            assert response.status_code == 302, point
            assert after == {**before, "incidents": 1, "updates": 1, "affected": 1,
                             "status changes": 1, "audit entries": before["audit entries"] + 1,
                             "component status": "partial_outage"}, point  # fmt: skip
            undo(page, before)
        return response.status_code

    outcomes = {"commit": check("commit", post_cut_at("commit"))}
    point = 1
    while True:
        response = post_cut_at(point)
        if state["queries"] < point:  # the post made fewer queries: every one has been cut
            check("none", response)
            break
        outcomes[point] = check(point, response)
        point += 1
    django_rq.get_queue("default").empty()
    assert outcomes["commit"] == 503
    assert point > 5 and set(outcomes.values()) <= {302, 503}
