import re

import pytest
from django.core import mail
from django.test import Client
from django_scopes import scopes_disabled

from statuspage.enums import Role
from statuspage.models import Membership, Organization, Page, User
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

SIGNUP = {
    "name": "Nia Operator",
    "email": "nia@example.test",
    "password": "a-long-passphrase-1",
    "organization_name": "Nia Inc",
    "page_name": "Nia Status",
    "page_slug": "",
    "time_zone": "Europe/Paris",
}


def test_sign_up_creates_everything_and_logs_in():
    client = Client()
    response = client.post("/accounts/signup/", SIGNUP)
    assert (response.status_code, response["Location"]) == (302, "/console/nia-status/")
    with scopes_disabled():
        user = User.objects.get(email="nia@example.test")
        membership = Membership.objects.get(user=user)
        page = Page.objects.get(organization=membership.organization)
    assert (membership.role, membership.organization.name) == (Role.OWNER, "Nia Inc")
    assert (page.name, page.slug, page.time_zone) == ("Nia Status", "nia-status", "Europe/Paris")
    assert client.get("/console/nia-status/").status_code == 200


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"email": "owner@acme.test"}, "email", "An account with this email already exists."),
        ({"page_slug": "acme"}, "page_slug", "“acme” is already taken; please choose another."),
        ({"page_slug": "www"}, "page_slug", "“www” is reserved; please choose another."),
        ({"password": "password"}, "password", "This password is too common."),
        ({"email": "not-an-email"}, "email", "Enter a valid email address."),
    ],
)
def test_sign_up_errors_keep_input_and_create_nothing(member, changes, field, message):
    response = Client().post("/accounts/signup/", {**SIGNUP, **changes})
    assert response.status_code == 400
    assert message in response.context["form"].errors[field]
    body = response.content.decode()
    assert 'value="Nia Inc"' in body
    assert "a-long-passphrase-1" not in body
    assert Organization.objects.filter(name="Nia Inc").exists() is False


def test_login_and_logout(member):
    client = Client()
    response = client.post(
        "/accounts/login/", {"username": "owner@acme.test", "password": PASSWORD}
    )
    assert (response.status_code, response["Location"]) == (302, "/console/")
    response = client.post("/accounts/logout/")
    assert response["Location"] == "/accounts/login/"
    assert client.get("/console/").status_code == 302


def test_login_honours_a_safe_next_only(member):
    data = {"username": "owner@acme.test", "password": PASSWORD}
    response = Client().post("/accounts/login/?next=/console/acme/settings/", data)
    assert response["Location"] == "/console/acme/settings/"
    response = Client().post("/accounts/login/?next=https://evil.example/", data)
    assert response["Location"] == "/console/"


def test_wrong_password_keeps_the_email(member):
    response = Client().post(
        "/accounts/login/", {"username": "owner@acme.test", "password": "wrong"}
    )
    assert response.status_code == 400
    assert response.context["form"].non_field_errors() == [
        "That email and password do not match an account."
    ]
    assert 'value="owner@acme.test"' in response.content.decode()


def test_login_locks_out_after_five_failures(member):
    client = Client()
    for _ in range(5):
        client.post("/accounts/login/", {"username": "owner@acme.test", "password": "wrong"})
    response = client.post(
        "/accounts/login/", {"username": "owner@acme.test", "password": PASSWORD}
    )
    assert response.status_code == 429
    assert b"Too many failed attempts" in response.content


def test_password_change_ends_other_sessions(member):
    mine, other = Client(), Client()
    mine.force_login(member.user)
    other.force_login(member.user)
    response = mine.post(
        "/accounts/password/change/",
        {
            "old_password": PASSWORD,
            "new_password1": "another-long-passphrase",
            "new_password2": "another-long-passphrase",
        },
    )
    assert response.status_code == 302
    assert mine.get("/console/acme/").status_code == 200
    assert other.get("/console/acme/").status_code == 302


def test_password_change_error(console_client):
    response = console_client.post(
        "/accounts/password/change/",
        {"old_password": "nope", "new_password1": "x", "new_password2": "y"},
    )
    assert response.status_code == 400
    assert list(response.context["form"].errors) == ["old_password", "new_password2"]


