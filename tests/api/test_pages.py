"""The page object: every Statuspage field, honest values, and PATCH that never ignores one."""

import re
from pathlib import Path

import pytest
from django.test import Client
from django_scopes import scopes_disabled

from statuspage.actors import Actor
from statuspage.api import PUBLIC_PALETTE
from statuspage.models import Page
from statuspage.services import create_api_key, set_page_logo

pytestmark = pytest.mark.django_db

STATUSPAGE_PAGE_FIELDS = [
    "id", "created_at", "updated_at", "name", "page_description", "headline", "branding",
    "subdomain", "domain", "url", "support_url", "hidden_from_search", "allow_page_subscribers",
    "allow_incident_subscribers", "allow_email_subscribers", "allow_sms_subscribers",
    "allow_rss_atom_feeds", "allow_webhook_subscribers", "notifications_from_email",
    "notifications_email_footer", "activity_score", "twitter_username",
    "viewers_must_be_subscribed", "ip_restrictions", "city", "state", "country", "time_zone",
    "css_body_background_color", "css_font_color", "css_light_font_color", "css_greens",
    "css_yellows", "css_oranges", "css_blues", "css_reds", "css_border_color", "css_graph_color",
    "css_link_color", "css_no_data", "favicon_logo", "transactional_logo", "hero_cover",
    "email_logo", "twitter_logo",
]  # fmt: skip
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture
def client(org):
    _, raw = create_api_key(org, actor=Actor.system("t"), name="pages", access="admin")
    return Client(HTTP_AUTHORIZATION=f"OAuth {raw}")


def patch(client, page, fields):
    return client.patch(f"/api/v1/pages/{page.public_id}", {"page": fields},
                        content_type="application/json")  # fmt: skip


def reload(page) -> Page:
    with scopes_disabled():
        return Page.objects.get(pk=page.pk)


def test_page_has_every_statuspage_field_plus_brand_color(client, page, settings):
    settings.DEFAULT_FROM_EMAIL = "Status <status@example.test>"
    data = client.get(f"/api/v1/pages/{page.public_id}").json()
    assert list(data) == [*STATUSPAGE_PAGE_FIELDS, "brand_color"]
    values = {k: v for k, v in data.items() if k not in ("id", "created_at", "updated_at")}
    assert values == {
        "name": "Acme Cloud", "page_description": None, "headline": None, "branding": "basic",
        "subdomain": "acme", "domain": None, "url": "http://acme.status.test",
        "support_url": None, "hidden_from_search": False, "allow_page_subscribers": True,
        "allow_incident_subscribers": False, "allow_email_subscribers": True,
        "allow_sms_subscribers": False, "allow_rss_atom_feeds": True,
        "allow_webhook_subscribers": False, "notifications_from_email": "status@example.test",
        "notifications_email_footer": None, "activity_score": 0, "twitter_username": None,
        "viewers_must_be_subscribed": False, "ip_restrictions": None, "city": None,
        "state": None, "country": None, "time_zone": "UTC",
        "css_body_background_color": "#f7f8fa", "css_font_color": "#1d2330",
        "css_light_font_color": "#4b5565", "css_greens": "#067647", "css_yellows": "#a15c07",
        "css_oranges": "#c4320a", "css_blues": "#175cd3", "css_reds": "#b42318",
        "css_border_color": "#e3e6eb", "css_graph_color": None, "css_link_color": "#2563eb",
        "css_no_data": "#d0d5dd", "favicon_logo": None, "transactional_logo": None,
        "hero_cover": None, "email_logo": None, "twitter_logo": None, "brand_color": "#2563eb",
    }  # fmt: skip
    assert data["id"] == page.public_id


def test_transactional_logo_is_the_public_logo_url(client, page):
    set_page_logo(page, actor=Actor.system("t"), data=PNG)
    data = client.get(f"/api/v1/pages/{page.public_id}").json()
    assert data["transactional_logo"] == "http://acme.status.test/logo"


