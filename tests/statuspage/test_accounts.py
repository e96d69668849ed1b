import re
from urllib.parse import quote

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
INVITATION_LINK = re.compile(r"http://testserver(/accounts/invitations/[^/\s]+/)")


@pytest.fixture
def invite(console_client, page, django_capture_on_commit_callbacks):
    """Invite `email` to Acme Org as the owner would; return the link from the email."""

    def invite(email: str, role: str = "viewer") -> str:
        with django_capture_on_commit_callbacks(execute=True):
            response = console_client.post(
                "/console/acme/team/invite/", {"email": email, "role": role}
            )
        assert response.status_code == 302
        return INVITATION_LINK.search(mail.outbox[-1].body)[1]

    return invite


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


# --- Sign-up --------------------------------------------------------------------------------


def test_sign_up_creates_everything_and_logs_in():
    client = Client()
    response = client.post("/accounts/signup/", SIGNUP)
    assert (response.status_code, response["Location"]) == (302, "/console/nia-status/")
    with scopes_disabled():
        user = User.objects.get(email="nia@example.test")
        membership = Membership.objects.get(user=user)
        page = Page.objects.get(organization=membership.organization)
    assert (user.name, user.check_password("a-long-passphrase-1")) == ("Nia Operator", True)
    assert (membership.role, membership.organization.name) == (Role.OWNER, "Nia Inc")
    assert (page.name, page.slug, page.time_zone) == ("Nia Status", "nia-status", "Europe/Paris")
    response = client.get("/console/nia-status/")
    assert (response.status_code, response.wsgi_request.user) == (200, user)
    assert messages_of(response) == ["Welcome! Nia Status is ready to set up."]


def test_sign_up_takes_a_typed_subdomain_and_defaults_to_utc():
    data = {**SIGNUP, "page_slug": "Nia-Ops"}
    del data["time_zone"]
    response = Client().post("/accounts/signup/", data)
    assert response["Location"] == "/console/nia-ops/"
    with scopes_disabled():
        assert Page.objects.get(slug="nia-ops").time_zone == "UTC"


def test_sign_up_derives_a_hostname_safe_subdomain():
    response = Client().post("/accounts/signup/", {**SIGNUP, "page_name": "Nia_Cloud Status!"})
    assert response["Location"] == "/console/nia-cloud-status/"


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"email": "owner@acme.test"}, "email", "An account with this email already exists."),
        ({"email": "Owner@ACME.test"}, "email", "An account with this email already exists."),
        ({"page_slug": "acme"}, "page_slug", "“acme” is already taken; please choose another."),
        ({"page_name": "Acme"}, "page_slug", "“acme” is already taken; please choose another."),
        ({"page_slug": "www"}, "page_slug", "“www” is reserved; please choose another."),
        ({"page_name": "WWW"}, "page_slug", "“www” is reserved; please choose another."),
        ({"page_name": "!!!"}, "page_slug", "Choose a subdomain: the page name gives none."),
        ({"password": "password"}, "password", "This password is too common."),
        ({"password": "nia@example.test"}, "password", "The password is too similar to the email."),
        ({"email": "not-an-email"}, "email", "Enter a valid email address."),
        (
            {"organization_name": "Nia\nBcc: x@y"},
            "organization_name",
            "Use a single line, without line breaks or control characters.",
        ),
    ],
)
def test_sign_up_errors_keep_input_and_create_nothing(member, changes, field, message):
    response = Client().post("/accounts/signup/", {**SIGNUP, **changes})
    assert response.status_code == 400
    assert message in response.context["form"].errors[field]
    body = response.content.decode()
    assert 'value="Nia Operator"' in body
    assert 'value="Europe/Paris" selected' in body
    assert SIGNUP["password"] not in body
    with scopes_disabled():
        assert User.objects.filter(name="Nia Operator").exists() is False
        assert Organization.objects.filter(name__startswith="Nia").exists() is False


