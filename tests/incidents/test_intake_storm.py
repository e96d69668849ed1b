"""Storm protection: a burst of alerts of one integration is one incident listing its alerts,
announced once and resolved once, however the burst arrives."""

import datetime

import pytest
import time_machine
from django.core import mail
from django_scopes import scope, scopes_disabled

from incidents.models import Incident, IncidentAlert, IncidentUpdate, IntegrationEvent
from tests.incidents.test_intake import am_alert, integration, post

pytestmark = pytest.mark.django_db
START = datetime.datetime(2026, 11, 24, 10, 0, tzinfo=datetime.UTC)  # on a minute


def batch(status, keys):
    return {"status": status, "alerts": [am_alert(status, f"fp{k}", f"Alert {k}") for k in keys]}


def emails_per_subscriber():
    counts = {}
    for message in mail.outbox:
        for address in message.to:
            counts[address] = counts.get(address, 0) + 1
    return counts


def state(page):
    with scopes_disabled():
        incidents = list(Incident.objects.filter(page=page).values_list("status", flat=True))
        return {
            "incidents": incidents,
            "alerts": IncidentAlert.objects.filter(incident__page=page).count(),
            "firing": IncidentAlert.objects.filter(incident__page=page, is_firing=True).count(),
            "updates": IncidentUpdate.objects.filter(incident__page=page).count(),
        }


def test_2000_alerts_in_20_posts_are_one_incident_announced_and_resolved_once(
    page, api, subscribers, django_capture_on_commit_callbacks
):
    hook = integration(page, "alertmanager", api)
    with django_capture_on_commit_callbacks(execute=True):
        answers = [
            post(hook, batch("firing", range(n, n + 100))).json() for n in range(0, 2000, 100)
        ]
    assert answers[0] == {"opened": 1, "grouped": 99, "resolved": 0, "ignored": 0}
    assert answers[1:] == [{"opened": 0, "grouped": 100, "resolved": 0, "ignored": 0}] * 19
    assert state(page) == {"incidents": ["investigating"], "alerts": 2000, "firing": 2000,
                           "updates": 1}  # fmt: skip
    assert emails_per_subscriber() == {s.email: 1 for s in subscribers}
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(0, 1900, 100):
            post(hook, batch("resolved", range(n, n + 100)))
        assert state(page)["incidents"] == ["investigating"]  # 100 still fire
        last = post(hook, batch("resolved", range(1900, 2000))).json()
    assert last == {"opened": 0, "grouped": 0, "resolved": 100, "ignored": 0}
    assert state(page) == {"incidents": ["resolved"], "alerts": 2000, "firing": 0, "updates": 2}
    assert emails_per_subscriber() == {s.email: 2 for s in subscribers}
    with scopes_disabled():
        assert (
            IncidentUpdate.objects.first().body
            == "Resolved: all 2000 alerts. Service is back to normal."
        )


def test_one_post_of_2000_alerts_is_refused_by_default_and_writes_nothing(
    page, api, subscribers, django_capture_on_commit_callbacks
):
    hook = integration(page, "alertmanager", api)
    with django_capture_on_commit_callbacks(execute=True):
        response = post(hook, batch("firing", range(2000)))
    assert response.status_code == 413
    assert state(page) == {"incidents": [], "alerts": 0, "firing": 0, "updates": 0}
    assert mail.outbox == []
    with scopes_disabled():
        assert IntegrationEvent.objects.get().error.startswith(
            "alerts has 2000 alerts; at most 100"
        )


def test_one_post_of_2000_alerts_under_a_raised_cap_is_one_incident(
    page, api, subscribers, settings, django_capture_on_commit_callbacks
):
    settings.INTAKE_MAX_ALERTS = 2000
    settings.INTAKE_MAX_BODY_BYTES = 4 * 1024 * 1024
    hook = integration(page, "alertmanager", api)
    with django_capture_on_commit_callbacks(execute=True):
        answer = post(hook, batch("firing", range(2000))).json()
    assert answer == {"opened": 1, "grouped": 1999, "resolved": 0, "ignored": 0}
    assert state(page) == {"incidents": ["investigating"], "alerts": 2000, "firing": 2000,
                           "updates": 1}  # fmt: skip
    assert emails_per_subscriber() == {s.email: 1 for s in subscribers}


