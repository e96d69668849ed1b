"""Every URL of the app host and of a public site, fed hostile input, answers without a 5xx.

The walk of tests/isolation (every URL pattern, its parameters filled with real objects of one
tenant) sends hostile query strings on GET and hostile form and JSON bodies on POST, as a
visitor, as the organisation's owner and, on the API, with an admin key (a visitor's console
request is a redirect to log in, whatever it carries, so only the owner's are sent). Field
names come from what the code reads: the query parameters the views use and the `name=` of
every form field a GET of the same URL shows, so a body reaches the form's own validation
rather than stopping at "field missing". tests/api/test_no_server_errors.py walks the API's
own schema more deeply.

Failures are collected and reported together. Run it on PostgreSQL too: it is the database
that refuses NUL characters (SQLite stores them), so a NUL reaching a query fails only there.
"""

from __future__ import annotations

import json
import re
import time
from urllib.parse import quote, urlencode

import pytest
from django.test import Client
from django.urls import get_resolver

from statuspage.actors import Actor
from statuspage.services import create_api_key, invitation_token
from tests.isolation.samples import NON_TENANT_SAMPLES, TENANT_SAMPLES
from tests.isolation.test_console_isolation import fill, walk
from tests.isolation.world import build_tenant

# Each request commits on its own, as in production: on PostgreSQL a failed query inside the
# test's one transaction would fail every later request and hide what they do.
pytestmark = pytest.mark.django_db(transaction=True)

HOST = "ours.status.test"
# The query parameters the views read (a GET form's own fields are added per URL).
QUERY_NAMES = ["page", "per_page", "q", "state", "owner", "verb", "actor", "this_page_only",
               "category", "severity", "tab", "mine", "unacknowledged", "template", "component",
               "preview", "period", "by", "format", "next", "domain", "limit"]  # fmt: skip
HOSTILE_VALUES = [
    "\x00", "a\x00b", "10000", "-1", "99999999999999999999999999", "😀\u202e\ufeff",
    "../../../etc/passwd", "x" * 5000, "\r\nSet-Cookie: a=b\x1b[31m\x07",
]  # fmt: skip
# Form bodies: NUL, a huge number, unicode, a long text, header injection and escapes.
FORM_VALUES = [HOSTILE_VALUES[i] for i in (0, 4, 5, 7, 8)]
RAW_QUERIES = ["%FF%FE%00", "page=1&page=%00&page=2", "q[]=1&q[]=%00&page[]=2", "&&==&", "%"]
# Only the API (DRF) and alert intake read JSON; elsewhere a JSON body is an empty form.
JSON_READERS = ("api/", "integrations/")
FORM = "application/x-www-form-urlencoded"
DEEP = 100_000
DEEP_JSON = b"[" * DEEP + b"]" * DEEP
DEEP_OBJECT = b'{"a":' * DEEP + b"1" + b"}" * DEEP
NUL_JSON = b'{"name": "\\u0000"}'


def query_strings(names: list[str]) -> list[str]:
    """One query string per hostile value, setting every name to it, plus raw oddities."""
    encoded = [quote(value, safe="") for value in HOSTILE_VALUES]
    return ["&".join(f"{n}={v}" for n in names) for v in encoded] + RAW_QUERIES


def form_bodies(names: list[str]) -> list[dict]:
    """Every field given one hostile value at a time (and a list of values)."""
    return [dict.fromkeys(names, value) for value in FORM_VALUES] + [
        {name: ["1", "\x00", "2"] for name in names}
    ]


def json_bodies(names: list[str]) -> list[bytes]:
    def every(value):
        # Flat, and inside the {"<resource>": {...}} envelope the API reads.
        flat = dict.fromkeys(names, value)
        return json.dumps({**flat, **dict.fromkeys(("incident", "component", "page"), flat)})

    return [
        every("\x00").encode(),
        every({"\x00": ["\x00"]}).encode(),
        every(None).encode(),
        every([1, {"a": []}]).encode(),
        every(10**30).encode(),
        every(-1).encode(),
        DEEP_JSON,
        DEEP_OBJECT,
        json.dumps(["x" * 100] * 20_000).encode(),
        b"{not json\x00",
        b"\xff\xfe\x00\x00",
    ]


FIELD_NAME = re.compile(r'<(?:input|select|textarea|button)\b[^>]*?\bname="([^"]+)"')


def form_field_names(response) -> list[str]:
    if "html" not in response.get("Content-Type", ""):
        return []
    names = FIELD_NAME.findall(response.content.decode(errors="replace"))
    return sorted(set(names) - {"csrfmiddlewaretoken"})


def app_routes() -> list[str]:
    routes = list(walk(get_resolver().url_patterns))
    # Destructive routes last, so the objects the others name still exist when they run.
    return sorted(routes, key=lambda r: any(w in r for w in ("delete", "remove", "logout")))


def public_routes() -> list[str]:
    return list(walk(get_resolver("statuspage.public_urls").url_patterns))