def test_patch_changes_the_fields_we_honour(client, page):
    response = patch(client, page, {
        "name": "Acme Status", "subdomain": "acme-status", "support_url": "https://help.acme.test",
        "time_zone": "Europe/Paris", "allow_page_subscribers": False,
        "allow_rss_atom_feeds": "f", "css_link_color": "#112233",
    })  # fmt: skip
    assert response.status_code == 200
    data = response.json()
    assert [data[k] for k in ("name", "subdomain", "support_url", "time_zone",
            "allow_page_subscribers", "allow_email_subscribers", "allow_rss_atom_feeds",
            "css_link_color", "brand_color", "url")] == [
        "Acme Status", "acme-status", "https://help.acme.test", "Europe/Paris", False, False,
        False, "#112233", "#112233", "http://acme-status.status.test"]  # fmt: skip
    saved = reload(page)
    assert (saved.name, saved.slug, saved.allow_subscribers, saved.allow_feeds) == (
        "Acme Status", "acme-status", False, False)  # fmt: skip
    assert saved.accent_color == "#112233"


def test_patch_form_encoded_and_clearing_the_support_url(client, page):
    with scopes_disabled():
        Page.objects.filter(pk=page.pk).update(support_url="https://help.acme.test")
    response = client.patch(
        f"/api/v1/pages/{page.public_id}",
        "page[allow_email_subscribers]=false&page[support_url]=",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert (response.json()["support_url"], response.json()["allow_page_subscribers"]) == (
        None,
        False,
    )
    assert (reload(page).support_url, reload(page).allow_subscribers) == ("", False)


def test_patch_refuses_each_field_it_cannot_honour_and_changes_nothing(client, page):
    response = patch(client, page, {
        "name": "Renamed", "allow_sms_subscribers": True, "hidden_from_search": True,
        "css_greens": "#00ff00", "headline": "Hello", "activity_score": 5, "bogus": 1,
    })  # fmt: skip
    assert response.status_code == 422
    assert response.json() == {
        "error": "SMS notifications are not supported.",
        "allow_sms_subscribers": ["SMS notifications are not supported."],
        "hidden_from_search": ["Public pages are always open to search engines."],
        "css_greens": ["The public page's text and status colours are fixed (each passes WCAG AA "
                       "contrast); css_link_color sets the accent colour."],
        "headline": ["Pages have no headline: the public page shows its name and status."],
        "activity_score": ["Not kept."],
        "bogus": ["No such page field."],
    }  # fmt: skip
    assert reload(page).name == "Acme Cloud"


def test_patch_accepts_the_whole_object_back_with_one_change(client, page):
    data = client.get(f"/api/v1/pages/{page.public_id}").json()
    data["allow_email_subscribers"] = False
    data["css_greens"] = data["css_greens"].upper()
    response = patch(client, page, data)
    assert response.status_code == 200
    assert (response.json()["allow_page_subscribers"], reload(page).allow_subscribers) == (
        False, False)  # fmt: skip


def test_patch_refuses_two_different_values_for_one_setting(client, page):
    response = patch(client, page, {"css_link_color": "#111111", "brand_color": "#222222"})
    assert response.status_code == 422
    assert response.json()["brand_color"] == [
        "css_link_color and brand_color are one setting: send one value."
    ]
    assert reload(page).accent_color == "#2563eb"


def test_patch_type_errors_are_400_per_field(client, page):
    response = patch(client, page, {"allow_rss_atom_feeds": [1], "name": {"x": 1}})
    assert response.status_code == 400
    assert response.json() == {"allow_rss_atom_feeds": ["Must be a valid boolean."],
                               "name": ["Not a valid string."]}  # fmt: skip


def test_patch_with_a_taken_subdomain_is_422(client, page, other_page):
    response = patch(client, page, {"subdomain": "intruder"})
    assert response.status_code == 422
    taken = "“intruder” is already taken; please choose another."
    assert response.json() == {"error": taken, "slug": [taken]}


def test_palette_is_the_public_stylesheets(db):
    css = (Path(__file__).resolve().parents[2] / "static/css/public.css").read_text()
    root = dict(re.findall(r"(--[\w-]+):\s*(#[0-9a-fA-F]{3,6})", css.split("}", 1)[0]))
    assert {field: root[variable] for field, (variable, _) in PUBLIC_PALETTE.items()} == {
        field: colour for field, (_, colour) in PUBLIC_PALETTE.items()
    }


def test_patch_null_for_a_setting_that_needs_a_value_is_400(client, page):
    response = patch(client, page, {"subdomain": None, "allow_rss_atom_feeds": None})
    assert response.status_code == 400
    assert response.json() == {"subdomain": ["This field may not be null."],
                               "allow_rss_atom_feeds": ["This field may not be null."]}  # fmt: skip
    assert (reload(page).slug, reload(page).allow_feeds) == ("acme", True)