def test_sign_up_is_all_or_nothing(member):
    """The slug check runs after the user and organisation rows are written: both roll back."""
    counts = (User.objects.count(), Organization.objects.count())
    response = Client().post("/accounts/signup/", {**SIGNUP, "page_slug": "acme"})
    assert response.status_code == 400
    assert (User.objects.count(), Organization.objects.count()) == counts
    assert response.wsgi_request.user.is_authenticated is False


def test_signed_in_user_is_sent_from_signup_to_the_console(console_client):
    assert console_client.get("/accounts/signup/")["Location"] == "/console/"


# --- Login and logout -----------------------------------------------------------------------


def test_login_and_logout(member):
    client = Client()
    response = client.post(
        "/accounts/login/", {"username": "owner@acme.test", "password": PASSWORD}
    )
    assert (response.status_code, response["Location"]) == (302, "/console/")
    assert client.get("/console/acme/").status_code == 200
    assert client.get("/accounts/logout/").status_code == 405
    response = client.post("/accounts/logout/", follow=True)
    assert response.redirect_chain == [("/accounts/login/", 302)]
    assert messages_of(response) == ["You have been logged out."]
    assert client.get("/console/").status_code == 302


def test_login_ignores_the_case_of_the_email(member):
    response = Client().post(
        "/accounts/login/", {"username": " Owner@ACME.test ", "password": PASSWORD}
    )
    assert response["Location"] == "/console/"


def test_login_form_is_labelled_email_and_posts_username(db):
    body = Client().get("/accounts/login/").content.decode()
    assert '<label for="id_username">Email</label>' in body
    assert 'name="username"' in body


def test_login_honours_a_safe_next_only(member):
    data = {"username": "owner@acme.test", "password": PASSWORD}
    response = Client().post("/accounts/login/?next=/console/acme/settings/", data)
    assert response["Location"] == "/console/acme/settings/"
    for unsafe in ["https://evil.example/", "//evil.example/", "javascript:alert(1)"]:
        response = Client().post("/accounts/login/", {**data, "next": unsafe})
        assert response["Location"] == "/console/"


def test_logout_honours_a_safe_next_only(console_client):
    response = console_client.post("/accounts/logout/", {"next": "https://evil.example/"})
    assert response["Location"] == "/accounts/login/"
    response = Client().post("/accounts/logout/", {"next": "/accounts/signup/"})
    assert response["Location"] == "/accounts/signup/"


def test_wrong_password_keeps_the_email(member):
    response = Client().post(
        "/accounts/login/", {"username": "owner@acme.test", "password": "wrong"}
    )
    assert response.status_code == 400
    assert response.context["form"].non_field_errors() == [
        "That email and password do not match an account."
    ]
    body = response.content.decode()
    assert 'value="owner@acme.test"' in body
    assert 'value="wrong"' not in body


def test_login_slows_down_after_five_failures(member):
    client = Client()
    for attempt in range(5):
        # Changing the case of the address does not buy more attempts.
        username = "owner@acme.test" if attempt % 2 else "OWNER@acme.test"
        response = client.post("/accounts/login/", {"username": username, "password": "wrong"})
        assert response.status_code == 400
    response = client.post(
        "/accounts/login/", {"username": "owner@acme.test", "password": PASSWORD}
    )
    assert response.status_code == 429
    body = response.content.decode()
    assert (
        "Too many failed attempts on this account. Try again in 1 minute, or reset your password."
        in body
    )
    assert 'href="/accounts/password/reset/"' in body
    assert client.get("/console/").status_code == 302


