"""Alert intake refuses what it cannot use with a 400 (or 413) naming the problem, writes
nothing for it, and logs every request: the malformed payloads of the issue and more, a
[good, bad] pair, a failure half-way through the writes, and a fuzzer."""

import hashlib
import json

import pytest
from django.core import mail
from django.test import override_settings
from django_scopes import scope, scopes_disabled
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from incidents import services
from incidents.intake import Alert
from incidents.models import AlertLink, Incident, IncidentAlert, IncidentUpdate, IntegrationEvent
from statuspage.errors import DomainError
from tests.incidents.test_intake import am_alert, integration, post

pytestmark = pytest.mark.django_db
GOOD = am_alert("firing")


def am(*alerts, **top):
    return {"version": "4", "status": "firing", "alerts": list(alerts), **top}


def nested(depth):
    value = "x"
    for _ in range(depth):
        value = [value]
    return value


def kuma(heartbeat=None, monitor=None):
    return {"heartbeat": {"status": 0, "monitorID": 7, **(heartbeat or {})},
            "monitor": {"id": 7, "name": "Website", **(monitor or {})}}  # fmt: skip


def written():
    with scopes_disabled():
        return [
            model.objects.count() for model in (Incident, IncidentUpdate, AlertLink, IncidentAlert)
        ]


def events():
    with scopes_disabled():
        return list(IntegrationEvent.objects.order_by("id").values_list("error", flat=True))


MALFORMED = [
    # (kind, payload, status, error). The first 14 are the issue's; each gave a 500.
    ("alertmanager", am(1), 400, "alerts[0] must be an object."),
    ("alertmanager", am(GOOD, "firing"), 400, "alerts[1] must be an object."),
    ("alertmanager", {"alerts": {"0": GOOD}}, 400, "alerts must be a list."),
    ("alertmanager", am({**GOOD, "labels": "x"}), 400, "alerts[0].labels must be an object."),
    ("alertmanager", am(GOOD, {**GOOD, "labels": []}), 400, "alerts[1].labels must be an object."),
    ("alertmanager", am({**GOOD, "annotations": 3}), 400,
     "alerts[0].annotations must be an object."),
    ("alertmanager", am({**GOOD, "annotations": {"summary": 5}}), 400,
     "alerts[0].annotations.summary must be a string."),
    ("alertmanager", am({**GOOD, "labels": {"alertname": ["a"]}}), 400,
     "alerts[0].labels.alertname must be a string."),
    ("generic", {"key": "k", "status": "firing", "title": {"t": 1}}, 400,
     "title must be a string."),
    ("alertmanager", am({**GOOD, "annotations": {"summary": "bad\x00byte"}}), 400,
     "alerts[0].annotations.summary contains a NUL character."),
    ("generic", b'{"key": "k", "status": "firing", "title": "a\x00b"}', 400,
     "Malformed JSON: Invalid control character at: line 1 column 45 (char 44)."),
    ("alertmanager", am({**GOOD, "labels": {"job\x00": "x"}}), 400,
     "A key in alerts[0].labels contains a NUL character."),
    ("alertmanager", am(GOOD, extra=nested(30)), 400,
     "The JSON is nested more than 20 levels deep."),
    ("alertmanager", b'{"alerts": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", 400,
     "The JSON is nested more than 20 levels deep."),
    # More of the same kinds.
    ("alertmanager", am({**GOOD, "status": "bogus"}, status="bogus"), 400,
     "alerts[0].status must be “firing” or “resolved”."),
    ("alertmanager", am({**GOOD, "fingerprint": 5}), 400,
     "alerts[0].fingerprint must be a string."),
    ("alertmanager", am({**GOOD, "startsAt": 5}), 400, "alerts[0].startsAt must be a string."),
    ("alertmanager", am({**GOOD, "startsAt": "yesterday"}), 400,
     "alerts[0].startsAt is not a date-time."),
    ("alertmanager", am({**GOOD, "startsAt": "2026-13-01T00:00:00Z"}), 400,
     "alerts[0].startsAt is not a valid date-time."),
    ("alertmanager", am({"status": "firing"}), 400,
     "alerts[0] has neither a fingerprint nor labels."),
    ("alertmanager", {"status": "firing"}, 400,
     "Expected an Alertmanager/Grafana payload with an `alerts` list."),
    ("alertmanager", [GOOD], 400, "Expected a JSON object."),
    ("alertmanager", b"\xff\xfe{}", 400, "The body is not UTF-8 (byte 0)."),
    ("alertmanager", b"", 400, "Expected a JSON object."),
    ("alertmanager", b"{not json", 400,
     "Malformed JSON: Expecting property name enclosed in double quotes: "
     "line 1 column 2 (char 1)."),
    ("alertmanager", am(*[am_alert("firing", str(i)) for i in range(101)]), 413,
     "alerts has 101 alerts; at most 100 are accepted per request "
     "(Alertmanager: set max_alerts in the webhook_config)."),
    ("alertmanager", b'{"alerts": [], "pad": "' + b"x" * (1024 * 1024) + b'"}', 413,
     "The body is larger than 1048576 bytes."),
    ("grafana", am({**GOOD, "annotations": {"description": 1.5}}), 400,
     "alerts[0].annotations.description must be a string."),
    ("uptime-kuma", {"heartbeat": "down"}, 400, "heartbeat must be an object."),
    ("uptime-kuma", {**kuma(), "monitor": "Website"}, 400, "monitor must be an object."),
    ("uptime-kuma", kuma({"status": "0"}), 400,
     "heartbeat.status must be 0 (down), 1 (up), 2 (pending) or 3."),
    ("uptime-kuma", kuma({"status": True}), 400,
     "heartbeat.status must be 0 (down), 1 (up), 2 (pending) or 3."),
    ("uptime-kuma", kuma({"msg": 5}), 400, "heartbeat.msg must be a string."),
    ("uptime-kuma", kuma({"monitorID": {"id": 7}}), 400,
     "heartbeat.monitorID must be a string or an integer."),
    ("uptime-kuma", kuma(monitor={"name": 5}), 400, "monitor.name must be a string."),
    ("uptime-kuma", kuma({"time": "soon"}), 400, "heartbeat.time is not a date-time."),
    ("healthchecks", {"check_id": "c", "status": "down", "name": 5}, 400,
     "name must be a string."),
    ("healthchecks", {"check_id": ["c"], "status": "down"}, 400,
     "check_id must be a string or an integer."),
    ("healthchecks", {"check_id": "c", "status": 0}, 400, "status must be a string."),
    ("healthchecks", {"check_id": "c", "status": "sideways"}, 400,
     "Expected `check_id` (or `uuid`) and `status` down/up."),
    ("generic", {"alerts": [1]}, 400, "alerts[0] must be an object."),
    ("generic", {"alerts": [{"key": "k", "status": "firing"}, {"key": "k"}]}, 400,
     "alerts[1]: each alert needs `key` and `status` firing/resolved."),
    ("generic", {"key": True, "status": "firing"}, 400, "key must be a string or an integer."),
    ("generic", {"key": "k", "status": "firing", "description": {}}, 400,
     "description must be a string."),
    ("generic", {"key": "k", "status": "firing", "at": 1700000000}, 400, "at must be a string."),
]  # fmt: skip


