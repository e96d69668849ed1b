import datetime

import pytest
import time_machine
from django_scopes import scope

from incidents import responders, services
from incidents.reports import mtta_mttr
from statuspage.actors import Actor

pytestmark = pytest.mark.django_db
T = datetime.datetime(2026, 10, 5, 12, 0, tzinfo=datetime.UTC)


def test_mtta_mttr_maths_with_never_acknowledged_and_backfilled(page, member, console_client):
    actor = Actor.for_user(member.user)
    with scope(organization=page.organization_id):
        with time_machine.travel(T, tick=False):
            quick = services.open_incident(page, actor=actor, name="Quick")
            slow = services.open_incident(page, actor=actor, name="Slow")
            silent = services.open_incident(page, actor=actor, name="Silent")
        with time_machine.travel(T + datetime.timedelta(minutes=10), tick=False):
            responders.acknowledge_incident(quick, actor=actor)
        with time_machine.travel(T + datetime.timedelta(minutes=30), tick=False):
            responders.acknowledge_incident(slow, actor=actor)
            services.resolve_incident(quick, actor=actor)
        with time_machine.travel(T + datetime.timedelta(minutes=90), tick=False):
            services.resolve_incident(slow, actor=actor)
            services.create_backfilled_incident(
                page,
                actor=actor,
                name="Old",
                impact="minor",
                body="",
                component_statuses={},
                started_at=T - datetime.timedelta(hours=2),
                resolved_at=T - datetime.timedelta(hours=1),
            )
        [row] = mtta_mttr(page, period="month")
    assert (row.period, row.incidents, row.acknowledged, row.never_acknowledged) == (
        datetime.date(2026, 10, 1),
        4,
        2,
        1,
    )
    assert row.mtta_minutes == 20.0  # (10 + 30) / 2, the silent one is not averaged as zero
    assert row.mttr_minutes == 60.0  # (30 + 90 + 60) / 3
    assert silent.acknowledged_at is None
    response = console_client.get("/console/acme/incidents/report/?period=month")
    assert response.status_code == 200 and "<svg" in response.content.decode()
    csv = console_client.get("/console/acme/incidents/report/?format=csv").content.decode()
    assert csv.splitlines()[1] == "2026-10-01,all,4,2,1,20.0,3,60.0"
