import pytest
from django.core import mail
from django_scopes import scopes_disabled

from statuspage.enums import Role
from statuspage.models import Membership
from tests.conftest import login_client, member_with_role

pytestmark = pytest.mark.django_db


def test_invite_sends_an_email(console_client, page):
    response = console_client.post(
        "/console/acme/team/invite/", {"email": "new@example.test", "role": "responder"}
    )
    assert response.status_code == 302
    assert [m.to for m in mail.outbox] == [["new@example.test"]]
    assert mail.outbox[0].subject == "You're invited to Acme Org on Status"
    assert "as Responder" in mail.outbox[0].body


def test_duplicate_invitation_and_existing_member_are_refused(console_client, page, member):
    console_client.post("/console/acme/team/invite/", {"email": "a@example.test", "role": "viewer"})
    response = console_client.post(
        "/console/acme/team/invite/", {"email": "A@example.test", "role": "viewer"}
    )
    assert response.status_code == 400
    assert response.context["invite_form"].errors["email"] == [
        "a@example.test has already been invited; revoke that invitation to send a new one."
    ]
    response = console_client.post(
        "/console/acme/team/invite/", {"email": "owner@acme.test", "role": "viewer"}
    )
    assert response.context["invite_form"].errors["email"] == [
        "owner@acme.test is already a member."
    ]
    assert len(mail.outbox) == 1


def test_change_role_and_remove(console_client, org, page):
    responder = member_with_role(org, Role.RESPONDER)
    url = f"/console/acme/team/{responder.user.public_id}"
    assert console_client.post(f"{url}/role/", {"role": "admin"}).status_code == 302
    with scopes_disabled():
        assert Membership.objects.get(pk=responder.pk).role == Role.ADMIN
    console_client.post(f"{url}/remove/")
    with scopes_disabled():
        assert Membership.objects.filter(pk=responder.pk).exists() is False


def test_last_owner_stays(console_client, member, page):
    url = f"/console/acme/team/{member.user.public_id}"
    response = console_client.post(f"{url}/role/", {"role": "viewer"}, follow=True)
    assert [str(m) for m in response.context["messages"]] == [
        "The organisation needs at least one owner."
    ]
    console_client.post(f"{url}/remove/")
    with scopes_disabled():
        assert Membership.objects.get(pk=member.pk).role == Role.OWNER


@pytest.mark.parametrize("role", [Role.VIEWER, Role.RESPONDER, Role.ADMIN])
def test_only_owners_manage_members(org, page, member, role):
    client = login_client(member_with_role(org, role))
    assert client.get("/console/acme/team/").status_code == 200
    url = f"/console/acme/team/{member.user.public_id}"
    assert client.post(f"{url}/role/", {"role": "viewer"}).status_code == 403
    assert client.post(f"{url}/remove/").status_code == 403
    response = client.post(
        "/console/acme/team/invite/", {"email": "x@example.test", "role": "viewer"}
    )
    assert response.status_code == 403
    with scopes_disabled():
        assert Membership.objects.get(pk=member.pk).role == Role.OWNER


def test_another_organisations_member_is_404(console_client, page, other_member):
    url = f"/console/acme/team/{other_member.user.public_id}/role/"
    assert console_client.post(url, {"role": "viewer"}).status_code == 404
    with scopes_disabled():
        assert Membership.objects.get(pk=other_member.pk).role == Role.OWNER


def test_rename_and_delete_organisation(console_client, org, page):
    console_client.post("/console/acme/organization/", {"name": "Acme Renamed"})
    org.refresh_from_db()
    assert org.name == "Acme Renamed"
    response = console_client.post("/console/acme/organization/delete/", {"confirm_name": "nope"})
    assert response["Location"] == "/console/acme/organization/"
    response = console_client.post(
        "/console/acme/organization/delete/", {"confirm_name": "Acme Renamed"}
    )
    assert response["Location"] == "/console/"
    assert type(org).objects.filter(pk=org.pk).exists() is False
