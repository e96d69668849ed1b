import pytest
from django.test import Client
from django_scopes import scopes_disabled

from statuspage.hosts import page_slug_for_host
from tests.conftest import BASE_DOMAIN


@pytest.fixture
def verified_domain_page(other_page):
    with scopes_disabled():
        other_page.custom_domain = "status.intruder.example"
        other_page.custom_domain_token = "tok"
        other_page.custom_domain_verified_at = "2026-11-01T00:00:00Z"
        other_page.save()
    return other_page


def test_page_slug_for_host_reads_one_label_under_the_base_domain(settings):
    settings.BASE_DOMAIN = "status.test"
    assert page_slug_for_host("acme.status.test") == "acme"
    assert page_slug_for_host("a.b.status.test") is None
    assert page_slug_for_host("status.test") is None
    assert page_slug_for_host("acme.status.test.evil.example") is None


@pytest.mark.django_db
def test_subdomain_serves_that_page(page, other_page):
    response = Client(HTTP_HOST=f"acme.{BASE_DOMAIN}").get("/")
    assert response.status_code == 200
    assert response.context["page"] == page
    assert "Intruder Page" not in response.content.decode()


@pytest.mark.django_db
def test_subdomain_with_port_serves_that_page(page):
    response = Client(HTTP_HOST=f"acme.{BASE_DOMAIN}:8000").get("/")
    assert response.status_code == 200
    assert response.context["page"] == page


@pytest.mark.django_db
def test_unknown_subdomain_is_404_never_another_page(page):
    response = Client(HTTP_HOST=f"nope.{BASE_DOMAIN}").get("/")
    assert response.status_code == 404
    assert b"There is no status page here" in response.content
    assert b"Acme Cloud" not in response.content


@pytest.mark.django_db
def test_unknown_host_is_404(page):
    response = Client(HTTP_HOST="evil.example").get("/")
    assert response.status_code == 404
    assert b"Acme Cloud" not in response.content


@pytest.mark.django_db
def test_verified_custom_domain_serves_its_page(verified_domain_page):
    response = Client(HTTP_HOST="status.intruder.example").get("/")
    assert response.status_code == 200
    assert response.context["page"] == verified_domain_page


@pytest.mark.django_db
def test_unverified_custom_domain_is_404(verified_domain_page):
    with scopes_disabled():
        verified_domain_page.custom_domain_verified_at = None
        verified_domain_page.save()
    response = Client(HTTP_HOST="status.intruder.example").get("/")
    assert response.status_code == 404


@pytest.mark.django_db
def test_preview_path_serves_the_page_on_the_app_host(page, other_page):
    response = Client().get("/s/acme/")
    assert response.status_code == 200
    assert response.context["page"] == page
    assert response.context["request"].path == "/s/acme/"


@pytest.mark.django_db
def test_preview_links_keep_the_prefix(page):
    response = Client().get("/s/acme/")
    assert response.status_code == 200
    assert b'href="/s/acme/"' in response.content


@pytest.mark.django_db
def test_preview_of_unknown_slug_is_404(page):
    response = Client().get("/s/nope/")
    assert response.status_code == 404


@pytest.mark.django_db
def test_public_host_does_not_serve_the_console(page):
    response = Client(HTTP_HOST=f"acme.{BASE_DOMAIN}").get("/console/")
    assert response.status_code == 404


@pytest.mark.django_db
def test_public_site_sets_no_cookies(page):
    response = Client(HTTP_HOST=f"acme.{BASE_DOMAIN}").get("/")
    assert response.cookies == {}


@pytest.mark.django_db
def test_tls_ask_allows_known_subdomains_and_verified_domains(page, verified_domain_page):
    client = Client(REMOTE_ADDR="127.0.0.1", HTTP_HOST="127.0.0.1:8000")
    assert client.get("/internal/tls-ask", {"domain": f"acme.{BASE_DOMAIN}"}).status_code == 200
    assert client.get("/internal/tls-ask", {"domain": "status.intruder.example"}).status_code == 200
    assert client.get("/internal/tls-ask", {"domain": f"nope.{BASE_DOMAIN}"}).status_code == 404
    assert client.get("/internal/tls-ask", {"domain": "random.example"}).status_code == 404
    assert client.get("/internal/tls-ask").status_code == 404


@pytest.mark.django_db
def test_tls_ask_refuses_unverified_domains(verified_domain_page):
    with scopes_disabled():
        verified_domain_page.custom_domain_verified_at = None
        verified_domain_page.save()
    client = Client(REMOTE_ADDR="127.0.0.1")
    assert client.get("/internal/tls-ask", {"domain": "status.intruder.example"}).status_code == 404


@pytest.mark.django_db
def test_tls_ask_is_loopback_only(page):
    client = Client(REMOTE_ADDR="203.0.113.9")
    response = client.get("/internal/tls-ask", {"domain": f"acme.{BASE_DOMAIN}"})
    assert response.status_code == 403


def test_unknown_hosts_are_remembered_per_process_only_and_boundedly(page):
    """Any client may send any Host header: no shared entry per name, a bounded local memo."""
    from django.core.cache import cache

    from statuspage import hosts

    hosts._unknown.clear()
    for n in range(hosts.UNKNOWN_HOSTS_REMEMBERED + 50):
        assert hosts.resolve_host(f"nobody{n}.status.test") is None
    assert len(hosts._unknown) == hosts.UNKNOWN_HOSTS_REMEMBERED
    assert cache.get("host:nobody0.status.test") is None
    assert cache.get(f"host:nobody{hosts.UNKNOWN_HOSTS_REMEMBERED}.status.test") is None


def test_a_page_created_on_a_remembered_unknown_host_is_served_at_once(org):
    from django_scopes import scope

    from statuspage import hosts
    from statuspage.actors import Actor
    from statuspage.services import create_page

    assert hosts.resolve_host("fresh.status.test") is None
    with scope(organization=org.pk):
        create_page(org, actor=Actor.system("t"), name="Fresh", slug="fresh")
    found = hosts.resolve_host("fresh.status.test")
    assert found is not None and found.organization_id == org.pk
