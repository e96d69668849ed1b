"""The 90-day bars on the public page: each day's label and colour, and never stale ones (after
a status change, or when the page's day rolls over with no write at all)."""

import datetime
import re

import pytest
import time_machine
from django_scopes import scope

from components import services as component_services
from incidents import services as incident_services
from statuspage.actors import Actor
from tests.component_factories import ComponentFactory

pytestmark = pytest.mark.django_db

ACTOR = Actor.system("tests")
NOW = datetime.datetime(2026, 11, 20, 12, 0, tzinfo=datetime.UTC)
CELL = re.compile(r'<li class="([a-z-]+)"><span>([^<]*)</span></li>')


@pytest.fixture
def api(page):
    with time_machine.travel(NOW - datetime.timedelta(days=200), tick=False):
        return ComponentFactory(page=page, name="API")


def bars(client) -> list[tuple[str, str]]:
    return CELL.findall(client.get("/").content.decode())


def test_a_day_with_an_incident_says_so(public_client, page, api):
    started = datetime.datetime(2026, 11, 12, 9, 0, tzinfo=datetime.UTC)
    with time_machine.travel(NOW, tick=False), scope(organization=page.organization_id):
        incident_services.create_backfilled_incident(
            page, actor=ACTOR, name="API errors", impact="critical", body="Sorry.",
            component_statuses={api: "major_outage"}, started_at=started,
            resolved_at=started + datetime.timedelta(hours=1),
        )  # fmt: skip
        cells = bars(public_client)
    assert len(cells) == 90
    assert cells[81] == ("major", "12 Nov 2026: 95.83% uptime, 1 incident: API errors")
    assert cells[80] == ("up", "11 Nov 2026: 100.00% uptime")
    assert cells[-1] == ("up", "20 Nov 2026: 100.00% uptime")


def test_the_bars_of_a_new_component_start_on_its_first_day(public_client, page):
    with time_machine.travel(NOW, tick=False):
        ComponentFactory(page=page, name="Fresh")
        cells = bars(public_client)
    assert cells[0] == ("no-data", "23 Aug 2026: no data")
    assert cells[88] == ("no-data", "19 Nov 2026: no data")
    assert cells[89] == ("up", "20 Nov 2026: 100.00% uptime")


def test_a_status_change_shows_on_the_next_response(public_client, page, api):
    with time_machine.travel(NOW, tick=False):
        assert bars(public_client)[-1] == ("up", "20 Nov 2026: 100.00% uptime")
    an_hour_ago = NOW - datetime.timedelta(hours=1)
    with time_machine.travel(an_hour_ago, tick=False), scope(organization=page.organization_id):
        component_services.set_component_status(api, actor=ACTOR, status="major_outage")
    with time_machine.travel(NOW, tick=False):
        # 1 h down of the 12 h counted today.
        assert bars(public_client)[-1] == ("critical", "20 Nov 2026: 91.67% uptime")


def test_the_day_rolls_over_without_a_write(public_client, page, api):
    evening = datetime.datetime(2026, 11, 20, 23, 50, tzinfo=datetime.UTC)
    with time_machine.travel(evening, tick=False):
        assert bars(public_client)[-1] == ("up", "20 Nov 2026: 100.00% uptime")
    with time_machine.travel(evening + datetime.timedelta(minutes=15), tick=False):
        cells = bars(public_client)
    assert cells[-2:] == [("up", "20 Nov 2026: 100.00% uptime"),
                          ("up", "21 Nov 2026: 100.00% uptime")]  # fmt: skip


def test_an_unchanged_page_keeps_its_etag_from_one_quarter_hour_to_the_next(
    public_client, page, api
):
    with time_machine.travel(NOW, tick=False):
        first = public_client.get("/")
    with time_machine.travel(NOW + datetime.timedelta(minutes=20), tick=False):
        again = public_client.get("/", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    assert again["ETag"] == first["ETag"]


def test_only_the_front_page_pays_for_the_bars(public_client, page, api, django_assert_num_queries):
    public_client.get("/history")  # the host → page mapping is cached from here on
    # The page, its components, its incidents (none; summary.json reads its components list
    # once more); only the bars add uptime days and incident names per day.
    for path, queries in (("/badge.svg", 3), ("/embed", 3), ("/api/v2/summary.json", 4)):
        with django_assert_num_queries(queries):
            assert public_client.get(path).status_code == 200
    with django_assert_num_queries(5):
        assert public_client.get("/").status_code == 200
