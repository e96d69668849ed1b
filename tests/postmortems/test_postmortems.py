import datetime
import json

import pytest
from django.test import Client
from django_scopes import scope, scopes_disabled

from incidents.models import Incident, IncidentUpdate
from incidents.services import resolve_incident
from postmortems import services
from postmortems.models import ActionItem
from postmortems.queries import preview_token
from statuspage.actors import Actor
from statuspage.enums import Role
from statuspage.errors import DomainError
from tests.conftest import BASE_DOMAIN, login_client, member_with_role
from tests.incident_factories import open_incident

pytestmark = pytest.mark.django_db
T = datetime.datetime(2026, 11, 1, 10, 0, tzinfo=datetime.UTC)


@pytest.fixture
def actor(member):
    return Actor.for_user(member.user)


@pytest.fixture
def resolved(page, actor):
    incident = open_incident(page, name="API outage", body="Investigating")
    with scope(organization=page.organization_id):
        resolve_incident(incident, actor=actor, body="Fixed")
        incident.refresh_from_db()
    return incident


def write(incident, actor, **fields):
    timeline = [(T, "Alert fired"), (T + datetime.timedelta(minutes=5), "Rolled back")]
    values = {"title": "Report", "summary": "**Short** story", "root_cause": "A bad deploy",
              "timeline": timeline}  # fmt: skip
    with scope(organization=incident.organization_id):
        return services.save_postmortem(incident, actor=actor, **{**values, **fields})


def test_refused_on_an_unresolved_incident(page, actor):
    incident = open_incident(page)
    with pytest.raises(DomainError) as error:
        write(incident, actor)
    assert error.value.message == "Resolve the incident first: a postmortem looks back on it."


def test_publish_and_unpublish_move_the_incident_and_notify_no_one(resolved, actor):
    postmortem = write(resolved, actor)
    assert "### Summary\n\n**Short** story" in postmortem.body
    assert "<strong>Short</strong>" in postmortem.body_html
    assert "Alert fired" in postmortem.body
    with scope(organization=resolved.organization_id):
        updates_before = IncidentUpdate.objects.filter(incident=resolved).count()
        services.publish_postmortem(postmortem, actor=actor)
        assert Incident.objects.get(pk=resolved.pk).status == "postmortem"
        assert IncidentUpdate.objects.filter(incident=resolved).count() == updates_before
        services.unpublish_postmortem(postmortem, actor=actor)
        assert Incident.objects.get(pk=resolved.pk).status == "resolved"
        assert postmortem.published_at is None


def test_action_item_lifecycle(resolved, actor, member, other_member):
    postmortem = write(resolved, actor)
    with scope(organization=resolved.organization_id):
        item = services.add_action_item(postmortem, actor=actor, description="Add a canary",
                                        owner=member.user, due_date=T.date())  # fmt: skip
        with pytest.raises(DomainError):
            services.add_action_item(postmortem, actor=actor, description="X",
                                     owner=other_member.user)  # fmt: skip
        services.set_action_item_done(item, actor=actor, done=True)
        item.refresh_from_db()
        assert (item.done_by, item.done_at is not None) == (member.user, True)
        services.set_action_item_done(item, actor=actor, done=False)
        item.refresh_from_db()
        assert (item.done_by, item.done_at) == (None, None)


def test_console_editor_prefills_saves_previews_and_publishes(console_client, page, resolved):
    url = f"/console/acme/postmortems/{resolved.public_id}/"
    response = console_client.get(url)
    assert response.context["form"]["title"].value().startswith("Post-Incident Report: API outage")
    assert [f["description"].value() for f in response.context["formset"]][:2] == [
        "Investigating: Investigating", "Resolved: Fixed"
    ]  # fmt: skip
    data = {
        "title": "What happened", "summary": "Summary", "show_action_items": "on",
        "form-TOTAL_FORMS": "2", "form-INITIAL_FORMS": "0",
        "form-0-at": "2026-11-01T10:00", "form-0-description": "Alert",
        "form-1-at": "", "form-1-description": "",
    }  # fmt: skip
    assert console_client.post(url, data).status_code == 302
    bad = {**data, "title": "", "form-1-description": "no time"}
    response = console_client.post(url, bad)
    assert response.status_code == 400
    assert 'value="no time"' in response.content.decode()
    public = Client(HTTP_HOST=f"acme.{BASE_DOMAIN}")
    path = f"/incidents/{resolved.public_id}/postmortem"
    assert public.get(path).status_code == 404  # a draft is not public
    with scopes_disabled():
        postmortem = resolved.postmortem
    preview = public.get(path, {"preview": preview_token(postmortem)})
    assert preview.status_code == 200 and preview["Cache-Control"] == "private, no-store"
    console_client.post(f"{url}publish/")
    page_html = public.get(path).content.decode()
    assert "What happened" in page_html
    assert "Read the postmortem" in public.get(f"/incidents/{resolved.public_id}").content.decode()
    data_json = json.loads(public.get("/api/v2/incidents.json").content)["incidents"][0]
    assert data_json["status"] == "postmortem"
    assert data_json["postmortem_body"].startswith("### Summary")
    assert data_json["postmortem_published_at"] is not None
    assert b"Postmortem: What happened" in public.get("/history.atom").content
    export = console_client.get(f"{url}markdown/")
    assert export.content.decode().startswith("# What happened\n\n### Summary")


def test_action_items_view_filters(console_client, page, resolved, actor, member):
    postmortem = write(resolved, actor)
    with scope(organization=page.organization_id):
        late = services.add_action_item(postmortem, actor=actor, description="Late",
                                        owner=member.user, due_date=T.date())  # fmt: skip
        services.add_action_item(postmortem, actor=actor, description="Someday")
    overdue = console_client.get("/console/acme/postmortems/action-items/?state=overdue")
    assert [i.description for i in overdue.context["items"]] == ["Late"]
    console_client.post(f"/console/acme/postmortems/action-items/{late.public_id}/toggle/",
                        {"done": "1", "return_to": "list"})  # fmt: skip
    done = console_client.get("/console/acme/postmortems/action-items/?state=done")
    assert [i.description for i in done.context["items"]] == ["Late"]
    mine = console_client.get(
        f"/console/acme/postmortems/action-items/?state=all&owner={member.user.public_id}"
    )
    assert [i.description for i in mine.context["items"]] == ["Late"]


def test_viewers_cannot_write_postmortems(org, page, resolved):
    client = login_client(member_with_role(org, Role.VIEWER))
    assert client.get(f"/console/acme/postmortems/{resolved.public_id}/").status_code == 403
    assert client.get("/console/acme/postmortems/").status_code == 200


def test_deleting_the_incident_deletes_its_postmortem(resolved, actor):
    from incidents.services import delete_incident

    postmortem = write(resolved, actor)
    with scope(organization=resolved.organization_id):
        services.add_action_item(postmortem, actor=actor, description="X")
        delete_incident(resolved, actor=actor, confirm_name="API outage")
        assert ActionItem.objects.count() == 0
