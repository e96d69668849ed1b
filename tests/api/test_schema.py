"""The OpenAPI description documents every operation's bodies, and says what we really return."""

import datetime
import json
import re

import pytest
from django.test import Client
from drf_spectacular.drainage import GENERATOR_STATS, reset_generator_stats
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.settings import patched_settings

from statuspage.actors import Actor
from statuspage.api_urls import SCHEMA_SETTINGS
from statuspage.services import create_api_key
from tests.api.openapi import WRITES, load_schema, mismatches, operations, success

pytestmark = pytest.mark.django_db

# Statuspage's actions that take no body.
NO_BODY = {
    ("post", "/api/v1/pages/{page_id}/incidents/{incident_id}/postmortem/revert"),
    ("put", "/api/v1/pages/{page_id}/incidents/{incident_id}/postmortem/revert"),
    ("post", "/api/v1/pages/{page_id}/subscribers/{subscriber_id}/resend_confirmation"),
}
# Statuspage answers these with a bare 201.
NO_RESPONSE_BODY = {
    ("post", "/api/v1/pages/{page_id}/subscribers/{subscriber_id}/resend_confirmation")
}
ERROR_SHAPES = {"400": "FieldErrors", "401": "Problem", "403": "Problem", "404": "Problem",
                "422": "RuleError", "429": "Problem"}  # fmt: skip


def test_schema_generates_without_warnings_or_errors():
    reset_generator_stats()
    with patched_settings(SCHEMA_SETTINGS):
        SchemaGenerator().get_schema(request=None, public=True)
    assert (dict(GENERATOR_STATS._warn_cache), dict(GENERATOR_STATS._error_cache)) == ({}, {})


def test_every_operation_documents_its_success_body():
    undocumented = []
    for method, path, operation in operations(load_schema()):
        code, response = success(operation)
        has_body = "application/json" in response.get("content", {})
        expected = code != "204" and (method, path) not in NO_RESPONSE_BODY
        if has_body != expected:
            undocumented.append(f"{method} {path} {code}")
    assert undocumented == []


def test_every_write_documents_json_and_form_request_bodies():
    found = {}
    for method, path, operation in operations(load_schema()):
        if method in WRITES:
            found[method, path] = sorted(operation.get("requestBody", {}).get("content", {}))
    both = ["application/json", "application/x-www-form-urlencoded"]
    assert {op: types for op, types in found.items() if op not in NO_BODY} == {
        op: both for op in found if op not in NO_BODY
    }
    assert {op: found[op] for op in NO_BODY} == {op: [] for op in NO_BODY}


def test_form_bodies_are_documented_as_deep_objects():
    schema = load_schema()
    post = schema["paths"]["/api/v1/pages/{page_id}/incidents"]["post"]
    form = post["requestBody"]["content"]["application/x-www-form-urlencoded"]
    assert form["encoding"] == {"incident": {"style": "deepObject", "explode": True}}


def test_every_operation_documents_its_errors():
    schema = load_schema()
    wrong = []
    for method, path, operation in operations(schema):
        codes = {"401", "429"} | ({"404"} if "{" in path else set())
        if method != "get":
            codes |= {"403", "422"}
        if "requestBody" in operation:
            codes.add("400")
        errors = {c: r for c, r in operation["responses"].items() if c >= "400"}
        shapes = {c: r["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
                  for c, r in errors.items()}  # fmt: skip
        if shapes != {c: ERROR_SHAPES[c] for c in codes}:
            wrong.append(f"{method} {path}: {sorted(shapes)}")
    assert wrong == []
    limited = schema["paths"]["/api/v1/pages"]["get"]["responses"]["429"]
    assert list(limited["headers"]) == ["Retry-After"]


def test_operation_ids_are_statuspage_style_and_unique():
    ids = [op["operationId"] for _, _, op in operations(load_schema())]
    assert len(ids) == len(set(ids))
    assert {"getPages", "patchPagesPageId", "postPagesPageIdIncidents",
            "getPagesPageIdIncidentsUnresolved",
            "putPagesPageIdIncidentsIncidentIdPostmortemPublish"} <= set(ids)  # fmt: skip


def test_status_and_impact_values_are_enums():
    schemas = load_schema()["components"]["schemas"]
    assert schemas["ComponentStatus"]["enum"] == ["operational", "under_maintenance",
        "degraded_performance", "partial_outage", "major_outage"]  # fmt: skip
    assert schemas["Impact"]["enum"] == ["none", "minor", "major", "critical", "maintenance"]
    assert schemas["IncidentStatus"]["enum"] == ["investigating", "identified", "monitoring",
        "resolved", "postmortem", "scheduled", "in_progress", "verifying", "completed"]  # fmt: skip
    assert schemas["Incident"]["properties"]["status"] == {
        "$ref": "#/components/schemas/IncidentStatus"
    }
    assert schemas["Component"]["properties"]["status"] == {
        "$ref": "#/components/schemas/ComponentStatus"
    }


def _in(days: int) -> str:
    return (datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=days)).isoformat()