def test_password_reset_by_email(member):
    client = Client()
    response = client.post("/accounts/password/reset/", {"email": "owner@acme.test"})
    assert response["Location"] == "/accounts/password/reset/sent/"
    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject == "Reset your Status password"
    link = re.search(r"http://testserver(/accounts/password/reset/\S+)", mail.outbox[0].body)[1]
    response = client.get(link, follow=True)
    form_url = response.redirect_chain[-1][0]
    response = client.post(
        form_url, {"new_password1": "brand-new-passphrase", "new_password2": "brand-new-passphrase"}
    )
    assert response["Location"] == "/accounts/password/reset/complete/"
    member.user.refresh_from_db()
    assert member.user.check_password("brand-new-passphrase")


def test_password_reset_answers_the_same_for_unknown_addresses(db):
    response = Client().post("/accounts/password/reset/", {"email": "nobody@example.test"})
    assert response["Location"] == "/accounts/password/reset/sent/"
    assert mail.outbox == []


def test_signed_in_user_is_sent_from_signup_to_the_console(console_client):
    assert console_client.get("/accounts/signup/")["Location"] == "/console/"


def test_invitation_link_for_a_new_person(console_client, page):
    console_client.post(
        "/console/acme/team/invite/", {"email": "New@Example.test", "role": "admin"}
    )
    link = re.search(r"http://testserver(/accounts/invitations/\S+/)", mail.outbox[0].body)[1]
    client = Client()
    assert client.get(link).status_code == 200
    response = client.post(link, {"name": "New Person", "password": "their-long-passphrase"})
    assert (response.status_code, response["Location"]) == (302, "/console/")
    user = User.objects.get(email="new@example.test")
    with scopes_disabled():
        assert Membership.objects.get(user=user).role == Role.ADMIN
    assert client.get("/console/acme/").status_code == 200
    # Used once, the link stops working.
    response = Client().get(link)
    assert response.status_code == 400
    assert response.context["problem"] == "This invitation has already been used. Log in instead."


def test_invitation_for_an_existing_account(console_client, page):
    existing = UserFactory(email="existing@example.test")
    console_client.post("/console/acme/team/invite/", {"email": existing.email, "role": "viewer"})
    link = re.search(r"http://testserver(/accounts/invitations/\S+/)", mail.outbox[0].body)[1]
    client = Client()
    assert client.get(link).context["log_in"] is True
    client.force_login(existing)
    response = client.post(link)
    assert response.status_code == 302
    with scopes_disabled():
        assert Membership.objects.get(user=existing).role == Role.VIEWER


def test_invitation_for_someone_else_is_refused(console_client, page):
    console_client.post("/console/acme/team/invite/", {"email": "a@example.test", "role": "viewer"})
    link = re.search(r"http://testserver(/accounts/invitations/\S+/)", mail.outbox[0].body)[1]
    client = Client()
    client.force_login(UserFactory(email="b@example.test"))
    assert client.post(link).status_code == 403
    with scopes_disabled():
        assert Membership.objects.filter(user__email="b@example.test").exists() is False


def test_expired_forged_and_revoked_invitations(console_client, page, settings):
    console_client.post("/console/acme/team/invite/", {"email": "a@example.test", "role": "viewer"})
    link = re.search(r"http://testserver(/accounts/invitations/\S+/)", mail.outbox[0].body)[1]
    settings.INVITATION_MAX_AGE = -1
    assert (
        Client().get(link).context["problem"] == "This invitation has expired. Ask for a new one."
    )
    settings.INVITATION_MAX_AGE = 3600
    forged = Client().get("/accounts/invitations/forged-token/")
    assert forged.context["problem"] == "This invitation link is not valid."
    team = console_client.get("/console/acme/team/")
    invitation = next(iter(team.context["invitations"]))
    console_client.post(f"/console/acme/team/invitations/{invitation.public_id}/revoke/")
    assert Client().get(link).context["problem"] == "This invitation has been withdrawn."
