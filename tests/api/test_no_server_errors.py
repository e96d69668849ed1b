"""Every operation in our own OpenAPI schema, fed hostile input, answers without a 5xx.

An equivalent of a schemathesis run, deterministic and quick: ids that do not exist or are
absurd, malformed JSON, wrong types in every field we read, and form-encoded garbage; and for
every write, the body its description documents (sample values, JSON and form-encoded) with
each field in turn given a hostile value.
"""

import json
import re

import pytest
from django.test import Client

from statuspage.actors import Actor
from statuspage.services import create_api_key
from tests.api.openapi import documented_bodies, load_schema, operations
from tests.component_factories import ComponentFactory
from tests.incident_factories import open_incident

pytestmark = pytest.mark.django_db

WEIRD_IDS = ["x", "a" * 300, "%00", "😀"]
BODIES = [
    b"{not json",
    b"[]",
    b'"string"',
    json.dumps({"incident": []}).encode(),
    json.dumps({"incident": {"name": 5, "status": ["x"], "components": "x",
                             "component_ids": 7, "scheduled_for": "yesterday",
                             "backfilled": "yes", "backfill_date": 3,
                             "impact_override": {}}}).encode(),
    json.dumps({"incident": {"name": ["x"]}}).encode(),
    json.dumps({"incident": {"name": "ok", "components": {"x": "on_fire"}}}).encode(),
    json.dumps({"incident": {"name": "ok", "status": "scheduled"}}).encode(),
    json.dumps({"incident": {"name": "ok", "backfilled": True, "backfill_date": "x"}}).encode(),
    json.dumps({"component": {"status": 3}}).encode(),
    json.dumps({"component": {"name": ["x"], "showcase": {}}}).encode(),
    json.dumps({"subscriber": {"email": 5}}).encode(),
    json.dumps({"subscriber": {"endpoint": "ftp://x"}}).encode(),
    json.dumps({"page": {"allow_rss_atom_feeds": [1], "brand_color": "x"}}).encode(),
    json.dumps({"component": {"name": None, "status": 3, "group_id": [],
                              "start_date": "x"}}).encode(),
    json.dumps({"component_group": {"name": "", "components": ["nope"]}}).encode(),
    json.dumps({"page": {"time_zone": "Mars/Base", "name": "", "bogus": 1}}).encode(),
    json.dumps({"subscriber": {"email": "not-an-email", "component_ids": "x"}}).encode(),
    json.dumps({"template": {"name": "", "title": 5, "component_ids": ["x"]}}).encode(),
    json.dumps({"postmortem": {"body_draft": 5}}).encode(),
    json.dumps({"incident_update": {"display_at": "never", "body": None}}).encode(),
]  # fmt: skip
PARAMETER = re.compile(r"{(\w+)}")
JSON, FORM = "application/json", "application/x-www-form-urlencoded"
GARBAGE_FORM = "incident[name]=&incident[component_ids][]=x&component[status]="


def test_no_operation_answers_with_a_server_error(org, page, settings):
    settings.API_REQUESTS_PER_MINUTE = 100_000
    component = ComponentFactory(page=page, name="API")
    incident = open_incident(page, component_statuses={component: None})
    _, raw = create_api_key(org, actor=Actor.system("t"), name="fuzz", access="admin")
    client = Client(HTTP_AUTHORIZATION=f"OAuth {raw}", raise_request_exception=False)
    schema = load_schema()
    real = {"page_id": page.public_id, "component_id": component.public_id,
            "incident_id": incident.public_id}  # fmt: skip
    failures = []
    for method, path, operation in operations(schema):
        names = PARAMETER.findall(path)
        variants = [{n: real.get(n, "missing") for n in names}]
        variants += [dict.fromkeys(names, weird) for weird in WEIRD_IDS]
        variants += [{**{n: real.get(n, "missing") for n in names}, names[-1]: w}
                     for w in WEIRD_IDS if names]  # fmt: skip
        send = getattr(client, method)
        for index, values in enumerate(variants):
            url = PARAMETER.sub(lambda m, v=values: v[m[1]], path)
            if method in ("get", "delete"):
                responses = [("", send(url))]
            else:
                responses = [(b[:40], send(url, b, content_type=JSON)) for b in BODIES]
                responses.append(("garbage form", send(url, GARBAGE_FORM, content_type=FORM)))
            if index == 0 and "requestBody" in operation:
                # The documented bodies against the real objects, where the handlers run.
                for kind, label, body in documented_bodies(schema, operation):
                    content_type = FORM if kind == "form" else JSON
                    responses.append((label, send(url, body, content_type=content_type)))
            failures += [
                f"{method.upper()} {url} {label!r} → {response.status_code}"
                for label, response in responses
                if response.status_code >= 500
            ]
    assert failures == [], "\n".join(failures)
