"""The responders' side: acknowledge, own, classify, and notes that never leave the team."""

import json

import pytest
from django.core import mail
from django.test import Client
from django_scopes import scope

from incidents import responders, services
from incidents.queries import response_policy
from statuspage.actors import Actor
from statuspage.enums import Role
from statuspage.errors import DomainError
from subscribers.models import Subscriber
from tests.conftest import BASE_DOMAIN, login_client, member_with_role
from tests.http_receiver import http_receiver
from tests.incident_factories import open_incident

pytestmark = pytest.mark.django_db


def test_acknowledge_once_takes_ownership(page, member):
    incident = open_incident(page)
    actor = Actor.for_user(member.user)
    with scope(organization=page.organization_id):
        first = responders.acknowledge_incident(incident, actor=actor).acknowledged_at
        again = responders.acknowledge_incident(incident, actor=actor).acknowledged_at
        incident.refresh_from_db()
    assert (first, incident.owner, incident.acknowledged_by) == (again, member.user, member.user)


def test_classify_and_assign_check_their_input(page, member, other_member):
    incident = open_incident(page)
    actor = Actor.for_user(member.user)
    with scope(organization=page.organization_id):
        responders.classify_incident(incident, actor=actor, severity="high", category="security")
        with pytest.raises(DomainError):
            responders.classify_incident(incident, actor=actor, severity="apocalyptic", category="")
        with pytest.raises(DomainError):
            responders.assign_incident(incident, actor=actor, owner=other_member.user)
        incident.refresh_from_db()
    assert (incident.severity, incident.category) == ("high", "security")


def test_internal_notes_never_reach_the_public(console_client, page, member):
    with scope(organization=page.organization_id):
        Subscriber.objects.create(
            organization=page.organization,
            page=page,
            email="s@example.test",
            confirmed_at="2026-01-01T00:00Z",
        )
    incident = open_incident(page, name="Checkout down", body="Public text")
    secret = "ZZ-INTERNAL-ROOT-CAUSE-ZZ"
    url = f"/console/acme/incidents/{incident.public_id}/"
    console_client.post(f"{url}notes/", {"note-body": secret})
    assert secret in console_client.get(url).content.decode()
    console_client.post(
        f"{url}updates/",
        {"status": "identified", "body": "Found it", "deliver_notifications": "on"},
    )
    public = Client(HTTP_HOST=f"acme.{BASE_DOMAIN}")
    for path in [
        "/",
        f"/incidents/{incident.public_id}",
        "/api/v2/summary.json",
        "/api/v2/incidents.json",
        "/history.atom",
        "/history.rss",
    ]:
        assert secret not in public.get(path).content.decode(), path
    with http_receiver() as receiver, scope(organization=page.organization_id):
        from subscribers.services import fan_out_update

        Subscriber.objects.create(
            organization=page.organization,
            page=page,
            kind="webhook",
            endpoint=receiver.url,
            confirmed_at="2026-01-01T00:00Z",
        )
        for update in incident.updates.all():
            fan_out_update(update)
    assert mail.outbox and all(secret not in m.body for m in mail.outbox)
    assert all(secret not in m.alternatives[0][0] for m in mail.outbox)
    assert len(receiver.received) == 2  # the opening update and "identified"
    assert all(secret.encode() not in body for _, body in receiver.received)
    summary = json.loads(public.get("/api/v2/summary.json").content)
    assert "owner" not in summary["incidents"][0] and "severity" not in summary["incidents"][0]


def test_console_acknowledge_assign_and_roles(console_client, org, page, member):
    incident = open_incident(page)
    url = f"/console/acme/incidents/{incident.public_id}/"
    console_client.post(f"{url}acknowledge/")
    console_client.post(
        f"{url}response/", {"severity": "critical", "category": "outage", "assign_to_me": "1"}
    )
    incident.refresh_from_db()
    assert (incident.severity, incident.owner, incident.acknowledged_at is not None) == (
        "critical",
        member.user,
        True,
    )
    assert "Severity Critical (public impact: critical)" in console_client.get(url).content.decode()
    viewer = login_client(member_with_role(org, Role.VIEWER))
    assert viewer.post(f"{url}notes/", {"note-body": "x"}).status_code == 403
    assert "Internal notes" not in viewer.get(url).content.decode()


def test_mine_unacknowledged_and_overdue(console_client, page, member):
    import datetime

    import time_machine

    with time_machine.travel(datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=1)):
        late = open_incident(page, name="Late")
    fresh = open_incident(page, name="Fresh")
    with scope(organization=page.organization_id):
        actor = Actor.for_user(member.user)
        responders.classify_incident(late, actor=actor, severity="critical", category="outage")
        responders.classify_incident(fresh, actor=actor, severity="critical", category="outage")
        late.refresh_from_db()
        fresh.refresh_from_db()
        policy = response_policy(page.organization_id)
    assert (late.is_overdue_for(policy), fresh.is_overdue_for(policy)) == (True, False)
    body = console_client.get("/console/acme/incidents/").content.decode()
    assert body.count("Overdue: not acknowledged") == 1
    console_client.post(f"/console/acme/incidents/{fresh.public_id}/acknowledge/")
    mine = console_client.get("/console/acme/incidents/?tab=active&mine=1")
    assert [i.name for i in mine.context["incidents"]] == ["Fresh"]
    waiting = console_client.get("/console/acme/incidents/?tab=active&unacknowledged=1")
    assert [i.name for i in waiting.context["incidents"]] == ["Late"]


def test_quiet_incidents_remind_the_owner_once_per_interval(
    page, member, django_capture_on_commit_callbacks
):
    import datetime

    import time_machine

    start = datetime.datetime(2026, 11, 20, 12, 0, tzinfo=datetime.UTC)
    with time_machine.travel(start, tick=False):
        incident = open_incident(page, name="Quiet one")
        with scope(organization=page.organization_id):
            responders.assign_incident(incident, actor=Actor.system("t"), owner=member.user)
        assert responders.remind_quiet_incidents() == []
    with (
        time_machine.travel(start + datetime.timedelta(minutes=31), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert responders.remind_quiet_incidents() == [incident.public_id]
        assert responders.remind_quiet_incidents() == []
    [message] = mail.outbox
    assert message.to == [member.user.email]
    assert message.subject == "[Acme Cloud] No update for 31 minutes: Quiet one"
    assert f"/console/acme/incidents/{incident.public_id}/#post-update" in message.body
    later = start + datetime.timedelta(minutes=40)
    with time_machine.travel(later, tick=False), scope(organization=page.organization_id):
        services.post_incident_update(incident, actor=Actor.system("t"), status="identified")
    with time_machine.travel(start + datetime.timedelta(minutes=65), tick=False):
        assert responders.remind_quiet_incidents() == []  # updated 25 minutes ago
    with time_machine.travel(start + datetime.timedelta(minutes=71), tick=False):
        assert responders.remind_quiet_incidents() == [incident.public_id]
