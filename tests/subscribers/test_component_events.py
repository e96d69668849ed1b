"""component_update webhook events: each public status change is its own outbox row."""

import datetime
import json

import pytest
import time_machine
from django.core import mail
from django_scopes import scope, scopes_disabled

from components import services as component_services
from components.models import ComponentStatusChange
from incidents import services as incident_services
from incidents.models import Incident
from subscribers import services
from subscribers.models import Delivery, Subscriber
from tests.component_factories import ComponentFactory
from tests.incident_factories import open_incident
from tests.subscribers.conftest import ACTOR, add_webhook
from tests.subscribers.test_webhooks import signed_by

pytestmark = pytest.mark.django_db
AT = datetime.datetime(2026, 12, 1, 9, 30, tzinfo=datetime.UTC)


def set_status(component, status, capture):
    with scope(organization=component.organization_id), capture(execute=True):
        component_services.set_component_status(component, actor=ACTOR, status=status)


def events(receiver) -> list[dict]:
    return [json.loads(body) for _, body in receiver.received]


def test_a_change_posts_one_signed_component_update_per_interested_webhook(
    page, receiver, django_capture_on_commit_callbacks
):
    with time_machine.travel(datetime.datetime(2026, 11, 2, 8, 0, tzinfo=datetime.UTC), tick=False):
        api = ComponentFactory(page=page, name="API")
    web = ComponentFactory(page=page, name="Web")
    everything = add_webhook(page, f"{receiver.url}/all")
    add_webhook(page, f"{receiver.url}/api", [api])
    add_webhook(page, f"{receiver.url}/web", [web])
    with scope(organization=page.organization_id):
        Subscriber.objects.create(organization=page.organization, page=page,
                                  email="all@example.test", confirmed_at=AT)  # fmt: skip
    with time_machine.travel(AT, tick=False):
        set_status(api, "partial_outage", django_capture_on_commit_callbacks)
    assert len(receiver.received) == 2
    with scopes_disabled():
        change = ComponentStatusChange.objects.get(component=api)
        assert change.fanned_out_at == AT
        assert sorted(Delivery.objects.filter(component_change=change)
                      .values_list("subscriber__endpoint", "status")) == [
            (f"{receiver.url}/all", "sent"), (f"{receiver.url}/api", "sent"),
        ]  # fmt: skip
    by_subscriber = {h["X-Status-Delivery"]: (h, b) for h, b in receiver.received}
    with scopes_disabled():
        delivery = Delivery.objects.get(component_change=change, subscriber=everything)
    headers, body = by_subscriber[str(delivery.pk)]
    assert signed_by(everything, headers, body)
    data = json.loads(body)
    assert set(data) == {"meta", "page", "component_update", "component"}
    assert set(data["meta"]) == {"unsubscribe", "documentation", "generated_at"}
    assert "/subscribe/unsubscribe/" in data["meta"]["unsubscribe"]
    assert data["page"] == {"id": page.public_id, "status_indicator": "major",
                            "status_description": "Partial System Outage"}  # fmt: skip
    assert data["component_update"] == {
        "created_at": "2026-12-01T09:30:00.000+00:00",
        "new_status": "partial_outage",
        "old_status": "operational",
        "id": change.public_id,
        "component_id": api.public_id,
    }
    assert data["component"] == {
        "created_at": "2026-11-02T08:00:00.000+00:00",
        "id": api.public_id,
        "name": "API",
        "status": "partial_outage",
    }
    assert mail.outbox == []  # email subscribers get no component events


def test_fanning_out_twice_sends_once(page, receiver, django_capture_on_commit_callbacks):
    api = ComponentFactory(page=page, name="API")
    add_webhook(page, receiver.url)
    set_status(api, "major_outage", django_capture_on_commit_callbacks)
    with scopes_disabled():
        change = ComponentStatusChange.objects.get(component=api)
    with scope(organization=page.organization_id):
        assert services.fan_out_component_change(change) == 0
    from subscribers.jobs import fan_out_component_change_job

    fan_out_component_change_job(change.pk)
    assert [e["component_update"]["new_status"] for e in events(receiver)] == ["major_outage"]


