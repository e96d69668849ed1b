import datetime

import pytest
from django_scopes import scopes_disabled

from components import services
from components.enums import StatusCause, worst_status
from components.models import Component, ComponentStatusChange
from statuspage.actors import Actor
from statuspage.errors import DomainError
from statuspage.models import AuditEntry
from tests.component_factories import ComponentFactory, ComponentGroupFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("org_scope")]

T0 = datetime.datetime(2026, 11, 1, 12, 0, tzinfo=datetime.UTC)


@pytest.fixture
def actor(member):
    return Actor.for_user(member.user)


@pytest.fixture
def api(page):
    return ComponentFactory(page=page, name="API")


def history(component):
    return list(
        ComponentStatusChange.objects.filter(component=component).values_list(
            "old_status", "new_status", "cause", "source_id", "is_backfilled"
        )
    )


def test_worst_status_orders_by_severity():
    assert worst_status([]) == "operational"
    assert worst_status(["under_maintenance", "degraded_performance"]) == "degraded_performance"
    assert worst_status(["operational", "under_maintenance"]) == "under_maintenance"
    assert worst_status(["major_outage", "partial_outage"]) == "major_outage"


def test_create_component_appends_in_its_group_and_audits(page, actor):
    group = ComponentGroupFactory(page=page)
    first = services.create_component(page, actor=actor, name="API", group=group)
    second = services.create_component(page, actor=actor, name=" Web ", group=group)
    assert (first.position, second.position, second.name) == (0, 1, "Web")
    assert (first.organization_id, first.status, first.baseline_status) == (
        page.organization_id,
        "operational",
        "operational",
    )
    assert AuditEntry.objects.filter(verb="component.created").count() == 2


def test_create_component_rejects_an_empty_name_and_another_pages_group(page, other_page, actor):
    with pytest.raises(DomainError) as error:
        services.create_component(page, actor=actor, name="  ")
    assert error.value.message == "Give it a name."
    foreign = ComponentGroupFactory(page=other_page)
    with pytest.raises(DomainError) as error:
        services.create_component(page, actor=actor, name="API", group=foreign)
    assert error.value.message == "That group belongs to another page."


def test_manual_status_sets_baseline_and_history(api, actor):
    services.set_component_status(api, actor=actor, status="partial_outage", at=T0)
    assert (api.baseline_status, api.status) == ("partial_outage", "partial_outage")
    assert history(api) == [("operational", "partial_outage", "manual", "", False)]


def test_setting_the_same_status_records_nothing(api, actor):
    services.set_component_status(api, actor=actor, status="operational", at=T0)
    assert history(api) == []


def test_one_claim_raises_status_and_release_returns_it(page, api):
    changes = services.apply_status_claims(
        page, source_id="inc1", cause=StatusCause.INCIDENT, statuses={api: "major_outage"}, at=T0
    )
    assert changes == {api: ("operational", "major_outage")}
    api.refresh_from_db()
    assert api.status == "major_outage"
    changes = services.release_status_claims(
        page, source_id="inc1", cause=StatusCause.INCIDENT, at=T0
    )
    assert changes == {api: ("major_outage", "operational")}
    assert history(api) == [
        ("operational", "major_outage", "incident", "inc1", False),
        ("major_outage", "operational", "incident", "inc1", False),
    ]


def test_overlapping_claims_release_to_the_other(page, api):
    incident = StatusCause.INCIDENT
    services.apply_status_claims(
        page, source_id="a", cause=incident, statuses={api: "degraded_performance"}, at=T0
    )
    services.apply_status_claims(
        page, source_id="b", cause=incident, statuses={api: "major_outage"}, at=T0
    )
    services.release_status_claims(page, source_id="b", cause=incident, at=T0)
    api.refresh_from_db()
    assert api.status == "degraded_performance"
    services.release_status_claims(page, source_id="a", cause=incident, at=T0)
    api.refresh_from_db()
    assert api.status == "operational"


