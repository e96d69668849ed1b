import pytest
from django_scopes import scopes_disabled

from components.models import Component, ComponentGroup
from statuspage.enums import Role
from tests.component_factories import ComponentFactory, ComponentGroupFactory
from tests.conftest import login_client, member_with_role

pytestmark = pytest.mark.django_db


def test_empty_state(console_client, page):
    response = console_client.get("/console/acme/components/")
    assert response.status_code == 200
    assert "Add your first component" in response.content.decode()


def test_create_component_and_group(console_client, page):
    response = console_client.post("/console/acme/components/groups/new/", {"name": "Core"})
    assert response.status_code == 302
    with scopes_disabled():
        group = ComponentGroup.objects.get(page=page)
    response = console_client.post(
        "/console/acme/components/new/",
        {"name": "API", "group": group.public_id, "status": "operational", "showcase": "on"},
    )
    assert response.status_code == 302
    with scopes_disabled():
        component = Component.objects.get(page=page)
    assert (component.name, component.group, component.showcase) == ("API", group, True)
    listing = console_client.get("/console/acme/components/")
    assert listing.context["layout"] == [(None, []), (group, [component])]


def test_create_error_keeps_input(console_client, page):
    response = console_client.post(
        "/console/acme/components/new/",
        {"name": "", "description": "kept text", "status": "operational"},
    )
    assert response.status_code == 400
    assert response.context["form"].errors == {"name": ["This field is required."]}
    assert "kept text" in response.content.decode()


def test_edit_and_delete(console_client, page):
    component = ComponentFactory(page=page, name="API")
    url = f"/console/acme/components/{component.public_id}"
    assert console_client.get(f"{url}/edit/").status_code == 200
    console_client.post(f"{url}/edit/", {"name": "Public API", "showcase": "on"})
    component.refresh_from_db()
    assert component.name == "Public API"
    console_client.post(f"{url}/delete/")
    with scopes_disabled():
        assert Component.objects.filter(pk=component.pk).exists() is False


def test_responder_sets_status_but_cannot_create(org, page):
    component = ComponentFactory(page=page)
    client = login_client(member_with_role(org, Role.RESPONDER))
    url = f"/console/acme/components/{component.public_id}/status/"
    assert client.post(url, {"status": "major_outage"}).status_code == 302
    component.refresh_from_db()
    assert component.status == "major_outage"
    response = client.post("/console/acme/components/new/", {"name": "X", "status": "operational"})
    assert response.status_code == 403


def test_viewer_reads_only(org, page):
    component = ComponentFactory(page=page)
    client = login_client(member_with_role(org, Role.VIEWER))
    assert client.get("/console/acme/components/").status_code == 200
    assert client.get(f"/console/acme/components/{component.public_id}/").status_code == 200
    url = f"/console/acme/components/{component.public_id}/status/"
    assert client.post(url, {"status": "major_outage"}).status_code == 403


def test_another_pages_component_is_404(console_client, page, other_page):
    foreign = ComponentFactory(page=other_page, name="Foreign")
    url = f"/console/acme/components/{foreign.public_id}/"
    assert console_client.get(url).status_code == 404
    assert console_client.post(url + "status/", {"status": "major_outage"}).status_code == 404
    foreign.refresh_from_db()
    assert foreign.status == "operational"


def test_group_move_and_edit(console_client, page):
    first = ComponentGroupFactory(page=page, name="First", position=0)
    second = ComponentGroupFactory(page=page, name="Second", position=1)
    console_client.post(
        f"/console/acme/components/groups/{second.public_id}/move/", {"direction": "up"}
    )
    first.refresh_from_db()
    second.refresh_from_db()
    assert (second.position, first.position) == (0, 1)
    console_client.post(
        f"/console/acme/components/groups/{first.public_id}/edit/",
        {"name": "Renamed", "is_collapsed": "on"},
    )
    first.refresh_from_db()
    assert (first.name, first.is_collapsed) == ("Renamed", True)
