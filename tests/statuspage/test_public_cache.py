"""The public read path: cached per content version, no query warm, ETag/304, fresh on write."""

import gzip
from io import BytesIO

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection
from django.test.utils import CaptureQueriesContext

from statuspage import services
from statuspage.actors import Actor
from statuspage.public_cache import PublicFastPath
from tests.conftest import BASE_DOMAIN

pytestmark = pytest.mark.django_db(transaction=True)

HOST = f"acme.{BASE_DOMAIN}"


def test_warm_hit_costs_no_query(public_client, django_assert_num_queries):
    cold = public_client.get("/")
    assert cold.status_code == 200
    with django_assert_num_queries(0):
        warm = public_client.get("/")
    assert warm.status_code == 200
    assert warm.content == cold.content
    assert warm["ETag"] == cold["ETag"]


def test_responses_are_publicly_cacheable(public_client):
    response = public_client.get("/")
    assert response["Cache-Control"] == "public, max-age=10, stale-while-revalidate=60"
    assert response["Vary"] == "Accept-Encoding"
    assert response["ETag"].startswith('"') and response["ETag"].endswith('"')
    assert response.cookies == {}


def test_if_none_match_gets_304(public_client):
    etag = public_client.get("/")["ETag"]
    response = public_client.get("/", HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 304
    assert response.content == b""
    assert response["ETag"] == etag


def test_a_write_makes_the_next_response_fresh(public_client, page, member):
    first = public_client.get("/")
    services.update_page_settings(page, actor=Actor.for_user(member.user), name="Acme Renamed")
    second = public_client.get("/")
    assert "Acme Renamed" in second.content.decode()
    assert second["ETag"] != first["ETag"]
    assert public_client.get("/", HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 200


def test_gzip_and_brotli_variants(public_client, page, member):
    # Make the page large enough to be worth compressing.
    services.update_page_settings(page, actor=Actor.for_user(member.user), name="A" * 90)
    plain = public_client.get("/")
    zipped = public_client.get("/", HTTP_ACCEPT_ENCODING="gzip")
    assert zipped["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.content) == plain.content
    assert zipped["ETag"] != plain["ETag"]
    brotli_response = public_client.get("/", HTTP_ACCEPT_ENCODING="gzip, br")
    assert brotli_response["Content-Encoding"] == "br"


def call_wsgi(application, path="/", host=HOST, **extra):
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SCRIPT_NAME": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "HTTP_HOST": host,
        "wsgi.input": BytesIO(),
        "wsgi.errors": BytesIO(),
        "wsgi.url_scheme": "http",
        "wsgi.version": (1, 0),
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        **extra,
    }
    captured = {}

    def start_response(status, headers, exc_info=None):
        captured["status"] = status
        captured["headers"] = dict(headers)

    body = b"".join(application(environ, start_response))
    return captured["status"], captured["headers"], body


def test_wsgi_fast_path_serves_warm_pages_without_django(page):
    django_app = WSGIHandler()
    calls = []

    def counting_app(environ, start_response):
        calls.append(environ["PATH_INFO"])
        return django_app(environ, start_response)

    application = PublicFastPath(counting_app)
    status, headers, cold_body = call_wsgi(application)
    assert status.startswith("200") and calls == ["/"]
    with CaptureQueriesContext(connection) as queries:
        status, headers, body = call_wsgi(application)
    assert (status, body, calls, len(queries)) == ("200 OK", cold_body, ["/"], 0)
    assert headers["Cache-Control"] == "public, max-age=10, stale-while-revalidate=60"
    assert headers["X-Content-Type-Options"] == "nosniff"
    status, headers, body = call_wsgi(application, HTTP_IF_NONE_MATCH=headers["ETag"])
    assert (status, body) == ("304 Not Modified", b"")


def test_wsgi_fast_path_passes_unknown_hosts_to_django(page):
    application = PublicFastPath(WSGIHandler())
    status, _headers, _body = call_wsgi(application, host="nope.example")
    assert status.startswith("404")


def test_a_warm_hit_costs_one_cache_round_trip_until_the_host_map_changes(page, monkeypatch):
    from django.core.cache import caches

    from statuspage.hosts import forget_hosts

    django_app = WSGIHandler()
    calls, cache_calls = [], []

    def counting_app(environ, start_response):
        calls.append(environ["PATH_INFO"])
        return django_app(environ, start_response)

    application = PublicFastPath(counting_app)
    call_wsgi(application)  # rendered by Django
    call_wsgi(application)  # served here; the host is remembered
    backend, depth = caches["default"], [0]

    def counted(name, real):
        def call(*args, **kwargs):  # the calls we make, not the backend's own (locmem's
            if depth[0] == 0:  # get_many is a loop of gets; Redis sends one MGET)
                cache_calls.append(name)
            depth[0] += 1
            try:
                return real(*args, **kwargs)
            finally:
                depth[0] -= 1

        return call

    for name in ("get", "get_many", "add", "set"):
        monkeypatch.setattr(backend, name, counted(name, getattr(backend, name)))
    status, _headers, _body = call_wsgi(application)
    assert (status, calls, cache_calls) == ("200 OK", ["/"], ["get_many"])
    forget_hosts(slugs=[page.slug])  # what a slug or domain change does, in any process
    status, _headers, _body = call_wsgi(application)
    assert (status, calls) == ("200 OK", ["/", "/"])  # the map is read again, through Django