def test_incident_beats_maintenance_and_baseline_beats_both(page, api, actor):
    services.apply_status_claims(
        page,
        source_id="m",
        cause=StatusCause.MAINTENANCE,
        statuses={api: "under_maintenance"},
        at=T0,
    )
    api.refresh_from_db()
    assert api.status == "under_maintenance"
    services.apply_status_claims(
        page,
        source_id="i",
        cause=StatusCause.INCIDENT,
        statuses={api: "degraded_performance"},
        at=T0,
    )
    api.refresh_from_db()
    assert api.status == "degraded_performance"
    services.set_component_status(api, actor=actor, status="major_outage", at=T0)
    assert api.status == "major_outage"
    services.set_component_status(api, actor=actor, status="operational", at=T0)
    assert api.status == "degraded_performance"


def test_applying_claims_replaces_the_sources_previous_set(page, api):
    web = ComponentFactory(page=page, name="Web")
    services.apply_status_claims(
        page,
        source_id="i",
        cause=StatusCause.INCIDENT,
        statuses={api: "partial_outage", web: "partial_outage"},
        at=T0,
    )
    changes = services.apply_status_claims(
        page, source_id="i", cause=StatusCause.INCIDENT, statuses={api: "major_outage"}, at=T0
    )
    assert changes == {
        api: ("partial_outage", "major_outage"),
        web: ("partial_outage", "operational"),
    }


def test_claims_refuse_another_pages_component(page, other_page):
    foreign = ComponentFactory(page=other_page)
    with pytest.raises(DomainError):
        services.apply_status_claims(
            page, source_id="i", cause=StatusCause.INCIDENT, statuses={foreign: "major_outage"},
            at=T0,
        )  # fmt: skip


def test_backfilled_impact_is_history_only(page, api):
    services.record_backfilled_impact(
        page,
        source_id="old",
        statuses={api: "major_outage"},
        started_at=T0 - datetime.timedelta(days=3),
        ended_at=T0 - datetime.timedelta(days=3) + datetime.timedelta(hours=1),
    )
    api.refresh_from_db()
    assert api.status == "operational"
    assert history(api) == [
        ("operational", "major_outage", "incident", "old", True),
        ("major_outage", "operational", "incident", "old", True),
    ]


def test_reorder_within_and_across_groups(page, actor):
    group_a = ComponentGroupFactory(page=page, position=0)
    group_b = ComponentGroupFactory(page=page, position=1)
    one, two, three = (ComponentFactory(page=page, group=group_a) for _ in range(3))
    services.reorder_components(
        page,
        actor=actor,
        layout=[(None, [three]), (group_a, [two, one]), (group_b, [])],
        group_order=[group_b, group_a],
    )
    rows = {c.pk: (c.group_id, c.position) for c in Component.objects.filter(page=page)}
    assert rows == {three.pk: (None, 0), two.pk: (group_a.pk, 0), one.pk: (group_a.pk, 1)}
    group_a.refresh_from_db()
    group_b.refresh_from_db()
    assert (group_b.position, group_a.position) == (0, 1)


def test_move_component_swaps_neighbours(page, actor):
    first = services.create_component(page, actor=actor, name="First")
    second = services.create_component(page, actor=actor, name="Second")
    services.move_component(second, actor=actor, direction="up")
    names = list(Component.objects.filter(page=page).values_list("name", flat=True))
    assert names == ["Second", "First"]
    services.move_component(first, actor=actor, direction="down")
    names = list(Component.objects.filter(page=page).values_list("name", flat=True))
    assert names == ["Second", "First"]


def test_delete_group_ungroups_its_components(page, actor):
    loose = services.create_component(page, actor=actor, name="Loose")
    group = services.create_group(page, actor=actor, name="Core")
    inside = services.create_component(page, actor=actor, name="Inside", group=group)
    services.delete_group(group, actor=actor)
    inside.refresh_from_db()
    assert (inside.group_id, inside.position) == (None, loose.position + 1)


def test_update_and_delete_component(page, api, actor):
    services.update_component(
        api, actor=actor, name="Public API", description="REST", group=None, showcase=False,
        only_show_if_degraded=True, start_date=datetime.date(2026, 1, 1),
    )  # fmt: skip
    entry = AuditEntry.objects.get(verb="component.updated")
    assert entry.before == {
        "name": "API",
        "description": "",
        "showcase": True,
        "only_show_if_degraded": False,
        "start_date": None,
    }
    services.delete_component(api, actor=actor)
    with scopes_disabled():
        assert Component.objects.filter(pk=api.pk).exists() is False
