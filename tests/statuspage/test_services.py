import pytest
from django_scopes import scopes_disabled

from statuspage import services
from statuspage.actors import Actor
from statuspage.enums import Role
from statuspage.errors import DomainError
from statuspage.models import AuditEntry, Membership, Organization, Page, User
from tests.dns import TXT_RECORDS
from tests.factories import MembershipFactory, PageFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("org_scope")]


@pytest.fixture
def actor(member):
    return Actor.for_user(member.user)


def sign_up(**overrides):
    fields = {
        "name": "Nia Operator",
        "email": "Nia@Example.test",
        "password": "a-long-passphrase-1",
        "organization_name": "Nia Inc",
        "page_name": "Nia Status",
        "page_slug": "nia",
        "time_zone": "Europe/Paris",
    }
    return services.sign_up(**{**fields, **overrides})


def test_sign_up_creates_user_organisation_owner_and_page():
    result = sign_up()
    with scopes_disabled():
        assert result.user.email == "nia@example.test"
        assert result.user.check_password("a-long-passphrase-1")
        assert result.organization.name == "Nia Inc"
        membership = Membership.objects.get(user=result.user)
        assert (membership.organization, membership.role) == (result.organization, Role.OWNER)
        assert (result.page.slug, result.page.time_zone) == ("nia", "Europe/Paris")
        assert list(
            AuditEntry.objects.filter(organization=result.organization).values_list(
                "verb", flat=True
            )
        ) == ["page.created", "organization.created"]


def test_sign_up_with_a_taken_slug_creates_nothing(page):
    with pytest.raises(DomainError) as error:
        sign_up(page_slug="acme")
    assert (error.value.field, error.value.message) == (
        "slug",
        "“acme” is already taken; please choose another.",
    )
    assert User.objects.filter(email="nia@example.test").exists() is False
    assert Organization.objects.filter(name="Nia Inc").exists() is False


def test_sign_up_refuses_a_reserved_slug(db):
    with pytest.raises(DomainError) as error:
        sign_up(page_slug="www")
    assert error.value.message == "“www” is reserved; please choose another."


def test_sign_up_refuses_an_existing_email(member):
    with pytest.raises(DomainError) as error:
        sign_up(email="OWNER@acme.test")
    assert error.value.field == "email"


def test_update_page_settings_records_only_what_changed(page, actor):
    services.update_page_settings(page, actor=actor, name="Acme Status", time_zone="Asia/Tokyo")
    with scopes_disabled():
        entry = AuditEntry.objects.get(verb="page.settings_changed")
    assert entry.before == {"name": "Acme Cloud", "time_zone": "UTC"}
    assert entry.after == {"name": "Acme Status", "time_zone": "Asia/Tokyo"}
    assert entry.actor_label == "owner@acme.test"


def test_update_page_settings_refuses_unknown_time_zone(page, actor):
    with pytest.raises(DomainError) as error:
        services.update_page_settings(page, actor=actor, time_zone="Mars/Olympus")
    assert error.value.field == "time_zone"


def test_update_page_settings_refuses_another_pages_slug(page, other_page, actor):
    with pytest.raises(DomainError):
        services.update_page_settings(page, actor=actor, slug="intruder")


def test_create_page_in_an_organisation(org, actor):
    page = services.create_page(org, actor=actor, name="Second", slug="second")
    with scopes_disabled():
        assert list(
            Page.objects.filter(organization=org).order_by("slug").values_list("slug", flat=True)
        ) == [
            "acme",
            "second",
        ]
        assert page.organization == org


def test_delete_last_page_is_refused(page, actor):
    with pytest.raises(DomainError) as error:
        services.delete_page(page, actor=actor, confirm_name="Acme Cloud")
    assert error.value.message == (
        "This is the organisation's only page. Delete the organisation instead."
    )


def test_delete_page_needs_its_exact_name(org, page, actor):
    second = PageFactory(organization=org, name="Second", slug="second")
    with pytest.raises(DomainError):
        services.delete_page(second, actor=actor, confirm_name="second")
    services.delete_page(second, actor=actor, confirm_name="Second")
    with scopes_disabled():
        assert list(Page.objects.filter(organization=org)) == [page]


def test_logo_accepts_png_and_refuses_svg(page, actor):
    png = b"\x89PNG\r\n\x1a\n" + b"0" * 100
    services.set_page_logo(page, actor=actor, data=png)
    assert (bytes(page.logo), page.logo_content_type) == (png, "image/png")
    with pytest.raises(DomainError) as error:
        services.set_page_logo(page, actor=actor, data=b"<svg onload=alert(1)></svg>")
    assert error.value.message == "Upload the logo as PNG, JPEG, GIF or WebP."


def test_custom_domain_resolves_only_after_verification(page, actor):
    services.set_custom_domain(page, actor=actor, domain="Status.Acme.Example.")
    assert page.custom_domain == "status.acme.example"
    assert page.custom_domain_verified_at is None
    with pytest.raises(DomainError):
        services.verify_custom_domain(page, actor=actor)
    TXT_RECORDS["_statuspage-verification.status.acme.example"] = [
        f"statuspage-verification={page.custom_domain_token}"
    ]
    try:
        services.verify_custom_domain(page, actor=actor)
    finally:
        TXT_RECORDS.clear()
    assert page.custom_domain_verified_at is not None


@pytest.mark.parametrize(
    ("domain", "message"),
    [
        ("not a domain", "Enter a domain name like status.example.com."),
        ("x.status.test", "Use a domain of your own, not one of ours."),
    ],
)
def test_custom_domain_rejects_bad_domains(page, actor, domain, message):
    with pytest.raises(DomainError) as error:
        services.set_custom_domain(page, actor=actor, domain=domain)
    assert error.value.message == message


def test_remove_custom_domain(page, actor):
    services.set_custom_domain(page, actor=actor, domain="status.acme.example")
    services.remove_custom_domain(page, actor=actor)
    assert (page.custom_domain, page.custom_domain_verified_at) == (None, None)


def test_last_owner_cannot_be_demoted_or_removed(org, member, actor):
    with pytest.raises(DomainError):
        services.change_member_role(member, actor=actor, role=Role.ADMIN)
    with pytest.raises(DomainError):
        services.remove_member(member, actor=actor)
    second_owner = MembershipFactory(organization=org, role=Role.OWNER)
    services.change_member_role(member, actor=actor, role=Role.ADMIN)
    with scopes_disabled():
        assert Membership.objects.get(pk=member.pk).role == Role.ADMIN
        assert Membership.objects.get(pk=second_owner.pk).role == Role.OWNER


def test_delete_organization_removes_everything(org, page, member, actor):
    with pytest.raises(DomainError):
        services.delete_organization(org, actor=actor, confirm_name="acme")
    services.delete_organization(org, actor=actor, confirm_name="Acme Org")
    with scopes_disabled():
        assert Organization.objects.filter(pk=org.pk).exists() is False
        assert Page.objects.filter(pk=page.pk).exists() is False
        assert Membership.objects.filter(pk=member.pk).exists() is False
