"""Subscribers' addresses and webhook URLs need an admin key or the personal data scope."""

import pytest
from django.test import Client
from django_scopes import scope, scopes_disabled

from statuspage.actors import Actor
from statuspage.models import ApiKey
from statuspage.services import create_api_key
from subscribers import services as subscriber_services

pytestmark = pytest.mark.django_db
REFUSED = {
    "detail": "This API key may not read personal data (subscribers' email addresses and "
    "webhook URLs): use an admin key, or one with the personal data scope."
}


def client_with(org, access, *, personal_data=False):
    _, raw = create_api_key(
        org, actor=Actor.system("t"), name="ci", access=access, can_read_personal_data=personal_data
    )
    return Client(HTTP_AUTHORIZATION=f"OAuth {raw}")


@pytest.fixture
def subscriber(org, page):
    with scope(organization=org.pk):
        return subscriber_services.add_subscriber(
            page, actor=Actor.system("t"), email="reader@example.test", skip_confirmation=True
        )


@pytest.mark.parametrize("access", ["read_only", "responder"])
def test_keys_below_admin_without_the_scope_get_403(org, page, subscriber, access):
    client = client_with(org, access)
    base = f"/api/v1/pages/{page.public_id}/subscribers"
    for url in (base, f"{base}/{subscriber.public_id}"):
        response = client.get(url)
        assert (response.status_code, response.json()) == (403, REFUSED)
    # A write needs an admin key in any case.
    response = client.post(f"{base}/{subscriber.public_id}/resend_confirmation")
    assert response.status_code == 403


@pytest.mark.parametrize(("access", "personal_data"), [("read_only", True), ("admin", False)])
def test_admin_keys_and_the_scope_read_subscribers(org, page, subscriber, access, personal_data):
    client = client_with(org, access, personal_data=personal_data)
    response = client.get(f"/api/v1/pages/{page.public_id}/subscribers")
    assert response.status_code == 200
    assert [(s["id"], s["mode"], s["email"], s["endpoint"]) for s in response.json()] == [
        (subscriber.public_id, "email", "reader@example.test", None)
    ]


def test_the_scope_does_not_grant_writes(org, page):
    client = client_with(org, "read_only", personal_data=True)
    response = client.post(
        f"/api/v1/pages/{page.public_id}/subscribers",
        {"subscriber": {"email": "new@example.test"}},
        content_type="application/json",
    )
    assert response.status_code == 403


def test_console_creates_a_key_with_the_scope(console_client, org):
    response = console_client.post(
        "/console/acme/api-keys/",
        {"name": "Exporter", "access": "read_only", "can_read_personal_data": "on"},
    )
    assert response.status_code == 302
    with scopes_disabled():
        key = ApiKey.objects.get(name="Exporter")
    assert (key.access, key.can_read_personal_data) == ("read_only", True)
    page = console_client.get("/console/acme/api-keys/").content.decode()
    assert 'name="can_read_personal_data"' in page
    assert 'Read-only<br><span class="small muted">Personal data</span>' in page
