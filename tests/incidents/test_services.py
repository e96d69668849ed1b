import datetime

import pytest
import time_machine
from django_scopes import scopes_disabled

from components.models import Component, ComponentStatusChange
from incidents import services
from incidents.models import Incident, IncidentUpdate
from incidents.queries import describe_overall_status, overall_status
from statuspage.actors import Actor
from statuspage.errors import DomainError
from statuspage.models import AuditEntry
from tests.component_factories import ComponentFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("org_scope")]

NOW = datetime.datetime(2026, 11, 20, 12, 0, tzinfo=datetime.UTC)


@pytest.fixture
def actor(member):
    return Actor.for_user(member.user)


@pytest.fixture
def api(page):
    return ComponentFactory(page=page, name="API", position=0)


@pytest.fixture
def web(page):
    return ComponentFactory(page=page, name="Web", position=1)


def status_of(component):
    return Component.objects.get(pk=component.pk).status


def test_impact_picks_default_component_statuses_and_overrides_win(page, actor, api, web):
    incident = services.open_incident(
        page,
        actor=actor,
        name="Errors",
        impact="critical",
        body="We are **looking**.",
        component_statuses={api: None, web: "degraded_performance"},
    )
    assert (status_of(api), status_of(web)) == ("major_outage", "degraded_performance")
    update = incident.updates.get()
    assert (update.status, update.body_html) == (
        "investigating",
        "<p>We are <strong>looking</strong>.</p>",
    )
    assert update.affected_components == [
        {"code": api.public_id, "name": "API", "old_status": "operational",
         "new_status": "major_outage"},
        {"code": web.public_id, "name": "Web", "old_status": "operational",
         "new_status": "degraded_performance"},
    ]  # fmt: skip
    assert (update.deliver_notifications, update.fanned_out_at) == (True, None)


@pytest.mark.parametrize(
    ("impact", "expected"),
    [("none", "operational"), ("minor", "degraded_performance"), ("major", "partial_outage")],
)
def test_each_impact_default(page, actor, api, impact, expected):
    services.open_incident(page, actor=actor, name="X", impact=impact,
                           component_statuses={api: None})  # fmt: skip
    assert status_of(api) == expected


def test_update_walks_the_lifecycle_and_resolve_restores(page, actor, api):
    incident = services.open_incident(
        page, actor=actor, name="X", impact="major", component_statuses={api: None}
    )
    services.post_incident_update(incident, actor=actor, status="identified", body="Found it")
    services.post_incident_update(incident, actor=actor, status="monitoring", body="Fixed")
    incident.refresh_from_db()
    assert incident.monitoring_at is not None
    services.resolve_incident(incident, actor=actor, body="All good")
    incident.refresh_from_db()
    assert (incident.status, status_of(api)) == ("resolved", "operational")
    assert incident.resolved_at is not None
    statuses = list(incident.updates.order_by("display_at", "id").values_list("status", flat=True))
    assert statuses == ["investigating", "identified", "monitoring", "resolved"]
    resolved = incident.updates.order_by("-id").first()
    assert resolved.affected_components == [
        {"code": api.public_id, "name": "API", "old_status": "partial_outage",
         "new_status": "operational"}
    ]  # fmt: skip


def test_overlapping_incidents_on_one_component(page, actor, api):
    first = services.open_incident(
        page, actor=actor, name="A", impact="minor", component_statuses={api: None}
    )
    second = services.open_incident(
        page, actor=actor, name="B", impact="critical", component_statuses={api: None}
    )
    assert status_of(api) == "major_outage"
    services.resolve_incident(second, actor=actor)
    assert status_of(api) == "degraded_performance"
    services.resolve_incident(first, actor=actor)
    assert status_of(api) == "operational"


def test_resolve_returns_to_the_hand_set_baseline(page, actor, api):
    from components.services import set_component_status

    set_component_status(api, actor=actor, status="degraded_performance")
    incident = services.open_incident(
        page, actor=actor, name="A", impact="critical", component_statuses={api: None}
    )
    services.resolve_incident(incident, actor=actor)
    assert status_of(api) == "degraded_performance"


