"""The public read path: cached per content version, no query warm, ETag/304, fresh on write."""

import datetime
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
    assert (
        response["Cache-Control"]
        == "public, max-age=10, stale-while-revalidate=60, stale-if-error=86400"
    )
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
    assert (
        headers["Cache-Control"]
        == "public, max-age=10, stale-while-revalidate=60, stale-if-error=86400"
    )
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


# --- Security headers: every door sends what the full stack sends (issue item 8) ------------

PRODUCTION_SECURITY = {
    "DEBUG": False,
    "SECURE_SSL_REDIRECT": True,
    "SECURE_REDIRECT_EXEMPT": [r"^internal/", r"^healthz$"],
    "SECURE_HSTS_SECONDS": 31536000,
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
    "SECURE_HSTS_PRELOAD": False,
    "SECURE_PROXY_SSL_HEADER": ("HTTP_X_FORWARDED_PROTO", "https"),
}


def three_doors(path="/", **extra):
    """(first render, PublicCacheMiddleware hit, PublicFastPath hit) of one request, and
    whether Django was called for the last one."""
    from django.core.cache import cache

    cache.clear()
    django_app = WSGIHandler()
    calls = []

    def counting_app(environ, start_response):
        calls.append(environ["PATH_INFO"])
        return django_app(environ, start_response)

    first = call_wsgi(django_app, path, **extra)
    middleware_hit = call_wsgi(django_app, path, **extra)
    fast_path_hit = call_wsgi(PublicFastPath(counting_app), path, **extra)
    return [first, middleware_hit, fast_path_hit], calls


def without_date(response):
    status, headers, body = response
    return status, {k: v for k, v in headers.items() if k != "Date"}, body


def test_https_responses_carry_the_same_security_headers_from_every_door(page, settings):
    for name, value in PRODUCTION_SECURITY.items():
        setattr(settings, name, value)
    responses, calls = three_doors(HTTP_X_FORWARDED_PROTO="https")
    assert calls == []  # the third one was the fast path's own
    first, middleware_hit, fast_path_hit = map(without_date, responses)
    assert first == middleware_hit == fast_path_hit
    status, headers, _body = first
    assert status == "200 OK"
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert headers["X-Frame-Options"] == "DENY"


def test_plain_http_is_redirected_from_every_door(page, settings):
    for name, value in PRODUCTION_SECURITY.items():
        setattr(settings, name, value)
    responses, _calls = three_doors("/history", QUERY_STRING="page=1")
    first, middleware_hit, fast_path_hit = map(without_date, responses)
    assert first == middleware_hit == fast_path_hit
    status, headers, _body = first
    assert (status, headers["Location"]) == (
        "301 Moved Permanently",
        f"https://{HOST}/history?page=1",
    )
    assert "Strict-Transport-Security" not in headers


def test_plain_http_without_redirect_gets_no_hsts_from_any_door(page, settings):
    for name, value in PRODUCTION_SECURITY.items():
        setattr(settings, name, value)
    settings.SECURE_SSL_REDIRECT = False
    responses, calls = three_doors()
    assert calls == []
    first, middleware_hit, fast_path_hit = map(without_date, responses)
    assert first == middleware_hit == fast_path_hit
    assert "Strict-Transport-Security" not in first[1]
    assert first[1]["X-Content-Type-Options"] == "nosniff"


def test_a_304_from_the_fast_path_carries_the_security_headers(page, settings):
    for name, value in PRODUCTION_SECURITY.items():
        setattr(settings, name, value)
    (_first, _hit, (_status, headers, _body)), _calls = three_doors(HTTP_X_FORWARDED_PROTO="https")
    django_304 = call_wsgi(WSGIHandler(), HTTP_X_FORWARDED_PROTO="https",
                           HTTP_IF_NONE_MATCH=headers["ETag"])  # fmt: skip
    fast_304 = call_wsgi(PublicFastPath(None), HTTP_X_FORWARDED_PROTO="https",
                         HTTP_IF_NONE_MATCH=headers["ETag"])  # fmt: skip
    assert fast_304[0] == django_304[0] == "304 Not Modified"
    for name in ("Strict-Transport-Security", "X-Content-Type-Options", "ETag", "Cache-Control"):
        assert fast_304[1][name] == django_304[1][name], name


# --- Keying: what one client can make us store (issue item 9) ---------------------------------


def public_entries():
    from django.core.cache import cache

    return sorted(key for key in cache._cache if ":public" in key)  # locmem's own dict


