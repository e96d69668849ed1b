"""The public site through HTTP: pages, Statuspage v2 JSON shapes, feeds, badge, embed."""

import datetime
import json
import re

import pytest
from django.test import Client
from django_scopes import scope

from components import services as component_services
from incidents import services as incident_services
from statuspage.actors import Actor
from statuspage.security_headers import PUBLIC_POLICY
from tests.component_factories import ComponentFactory, ComponentGroupFactory
from tests.conftest import BASE_DOMAIN
from tests.incident_factories import open_incident

pytestmark = pytest.mark.django_db

ACTOR = Actor.system("tests")
PAGE_KEYS = {"id", "name", "url", "time_zone", "updated_at"}
COMPONENT_KEYS = {
    "id", "name", "status", "created_at", "updated_at", "position", "description", "showcase",
    "start_date", "group_id", "page_id", "group", "only_show_if_degraded",
}  # fmt: skip
INCIDENT_KEYS = {
    "id", "name", "status", "impact", "created_at", "updated_at", "monitoring_at", "resolved_at",
    "started_at", "shortlink", "page_id", "incident_updates", "components", "postmortem_body",
    "postmortem_published_at",
}  # fmt: skip
UPDATE_KEYS = {
    "id", "status", "body", "incident_id", "created_at", "updated_at", "display_at",
    "affected_components", "deliver_notifications",
}  # fmt: skip
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d$")


@pytest.fixture
def layout(page):
    group = ComponentGroupFactory(page=page, name="Core")
    api = ComponentFactory(page=page, group=group, name="API", position=0)
    web = ComponentFactory(page=page, group=group, name="Web", position=1)
    loose = ComponentFactory(page=page, name="Email", position=0)
    return group, api, web, loose


def get_json(client, path):
    response = client.get(path)
    assert response.status_code == 200, path
    assert response["Content-Type"] == "application/json"
    assert response["Access-Control-Allow-Origin"] == "*"
    return json.loads(response.content)


def test_front_page_shows_banner_components_and_incident(public_client, page, layout):
    _group, api, _web, _loose = layout
    open_incident(page, name="API errors", impact="major", component_statuses={api: None})
    body = public_client.get("/").content.decode()
    assert "Partial System Outage" in body
    assert "API errors" in body
    assert body.count('<ol class="bars"') == 3
    assert (
        len(re.findall(r'<li class="(?:up|minor|major|critical|no-data)"><span>', body)) == 3 * 90
    )
    assert "No incidents reported." in body
    assert '<link rel="alternate" type="application/atom+xml"' in body


def test_only_show_if_degraded_hides_operational_components(public_client, page):
    ComponentFactory(page=page, name="Hidden thing", only_show_if_degraded=True)
    assert "Hidden thing" not in public_client.get("/").content.decode()


def test_summary_json_shapes(public_client, page, layout):
    group, api, web, _loose = layout
    incident = open_incident(page, name="API errors", impact="major",
                             component_statuses={api: None}, body="Looking")  # fmt: skip
    data = get_json(public_client, "/api/v2/summary.json")
    assert set(data) == {"page", "components", "incidents", "scheduled_maintenances", "status"}
    assert set(data["page"]) == PAGE_KEYS
    assert data["page"]["id"] == page.public_id
    assert data["page"]["url"] == f"http://acme.{BASE_DOMAIN}"
    assert data["status"] == {"indicator": "major", "description": "Partial System Outage"}
    rows = {row["name"]: row for row in data["components"]}
    assert [row["name"] for row in data["components"]] == ["Email", "Core", "API", "Web"]
    assert set(rows["API"]) == COMPONENT_KEYS
    assert (rows["API"]["status"], rows["API"]["group_id"], rows["API"]["group"]) == (
        "partial_outage",
        group.public_id,
        False,
    )
    assert rows["Core"]["group"] is True
    assert rows["Core"]["components"] == [api.public_id, web.public_id]
    assert rows["Core"]["status"] == "partial_outage"
    [item] = data["incidents"]
    assert set(item) == INCIDENT_KEYS
    assert (item["id"], item["status"], item["impact"]) == (
        incident.public_id,
        "investigating",
        "major",
    )
    assert item["shortlink"] == f"http://acme.{BASE_DOMAIN}/incidents/{incident.public_id}"
    [update] = item["incident_updates"]
    assert set(update) == UPDATE_KEYS
    assert update["affected_components"] == [
        {"code": api.public_id, "name": "API", "old_status": "operational",
         "new_status": "partial_outage"}
    ]  # fmt: skip
    assert TIMESTAMP.match(item["created_at"]) and TIMESTAMP.match(update["display_at"])
    assert [c["id"] for c in item["components"]] == [api.public_id]