def test_reopen_reapplies_claims(page, actor, api):
    incident = services.open_incident(
        page, actor=actor, name="A", impact="major", component_statuses={api: None}
    )
    services.resolve_incident(incident, actor=actor)
    services.post_incident_update(incident, actor=actor, status="investigating", body="Back")
    incident.refresh_from_db()
    assert (incident.status, incident.resolved_at, status_of(api)) == (
        "investigating",
        None,
        "partial_outage",
    )


def test_update_can_change_component_statuses(page, actor, api, web):
    incident = services.open_incident(
        page, actor=actor, name="A", impact="minor", component_statuses={api: None}
    )
    update = services.post_incident_update(
        incident,
        actor=actor,
        status="identified",
        component_statuses={api: "operational", web: "partial_outage"},
    )
    assert (status_of(api), status_of(web)) == ("operational", "partial_outage")
    assert [c["name"] for c in update.affected_components] == ["API", "Web"]


def test_maintenance_overlapping_an_incident(page, actor, api):
    with time_machine.travel(NOW, tick=False):
        maintenance = services.schedule_maintenance(
            page, actor=actor, name="DB upgrade", components=[api],
            scheduled_for=NOW + datetime.timedelta(hours=1),
            scheduled_until=NOW + datetime.timedelta(hours=2),
        )  # fmt: skip
        services.start_maintenance(maintenance, actor=actor)
        assert status_of(api) == "under_maintenance"
        incident = services.open_incident(
            page, actor=actor, name="Slow", impact="minor", component_statuses={api: None}
        )
        assert status_of(api) == "degraded_performance"
        services.resolve_incident(incident, actor=actor)
        assert status_of(api) == "under_maintenance"
        services.complete_maintenance(maintenance, actor=actor)
        assert status_of(api) == "operational"


def test_backfilled_incident_touches_no_current_status(page, actor, api):
    incident = services.create_backfilled_incident(
        page,
        actor=actor,
        name="Yesterday",
        impact="critical",
        body="It happened.",
        component_statuses={api: None},
        started_at=NOW - datetime.timedelta(days=1, hours=2),
        resolved_at=NOW - datetime.timedelta(days=1),
    )
    assert (incident.status, incident.is_backfilled, status_of(api)) == (
        "resolved",
        True,
        "operational",
    )
    rows = ComponentStatusChange.objects.filter(component=api).values_list(
        "new_status", "is_backfilled"
    )
    assert list(rows) == [("major_outage", True), ("operational", True)]
    update = incident.updates.get()
    assert (update.display_at, update.deliver_notifications) == (
        NOW - datetime.timedelta(days=1),
        False,
    )


def test_backfill_needs_an_ordered_past_window(page, actor):
    with pytest.raises(DomainError) as error:
        services.create_backfilled_incident(
            page, actor=actor, name="X", impact="minor", body="", component_statuses={},
            started_at=NOW, resolved_at=NOW - datetime.timedelta(hours=1),
        )  # fmt: skip
    assert error.value.message == "The end must come after the start."


def test_delete_recomputes_and_is_audited(page, actor, api):
    incident = services.open_incident(
        page, actor=actor, name="Oops", impact="critical", component_statuses={api: None}
    )
    with pytest.raises(DomainError):
        services.delete_incident(incident, actor=actor, confirm_name="oops")
    services.delete_incident(incident, actor=actor, confirm_name="Oops")
    assert status_of(api) == "operational"
    assert Incident.objects.filter(pk=incident.pk).exists() is False
    assert IncidentUpdate.objects.filter(incident_id=incident.pk).exists() is False
    entry = AuditEntry.objects.get(verb="incident.deleted")
    assert (entry.target_label, entry.before["updates"]) == ("Oops", 1)


def test_edit_update_rerenders_and_audits(page, actor):
    incident = services.open_incident(page, actor=actor, name="X", body="old")
    update = incident.updates.get()
    services.edit_incident_update(update, actor=actor, body="*new*", display_at=NOW)
    update.refresh_from_db()
    assert (update.body_html, update.display_at) == ("<p><em>new</em></p>", NOW)
    entry = AuditEntry.objects.get(verb="incident.update_edited")
    assert (entry.before["body"], entry.after["body"]) == ("old", "*new*")


