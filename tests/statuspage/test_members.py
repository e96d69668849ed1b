import pytest
from django.core import mail
from django_scopes import scopes_disabled

from statuspage.enums import Role
from statuspage.models import Invitation, Membership, Organization
from tests.conftest import login_client, member_with_role
from tests.factories import InvitationFactory, MembershipFactory

pytestmark = pytest.mark.django_db


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_team_lists_members_and_pending_invitations(console_client, org, member):
    member.user.name = "Olive Owner"
    member.user.save()
    viewer = member_with_role(org, Role.VIEWER)
    InvitationFactory(organization=org, email="soon@example.test", invited_by=member.user)
    response = console_client.get("/console/acme/team/")
    assert response.status_code == 200
    assert sorted(m.user.email for m in response.context["members"]) == [
        "owner@acme.test",
        viewer.user.email,
    ]
    assert [i.email for i in response.context["invitations"]] == ["soon@example.test"]
    body = response.content.decode()
    assert '<span class="badge badge-owner">Owner</span>' in body
    assert "<td>Olive Owner</td>" in body  # invited by
    assert 'action="/console/acme/team/invite/"' in body
    assert f'action="/console/acme/team/{viewer.user.public_id}/role/"' in body


def test_viewers_see_the_team_without_controls(org, member, page):
    client = login_client(member_with_role(org, Role.VIEWER))
    InvitationFactory(organization=org, email="soon@example.test")
    response = client.get("/console/acme/team/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "soon@example.test" in body
    assert "/team/invite/" not in body
    assert "/role/" not in body
    assert "/remove/" not in body
    assert "/revoke/" not in body


def test_invite_emails_after_commit(console_client, page, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        response = console_client.post(
            "/console/acme/team/invite/", {"email": "New@Example.test", "role": "responder"}
        )
        assert mail.outbox == []  # nothing leaves before the invitation is committed
    assert response["Location"] == "/console/acme/team/"
    callbacks[0]()
    assert [m.to for m in mail.outbox] == [["new@example.test"]]
    message = mail.outbox[0]
    assert message.subject == "You're invited to Acme Org on Status"
    with scopes_disabled():
        invitation = Invitation.objects.get(email="new@example.test")
    assert invitation.role == Role.RESPONDER
    assert f"{invitation.invited_by.name} (owner@acme.test) has invited you" in message.body
    assert "to join Acme Org on Status as Responder." in message.body
    assert "The link expires in 7 days." in message.body
    html, content_type = message.alternatives[0]
    assert content_type == "text/html"
    assert 'href="http://testserver/accounts/invitations/' in html


def test_invite_form_errors_keep_the_input(console_client, page):
    response = console_client.post(
        "/console/acme/team/invite/", {"email": "not-an-email", "role": "boss"}
    )
    assert response.status_code == 400
    assert response.context["invite_form"].errors == {
        "email": ["Enter a valid email address."],
        "role": ["Select a valid choice. boss is not one of the available choices."],
    }
    assert 'value="not-an-email"' in response.content.decode()


def test_duplicate_invitation_and_existing_member_are_refused(
    console_client, page, member, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        console_client.post(
            "/console/acme/team/invite/", {"email": "a@example.test", "role": "viewer"}
        )
        response = console_client.post(
            "/console/acme/team/invite/", {"email": "A@example.test", "role": "admin"}
        )
        assert response.status_code == 400
        assert response.context["invite_form"].errors["email"] == [
            "a@example.test has already been invited; revoke that invitation to send a new one."
        ]
        body = response.content.decode()
        assert 'value="A@example.test"' in body
        assert '<option value="admin" selected>' in body
        response = console_client.post(
            "/console/acme/team/invite/", {"email": "OWNER@acme.test", "role": "viewer"}
        )
        assert response.status_code == 400
        assert response.context["invite_form"].errors["email"] == [
            "owner@acme.test is already a member."
        ]
    assert len(mail.outbox) == 1
    with scopes_disabled():
        assert Invitation.objects.count() == 1


def test_change_role_and_remove(console_client, org, page):
    responder = member_with_role(org, Role.RESPONDER)
    url = f"/console/acme/team/{responder.user.public_id}"
    response = console_client.post(f"{url}/role/", {"role": "admin"}, follow=True)
    assert messages_of(response) == ["responder@acme.test is now admin."]
    with scopes_disabled():
        assert Membership.objects.get(pk=responder.pk).role == Role.ADMIN
    response = console_client.post(f"{url}/remove/", follow=True)
    assert response.redirect_chain == [("/console/acme/team/", 302)]
    assert messages_of(response) == ["responder@acme.test was removed."]
    with scopes_disabled():
        assert Membership.objects.filter(pk=responder.pk).exists() is False


def test_change_role_to_an_unknown_role(console_client, org, page):
    responder = member_with_role(org, Role.RESPONDER)
    url = f"/console/acme/team/{responder.user.public_id}/role/"
    response = console_client.post(url, {"role": "boss"}, follow=True)
    assert messages_of(response) == ["Choose one of the roles."]
    with scopes_disabled():
        assert Membership.objects.get(pk=responder.pk).role == Role.RESPONDER


def test_last_owner_cannot_be_demoted_or_removed(console_client, member, page):
    url = f"/console/acme/team/{member.user.public_id}"
    response = console_client.post(f"{url}/role/", {"role": "viewer"}, follow=True)
    assert messages_of(response) == ["The organisation needs at least one owner."]
    response = console_client.post(f"{url}/remove/", follow=True)
    assert response.redirect_chain == [("/console/acme/team/", 302)]
    assert messages_of(response) == ["You cannot remove the last owner of the organisation."]
    with scopes_disabled():
        assert Membership.objects.get(pk=member.pk).role == Role.OWNER


def test_an_owner_can_leave_when_another_owner_stays(console_client, org, member, page):
    other_owner = MembershipFactory(organization=org, role=Role.OWNER)
    response = console_client.post(f"/console/acme/team/{member.user.public_id}/remove/")
    assert response["Location"] == "/console/"
    with scopes_disabled():
        assert list(Membership.objects.filter(organization=org)) == [other_owner]
    assert console_client.get("/console/acme/").status_code == 404


def test_revoke_invitation(console_client, org, page):
    invitation = InvitationFactory(organization=org, email="a@example.test")
    url = f"/console/acme/team/invitations/{invitation.public_id}/revoke/"
    response = console_client.post(url, follow=True)
    assert messages_of(response) == ["The invitation to a@example.test was withdrawn."]
    assert list(response.context["invitations"]) == []
    response = console_client.post(url, follow=True)
    assert messages_of(response) == ["The invitation to a@example.test is no longer pending."]


@pytest.mark.parametrize("role", [Role.VIEWER, Role.RESPONDER, Role.ADMIN])
def test_only_owners_manage_members(org, page, member, role):
    client = login_client(member_with_role(org, role))
    invitation = InvitationFactory(organization=org)
    assert client.get("/console/acme/team/").status_code == 200
    url = f"/console/acme/team/{member.user.public_id}"
    assert client.post(f"{url}/role/", {"role": "viewer"}).status_code == 403
    assert client.post(f"{url}/remove/").status_code == 403
    response = client.post(
        "/console/acme/team/invite/", {"email": "x@example.test", "role": "viewer"}
    )
    assert response.status_code == 403
    revoke = f"/console/acme/team/invitations/{invitation.public_id}/revoke/"
    assert client.post(revoke).status_code == 403
    assert client.post("/console/acme/organization/", {"name": "Taken"}).status_code == 403
    delete = client.post("/console/acme/organization/delete/", {"confirm_name": "Acme Org"})
    assert delete.status_code == 403
    with scopes_disabled():
        assert Membership.objects.get(pk=member.pk).role == Role.OWNER
        assert Invitation.objects.get(pk=invitation.pk).is_pending is True
        assert Invitation.objects.filter(email="x@example.test").exists() is False
    org.refresh_from_db()
    assert org.name == "Acme Org"


@pytest.mark.parametrize(("role", "status"), [(Role.VIEWER, 403), (Role.RESPONDER, 403)])
def test_organization_settings_need_admin(org, page, role, status):
    client = login_client(member_with_role(org, role))
    assert client.get("/console/acme/organization/").status_code == status


def test_admins_see_the_organisation_but_cannot_rename_it(org, page):
    client = login_client(member_with_role(org, Role.ADMIN))
    response = client.get("/console/acme/organization/")
    assert response.status_code == 200
    body = response.content.decode()
    assert 'value="Acme Org"' in body
    assert "Only owners can rename the organisation." in body
    assert "Danger zone" not in body


def test_another_organisations_member_is_404(console_client, page, other_member):
    url = f"/console/acme/team/{other_member.user.public_id}"
    assert console_client.post(f"{url}/role/", {"role": "viewer"}).status_code == 404
    assert console_client.post(f"{url}/remove/").status_code == 404
    with scopes_disabled():
        assert Membership.objects.get(pk=other_member.pk).role == Role.OWNER


def test_another_organisations_invitation_is_404(console_client, page, other_org):
    theirs = InvitationFactory(organization=other_org)
    url = f"/console/acme/team/invitations/{theirs.public_id}/revoke/"
    assert console_client.post(url).status_code == 404
    with scopes_disabled():
        assert Invitation.objects.get(pk=theirs.pk).is_pending is True


def test_another_organisations_page_is_404(console_client, other_member, other_org):
    assert console_client.get("/console/intruder/team/").status_code == 404
    assert console_client.get("/console/intruder/organization/").status_code == 404
    url = f"/console/intruder/team/{other_member.user.public_id}/role/"
    assert console_client.post(url, {"role": "viewer"}).status_code == 404
    response = console_client.post(
        "/console/intruder/organization/delete/", {"confirm_name": "Intruder Org"}
    )
    assert response.status_code == 404
    assert Organization.objects.filter(pk=other_org.pk).exists() is True


def test_rename_organisation(console_client, org, page):
    response = console_client.post("/console/acme/organization/", {"name": "Acme Renamed"})
    assert response["Location"] == "/console/acme/organization/"
    org.refresh_from_db()
    assert org.name == "Acme Renamed"
    response = console_client.post("/console/acme/organization/", {"name": ""})
    assert response.status_code == 400
    assert response.context["form"].errors == {"name": ["This field is required."]}


def test_delete_organisation_needs_its_name(console_client, org, page):
    response = console_client.post("/console/acme/organization/delete/", {"confirm_name": "Acme"})
    assert response.status_code == 400
    assert response.context["delete_form"].errors == {
        "confirm_name": ["Type the organisation's name exactly to confirm."]
    }
    assert 'value="Acme"' in response.content.decode()
    assert Organization.objects.filter(pk=org.pk).exists() is True
    response = console_client.post(
        "/console/acme/organization/delete/", {"confirm_name": "Acme Org"}, follow=True
    )
    assert response.redirect_chain == [("/console/", 302)]
    assert messages_of(response) == ["Acme Org and everything it owned were deleted."]
    assert Organization.objects.filter(pk=org.pk).exists() is False
    with scopes_disabled():
        assert Membership.objects.filter(organization_id=org.pk).exists() is False