def test_password_reset_lifts_a_lockout(member):
    client = Client()
    for _ in range(5):
        client.post("/accounts/login/", {"username": "owner@acme.test", "password": "wrong"})
    client.post("/accounts/password/reset/", {"email": "owner@acme.test"})
    link = re.search(r"http://testserver(/accounts/password/reset/\S+)", mail.outbox[0].body)[1]
    form_url = client.get(link, follow=True).redirect_chain[-1][0]
    new = {"new_password1": "brand-new-passphrase", "new_password2": "brand-new-passphrase"}
    client.post(form_url, new)
    response = client.post(
        "/accounts/login/", {"username": "owner@acme.test", "password": "brand-new-passphrase"}
    )
    assert (response.status_code, response["Location"]) == (302, "/console/")


# --- Passwords --------------------------------------------------------------------------------


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
        follow=True,
    )
    assert response.redirect_chain[0] == ("/console/", 302)
    assert messages_of(response) == ["Password changed. Other sessions have been logged out."]
    assert mine.get("/console/acme/").status_code == 200
    assert other.get("/console/acme/")["Location"] == "/accounts/login/?next=/console/acme/"
    member.user.refresh_from_db()
    assert member.user.check_password("another-long-passphrase") is True


def test_password_change_error(console_client, member):
    response = console_client.post(
        "/accounts/password/change/",
        {"old_password": "nope", "new_password1": "x", "new_password2": "y"},
    )
    assert response.status_code == 400
    assert list(response.context["form"].errors) == ["old_password", "new_password2"]
    member.user.refresh_from_db()
    assert member.user.check_password(PASSWORD) is True


def test_password_change_needs_login(db):
    response = Client().get("/accounts/password/change/")
    assert response["Location"] == "/accounts/login/?next=/accounts/password/change/"


def test_password_reset_by_email(member, settings):
    # The link comes from settings (APP_HOST, SITE_SCHEME, SITE_PORT), not from the request.
    settings.SITE_SCHEME, settings.SITE_PORT = "https", "8443"
    client = Client()
    response = client.post("/accounts/password/reset/", {"email": "Owner@Acme.test"})
    assert response["Location"] == "/accounts/password/reset/sent/"
    assert [m.to for m in mail.outbox] == [["owner@acme.test"]]
    message = mail.outbox[0]
    assert message.subject == "Reset your Status password"
    link = re.search(r"https://testserver:8443(/accounts/password/reset/\S+/)", message.body)[1]
    assert f'href="https://testserver:8443{link}"' in message.alternatives[0][0]
    response = client.get(link, follow=True)
    form_url = response.redirect_chain[-1][0]
    assert response.context["validlink"] is True
    response = client.post(
        form_url, {"new_password1": "brand-new-passphrase", "new_password2": "brand-new-passphrase"}
    )
    assert response["Location"] == "/accounts/password/reset/complete/"
    member.user.refresh_from_db()
    assert member.user.check_password("brand-new-passphrase") is True
    # The link works once.
    response = Client().get(link, follow=True)
    assert response.context["validlink"] is False
    assert "This link no longer works" in response.content.decode()


def test_password_reset_answers_the_same_for_unknown_addresses(db):
    response = Client().post("/accounts/password/reset/", {"email": "nobody@example.test"})
    assert response["Location"] == "/accounts/password/reset/sent/"
    assert mail.outbox == []


def test_password_reset_with_a_forged_link(member):
    response = Client().get("/accounts/password/reset/MQ/forged-token/")
    assert response.context["validlink"] is False
    assert "Password reset links work once and expire after 3 hours." in response.content.decode()


def test_password_reset_rejects_a_weak_new_password(member):
    client = Client()
    client.post("/accounts/password/reset/", {"email": "owner@acme.test"})
    link = re.search(r"http://testserver(/accounts/password/reset/\S+)", mail.outbox[0].body)[1]
    form_url = client.get(link, follow=True).redirect_chain[-1][0]
    response = client.post(form_url, {"new_password1": "password", "new_password2": "password"})
    assert response.status_code == 400
    assert response.context["form"].errors["new_password2"] == ["This password is too common."]


# --- Invitations ----------------------------------------------------------------------------