def samples(tenant) -> dict[str, dict[str, str]]:
    """URL parameter values naming `tenant`'s real objects, by route prefix where the same
    parameter name means different things."""
    from subscribers.links import confirm_token, manage_token

    values = {name: str(sample(tenant)) for name, sample in TENANT_SAMPLES.items()}
    values |= NON_TENANT_SAMPLES
    values["page_id"] = tenant.page.public_id
    integration = tenant.objects["integration"]
    subscriber = tenant.objects["subscriber"]
    return {
        "": values,
        "integrations/": {"kind": integration.kind, "token": integration.token},
        "accounts/invitations/": {"token": invitation_token(tenant.objects["invitation"])},
        "subscribe/confirm/": {"token": confirm_token(subscriber)},
        "subscribe/": {"token": manage_token(subscriber)},
    }


def url_for(route: str, values: dict[str, dict[str, str]]) -> str:
    chosen = dict(values[""])
    for prefix in sorted(values, key=len):
        if prefix and route.startswith(prefix):
            chosen |= values[prefix]
    return fill(route, chosen)


def server_errors(
    client: Client, url: str, label: str, *, json_reader: bool = True, bodies: bool = True
) -> tuple[list[str], int]:
    """Send every hostile GET and POST to `url`; (what answered 5xx, how many requests)."""
    page = client.get(url)
    failures = [f"GET {url} [{label}] → {page.status_code}"] if page.status_code >= 500 else []
    names = form_field_names(page)
    sent = 1
    for query in query_strings(QUERY_NAMES + names):
        response = client.get(f"{url}?{query}")
        sent += 1
        if response.status_code >= 500:
            failures.append(f"GET {url}?{query[:60]} [{label}] → {response.status_code}")
    if not bodies:
        return failures, sent
    for body in form_bodies(names or ["name"]):
        # Url-encoded as a browser sends a form; the list-valued body multipart.
        listed = any(isinstance(value, list) for value in body.values())
        response = (client.post(url, body) if listed else
                    client.post(url, urlencode(body), content_type=FORM))  # fmt: skip
        sent += 1
        if response.status_code >= 500:
            shown = {k: str(v)[:20] for k, v in list(body.items())[:3]}
            failures.append(f"POST {url} form {shown} [{label}] → {response.status_code}")
    json_sent = json_bodies(names or ["name"]) if json_reader else [NUL_JSON, DEEP_JSON]
    for body in json_sent:
        response = client.post(url, body, content_type="application/json")
        sent += 1
        if response.status_code >= 500:
            failures.append(f"POST {url} json {body[:40]!r} [{label}] → {response.status_code}")
    return failures, sent


def test_no_url_answers_hostile_input_with_a_server_error(settings):
    settings.API_REQUESTS_PER_MINUTE = 1_000_000
    settings.AXES_ENABLED = False  # lockouts would hide what the login view does with input
    # Jobs (webhook challenges to hostile addresses, mail) are not what is tested here: they go
    # to a queue that refuses them at once, as when Redis is down, and the sweeps would retry.
    settings.JOBS_RUN_IN_PROCESS = False
    settings.RQ_QUEUES = {"default": {"URL": "redis://127.0.0.1:1/0"}}
    started = time.monotonic()
    ours = build_tenant("ours", marker="ours-marker")
    values = samples(ours)
    _, raw = create_api_key(ours.organization, actor=Actor.system("t"), name="k", access="admin")
    failures: list[str] = []
    total = 0
    routes = app_routes()
    for route in routes:
        url = url_for(route, values)
        owner = Client(raise_request_exception=False)
        owner.force_login(ours.owner.user)
        clients = {"owner": owner}
        if not route.startswith("console/"):
            # A visitor's console request is a redirect to log in whatever it carries.
            clients["visitor"] = Client(raise_request_exception=False)
        if route.startswith("api/"):
            clients["key"] = Client(HTTP_AUTHORIZATION=f"OAuth {raw}",
                                    raise_request_exception=False)  # fmt: skip
        for label, client in clients.items():
            found, sent = server_errors(client, url, label,
                                        json_reader=route.startswith(JSON_READERS))  # fmt: skip
            failures += found
            total += sent
    for route in public_routes():
        url = url_for(route, values)
        visitor = Client(HTTP_HOST=HOST, raise_request_exception=False)
        found, sent = server_errors(visitor, url, "visitor", json_reader="api/" in route)
        # The preview serves the same views under /s/<slug>/ on the app host: queries suffice.
        preview = Client(raise_request_exception=False)
        found_too, sent_too = server_errors(preview, f"/s/ours{url}", "preview", bodies=False)
        failures += found + found_too
        total += sent + sent_too
    elapsed = time.monotonic() - started
    print(f"{total} requests to {len(routes)} app and {len(public_routes())} public routes "
          f"in {elapsed:.1f} s")  # fmt: skip
    assert len(routes) >= 100 and total >= 5_000
    assert failures == [], f"{len(failures)} server errors:\n" + "\n".join(failures)