@pytest.mark.parametrize(("kind", "payload", "status", "error"), MALFORMED)
def test_malformed_payload_is_refused_with_its_problem_and_logged(
    page, api, kind, payload, status, error
):
    hook = integration(page, kind, api)
    response = post(hook, payload)
    assert (response.status_code, response.json()) == (status, {"error": error})
    assert written() == [0, 0, 0, 0]
    assert events() == [error]


def test_a_good_and_a_bad_alert_write_nothing_and_send_nothing(
    page, api, subscribers, django_capture_on_commit_callbacks
):
    hook = integration(page, "alertmanager", api)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = post(hook, am(GOOD, {**GOOD, "fingerprint": "b", "labels": "x"}))
    assert (response.status_code, response.json()) == (
        400,
        {"error": "alerts[1].labels must be an object."},
    )
    assert (written(), mail.outbox, callbacks) == ([0, 0, 0, 0], [], [])
    assert events() == ["alerts[1].labels must be an object."]


def test_a_failure_half_way_through_the_writes_rolls_all_back_and_is_logged(
    page, api, subscribers, django_capture_on_commit_callbacks
):
    hook = integration(page, "alertmanager", api)
    with django_capture_on_commit_callbacks(execute=True):
        post(hook, am(GOOD))
    assert len(mail.outbox) == 3
    before = written()
    # Resolving the incident would notify; opening the next fails (a title the incident
    # checks refuse, which the parser never lets through): neither happens.
    alerts = [Alert("abc", False, "High error rate"), Alert("other", True, "   ")]
    with (
        scope(organization=page.organization_id),
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(DomainError),
    ):
        services.receive_alerts(hook, alerts, payload="the payload")
    assert (written(), len(mail.outbox), callbacks) == (before, 3, [])
    with scopes_disabled():
        assert Incident.objects.get().status == "investigating"
        last = IntegrationEvent.objects.order_by("-id").first()
    assert (last.payload, last.error) == ("the payload", "Not applied: Give the incident a title.")


def test_a_blank_title_becomes_alert(page, api):
    hook = integration(page, "generic", api)
    response = post(hook, {"key": "k", "status": "firing", "title": " \t\x07 "})
    assert (response.status_code, response.json()["opened"]) == (200, 1)
    with scopes_disabled():
        assert Incident.objects.get().name == "Alert"


