"""Content-Security-Policy and Permissions-Policy on the console, public pages and the rest."""

import re

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.template.loader import render_to_string
from django.test import Client, RequestFactory

from statuspage.public_cache import PublicFastPath
from statuspage.security_headers import (
    FALLBACK_POLICY,
    PERMISSIONS_POLICY,
    PUBLIC_POLICY,
)
from tests.conftest import BASE_DOMAIN
from tests.statuspage.test_public_cache import call_wsgi

pytestmark = pytest.mark.django_db
STRICT_PUBLIC = PUBLIC_POLICY


def nonce_of(response) -> str:
    return re.search(r"'nonce-([^']+)'", response["Content-Security-Policy"])[1]


def test_console_policy_has_a_fresh_nonce_per_request(console_client):
    first, second = console_client.get("/console/acme/"), console_client.get("/console/acme/")
    assert first.status_code == 200
    assert nonce_of(first) != nonce_of(second)
    assert first["Content-Security-Policy"] == (
        f"default-src 'self'; script-src 'self' 'nonce-{nonce_of(first)}'; "
        "style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; "
        "connect-src 'self'; worker-src 'self' blob:; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    )
    assert first["Permissions-Policy"] == PERMISSIONS_POLICY
    assert "camera=()" in PERMISSIONS_POLICY and "geolocation=()" in PERMISSIONS_POLICY


def test_api_reference_scripts_are_ours_or_carry_the_nonce():
    response = Client().get("/api/v1/docs")
    body = response.content.decode()
    assert response.status_code == 200
    assert [tag for tag in re.findall(r"<script[^>]*>", body) if "src=" not in tag] == []
    assert "fonts.googleapis.com" not in body
    # With REDOC_UI_SETTINGS, the page initialises Redoc in an inline script: it has the nonce.
    request = RequestFactory().get("/api/v1/docs")
    request.csp_nonce = "n0nce"
    context = {"settings": "{}", "schema_url": "/api/v1/openapi.json", "redoc_standalone": "/r.js"}
    body = render_to_string("drf_spectacular/redoc.html", context, request=request)
    assert [tag for tag in re.findall(r"<script[^>]*>", body) if "src=" not in tag] == [
        '<script nonce="n0nce">'
    ]


def test_a_view_s_own_directives_replace_the_policy_s():
    from statuspage.security_headers import merged_policy

    assert merged_policy("default-src 'none'; frame-ancestors 'none'", "frame-ancestors *") == (
        "default-src 'none'; frame-ancestors *"
    )


def test_public_pages_get_the_strict_policy_cold_warm_and_from_the_fast_path(public_client, page):
    cold, warm = public_client.get("/"), public_client.get("/")
    for response in (cold, warm):
        assert response["Content-Security-Policy"] == STRICT_PUBLIC
        assert response["Permissions-Policy"] == PERMISSIONS_POLICY
    assert "'unsafe-inline'" not in STRICT_PUBLIC.split("script-src")[1].split(";")[0]
    assert "<script" not in cold.content.decode()
    status, headers, _body = call_wsgi(PublicFastPath(WSGIHandler()), host=f"acme.{BASE_DOMAIN}")
    assert status == "200 OK"
    assert headers["Content-Security-Policy"] == STRICT_PUBLIC
    assert headers["Permissions-Policy"] == PERMISSIONS_POLICY


def test_the_preview_path_is_a_public_page_too(client, page):
    response = client.get("/s/acme/")
    assert response["Content-Security-Policy"] == STRICT_PUBLIC


def test_the_embed_may_be_framed_by_any_site(public_client, page):
    for response in (public_client.get("/embed"), public_client.get("/embed")):
        assert response.status_code == 200
        assert response["Content-Security-Policy"] == PUBLIC_POLICY.replace(
            "frame-ancestors 'none'", "frame-ancestors *"
        )
        assert "X-Frame-Options" not in response
    assert public_client.get("/")["X-Frame-Options"] == "DENY"


def test_a_revalidation_304_carries_no_policy_that_would_replace_the_page_s(public_client, page):
    etag = public_client.get("/embed")["ETag"]
    response = public_client.get("/embed", HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 304
    assert "Content-Security-Policy" not in response


def test_responses_outside_django_s_views_get_the_fallback():
    response = Client(HTTP_HOST="unknown.example").get("/")
    assert response.status_code == 404
    assert response["Content-Security-Policy"] == FALLBACK_POLICY
    assert response["Permissions-Policy"] == PERMISSIONS_POLICY