def test_bad_input_is_refused_with_a_message(page, other_page, actor):
    with pytest.raises(DomainError) as error:
        services.open_incident(page, actor=actor, name="  ")
    assert error.value.message == "Give the incident a title."
    with pytest.raises(DomainError) as error:
        services.open_incident(page, actor=actor, name="X", status="scheduled")
    assert error.value.message == "“scheduled” is not a status an incident can have."
    with scopes_disabled():
        foreign = ComponentFactory(page=other_page)
    with pytest.raises(DomainError) as error:
        services.open_incident(page, actor=actor, name="X", component_statuses={foreign: None})
    assert error.value.message == "That component belongs to another page."


def test_concurrent_updates_both_land_in_order(page, actor):
    incident = services.open_incident(page, actor=actor, name="X")
    stale_copy = Incident.objects.get(pk=incident.pk)
    services.post_incident_update(incident, actor=actor, status="identified", body="one")
    services.post_incident_update(stale_copy, actor=actor, status="monitoring", body="two")
    bodies = list(incident.updates.order_by("id").values_list("body", flat=True))
    assert bodies == ["", "one", "two"]
    assert Incident.objects.get(pk=incident.pk).status == "monitoring"


# --- Maintenance ----------------------------------------------------------------------------


def schedule(page, actor, components=(), **kwargs):
    fields = {
        "name": "DB upgrade",
        "scheduled_for": NOW + datetime.timedelta(hours=2),
        "scheduled_until": NOW + datetime.timedelta(hours=3),
        "components": list(components),
    }
    return services.schedule_maintenance(page, actor=actor, **{**fields, **kwargs})


def test_maintenance_window_rules(page, actor):
    with time_machine.travel(NOW, tick=False):
        with pytest.raises(DomainError) as error:
            schedule(page, actor, scheduled_until=NOW + datetime.timedelta(hours=1))
        assert error.value.message == "The window must end after it starts."
        with pytest.raises(DomainError) as error:
            schedule(page, actor, scheduled_for=NOW - datetime.timedelta(hours=1))
        assert error.value.field == "scheduled_for"
        past = schedule(
            page,
            actor,
            scheduled_for=NOW - datetime.timedelta(hours=3),
            scheduled_until=NOW - datetime.timedelta(hours=2),
            allow_past=True,
        )
        assert past.status == "scheduled"


def test_tick_reminds_starts_and_completes_once_each(page, actor, api):
    with time_machine.travel(NOW, tick=False):
        maintenance = schedule(page, actor, components=[api])
    events = lambda: list(  # noqa: E731  (a tiny local reader)
        maintenance.updates.order_by("id").values_list("event", "deliver_notifications")
    )
    with time_machine.travel(NOW + datetime.timedelta(minutes=61), tick=False):
        assert services.advance_maintenances() == [(maintenance.public_id, "reminded")]
        assert services.advance_maintenances() == []
    with time_machine.travel(NOW + datetime.timedelta(hours=2, seconds=5), tick=False):
        assert services.advance_maintenances() == [(maintenance.public_id, "started")]
        assert services.advance_maintenances() == []
        assert status_of(api) == "under_maintenance"
    with time_machine.travel(NOW + datetime.timedelta(hours=3, seconds=5), tick=False):
        assert services.advance_maintenances() == [(maintenance.public_id, "completed")]
        assert services.advance_maintenances() == []
    assert status_of(api) == "operational"
    assert events() == [
        ("maintenance_scheduled", True),
        ("maintenance_reminder", True),
        ("maintenance_started", True),
        ("maintenance_completed", True),
    ]
    texts = list(maintenance.updates.order_by("id").values_list("body", flat=True))
    assert texts[1:] == [
        "Scheduled maintenance will begin in 59 minutes.",
        "Scheduled maintenance is currently in progress. We will provide updates as necessary.",
        "The scheduled maintenance has been completed.",
    ]


def test_tick_catches_up_after_downtime(page, actor, api):
    with time_machine.travel(NOW, tick=False):
        maintenance = schedule(page, actor, components=[api], remind_prior_minutes=None)
    with time_machine.travel(NOW + datetime.timedelta(days=1), tick=False):
        applied = services.advance_maintenances()
    assert applied == [(maintenance.public_id, "started"), (maintenance.public_id, "completed")]
    maintenance.refresh_from_db()
    assert (maintenance.status, status_of(api)) == ("completed", "operational")
    rows = list(
        maintenance.updates.order_by("id").values_list(
            "event", "display_at", "deliver_notifications"
        )
    )
    assert rows[1:] == [
        ("maintenance_started", NOW + datetime.timedelta(hours=2), False),
        ("maintenance_completed", NOW + datetime.timedelta(hours=3), True),
    ]