def test_timestamps_use_the_page_time_zone(public_client, page):
    page.time_zone = "America/New_York"
    with scope(organization=page.organization_id):
        page.save()
    data = get_json(public_client, "/api/v2/status.json")
    assert set(data) == {"page", "status"}
    assert data["page"]["time_zone"] == "America/New_York"
    assert data["page"]["updated_at"].endswith("-05:00")


def test_incident_and_maintenance_lists(public_client, page, layout):
    _group, api, web, _loose = layout
    open_incident(page, name="Open one")
    closed = open_incident(page, name="Closed one")
    with scope(organization=page.organization_id):
        incident_services.resolve_incident(closed, actor=ACTOR)
        now = datetime.datetime.now(datetime.UTC)
        upcoming = incident_services.schedule_maintenance(
            page, actor=ACTOR, name="Later", components=[api],
            scheduled_for=now + datetime.timedelta(days=1),
            scheduled_until=now + datetime.timedelta(days=1, hours=1),
        )  # fmt: skip
        running = incident_services.schedule_maintenance(
            page, actor=ACTOR, name="Now", components=[web],
            scheduled_for=now + datetime.timedelta(minutes=5),
            scheduled_until=now + datetime.timedelta(hours=1),
        )  # fmt: skip
        incident_services.start_maintenance(running, actor=ACTOR)
    names = lambda path, key: [i["name"] for i in get_json(public_client, path)[key]]  # noqa: E731
    assert names("/api/v2/incidents.json", "incidents") == ["Closed one", "Open one"]
    assert names("/api/v2/incidents/unresolved.json", "incidents") == ["Open one"]
    assert names("/api/v2/scheduled-maintenances/upcoming.json", "scheduled_maintenances") == [
        "Later"
    ]
    assert names("/api/v2/scheduled-maintenances/active.json", "scheduled_maintenances") == ["Now"]
    assert names("/api/v2/scheduled-maintenances.json", "scheduled_maintenances") == [
        "Later",
        "Now",
    ]
    summary = get_json(public_client, "/api/v2/summary.json")
    assert [i["name"] for i in summary["incidents"]] == ["Open one"]
    assert [m["name"] for m in summary["scheduled_maintenances"]] == ["Now", "Later"]
    maintenance = summary["scheduled_maintenances"][1]
    assert set(maintenance) == INCIDENT_KEYS | {"scheduled_for", "scheduled_until"}
    assert maintenance["id"] == upcoming.public_id


def test_incident_page_and_unknown_ids(public_client, page, other_page):
    incident = open_incident(page, name="API errors", body="We are **on it**")
    response = public_client.get(f"/incidents/{incident.public_id}")
    assert response.status_code == 200
    assert "<strong>on it</strong>" in response.content.decode()
    foreign = open_incident(other_page, name="Intruder incident")
    response = public_client.get(f"/incidents/{foreign.public_id}")
    assert response.status_code == 404
    assert "Intruder incident" not in response.content.decode()
    assert "There is no such incident on this page." in response.content.decode()


def test_history_groups_by_month_and_filters_by_component(public_client, page, layout):
    _group, api, web, _loose = layout
    now = datetime.datetime.now(datetime.UTC)
    with scope(organization=page.organization_id):
        for name, component in [("On API", api), ("On Web", web)]:
            incident_services.create_backfilled_incident(
                page, actor=ACTOR, name=name, impact="minor", body="",
                component_statuses={component: None},
                started_at=now - datetime.timedelta(hours=3),
                resolved_at=now - datetime.timedelta(hours=2),
            )  # fmt: skip
    body = public_client.get("/history").content.decode()
    assert "On API" in body and "On Web" in body
    filtered = public_client.get(f"/history?component={api.public_id}").content.decode()
    assert "On API" in filtered and "On Web" not in filtered
    older = public_client.get("/history?page=1").content.decode()
    assert "On API" not in older and "No incidents reported." in older