def test_2000_posts_of_one_alert_within_minutes_are_one_incident(
    page, api, subscribers, django_capture_on_commit_callbacks
):
    """Over 200 seconds, the default rate limit (120 a minute) lets 4 × 120 through and
    answers the rest 429; all that get through join the first incident."""
    hook = integration(page, "uptime-kuma", api)
    codes = []
    with django_capture_on_commit_callbacks(execute=True):
        for i in range(2000):
            with time_machine.travel(START + datetime.timedelta(seconds=i / 10), tick=False):
                down = {"heartbeat": {"status": 0, "monitorID": i}, "monitor": {"name": f"M{i}"}}
                codes.append(post(hook, down).status_code)
    assert (codes.count(200), codes.count(429)) == (480, 1520)
    assert state(page) == {"incidents": ["investigating"], "alerts": 480, "firing": 480,
                           "updates": 1}  # fmt: skip
    assert emails_per_subscriber() == {s.email: 1 for s in subscribers}


def test_after_the_grouping_window_a_new_alert_opens_a_new_incident(page, api):
    hook = integration(page, "alertmanager", api)
    with time_machine.travel(START, tick=False):
        post(hook, batch("firing", [1]))
    with time_machine.travel(START + datetime.timedelta(minutes=29), tick=False):
        assert post(hook, batch("firing", [2])).json()["grouped"] == 1
    # The window runs from the last alert that joined: 29 + 30 minutes.
    with time_machine.travel(START + datetime.timedelta(minutes=59), tick=False):
        assert post(hook, batch("firing", [3])).json()["grouped"] == 1
    with time_machine.travel(START + datetime.timedelta(minutes=90), tick=False):
        assert post(hook, batch("firing", [4])).json()["opened"] == 1
    with scopes_disabled():
        groups = [
            sorted(IncidentAlert.objects.filter(incident=i).values_list("alert_key", flat=True))
            for i in Incident.objects.order_by("id")
        ]
    assert groups == [["fp1", "fp2", "fp3"], ["fp4"]]


def test_a_resolved_alert_firing_again_rejoins_its_open_incident(page, api):
    hook = integration(page, "alertmanager", api)
    post(hook, batch("firing", [1, 2]))
    flap = {"alerts": [{**am_alert("resolved", "fp1"), "endsAt": "2026-11-24T10:10:00Z"}]}
    assert post(hook, flap).json() == {"opened": 0, "grouped": 0, "resolved": 1, "ignored": 0}
    again = {"alerts": [{**am_alert("firing", "fp1"), "startsAt": "2026-11-24T10:20:00Z"}]}
    assert post(hook, again).json() == {"opened": 0, "grouped": 1, "resolved": 0, "ignored": 0}
    assert state(page) == {"incidents": ["investigating"], "alerts": 2, "firing": 2, "updates": 1}


def test_a_group_closed_by_hand_takes_no_more_alerts(page, api):
    hook = integration(page, "alertmanager", api)
    post(hook, batch("firing", [1]))
    with scopes_disabled():
        incident = Incident.objects.get()
    from tests.incident_factories import ACTOR

    with scope(organization=page.organization_id):
        from incidents.services import resolve_incident

        resolve_incident(incident, actor=ACTOR, body="Fixed.")
    assert post(hook, batch("firing", [2])).json()["opened"] == 1
    assert post(hook, batch("resolved", [1])).json()["ignored"] == 1


def test_the_console_incident_page_lists_its_alerts(console_client, page, api):
    hook = integration(page, "alertmanager", api)
    post(hook, batch("firing", [1, 2, 3]))
    post(hook, batch("resolved", [2]))
    with scopes_disabled():
        incident = Incident.objects.get()
    response = console_client.get(f"/console/acme/incidents/{incident.public_id}/")
    assert [(a.title, a.is_firing) for a in response.context["alerts"]] == [
        ("Alert 1", True),
        ("Alert 2", False),
        ("Alert 3", True),
    ]
    assert "3 alerts (2 firing)" in response.content.decode()