def test_long_fields_are_hashed_or_truncated_and_control_characters_dropped(page, api):
    hook = integration(page, "alertmanager", api)
    fingerprint = "f" * 300
    long_alert = am_alert("firing", fingerprint, summary="Disk\x1b[31m full " + "y" * 400)
    long_alert["annotations"]["description"] = "line one\nline\x07 two" + "z" * 5000
    assert post(hook, am(long_alert)).json()["opened"] == 1
    with scopes_disabled():
        link = AlertLink.objects.get()
        incident = Incident.objects.get()
        update = IncidentUpdate.objects.get()
    assert link.alert_key == "sha256:" + hashlib.sha256(fingerprint.encode()).hexdigest()
    assert (len(incident.name), incident.name[:15], incident.name[-1]) == (
        255,
        "Disk [31m full ",
        "…",
    )
    assert (update.body[:17], len(update.body)) == ("line one\nline two", 4000)
    # The same long key maps onto the same incident: a replay changes nothing.
    assert post(hook, am(long_alert)).json()["ignored"] == 1


def test_bad_signature_is_logged(page, api):
    hook = integration(page, "grafana", api, signing_secret="s3cret")
    response = post(hook, am(GOOD), HTTP_X_GRAFANA_ALERTING_SIGNATURE="é-not-hex")
    assert (response.status_code, response.json()) == (401, {"error": "Bad signature."})
    assert written() == [0, 0, 0, 0]
    with scopes_disabled():
        event = IntegrationEvent.objects.get()
    assert (event.error, json.loads(event.payload)) == ("Bad signature.", am(GOOD))


def test_rate_limit_answers_429_with_retry_after_and_logs(page, api, settings):
    settings.INTAKE_RATE_LIMIT_PER_MINUTE = 3
    hook = integration(page, "generic", api)
    answers = [post(hook, {"key": f"k{i}", "status": "firing"}) for i in range(5)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429, 429]
    assert answers[3].json() == {
        "error": "Rate limit: at most 3 requests a minute per integration."
    }
    assert 1 <= int(answers[3]["Retry-After"]) <= 61
    assert events() == ["", "", "", *[answers[3].json()["error"]] * 2]
    with scopes_disabled():
        assert json.loads(IntegrationEvent.objects.order_by("-id")[0].payload)["key"] == "k4"
    other = integration(page, "generic", api)  # the limit is per integration
    assert post(other, {"key": "k", "status": "firing"}).status_code == 200


def test_the_rate_limit_fails_open_when_the_cache_cannot_count(page, api):
    hook = integration(page, "uptime-kuma", api)
    unreachable = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                               "LOCATION": "redis://127.0.0.1:1/0"}}  # fmt: skip
    with override_settings(CACHES=unreachable):
        response = post(hook, {"msg": "test notification"})
    assert (response.status_code, events()) == (200, [""])


# --- Fuzzing ----------------------------------------------------------------------------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
FIELDS = ["status", "labels", "annotations", "fingerprint", "startsAt", "endsAt"]


@st.composite
def mutated_alertmanager(draw):
    """A well-formed payload with some fields replaced by anything JSON can hold."""
    alerts = []
    for i in range(draw(st.integers(0, 3))):
        alert = am_alert(draw(st.sampled_from(["firing", "resolved"])), f"fp{i}")
        for field in draw(st.lists(st.sampled_from(FIELDS), max_size=3)):
            alert[field] = draw(JSON)
        if draw(st.booleans()):
            alert["labels"] = {draw(st.text(max_size=8)): draw(JSON)}
        alerts.append(alert)
    return am(*alerts) if draw(st.booleans()) else draw(JSON | st.just(am(*alerts)))


@pytest.fixture
def unthrottled(settings):
    # Once per test, not per example: each assignment to `settings` stacks an override.
    settings.INTAKE_RATE_LIMIT_PER_MINUTE = 100_000


@pytest.mark.parametrize("kind", ["alertmanager", "uptime-kuma", "healthchecks", "generic"])
@hypothesis_settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(payload=mutated_alertmanager() | st.dictionaries(st.text(max_size=12), JSON, max_size=5))
def test_fuzzed_payloads_never_give_a_5xx_or_a_partial_write(page, api, unthrottled, kind, payload):
    hook = integration(page, kind, api)
    before = written()
    response = post(hook, payload)
    assert response.status_code in (200, 400, 413), response.content
    with scopes_disabled():
        event = IntegrationEvent.objects.filter(integration=hook).get()
    if response.status_code == 200:
        assert event.error == ""
    else:
        assert written() == before
        assert event.error == response.json()["error"] != ""