def test_feeds(public_client, page):
    open_incident(page, name="Feed me", body="Details")
    atom = public_client.get("/history.atom")
    assert atom["Content-Type"] == "application/atom+xml; charset=utf-8"
    assert b"<title>Feed me</title>" in atom.content
    rss = public_client.get("/history.rss")
    assert rss["Content-Type"] == "application/rss+xml; charset=utf-8"
    assert b"Feed me" in rss.content


def test_feeds_can_be_switched_off(public_client, page):
    page.allow_feeds = False
    with scope(organization=page.organization_id):
        page.save()
    assert public_client.get("/history.atom").status_code == 404


def test_badge_and_embed(public_client, page, layout):
    badge = public_client.get("/badge.svg")
    assert badge["Content-Type"] == "image/svg+xml"
    assert b"All Systems Operational" in badge.content
    assert badge["Cache-Control"] == (
        "public, max-age=30, stale-while-revalidate=30, stale-if-error=86400"
    )
    script = public_client.get("/embed.js")
    assert script["Content-Type"] == "application/javascript; charset=utf-8"
    assert f"http://acme.{BASE_DOMAIN}".encode() in script.content
    assert len(script.content) < 5000
    frame = public_client.get("/embed")
    assert frame["Content-Security-Policy"] == PUBLIC_POLICY.replace(
        "frame-ancestors 'none'", "frame-ancestors *"
    )
    assert "X-Frame-Options" not in frame
    home = public_client.get("/")
    assert home["Content-Security-Policy"] == PUBLIC_POLICY
    assert PUBLIC_POLICY.endswith("frame-ancestors 'none'")


def test_v2_is_read_only(public_client, page):
    assert public_client.post("/api/v2/summary.json").status_code == 405
    assert public_client.head("/api/v2/summary.json").status_code == 200


def test_preview_serves_the_same_site(page, layout):
    client = Client()
    data = json.loads(client.get("/s/acme/api/v2/status.json").content)
    assert data["page"]["id"] == page.public_id


def test_posting_makes_the_next_response_fresh(public_client, page, layout):
    _group, api, _web, _loose = layout
    assert public_client.get("/api/v2/status.json").json()["status"]["indicator"] == "none"
    incident = open_incident(page, impact="critical", component_statuses={api: None})
    assert public_client.get("/api/v2/status.json").json()["status"]["indicator"] == "critical"
    with scope(organization=page.organization_id):
        incident_services.resolve_incident(incident, actor=ACTOR)
    assert public_client.get("/api/v2/status.json").json()["status"]["indicator"] == "none"


def test_cold_render_query_count_does_not_grow(public_client, page, django_assert_max_num_queries):
    def add_history(n):
        with scope(organization=page.organization_id):
            for i in range(n):
                component = ComponentFactory(page=page, name=f"C{i}-{page.pk}-{n}")
                incident = open_incident(page, name=f"I{i}", component_statuses={component: None})
                incident_services.resolve_incident(incident, actor=ACTOR)
                component_services.set_component_status(
                    component, actor=ACTOR, status="major_outage"
                )

    public_client.get("/badge.svg")  # the host → page mapping is cached from here on
    add_history(2)
    with django_assert_max_num_queries(12) as small:
        public_client.get("/")
    add_history(8)
    with django_assert_max_num_queries(12) as large:
        public_client.get("/")
    assert len(large.captured_queries) == len(small.captured_queries)


def test_history_pages_past_ten_years_and_garbage_are_a_clear_404(public_client, page):
    for query in ("page=10000", "page=99999999999999999999999", "page=-1", "page=x",
                  "page=1e309"):  # fmt: skip
        response = public_client.get(f"/history?{query}")
        assert response.status_code == 404, query
        assert "There is nothing at this address." in response.content.decode(), query
    unknown = public_client.get("/history?component=nope")
    assert unknown.status_code == 404
    assert "There is no such component on this page." in unknown.content.decode()
    assert public_client.get("/history?component[]=x").status_code == 200  # not ours: ignored
    oldest = public_client.get("/history?page=40").content.decode()
    assert "Incident history" in oldest and "← Older" not in oldest