def _exchanges(ids: dict) -> list[tuple[str, str, dict | None]]:
    """A script through every operation, in an order that makes each one succeed; `ids` is
    filled in as objects are created (see `_remember`)."""
    pages = "/api/v1/pages"
    page = pages + "/{page_id}"
    component = page + "/components/{component_id}"
    group = page + "/component-groups/{group_id}"
    incident = page + "/incidents/{incident_id}"
    update = incident + "/incident_updates/{update_id}"
    postmortem = incident + "/postmortem"
    subscriber = page + "/subscribers/{subscriber_id}"
    template = page + "/incident_templates/{template_id}"
    return [
        ("get", pages, None),
        ("get", page, None),
        ("patch", page, {"page": {"name": "Acme Status"}}),
        ("put", page, {"page": {"support_url": "https://help.example.test"}}),
        ("post", page + "/components", {"component": {"name": "Search"}}),
        ("get", page + "/components", None),
        ("get", component, None),
        ("patch", component, {"component": {"status": "degraded_performance"}}),
        ("put", component, {"component": {"name": "Search API"}}),
        ("get", component + "/uptime", None),
        ("post", page + "/component-groups",
         {"component_group": {"name": "Core", "components": ["{component_id}"]}}),
        ("get", page + "/component-groups", None),
        ("get", group, None),
        ("patch", group, {"component_group": {"name": "Core services"}}),
        ("put", group, {"component_group": {"description": "What runs the rest"}}),
        ("post", page + "/incidents", {"incident": {"name": "DB upgrade",
            "scheduled_for": _in(1), "scheduled_until": _in(2)}}),
        ("get", page + "/incidents/upcoming", None),
        ("patch", incident, {"incident": {"status": "in_progress"}}),
        ("get", page + "/incidents/active_maintenance", None),
        ("get", page + "/incidents/scheduled", None),
        ("post", page + "/incidents", {"incident": {"name": "Errors", "impact_override": "minor",
            "component_ids": ["{component_id}"], "body": "Looking"}}),
        ("get", page + "/incidents", None),
        ("get", page + "/incidents/unresolved", None),
        ("get", incident, None),
        ("put", incident, {"incident": {"status": "identified", "body": "Found it"}}),
        ("patch", update, {"incident_update": {"body": "Found it (the database)"}}),
        ("put", update, {"incident_update": {"display_at": _in(0)}}),
        ("patch", incident, {"incident": {"status": "resolved"}}),
        ("put", postmortem, {"postmortem": {"body_draft": "What happened"}}),
        ("patch", postmortem, {"postmortem": {"title": "Errors on the 5th"}}),
        ("get", postmortem, None),
        ("put", postmortem + "/publish", {"postmortem": {"notify_subscribers": False}}),
        ("post", postmortem + "/publish", None),
        ("put", postmortem + "/revert", None),
        ("post", postmortem + "/revert", None),
        ("delete", postmortem, None),
        ("post", page + "/subscribers", {"subscriber": {"email": "ops@example.test"}}),
        ("get", page + "/subscribers", None),
        ("get", subscriber, None),
        ("post", subscriber + "/resend_confirmation", None),
        ("delete", subscriber, None),
        ("post", page + "/incident_templates", {"template": {"name": "DB", "title": "DB down",
            "component_ids": ["{component_id}"]}}),
        ("get", page + "/incident_templates", None),
        ("get", template, None),
        ("patch", template, {"template": {"impact": "major"}}),
        ("put", template, {"template": {"body": "We are on it."}}),
        ("delete", template, None),
        ("delete", incident, None),
        ("delete", group, None),
        ("delete", component, None),
    ]  # fmt: skip


def _remember(ids: dict, path: str, data) -> None:
    for name, segment in (("component_id", "/components"), ("group_id", "/component-groups"),
                          ("incident_id", "/incidents"), ("subscriber_id", "/subscribers"),
                          ("template_id", "/incident_templates")):  # fmt: skip
        if path.endswith(segment):
            ids[name] = data["id"]
            if name == "incident_id":
                ids["update_id"] = data["incident_updates"][0]["id"]


def _fill(template, ids: dict):
    text = json.dumps(template)
    return json.loads(re.sub(r"{(\w+)}", lambda m: ids[m[1]], text))


def test_documented_response_fields_are_what_each_operation_returns(org, page, settings):
    settings.API_REQUESTS_PER_MINUTE = 10_000
    _, raw = create_api_key(org, actor=Actor.system("t"), name="contract", access="admin")
    client = Client(HTTP_AUTHORIZATION=f"OAuth {raw}")
    schema = load_schema()
    ids = {"page_id": page.public_id}
    problems, exercised = [], set()
    for method, template, body in _exchanges(ids):
        url = _fill(template, ids)
        send = getattr(client, method)
        response = send(url, _fill(body, ids), content_type="application/json") if body else (
            send(url, content_type="application/json"))  # fmt: skip
        operation = schema["paths"][template][method]
        code, documented = success(operation)
        exercised.add((method, template))
        if str(response.status_code) != code:
            problems.append(f"{method} {url}: {response.status_code} {response.content[:200]!r}")
            continue
        if not response.content:
            continue
        data = response.json()
        if method == "post" and code == "201":
            _remember(ids, template, data)
        if isinstance(data, list):
            problems += [f"{method} {template}: empty list, nothing checked"] if not data else []
        node = documented["content"]["application/json"]["schema"]
        problems += [f"{method} {template} {p}" for p in mismatches(schema, node, data)]
    assert problems == []
    assert exercised == {(m, p) for m, p, _ in operations(schema)}


def test_incident_fields_for_responders_are_documented_as_optional():
    incident = load_schema()["components"]["schemas"]["Incident"]
    optional = set(incident["properties"]) - set(incident["required"])
    assert optional == {"scheduled_for", "scheduled_until", "severity", "category", "owner",
                        "acknowledged_at"}  # fmt: skip