def test_switches_turn_automation_and_notifications_off(page, actor, api):
    with time_machine.travel(NOW, tick=False):
        maintenance = schedule(page, actor, components=[api], auto_completed=False,
                               notify_at_start=False, remind_prior_minutes=None)  # fmt: skip
    with time_machine.travel(NOW + datetime.timedelta(hours=4), tick=False):
        assert services.advance_maintenances() == [(maintenance.public_id, "started")]
    maintenance.refresh_from_db()
    assert maintenance.status == "in_progress"
    started = maintenance.updates.get(event="maintenance_started")
    assert started.deliver_notifications is False


def test_illegal_maintenance_transitions(page, actor):
    with time_machine.travel(NOW, tick=False):
        maintenance = schedule(page, actor)
        with pytest.raises(DomainError) as error:
            services.complete_maintenance(maintenance, actor=actor)
        assert error.value.message == "A maintenance that is scheduled cannot be completed."
        services.cancel_maintenance(maintenance, actor=actor)
        maintenance.refresh_from_db()
        assert (maintenance.status, maintenance.cancelled_at is not None) == ("completed", True)
        with pytest.raises(DomainError):
            services.start_maintenance(maintenance, actor=actor)
        incident = services.open_incident(page, actor=actor, name="X")
        with pytest.raises(DomainError) as error:
            services.start_maintenance(incident, actor=actor)
        assert error.value.message == "Only a scheduled maintenance can be started."


def test_cancelled_maintenance_is_never_started_by_the_tick(page, actor):
    with time_machine.travel(NOW, tick=False):
        maintenance = schedule(page, actor)
        services.cancel_maintenance(maintenance, actor=actor)
    with time_machine.travel(NOW + datetime.timedelta(days=1), tick=False):
        assert services.advance_maintenances() == []


def test_templates(page, actor, api):
    template = services.create_incident_template(
        page, actor=actor, name="DB down", title="Database unavailable", impact="critical",
        components=[api],
    )  # fmt: skip
    assert list(template.components.all()) == [api]
    with pytest.raises(DomainError):
        services.create_incident_template(page, actor=actor, name="", title="X")


# --- Overall status -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("components", "impacts", "maintenance", "expected"),
    [
        ([], [], False, ("none", "All Systems Operational")),
        (["operational"], [], False, ("none", "All Systems Operational")),
        (["under_maintenance"], [], False, ("maintenance", "Service Under Maintenance")),
        ([], [], True, ("maintenance", "Service Under Maintenance")),
        (["degraded_performance"], [], False, ("minor", "Degraded System Service")),
        (["partial_outage", "degraded_performance"], [], False, ("major", "Partial System Outage")),
        (["major_outage", "under_maintenance"], [], False, ("critical", "Major System Outage")),
        (["operational"], ["minor"], False, ("minor", "Minor Service Outage")),
        (["operational"], ["critical"], False, ("critical", "Major Service Outage")),
        (["operational"], ["none"], False, ("none", "All Systems Operational")),
        (["degraded_performance"], ["minor"], False, ("minor", "Degraded System Service")),
        (["degraded_performance"], ["major"], True, ("major", "Partial System Outage")),
        (["under_maintenance"], ["minor"], True, ("minor", "Minor Service Outage")),
    ],
)
def test_overall_status_wording(components, impacts, maintenance, expected):
    assert describe_overall_status(components, impacts, maintenance) == expected


def test_overall_status_of_a_page(page, actor, api):
    assert overall_status(page) == ("none", "All Systems Operational")
    incident = services.open_incident(
        page, actor=actor, name="X", impact="major", component_statuses={api: None}
    )
    assert overall_status(page) == ("major", "Partial System Outage")
    services.resolve_incident(incident, actor=actor)
    assert overall_status(page) == ("none", "All Systems Operational")
