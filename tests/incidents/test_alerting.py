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
from tests.conftest import login_client, member_with_role
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


# --- The alert webhook's destination and failures -------------------------------------------


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("http://127.0.0.1:8080/hook", "127.0.0.1 resolves to a private address."),
        (
            "http://169.254.169.254/latest/meta-data",
            "169.254.169.254 resolves to a private address.",
        ),
        ("http://[::1]/hook", "::1 resolves to a private address."),
        ("http://localhost/hook", "localhost resolves to a private address."),
        ("ftp://93.184.215.14/hook", "The endpoint must be an http(s) URL."),
    ],
)
def test_alert_webhook_url_is_refused_at_save_as_it_would_be_at_send(org, settings, url, error):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    with pytest.raises(DomainError) as refused:
        set_webhook(org, url)
    assert (refused.value.message, refused.value.field) == (
        f"This webhook cannot be used: {error}",
        "alert_webhook_url",
    )
    with scope(organization=org.pk):
        assert response_policy(org.pk).alert_webhook_url == ""


def test_a_public_alert_webhook_url_is_saved(org, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    policy = set_webhook(org, "https://93.184.215.14/hook")  # an address: no DNS needed
    assert policy.alert_webhook_url == "https://93.184.215.14/hook"


def test_the_console_shows_why_an_alert_webhook_url_is_refused(console_client, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    response = console_client.post(
        "/console/acme/incidents/responders/policy/",
        {"critical_target_minutes": 15, "high_target_minutes": 60, "medium_target_minutes": 240,
         "low_target_minutes": 1440, "alert_webhook_url": "http://10.0.0.5/hook"},
    )  # fmt: skip
    assert response.status_code == 400
    assert response.context["policy_form"].errors == {
        "alert_webhook_url": [
            "This webhook cannot be used: 10.0.0.5 resolves to a private address."
        ]
    }
    assert 'value="http://10.0.0.5/hook"' in response.content.decode()


def test_a_webhook_refused_at_send_is_recorded_and_shown_not_silently_done(
    org, page, on_call, member, other_org, other_page, settings, django_capture_on_commit_callbacks
):
    with http_receiver() as receiver:
        set_webhook(org, receiver.url)  # saved while private addresses were allowed
        settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
        with django_capture_on_commit_callbacks(execute=True):
            open_incident(page, name="Refused", severity="critical")
        assert receiver.received == []
    with scopes_disabled():
        alert = ResponderAlert.objects.get()
    assert alert.webhook_at is None and alert.emailed_at is not None
    assert alert.webhook_error == "127.0.0.1 resolves to a private address."
    assert alert.webhook_failed_at is not None and alert.done_at is not None
    # The intruder's look-alike failure never shows on our page.
    with scope(organization=other_org.pk):
        intruder = open_incident(other_page, name="Intruder failure")
        ResponderAlert.objects.create(
            organization=other_org, incident=intruder, reason="triggered",
            webhook_error="intruder-marker", done_at=alert.done_at,
        )  # fmt: skip
    client = login_client(member)
    response = client.get("/console/acme/incidents/responders/")
    assert [a.pk for a in response.context["webhook_failures"]] == [alert.pk]
    text = response.content.decode()
    assert "127.0.0.1 resolves to a private address." in text and "Gave up after 1 attempt" in text
    assert "intruder-marker" not in text


def test_a_webhook_failing_until_out_of_attempts_is_recorded_as_failed(
    org, page, on_call, django_capture_on_commit_callbacks
):
    with http_receiver() as receiver:
        receiver.status = 503
        set_webhook(org, receiver.url)
        when = START
        with (
            time_machine.travel(when, tick=False),
            django_capture_on_commit_callbacks(execute=True),
        ):
            open_incident(page, name="Always failing", severity="high")
        with scopes_disabled():
            alert = ResponderAlert.objects.get()
        for attempt in range(1, alert_delivery.MAX_ATTEMPTS):
            alert.refresh_from_db()
            assert (alert.attempts, alert.webhook_failed_at, alert.done_at) == (attempt, None, None)
            when = alert.next_attempt_at
            with time_machine.travel(when, tick=False):
                alert_delivery.dispatch(alert.pk)
        assert len(receiver.received) == alert_delivery.MAX_ATTEMPTS
    alert.refresh_from_db()
    assert (alert.attempts, alert.webhook_error, alert.webhook_failed_at) == (
        alert_delivery.MAX_ATTEMPTS, "HTTP 503", when,
    )  # fmt: skip
    assert len(mail.outbox) == 1