def test_an_incident_posts_its_component_changes_and_the_update(
    page, receiver, django_capture_on_commit_callbacks
):
    api = ComponentFactory(page=page, name="API")
    add_webhook(page, receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        incident = open_incident(page, impact="critical", component_statuses={api: None})
    kinds = sorted("incident" if "incident" in e else "component_update" for e in events(receiver))
    assert kinds == ["component_update", "incident"]
    [change] = [e["component_update"] for e in events(receiver) if "component_update" in e]
    assert (change["old_status"], change["new_status"]) == ("operational", "major_outage")
    receiver.received.clear()
    with scope(organization=page.organization_id), django_capture_on_commit_callbacks(execute=True):
        incident_services.resolve_incident(incident, actor=ACTOR)
    changes = [e["component_update"] for e in events(receiver) if "component_update" in e]
    assert [(c["old_status"], c["new_status"]) for c in changes] == [
        ("major_outage", "operational")
    ]


def test_a_draft_incident_posts_no_component_update(
    page, receiver, django_capture_on_commit_callbacks
):
    api = ComponentFactory(page=page, name="API")
    add_webhook(page, receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        draft = open_incident(page, impact="critical", component_statuses={api: None}, draft=True)
    assert receiver.received == []
    with scopes_disabled():
        assert not ComponentStatusChange.objects.exists()
    with scope(organization=page.organization_id), django_capture_on_commit_callbacks(execute=True):
        incident_services.close_draft(draft, actor=ACTOR, at=AT)
        incident_services.discard_draft(draft, actor=ACTOR)
    assert receiver.received == []


def test_a_change_claimed_by_a_draft_is_never_posted(page, receiver):
    """Drafts claim no status today; should a change ever name a draft, it stays internal."""
    api = ComponentFactory(page=page, name="API")
    add_webhook(page, receiver.url)
    draft = open_incident(page, component_statuses={api: None}, draft=True)
    with scope(organization=page.organization_id):
        change = ComponentStatusChange.objects.create(
            organization=page.organization, page=page, component=api, old_status="operational",
            new_status="major_outage", changed_at=AT, cause="incident", source_id=draft.public_id,
        )  # fmt: skip
        assert services.is_public_component_change(change) is False
        assert services.fan_out_component_change(change) == 0
        change.refresh_from_db()
        assert change.fanned_out_at is not None  # the sweep will not ask again
        Incident.objects.filter(pk=draft.pk).update(is_draft=False)
        assert services.is_public_component_change(change) is True
    assert receiver.received == []


def test_backfilled_history_is_not_news(page, receiver):
    api = ComponentFactory(page=page, name="API")
    add_webhook(page, receiver.url)
    with scope(organization=page.organization_id):
        incident_services.create_backfilled_incident(
            page, actor=ACTOR, name="Last week", impact="major", body="",
            component_statuses={api: None}, started_at=AT - datetime.timedelta(days=7),
            resolved_at=AT - datetime.timedelta(days=6),
        )  # fmt: skip
        assert ComponentStatusChange.objects.filter(is_backfilled=True).count() == 2
    with time_machine.travel(AT + datetime.timedelta(minutes=2)):
        assert services.sweep()["component_fan_outs"] == 0
    assert receiver.received == []


def test_the_sweep_fans_out_a_change_whose_enqueue_was_lost(page, receiver):
    api = ComponentFactory(page=page, name="API")
    add_webhook(page, receiver.url)
    with scope(organization=page.organization_id), time_machine.travel(AT, tick=False):
        # on-commit never ran in this test: as if Redis was down when the status was set
        component_services.set_component_status(api, actor=ACTOR, status="degraded_performance")
    assert receiver.received == []
    with time_machine.travel(AT + datetime.timedelta(seconds=10), tick=False):
        assert services.sweep() == {
            "fan_outs": 0,
            "component_fan_outs": 0,
            "send_jobs": 0,
            "released": 0,
        }
    with time_machine.travel(AT + datetime.timedelta(minutes=1), tick=False):
        assert services.sweep() == {
            "fan_outs": 0,
            "component_fan_outs": 1,
            "send_jobs": 0,
            "released": 0,
        }
        assert services.sweep() == {
            "fan_outs": 0,
            "component_fan_outs": 0,
            "send_jobs": 0,
            "released": 0,
        }
    assert [e["component_update"]["new_status"] for e in events(receiver)] == [
        "degraded_performance"
    ]


def test_uninterested_pending_and_quarantined_webhooks_hear_nothing(
    page, receiver, django_capture_on_commit_callbacks
):
    api, web = ComponentFactory(page=page, name="API"), ComponentFactory(page=page, name="Web")
    add_webhook(page, f"{receiver.url}/web", [web])
    add_webhook(page, f"{receiver.url}/pending", skip_confirmation=False)
    quarantined = add_webhook(page, f"{receiver.url}/q")
    Subscriber.objects.with_scopes_disabled().filter(pk=quarantined.pk).update(quarantined_at=AT)
    set_status(api, "major_outage", django_capture_on_commit_callbacks)
    assert receiver.received == []
    with scopes_disabled():
        assert not Delivery.objects.exists()
