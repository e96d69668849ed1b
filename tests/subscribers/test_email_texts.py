"""Every email's subject and plain-text part carry names as they are; only the HTML part
escapes them. A page "AT&T Cloud" and an incident `R&D API's "latency" <EU>` must not arrive
as `[AT&amp;T Cloud] R&amp;D API&#x27;s …`."""

import datetime
from email.header import decode_header, make_header
from types import SimpleNamespace

import pytest
from django.core import mail
from django.template.loader import render_to_string
from django_scopes import scope

from incidents.services import schedule_maintenance
from statuspage.actors import Actor
from subscribers import services
from subscribers.emails import render_update
from subscribers.models import Subscriber
from tests.incident_factories import open_incident

pytestmark = pytest.mark.django_db
PAGE = "AT&T Cloud"
NAME = 'R&D API\'s "latency" <EU>'
ESCAPED = "R&amp;D API&#x27;s &quot;latency&quot; &lt;EU&gt;"


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Runs the on-commit jobs (in-process, as without Redis) at the end of the block."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def hostile_page(page):
    page.name = PAGE
    page.save(update_fields=["name"])
    return page


def _subscribe(page, email="reader@example.test"):
    with scope(organization=page.organization_id):
        return Subscriber.objects.create(organization=page.organization, page=page, email=email,
                                         confirmed_at="2026-01-01T00:00Z")  # fmt: skip


def _parts(message):
    """(subject, text, html) of a sent message, whichever backend sent it."""
    if hasattr(message, "alternatives"):  # locmem: the EmailMultiAlternatives itself
        return message.subject, message.body, message.alternatives[0][0]
    subject = str(make_header(decode_header(message["Subject"])))
    text, html = (part.get_payload(decode=True).decode() for part in message.get_payload())
    return subject, text, html


def _assert_plain_and_escaped(subject, text, html, *, subject_starts):
    assert subject.startswith(subject_starts)
    for plain in (subject, text):
        assert "&amp;" not in plain and "&#x27;" not in plain and "&lt;" not in plain
    assert NAME in text
    assert ESCAPED in html and NAME not in html


def test_incident_update_subject_and_text_are_not_escaped_over_smtp(
    hostile_page, smtp_sink, committed
):
    _subscribe(hostile_page)
    with committed():
        open_incident(hostile_page, name=NAME, body="Fix & <restart> \"soon\" 'ish'")
    ((_, message),) = smtp_sink.messages
    subject, text, html = _parts(message)
    assert subject == f"[{PAGE}] {NAME} — Investigating"
    _assert_plain_and_escaped(subject, text, html, subject_starts=f"[{PAGE}]")
    assert "Fix & <restart> \"soon\" 'ish'" in text
    assert f"subscribed to {PAGE} status" in text


def test_incident_update_through_the_django_backend_is_the_same(hostile_page, committed):
    _subscribe(hostile_page)
    with committed():
        open_incident(hostile_page, name=NAME)
    (message,) = mail.outbox
    subject, text, html = _parts(message)
    assert subject == f"[{PAGE}] {NAME} — Investigating"
    _assert_plain_and_escaped(subject, text, html, subject_starts=f"[{PAGE}]")


def test_maintenance_subject_and_text_are_not_escaped(hostile_page, committed):
    _subscribe(hostile_page)
    start = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=1)
    with scope(organization=hostile_page.organization_id), committed():
        schedule_maintenance(hostile_page, actor=Actor.system("test"), name=NAME,
                             scheduled_for=start,
                             scheduled_until=start + datetime.timedelta(hours=1))  # fmt: skip
    (message,) = mail.outbox
    subject, text, html = _parts(message)
    assert subject == f"[{PAGE}] Maintenance: {NAME} — Scheduled"
    _assert_plain_and_escaped(subject, text, html, subject_starts=f"[{PAGE}]")


def test_confirmation_subject_and_text_are_not_escaped(hostile_page, committed):
    with scope(organization=hostile_page.organization_id), committed():
        services.subscribe(hostile_page, email="new@example.test")
    (message,) = mail.outbox
    assert message.subject == f"Confirm your subscription to {PAGE} status"
    assert f"every incident and update of {PAGE}:" in message.body
    assert "AT&amp;T Cloud" in message.alternatives[0][0]


def test_render_update_keeps_names_plain_in_subject_and_text(hostile_page):
    incident = open_incident(hostile_page, name=NAME)
    with scope(organization=hostile_page.organization_id):
        rendered = render_update(incident.updates.get())
    assert rendered.subject == f"[{PAGE}] {NAME} — Investigating"
    assert NAME in rendered.text and ESCAPED in rendered.html


def _incident(**extra):
    return SimpleNamespace(name=NAME, is_draft=False, severity="critical",
                           severity_label="Critical", category="", owner=None, team=None,
                           get_severity_display=lambda: "Critical", **extra)  # fmt: skip


@pytest.mark.parametrize(
    ("template", "context", "subject"),
    [
        ("responder_alert",
         {"alert": SimpleNamespace(reason="triggered"), "incident": _incident(),
          "page": SimpleNamespace(name=PAGE), "summary": f"{NAME} was triggered",
          "target_minutes": 15, "url": "http://x.test/i?a=1&b=2"},
         f"[{PAGE}] Critical incident: {NAME}"),
        ("update_reminder",
         {"incident": _incident(), "page": SimpleNamespace(name=PAGE), "minutes": 30,
          "url": "http://x.test/i?a=1&b=2"},
         f"[{PAGE}] No update for 30 minutes: {NAME}"),
        ("invitation",
         {"organization": SimpleNamespace(name=PAGE),
          "inviter": SimpleNamespace(name=NAME, email="o'neil@example.test"),
          "role": "Admin", "accept_url": "http://x.test/a?a=1&b=2"},
         f"You're invited to {PAGE} on Status"),
        ("password_reset",
         {"user": SimpleNamespace(name=NAME), "email": "o'neil@example.test",
          "reset_url": "http://x.test/r?a=1&b=2"},
         "Reset your Status password"),
    ],
)  # fmt: skip
def test_operator_email_subjects_and_texts_are_not_escaped(template, context, subject):
    rendered = " ".join(render_to_string(f"emails/{template}.subject.txt", context).split())
    text = render_to_string(f"emails/{template}.txt", context)
    html = render_to_string(f"emails/{template}.html", context)
    assert rendered == subject
    assert "&amp;" not in text and "&#x27;" not in text and "&lt;" not in text
    assert "a=1&b=2" in text and "a=1&amp;b=2" in html
    assert NAME in text and ESCAPED in html