def test_invitation_link_for_a_new_person(invite):
    link = invite("New@Example.test", role="admin")
    client = Client()
    response = client.get(link)
    assert (response.status_code, response.context["form"].email) == (200, "new@example.test")
    response = client.post(link, {"name": "New Person", "password": "their-long-passphrase"})
    assert (response.status_code, response["Location"]) == (302, "/console/")
    user = User.objects.get(email="new@example.test")
    assert (user.name, user.check_password("their-long-passphrase")) == ("New Person", True)
    with scopes_disabled():
        assert Membership.objects.get(user=user).role == Role.ADMIN
    response = client.get("/console/acme/")
    assert response.status_code == 200
    assert messages_of(response) == ["You joined Acme Org."]
    # Used once, the link stops working.
    response = Client().get(link)
    assert response.status_code == 400
    assert response.context["problem"] == "This invitation has already been used. Log in instead."


def test_invitation_new_account_form_errors(invite):
    link = invite("new@example.test")
    response = Client().post(link, {"name": "New Person", "password": "password"})
    assert response.status_code == 400
    assert response.context["form"].errors["password"] == ["This password is too common."]
    assert 'value="New Person"' in response.content.decode()
    assert User.objects.filter(email="new@example.test").exists() is False


def test_invitation_for_an_existing_account_logs_in_first(invite):
    existing = UserFactory(email="existing@example.test")
    link = invite("existing@example.test", role="responder")
    client = Client()
    response = client.get(link)
    assert response.context["log_in"] is True
    assert f'href="/accounts/login/?next={quote(link)}"' in response.content.decode()
    response = client.post(
        f"/accounts/login/?next={link}", {"username": existing.email, "password": PASSWORD}
    )
    assert response["Location"] == link
    assert client.get(link).status_code == 200
    response = client.post(link)
    assert response["Location"] == "/console/"
    with scopes_disabled():
        assert Membership.objects.get(user=existing).role == Role.RESPONDER


def test_invitation_for_someone_else_is_refused(invite):
    link = invite("a@example.test")
    client = Client()
    client.force_login(UserFactory(email="b@example.test"))
    response = client.get(link)
    assert response.status_code == 403
    assert response.context["wrong_user"] is True
    assert f'name="next" value="{link}"' in response.content.decode()
    assert client.post(link).status_code == 403
    with scopes_disabled():
        assert Membership.objects.filter(user__email="b@example.test").exists() is False
    # Logging out leads back to the invitation, which now offers to create the account.
    response = client.post("/accounts/logout/", {"next": link}, follow=True)
    assert response.redirect_chain == [(link, 302)]
    assert response.context["form"].email == "a@example.test"


def test_expired_invitation(invite, settings):
    link = invite("a@example.test")
    settings.INVITATION_MAX_AGE = -1
    response = Client().get(link)
    assert response.status_code == 400
    assert response.context["problem"] == "This invitation has expired. Ask for a new one."
    response = Client().post(link, {"name": "A", "password": "their-long-passphrase"})
    assert response.status_code == 400
    assert User.objects.filter(email="a@example.test").exists() is False


def test_forged_invitation(invite):
    link = invite("a@example.test")
    response = Client().get(link.replace(":", "x", 1))
    assert response.status_code == 400
    assert response.context["problem"] == "This invitation link is not valid."
    response = Client().get("/accounts/invitations/forged-token/")
    assert response.context["problem"] == "This invitation link is not valid."


def test_revoked_invitation_stops_working(invite, console_client):
    link = invite("a@example.test")
    invitation = next(iter(console_client.get("/console/acme/team/").context["invitations"]))
    console_client.post(f"/console/acme/team/invitations/{invitation.public_id}/revoke/")
    response = Client().post(link, {"name": "A", "password": "their-long-passphrase"})
    assert response.status_code == 400
    assert response.context["problem"] == "This invitation has been withdrawn."
    assert User.objects.filter(email="a@example.test").exists() is False
