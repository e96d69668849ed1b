"""Routing, response targets and the responders' alerts (email + signed organisation webhook),
each exactly once, through the ResponderAlert outbox."""

import datetime
import hashlib
import hmac
import json

import pytest
import time_machine
from django.core import mail
from django_scopes import scope, scopes_disabled

from incidents import alert_delivery, responders
from incidents.jobs import responder_checks_job
from incidents.models import ResponderAlert
from incidents.queries import response_policy
from statuspage.actors import Actor
from statuspage.enums import Role
from statuspage.errors import DomainError
from statuspage.models import User
from tests.conftest import member_with_role
from tests.factories import MembershipFactory
from tests.http_receiver import http_receiver
from tests.incident_factories import open_incident

pytestmark = pytest.mark.django_db
ACTOR = Actor.system("tests")
START = datetime.datetime(2026, 11, 24, 9, 0, tzinfo=datetime.UTC)


@pytest.fixture
def on_call(org, page):
    """Two responders who opted in to alerts, one who did not, and a viewer."""
    alice = MembershipFactory(organization=org, role=Role.RESPONDER, user__email="alice@acme.test")
    bob = MembershipFactory(organization=org, role=Role.ADMIN, user__email="bob@acme.test")
    quiet = MembershipFactory(organization=org, role=Role.RESPONDER, user__email="q@acme.test")
    member_with_role(org, Role.VIEWER)
    with scope(organization=org.pk):
        responders.set_alert_opt_in(org, alice.user, enabled=True)
        responders.set_alert_opt_in(org, bob.user, enabled=True)
    return alice.user, bob.user, quiet.user


def alerts(page):
    with scopes_disabled():
        return sorted(
            ResponderAlert.objects.filter(incident__page=page).values_list("reason", flat=True)
        )


def set_webhook(org, url):
    with scope(organization=org.pk):
        return responders.save_response_policy(
            org, actor=ACTOR, critical_target_minutes=15, high_target_minutes=60,
            medium_target_minutes=240, low_target_minutes=1440, alert_webhook_url=url,
        )  # fmt: skip


def test_critical_incident_alerts_opted_in_responders_once(
    page, on_call, django_capture_on_commit_callbacks
):
    alice, bob, _ = on_call
    with django_capture_on_commit_callbacks(execute=True):
        incident = open_incident(page, name="Checkout down", severity="critical")
    [message] = mail.outbox
    assert sorted(message.to) == sorted([alice.email, bob.email])
    assert message.subject == "[Acme Cloud] Critical incident: Checkout down"
    assert f"/console/acme/incidents/{incident.public_id}/" in message.body
    # Re-classifying, or the periodic job, raises nothing new before the target passes.
    with scope(organization=page.organization_id), django_capture_on_commit_callbacks(execute=True):
        responders.classify_incident(incident, actor=ACTOR, severity="high", category="outage")
    responder_checks_job()
    assert alerts(page) == ["triggered"] and len(mail.outbox) == 1


