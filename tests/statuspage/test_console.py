import pytest
from django.test import Client
from django_scopes import scopes_disabled

from statuspage.enums import Role
from statuspage.models import Page
from tests.conftest import login_client, member_with_role
from tests.dns import TXT_RECORDS

pytestmark = pytest.mark.django_db


def test_console_home_redirects_to_the_only_page(console_client, page):
    response = console_client.get("/console/")
    assert (response.status_code, response["Location"]) == (302, "/console/acme/")


def test_console_requires_login(page):
    response = Client().get("/console/acme/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_dashboard_shows_the_getting_started_checklist(console_client, page):
    response = console_client.get("/console/acme/")
    assert response.status_code == 200
    titles = [step.title for step in response.context["steps"]]
    assert titles == [
        "Add your components",
        "Post a test incident and resolve it",
        "Get your first subscriber",
        "Embed the status widget",
        "Connect a custom domain",
    ]
    assert response.context["steps_done"] == 0


def test_viewing_embed_instructions_ticks_the_embed_step(console_client, page):
    assert console_client.get("/console/acme/embed/").status_code == 200
    steps = console_client.get("/console/acme/").context["steps"]
    assert [step.is_done for step in steps][3] is True


def test_settings_save(console_client, page):
    response = console_client.post(
        "/console/acme/settings/",
        {
            "name": "Acme Status",
            "slug": "acme",
            "time_zone": "Europe/Berlin",
            "support_url": "https://acme.example/help",
            "accent_color": "#112233",
            "show_severity": "on",
            "allow_subscribers": "on",
        },
    )
    assert response.status_code == 302
    with scopes_disabled():
        page = Page.objects.get(slug="acme")
    assert (page.name, page.time_zone, page.accent_color, page.allow_feeds) == (
        "Acme Status",
        "Europe/Berlin",
        "#112233",
        False,
    )


def test_settings_form_error_keeps_input(console_client, page, other_page):
    response = console_client.post(
        "/console/acme/settings/",
        {"name": "Renamed", "slug": "intruder", "time_zone": "UTC", "accent_color": "#112233"},
    )
    assert response.status_code == 400
    assert response.context["form"].errors == {
        "slug": ["“intruder” is already taken; please choose another."]
    }
    assert 'value="Renamed"' in response.content.decode()
    with scopes_disabled():
        assert Page.objects.get(pk=page.pk).name == "Acme Cloud"


def test_settings_reserved_slug_error(console_client, page):
    response = console_client.post(
        "/console/acme/settings/",
        {"name": "Acme", "slug": "admin", "time_zone": "UTC", "accent_color": "#112233"},
    )
    assert response.status_code == 400
    assert response.context["form"].errors == {
        "slug": ["“admin” is reserved; please choose another."]
    }


@pytest.mark.parametrize(
    ("role", "expected"),
    [(Role.VIEWER, 403), (Role.RESPONDER, 403), (Role.ADMIN, 200), (Role.OWNER, 200)],
)
def test_settings_need_the_admin_role(org, page, role, expected):
    client = login_client(member_with_role(org, role))
    assert client.get("/console/acme/settings/").status_code == expected


@pytest.mark.parametrize("role", [Role.VIEWER, Role.RESPONDER, Role.ADMIN, Role.OWNER])
def test_every_role_sees_the_dashboard(org, page, role):
    client = login_client(member_with_role(org, role))
    assert client.get("/console/acme/").status_code == 200


def test_another_organisations_page_is_404(console_client, page, other_page):
    assert console_client.get("/console/intruder/").status_code == 404
    assert console_client.get("/console/intruder/settings/").status_code == 404


def test_page_create(console_client, page):
    response = console_client.post(
        "/console/pages/new/", {"name": "Second", "slug": "second", "time_zone": "UTC"}
    )
    assert (response.status_code, response["Location"]) == (302, "/console/second/")


def test_page_create_taken_slug_keeps_input(console_client, page):
    response = console_client.post(
        "/console/pages/new/", {"name": "Second", "slug": "acme", "time_zone": "UTC"}
    )
    assert response.status_code == 400
    assert response.context["form"].errors == {
        "slug": ["“acme” is already taken; please choose another."]
    }
    assert 'value="Second"' in response.content.decode()


def test_custom_domain_flow(console_client, page):
    response = console_client.post("/console/acme/domain/", {"domain": "status.acme.example"})
    assert response.status_code == 302
    response = console_client.get("/console/acme/domain/")
    token = response.context["txt_value"]
    assert response.context["txt_name"] == "_statuspage-verification.status.acme.example"
    assert response.context["cname_target"] == "pages.localhost"
    console_client.post("/console/acme/domain/verify/")
    assert Client(HTTP_HOST="status.acme.example").get("/").status_code == 404
    TXT_RECORDS["_statuspage-verification.status.acme.example"] = [token]
    try:
        console_client.post("/console/acme/domain/verify/")
    finally:
        TXT_RECORDS.clear()
    assert Client(HTTP_HOST="status.acme.example").get("/").status_code == 200


def test_custom_domain_form_error(console_client, page):
    response = console_client.post("/console/acme/domain/", {"domain": "bad domain"})
    assert response.status_code == 400
    assert response.context["form"].errors == {
        "domain": ["Enter a domain name like status.example.com."]
    }


def test_audit_log_lists_and_filters(console_client, page):
    console_client.post("/console/acme/domain/", {"domain": "status.acme.example"})
    console_client.post("/console/acme/domain/remove/")
    response = console_client.get("/console/acme/audit/")
    verbs = [entry.verb for entry in response.context["entries"]]
    assert verbs == ["page.custom_domain_removed", "page.custom_domain_set"]
    response = console_client.get("/console/acme/audit/", {"verb": "page.custom_domain_set"})
    assert [entry.verb for entry in response.context["entries"]] == ["page.custom_domain_set"]


def test_audit_log_needs_admin(org, page):
    client = login_client(member_with_role(org, Role.RESPONDER))
    assert client.get("/console/acme/audit/").status_code == 403
