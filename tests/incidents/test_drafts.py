"""Internal draft incidents: opened by alert intake for a responder to check, invisible to
customers and subscribers until published."""

import datetime
import json

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django_scopes import scope, scopes_disabled

from components.models import Component
from incidents import services
from incidents.models import Incident, IncidentUpdate
from statuspage.actors import Actor
from statuspage.enums import Role
from statuspage.errors import DomainError
from subscribers.models import Subscriber
from tests.component_factories import ComponentFactory
from tests.conftest import BASE_DOMAIN, login_client, member_with_role
from tests.incident_factories import open_incident
from tests.incidents.test_intake import am_alert, integration, post

pytestmark = pytest.mark.django_db
MARKER = "ZZ-DRAFT-ONLY-ZZ"
PUBLIC_PATHS = [
    "/",
    "/history",
    "/history.atom",
    "/history.rss",
    "/badge.svg",
    "/api/v2/summary.json",
    "/api/v2/status.json",
    "/api/v2/components.json",
    "/api/v2/incidents.json",
    "/api/v2/incidents/unresolved.json",
    "/api/v2/scheduled-maintenances.json",
]


@pytest.fixture
def api(page):
    return ComponentFactory(page=page, name="API")


@pytest.fixture
def subscriber(page):
    with scope(organization=page.organization_id):
        return Subscriber.objects.create(
            organization=page.organization,
            page=page,
            email="s@example.test",
            confirmed_at=datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC),
        )


def fire(page, api, **extra):
    hook = integration(page, "alertmanager", api, creates_drafts=True, **extra)
    payload = {"version": "4", "status": "firing",
               "alerts": [am_alert("firing", summary=f"{MARKER} errors")]}  # fmt: skip
    assert post(hook, payload).json() == {"drafted": 1, "grouped": 0, "resolved": 0, "ignored": 0}
    with scopes_disabled():
        return hook, Incident.objects.get(page=page)


def public_text(page):
    public = Client(HTTP_HOST=f"acme.{BASE_DOMAIN}")
    return {path: public.get(path).content.decode() for path in PUBLIC_PATHS}


def test_a_draft_leaves_no_public_trace(page, api, subscriber, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _, draft = fire(page, api)
    assert draft.is_draft and draft.response_state == "triggered"
    for path, body in public_text(page).items():
        assert MARKER not in body, path
    public = Client(HTTP_HOST=f"acme.{BASE_DOMAIN}")
    assert public.get(f"/incidents/{draft.public_id}").status_code == 404
    status = json.loads(public.get("/api/v2/status.json").content)["status"]
    assert status["indicator"] == "none"
    with scopes_disabled():
        assert Component.objects.get(pk=api.pk).status == "operational"
        assert not IncidentUpdate.objects.exists()
    assert mail.outbox == []


def test_responders_see_drafts_viewers_do_not(console_client, org, page, api):
    _, draft = fire(page, api)
    drafts = console_client.get("/console/acme/incidents/?tab=drafts")
    assert [i.name for i in drafts.context["incidents"]] == [draft.name]
    detail = console_client.get(f"/console/acme/incidents/{draft.public_id}/").content.decode()
    assert "Draft: customers don't see this yet" in detail and "Post an update" not in detail
    viewer = login_client(member_with_role(org, Role.VIEWER))
    assert viewer.get(f"/console/acme/incidents/{draft.public_id}/").status_code == 404
    assert MARKER not in viewer.get("/console/acme/incidents/").content.decode()
    assert viewer.get("/console/acme/incidents/?tab=drafts").context["tab"] == "active"


def test_publishing_keeps_the_trigger_time_and_notifies(
    console_client, page, api, subscriber, django_capture_on_commit_callbacks
):
    triggered = datetime.datetime(2026, 11, 24, 10, 0, tzinfo=datetime.UTC)
    with time_machine.travel(triggered, tick=False):
        _, draft = fire(page, api)
    url = f"/console/acme/incidents/{draft.public_id}/"
    with time_machine.travel(triggered + datetime.timedelta(minutes=7), tick=False):
        console_client.post(f"{url}acknowledge/")
        with django_capture_on_commit_callbacks(execute=True):
            response = console_client.post(
                f"{url}publish/",
                {"name": "API errors", "status": "identified", "impact": "major",
                 "body": "We found the cause.", "deliver_notifications": "on",
                 f"component_{api.public_id}": "partial_outage"},
            )  # fmt: skip
    assert response.status_code == 302
    with scopes_disabled():
        incident = Incident.objects.get(pk=draft.pk)
        [update] = incident.updates.all()
        assert Component.objects.get(pk=api.pk).status == "partial_outage"
    assert not incident.is_draft and incident.status == "identified"
    assert (incident.created_at, incident.started_at) == (triggered, triggered)
    assert incident.published_at == triggered + datetime.timedelta(minutes=7)
    assert incident.acknowledged_at - incident.created_at == datetime.timedelta(minutes=7)
    assert update.body == "We found the cause."
    public = Client(HTTP_HOST=f"acme.{BASE_DOMAIN}")
    assert "We found the cause." in public.get(f"/incidents/{draft.public_id}").content.decode()
    assert [m.to for m in mail.outbox] == [["s@example.test"]]
    assert "API errors" in mail.outbox[0].subject


def test_publish_form_errors_keep_what_was_typed(console_client, page, api):
    _, draft = fire(page, api)
    response = console_client.post(
        f"/console/acme/incidents/{draft.public_id}/publish/",
        {"name": "", "status": "identified", "impact": "major", "body": "Kept text"},
    )
    assert response.status_code == 400
    assert "Kept text" in response.content.decode()
    draft.refresh_from_db()
    assert draft.is_draft


def test_updates_and_postmortems_wait_for_publishing(page, api):
    _, draft = fire(page, api)
    with scope(organization=page.organization_id), pytest.raises(DomainError):
        services.post_incident_update(draft, actor=Actor.system("t"), status="identified")


def test_an_alert_that_clears_resolves_the_draft_internally(
    page, api, subscriber, console_client, django_capture_on_commit_callbacks
):
    hook, draft = fire(page, api)
    resolved = {"version": "4", "status": "resolved", "alerts": [am_alert("resolved")]}
    assert post(hook, resolved).json()["resolved"] == 1
    draft.refresh_from_db()
    assert draft.is_draft and draft.status == "resolved" and draft.resolved_at is not None
    for path, body in public_text(page).items():
        assert MARKER not in body, path
    assert mail.outbox == []
    # Publishing it afterwards tells the story as resolved.
    with django_capture_on_commit_callbacks(execute=True):
        console_client.post(
            f"/console/acme/incidents/{draft.public_id}/publish/",
            {"name": "Brief API errors", "impact": "minor", "body": "It was brief."},
        )
    draft.refresh_from_db()
    assert (draft.is_draft, draft.status) == (False, "resolved")
    assert "Brief API errors" in public_text(page)["/history"]


def test_discarding_a_false_alarm(console_client, page, api):
    _, draft = fire(page, api)
    response = console_client.post(f"/console/acme/incidents/{draft.public_id}/discard/")
    assert response.status_code == 302
    with scopes_disabled():
        assert not Incident.objects.exists()
    published = open_incident(page, name="Real")
    console_client.post(f"/console/acme/incidents/{published.public_id}/discard/")
    with scopes_disabled():
        assert Incident.objects.filter(pk=published.pk).exists()