def test_medium_and_low_page_nobody(page, on_call, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        open_incident(page, name="Slow search", severity="medium")
        open_incident(page, name="Typo", severity="low")
    assert alerts(page) == [] and mail.outbox == []


def test_becoming_urgent_later_alerts_but_not_once_acknowledged(
    page, on_call, django_capture_on_commit_callbacks
):
    first = open_incident(page, name="First")
    second = open_incident(page, name="Second")
    with scope(organization=page.organization_id), django_capture_on_commit_callbacks(execute=True):
        responders.acknowledge_incident(second, actor=Actor.for_user(on_call[0]))
        responders.classify_incident(first, actor=ACTOR, severity="high", category="")
        responders.classify_incident(second, actor=ACTOR, severity="high", category="")
    assert alerts(page) == ["triggered"]
    assert "First" in mail.outbox[0].subject


def test_overdue_alert_once_using_the_organisations_target(org, page, on_call):
    with scope(organization=org.pk):
        responders.save_response_policy(
            org, actor=ACTOR, critical_target_minutes=5, high_target_minutes=30,
            medium_target_minutes=60, low_target_minutes=120,
        )  # fmt: skip
    with time_machine.travel(START, tick=False):
        incident = open_incident(page, name="Payments failing", severity="critical")
        responder_checks_job()
    mail.outbox.clear()
    with time_machine.travel(START + datetime.timedelta(minutes=4), tick=False):
        assert responders.raise_overdue_alerts() == []
    with time_machine.travel(START + datetime.timedelta(minutes=6), tick=False):
        responder_checks_job()
        responder_checks_job()
        with scope(organization=org.pk):
            assert incident.is_overdue_for(response_policy(org.pk))
    assert alerts(page) == ["overdue", "triggered"]
    [message] = mail.outbox
    assert message.subject == "[Acme Cloud] Not acknowledged in time: Payments failing"
    assert "5-minute response target" in message.body


def test_acknowledged_incidents_are_never_overdue(page, on_call):
    with time_machine.travel(START, tick=False):
        incident = open_incident(page, name="Handled", severity="critical")
        with scope(organization=page.organization_id):
            responders.acknowledge_incident(incident, actor=Actor.for_user(on_call[0]))
    with time_machine.travel(START + datetime.timedelta(hours=2), tick=False):
        assert responders.raise_overdue_alerts() == []


def test_webhook_is_signed_and_carries_no_internal_notes(
    org, page, on_call, django_capture_on_commit_callbacks
):
    with http_receiver() as receiver:
        policy = set_webhook(org, receiver.url)
        with django_capture_on_commit_callbacks(execute=True):
            incident = open_incident(page, name="DB down", severity="critical", category="data")
        [(headers, body)] = receiver.received
    expected = "sha256=" + hmac.new(policy.alert_webhook_secret.encode(), body,
                                    hashlib.sha256).hexdigest()  # fmt: skip
    assert headers["X-Status-Signature"] == expected
    assert headers["X-Status-Event"] == "incident.triggered"
    data = json.loads(body)
    assert data["event"] == "incident.triggered"
    assert data["incident"]["id"] == incident.public_id
    assert (data["incident"]["severity"], data["incident"]["public_impact"]) == (
        "critical",
        "critical",
    )
    assert data["text"].startswith("Critical incident triggered: “DB down” on Acme Cloud")
    assert "notes" not in data["incident"]


def test_failing_webhook_is_retried_with_back_off_without_emailing_twice(
    org, page, on_call, django_capture_on_commit_callbacks
):
    with http_receiver() as receiver:
        receiver.status = 503
        set_webhook(org, receiver.url)
        with time_machine.travel(START, tick=False):
            with django_capture_on_commit_callbacks(execute=True):
                open_incident(page, name="Flaky", severity="high")
            responder_checks_job()  # not due yet: nothing resent
        with scopes_disabled():
            alert = ResponderAlert.objects.get()
        assert (alert.attempts, alert.done_at, alert.last_error) == (1, None, "webhook: HTTP 503")
        assert alert.next_attempt_at == START + datetime.timedelta(minutes=1)
        assert len(receiver.received) == 1 and len(mail.outbox) == 1
        receiver.status = 200
        with time_machine.travel(START + datetime.timedelta(minutes=1), tick=False):
            responder_checks_job()
        alert.refresh_from_db()
        assert alert.done_at is not None and alert.webhook_at is not None
        assert len(receiver.received) == 2 and len(mail.outbox) == 1


def test_a_permanent_webhook_refusal_stops_retrying(
    org, page, on_call, django_capture_on_commit_callbacks
):
    with http_receiver() as receiver:
        receiver.status = 410
        set_webhook(org, receiver.url)
        with django_capture_on_commit_callbacks(execute=True):
            open_incident(page, name="Gone", severity="critical")
    with scopes_disabled():
        alert = ResponderAlert.objects.get()
    assert alert.done_at is not None and "HTTP 410" in alert.last_error


def test_alerts_raised_while_the_queue_was_down_go_out_from_the_sweep(page, on_call):
    # No on-commit callbacks run here: as if Redis refused the job.
    open_incident(page, name="Lost enqueue", severity="critical")
    assert mail.outbox == []
    responder_checks_job()
    assert len(mail.outbox) == 1
    responder_checks_job()
    assert len(mail.outbox) == 1


def test_backoff_doubles_up_to_an_hour():
    minutes = [alert_delivery.backoff(n).total_seconds() / 60 for n in range(1, 9)]
    assert minutes == [1, 2, 4, 8, 16, 32, 60, 60]


def test_routing_by_category_to_an_owner_or_a_team(org, page, on_call):
    alice, bob, quiet = on_call
    with scope(organization=org.pk):
        team = responders.save_team(org, actor=ACTOR, name="Security", members=[alice, quiet])
        responders.set_category_route(org, actor=ACTOR, category="security", team=team)
        responders.set_category_route(org, actor=ACTOR, category="outage", owner=bob)
    breach = open_incident(page, name="Breach", category="security")
    outage = open_incident(page, name="Outage", category="outage")
    unrouted = open_incident(page, name="Bug", category="bug")
    later = open_incident(page, name="Later")
    with scope(organization=org.pk):
        responders.classify_incident(later, actor=ACTOR, severity="", category="outage")
        for incident in (breach, outage, unrouted, later):
            incident.refresh_from_db()
    assert (breach.owner, breach.team) == (None, team)
    assert (outage.owner, outage.team) == (bob, None)
    assert (unrouted.owner, unrouted.team) == (None, None)
    assert later.owner == bob


def test_team_incidents_count_as_mine_for_members_until_someone_owns_them(
    org, page, on_call, client
):
    alice, _, _ = on_call
    with scope(organization=org.pk):
        team = responders.save_team(org, actor=ACTOR, name="Data", members=[alice])
        responders.set_category_route(org, actor=ACTOR, category="data", team=team)
    open_incident(page, name="Replica lag", category="data")
    client.force_login(alice)
    mine = client.get("/console/acme/incidents/?tab=active&mine=1")
    assert [i.name for i in mine.context["incidents"]] == ["Replica lag"]
    by_category = client.get("/console/acme/incidents/?tab=active&category=bug")
    assert list(by_category.context["incidents"]) == []


def test_policy_and_routes_check_their_input(org, page, other_member, on_call):
    with scope(organization=org.pk):
        with pytest.raises(DomainError, match="no longer than"):
            responders.save_response_policy(
                org, actor=ACTOR, critical_target_minutes=90, high_target_minutes=60,
                medium_target_minutes=240, low_target_minutes=1440,
            )  # fmt: skip
        with pytest.raises(DomainError, match="between"):
            responders.save_response_policy(
                org, actor=ACTOR, critical_target_minutes=0, high_target_minutes=60,
                medium_target_minutes=240, low_target_minutes=1440,
            )  # fmt: skip
        with pytest.raises(DomainError, match="responder"):
            responders.set_category_route(
                org, actor=ACTOR, category="data", owner=other_member.user
            )
        viewer = User.objects.get(email="viewer@acme.test")
        with pytest.raises(DomainError, match="responder"):
            responders.save_team(org, actor=ACTOR, name="Ops", members=[viewer])
        with pytest.raises(DomainError, match="responder"):
            responders.set_alert_opt_in(org, viewer, enabled=True)