def test_unknown_query_parameters_share_the_canonical_entry(public_client):
    plain = public_client.get("/")
    tracked = public_client.get("/?utm_source=mail&x=1")
    assert (tracked.status_code, tracked.content, tracked["ETag"]) == (200, plain.content,
                                                                       plain["ETag"])  # fmt: skip
    assert len(public_entries()) == 2  # the entry and its last good copy


def test_history_parameters_are_canonicalised(public_client):
    first = public_client.get("/history?page=1")
    assert public_client.get("/history?page=01&utm=x").content == first.content
    assert public_client.get("/history?page=0").content == public_client.get("/history").content
    for junk in ("abc", "-1", "41", "99999999", "1.5", "²"):
        response = public_client.get(f"/history?page={junk}")
        assert (response.status_code, junk) == (404, junk)
        assert b"There is nothing at this address." in response.content
    assert public_client.get("/history?component=not%20an%20id").status_code == 404
    missing = public_client.get("/history?component=abcdefabcdef")
    assert missing.status_code == 404 and b"no such component" in missing.content


def test_random_queries_and_paths_leave_a_fixed_number_of_entries(public_client):
    import random
    import string

    rng = random.Random(9)

    def word(n=8):
        return "".join(rng.choice(string.ascii_lowercase + string.digits) for _ in range(n))

    for n in range(1000):
        path = ("/", "/history", "/api/v2/summary.json", "/badge.svg")[n % 4]
        junk = rng.choice(["-3", "x", str(10**6 + n), "1e3"])
        query = f"{word()}={word()}&page={junk}" if path == "/history" else f"{word()}={word()}"
        assert public_client.get(f"{path}?{query}").status_code in (200, 404)
    for _ in range(1000):
        path = rng.choice([f"/{word()}", f"/incidents/{word(12)}", f"/api/v2/{word()}.json",
                           f"/incidents/{word(12)}/postmortem", f"/{word()}/{word()}"])  # fmt: skip
        assert public_client.get(path).status_code == 404
    # Home, summary and badge (each with its last good copy), and the page's one 404.
    assert len(public_entries()) <= 8


def test_a_missing_incident_is_a_404_that_is_not_stored(public_client):
    assert public_client.get("/incidents/abcdefabcdef").status_code == 404
    assert public_entries() == []


def test_entries_live_no_longer_than_their_quarter_hour():
    from statuspage.public_cache import CLOCK_STEP_SECONDS, ENTRY_TTL

    assert CLOCK_STEP_SECONDS < ENTRY_TTL <= CLOCK_STEP_SECONDS + 120


def test_the_fast_path_keys_like_the_middleware(page):
    application = PublicFastPath(WSGIHandler())
    call_wsgi(application, "/history", QUERY_STRING="page=2")
    calls = []

    def refuse(environ, start_response):
        calls.append(environ["PATH_INFO"])
        raise AssertionError("should have been a fast-path hit")

    fast = PublicFastPath(refuse)
    status, _headers, _body = call_wsgi(fast, "/history", QUERY_STRING="utm=1&page=02")
    assert (status, calls) == ("200 OK", [])
    call_wsgi(application, "/nope")
    status, _headers, body = call_wsgi(fast, "/also-nope", QUERY_STRING="a=b")
    assert (status, calls) == ("404 Not Found", [])
    assert b"There is nothing at this address." in body


# --- Stale-if-error (issue item 2); tests/reliability/ cuts a real PostgreSQL -------------------


@pytest.fixture
def database_down():
    """Every query fails as it does when PostgreSQL went away (the edge, not our code)."""
    import contextlib

    from django.db.utils import OperationalError

    def refuse(execute, sql, params, many, context):
        raise OperationalError("server closed the connection unexpectedly")

    @contextlib.contextmanager
    def down():
        with connection.execute_wrapper(refuse):
            yield

    return down


