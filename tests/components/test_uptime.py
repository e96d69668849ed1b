import datetime
import zoneinfo

import pytest
import time_machine

from components import services
from components.enums import StatusCause
from components.uptime import daily_uptime
from statuspage.actors import Actor
from tests.component_factories import ComponentFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("org_scope")]

UTC = datetime.UTC
NOW = datetime.datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@pytest.fixture
def api(page):
    with time_machine.travel(NOW - datetime.timedelta(days=200), tick=False):
        return ComponentFactory(page=page, name="API")


def claim(page, component, status, at, source="inc"):
    return services.apply_status_claims(
        page, source_id=source, cause=StatusCause.INCIDENT, statuses={component: status}, at=at
    )


def release(page, at, source="inc"):
    services.release_status_claims(page, source_id=source, cause=StatusCause.INCIDENT, at=at)


def uptime(component, page, now=NOW):
    component.refresh_from_db()
    return daily_uptime([component], time_zone=page.time_zone, now=now)[component.pk]


def test_a_quiet_component_is_fully_up(page, api):
    result = uptime(api, page)
    assert len(result.days) == 90
    assert result.days[-1].day == datetime.date(2026, 11, 20)
    assert result.uptime_percentage == 100.0
    assert result.days[-1].counted_seconds == 12 * 3600  # today counts up to now


def test_major_outage_counts_fully_and_partial_at_thirty_percent(page, api):
    day = datetime.datetime(2026, 11, 10, tzinfo=UTC)
    claim(page, api, "major_outage", day + datetime.timedelta(hours=1))
    release(page, day + datetime.timedelta(hours=2))
    claim(page, api, "partial_outage", day + datetime.timedelta(hours=5))
    release(page, day + datetime.timedelta(hours=15))
    result = uptime(api, page)
    the_day = next(d for d in result.days if d.day == datetime.date(2026, 11, 10))
    assert (the_day.major_outage_seconds, the_day.partial_outage_seconds) == (3600, 36000)
    assert the_day.down_seconds == pytest.approx(3600 + 0.3 * 36000)
    assert the_day.uptime_percentage == pytest.approx(100 * (1 - 14400 / 86400))


def test_degraded_and_maintenance_count_as_up(page, api):
    day = datetime.datetime(2026, 11, 10, tzinfo=UTC)
    claim(page, api, "degraded_performance", day)
    claim(page, api, "under_maintenance", day + datetime.timedelta(hours=1), source="m")
    release(page, day + datetime.timedelta(hours=3))
    release(page, day + datetime.timedelta(hours=4), source="m")
    assert uptime(api, page).uptime_percentage == 100.0


def test_an_outage_spanning_days_and_still_going(page, api):
    claim(page, api, "major_outage", datetime.datetime(2026, 11, 18, 12, tzinfo=UTC))
    days = {d.day: d for d in uptime(api, page).days}
    assert days[datetime.date(2026, 11, 18)].major_outage_seconds == 12 * 3600
    assert days[datetime.date(2026, 11, 19)].major_outage_seconds == 24 * 3600
    assert days[datetime.date(2026, 11, 20)].major_outage_seconds == 12 * 3600


def test_day_boundaries_follow_the_page_time_zone(page, api):
    page.time_zone = "Asia/Tokyo"  # UTC+9
    page.save()
    api.page.time_zone = "Asia/Tokyo"
    start = datetime.datetime(2026, 11, 10, 14, tzinfo=UTC)  # 23:00 in Tokyo
    claim(page, api, "major_outage", start)
    release(page, start + datetime.timedelta(hours=2))  # 01:00 next day in Tokyo
    days = {d.day: d for d in uptime(api, page).days}
    assert days[datetime.date(2026, 11, 10)].major_outage_seconds == 3600
    assert days[datetime.date(2026, 11, 11)].major_outage_seconds == 3600
    tokyo = zoneinfo.ZoneInfo("Asia/Tokyo")
    assert uptime(api, page).days[-1].day == NOW.astimezone(tokyo).date()


def test_days_before_start_date_are_not_shown_or_counted(page, api):
    api.start_date = datetime.date(2026, 11, 15)
    api.save()
    result = uptime(api, page)
    shown = [d for d in result.days if d.has_data]
    assert next(d.day for d in shown) == datetime.date(2026, 11, 15)
    assert len(shown) == 6


def test_backfilled_impact_counts_in_uptime(page, api):
    started = datetime.datetime(2026, 11, 1, 10, tzinfo=UTC)
    with time_machine.travel(NOW, tick=False):
        services.record_backfilled_impact(
            page, source_id="old", statuses={api: "major_outage"},
            started_at=started, ended_at=started + datetime.timedelta(minutes=30),
        )  # fmt: skip
    days = {d.day: d for d in uptime(api, page).days}
    assert days[datetime.date(2026, 11, 1)].major_outage_seconds == 1800
    api.refresh_from_db()
    assert api.status == "operational"


def test_manual_outage_counts_too(page, api, member):
    with time_machine.travel(NOW - datetime.timedelta(hours=6), tick=False):
        services.set_component_status(api, actor=Actor.for_user(member.user), status="major_outage")
    days = uptime(api, page).days
    assert days[-1].major_outage_seconds == 6 * 3600
