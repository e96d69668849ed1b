import pytest
from django_scopes import scopes_disabled

from incidents.models import Incident
from statuspage.enums import Role
from tests.component_factories import ComponentFactory
from tests.conftest import login_client, member_with_role
from tests.incident_factories import open_incident

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(page):
    return ComponentFactory(page=page, name="API")


def test_declare_incident_from_the_console(console_client, page, api):
    response = console_client.post(
        "/console/acme/incidents/new/",
        {
            "name": "API errors",
            "status": "investigating",
            "impact": "major",
            "body": "Looking into it.",
            f"component_{api.public_id}": "impact",
            "deliver_notifications": "on",
        },
    )
    with scopes_disabled():
        incident = Incident.objects.get(page=page)
    assert response["Location"] == f"/console/acme/incidents/{incident.public_id}/"
    api.refresh_from_db()
    assert (incident.name, incident.impact, api.status) == ("API errors", "major", "partial_outage")
    detail = console_client.get(response["Location"])
    assert detail.status_code == 200
    assert detail.context["update_form"]["status"].value() == "identified"


def test_create_error_keeps_input(console_client, page, api):
    response = console_client.post(
        "/console/acme/incidents/new/",
        {"name": "", "status": "investigating", "impact": "minor", "body": "keep me"},
    )
    assert response.status_code == 400
    assert response.context["form"].errors == {"name": ["This field is required."]}
    assert "keep me" in response.content.decode()


def test_backfill_from_the_console(console_client, page, api):
    response = console_client.post(
        "/console/acme/incidents/new/",
        {
            "name": "Last week",
            "status": "investigating",
            "impact": "minor",
            "is_backfilled": "on",
            "started_at": "2026-11-01T10:00",
            "resolved_at": "2026-11-01T11:30",
        },
    )
    assert response.status_code == 302
    with scopes_disabled():
        incident = Incident.objects.get(page=page)
    assert (incident.status, incident.is_backfilled, incident.started_at.isoformat()) == (
        "resolved",
        True,
        "2026-11-01T10:00:00+00:00",
    )


def test_backfill_times_are_read_in_the_page_time_zone(console_client, page):
    with scopes_disabled():
        page.time_zone = "Asia/Tokyo"
        page.save()
    console_client.post(
        "/console/acme/incidents/new/",
        {"name": "X", "status": "investigating", "impact": "minor", "is_backfilled": "on",
         "started_at": "2026-11-01T09:00", "resolved_at": "2026-11-01T10:00"},
    )  # fmt: skip
    with scopes_disabled():
        incident = Incident.objects.get(page=page)
    assert incident.started_at.isoformat() == "2026-11-01T00:00:00+00:00"


def test_post_update_and_resolve(console_client, page, api):
    incident = open_incident(page, component_statuses={api: None})
    url = f"/console/acme/incidents/{incident.public_id}/updates/"
    console_client.post(url, {"status": "identified", "body": "Found"})
    response = console_client.post(url, {"status": "resolved", "body": "Done"})
    assert response.status_code == 302
    incident.refresh_from_db()
    api.refresh_from_db()
    assert (incident.status, api.status) == ("resolved", "operational")


def test_update_form_error_is_400(console_client, page):
    incident = open_incident(page)
    url = f"/console/acme/incidents/{incident.public_id}/updates/"
    response = console_client.post(url, {"status": "scheduled", "body": "keep"})
    assert response.status_code == 400
    assert "keep" in response.content.decode()


def test_lists_have_tabs_and_search(console_client, page):
    open_incident(page, name="Database slow")
    resolved = open_incident(page, name="Old thing")
    console_client.post(
        f"/console/acme/incidents/{resolved.public_id}/updates/", {"status": "resolved"}
    )
    active = console_client.get("/console/acme/incidents/")
    assert [i.name for i in active.context["incidents"]] == ["Database slow"]
    done = console_client.get("/console/acme/incidents/?tab=resolved")
    assert [i.name for i in done.context["incidents"]] == ["Old thing"]
    found = console_client.get("/console/acme/incidents/?tab=active&q=datab")
    assert [i.name for i in found.context["incidents"]] == ["Database slow"]


def test_schedule_maintenance_from_the_console(console_client, page, api):
    response = console_client.post(
        "/console/acme/incidents/maintenance/new/",
        {
            "name": "DB upgrade",
            "scheduled_for": "2030-01-01T10:00",
            "scheduled_until": "2030-01-01T12:00",
            "components": [api.public_id],
            "remind_prior_minutes": "60",
            "auto_in_progress": "on",
            "auto_completed": "on",
        },
    )
    assert response.status_code == 302
    with scopes_disabled():
        maintenance = Incident.objects.get(page=page, kind="maintenance")
    assert (maintenance.remind_prior_minutes, maintenance.notify_at_start) == (60, False)
    start = f"/console/acme/incidents/{maintenance.public_id}/start/"
    console_client.post(start)
    api.refresh_from_db()
    assert api.status == "under_maintenance"


def test_maintenance_end_before_start_is_an_error(console_client, page):
    response = console_client.post(
        "/console/acme/incidents/maintenance/new/",
        {"name": "X", "scheduled_for": "2030-01-01T10:00", "scheduled_until": "2030-01-01T09:00"},
    )
    assert response.status_code == 400
    assert response.context["form"].errors == {
        "scheduled_until": ["The window must end after it starts."]
    }


def test_delete_needs_the_title(console_client, page):
    incident = open_incident(page, name="False alarm")
    url = f"/console/acme/incidents/{incident.public_id}/delete/"
    assert console_client.post(url, {"confirm_name": "nope"}).status_code == 400
    assert console_client.post(url, {"confirm_name": "False alarm"}).status_code == 302
    with scopes_disabled():
        assert Incident.objects.filter(pk=incident.pk).exists() is False


def test_template_prefills_the_create_form(console_client, page, api):
    console_client.post(
        "/console/acme/incidents/templates/new/",
        {"name": "DB", "title": "Database down", "status": "identified", "impact": "critical",
         "components": [api.public_id], "deliver_notifications": "on"},
    )  # fmt: skip
    listing = console_client.get("/console/acme/incidents/templates/")
    template = next(iter(listing.context["templates"]))
    form = console_client.get(f"/console/acme/incidents/new/?template={template.public_id}")
    assert form.context["form"]["name"].value() == "Database down"
    assert form.context["form"][f"component_{api.public_id}"].value() == "impact"


@pytest.mark.parametrize(("role", "expected"), [(Role.VIEWER, 403), (Role.RESPONDER, 200)])
def test_viewers_cannot_declare(org, page, role, expected):
    client = login_client(member_with_role(org, role))
    assert client.get("/console/acme/incidents/new/").status_code == expected
    assert client.get("/console/acme/incidents/").status_code == 200


def test_another_pages_incident_is_404(console_client, page, other_page):
    foreign = open_incident(other_page, name="Foreign")
    url = f"/console/acme/incidents/{foreign.public_id}/"
    assert console_client.get(url).status_code == 404
    response = console_client.post(url + "updates/", {"status": "resolved"})
    assert response.status_code == 404
    foreign.refresh_from_db()
    assert foreign.status == "investigating"