def test_with_the_database_down_the_last_good_page_is_served_with_a_notice(
    public_client, page, database_down
):
    import time_machine

    from statuspage.hosts import resolve_host
    from statuspage.publishing import public_content_changed

    page.time_zone = "Europe/London"
    page.save()
    with time_machine.travel("2025-07-03 14:05:30Z", tick=False):
        good = public_client.get("/", HTTP_ACCEPT_ENCODING="gzip")
    public_content_changed(page)  # what the next write does: the entry above is unreachable
    resolve_host(HOST)  # the host map, cached at the travelled-to time, is current again
    with database_down():
        stale = public_client.get("/")
        zipped = public_client.get("/", HTTP_ACCEPT_ENCODING="gzip")
        again = public_client.get("/", HTTP_IF_NONE_MATCH=stale["ETag"])
    html = stale.content.decode()
    assert (stale.status_code, stale["Cache-Control"]) == (
        200,
        "public, max-age=10, stale-if-error=86400",
    )
    assert stale["X-Stale-As-Of"] == "2025-07-03T14:05:30+00:00"
    assert (
        '<p class="notice" role="status"><strong>Live updates are delayed.</strong> This page shows'
        ' the status as of <time datetime="2025-07-03T14:05:30+00:00">15:05 BST (14:05 UTC) on'
        " 3 July 2025</time>.</p>"
    ) in html
    assert html.index("<header") < html.index("Live updates are delayed") < html.index("<h1")
    assert html.replace(html[html.index('<p class="notice"') : html.index("</p>") + 4], "") == (
        gzip.decompress(good.content).decode().replace("<!--stale-notice-->", "")
    )
    assert gzip.decompress(zipped.content) == stale.content
    assert stale["ETag"] != good["ETag"] and again.status_code == 304
    back = public_client.get("/")  # the database is back: rendered, not the stale copy
    assert back.status_code == 200 and b"Live updates are delayed" not in back.content


def test_with_the_database_down_json_is_served_as_it_was_with_a_header(
    public_client, page, database_down
):
    from statuspage.publishing import public_content_changed

    good = public_client.get("/api/v2/summary.json")
    public_content_changed(page)
    with database_down():
        stale = public_client.get("/api/v2/summary.json")
    assert (stale.status_code, stale.content) == (200, good.content)
    assert stale["X-Stale-As-Of"].endswith("+00:00")
    assert stale["Access-Control-Allow-Origin"] == "*"


def test_with_the_database_down_and_no_copy_a_plain_503(public_client, page, database_down):
    from statuspage.hosts import resolve_host

    resolve_host(HOST)  # the host map is cached; nothing of the page is
    with database_down():
        response = public_client.get("/history?page=3")
        json = public_client.get("/api/v2/status.json")
    assert (response.status_code, response["Retry-After"]) == (503, "60")
    assert b"temporarily unavailable" in response.content and b"Traceback" not in response.content
    assert json.status_code == 503 and json.json() == {
        "error": "This status page is temporarily unavailable. Try again in a minute."
    }


def test_the_last_good_copy_survives_the_shared_cache(public_client, page, database_down):
    """Redis down too (or flushed): this process's own copy still answers."""
    import time_machine
    from django.core.cache import cache

    from statuspage.hosts import resolve_host

    good = public_client.get("/")
    cache.clear()
    # The next quarter hour: this process's current entry no longer applies either.
    with time_machine.travel(datetime.datetime.now(datetime.UTC) + datetime.timedelta(minutes=16)):
        resolve_host(HOST)  # the host map is back
        with database_down():
            stale = public_client.get("/")
    assert stale.status_code == 200 and b"Live updates are delayed" in stale.content
    assert good.content.replace(b"<!--stale-notice-->", b"") in stale.content.replace(
        stale.content[stale.content.index(b'<p class="notice"') :].split(b"</p>", 1)[0] + b"</p>",
        b"",
    )


def test_with_the_host_map_expired_and_the_database_down_the_last_good_copy_is_served(
    page, database_down
):
    """The host map expired from the cache and PostgreSQL is down: the host still resolves
    from what this process last saw (statuspage.hosts), so the page's last good copy."""
    from django.core.cache import cache
    from django.test import Client

    from statuspage.publishing import public_content_changed

    client = Client(HTTP_HOST=HOST, raise_request_exception=False)
    assert client.get("/").status_code == 200
    public_content_changed(page)
    cache.delete(f"host:{HOST}")
    with database_down():
        response = client.get("/")
    assert response.status_code == 200
    assert b"Live updates are delayed" in response.content


def test_a_public_post_with_the_database_down_is_a_plain_503(page, database_down):
    from django.test import Client

    client = Client(HTTP_HOST=HOST, raise_request_exception=False)
    assert client.get("/").status_code == 200
    with database_down():
        response = client.post("/subscribe", {"email": "a@b.test"})
    assert response.status_code == 503 and b"temporarily unavailable" in response.content
