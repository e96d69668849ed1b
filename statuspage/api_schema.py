"""How the management API describes itself in OpenAPI 3 (`/api/v1/openapi.json`).

Every view declares its request and response serializers with `extend_schema`; this module
adds what every operation shares: Statuspage-style operation ids (`getPagesPageIdIncidents`),
tags per resource, and the error answers (400, 401, 403, 404, 422, 429) with their shapes.
"""

from __future__ import annotations

import re

from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiRequest, inline_serializer
from rest_framework import serializers

TAGS = {
    "pages": "Pages",
    "components": "Components",
    "component-groups": "Component groups",
    "incidents": "Incidents",
    "incident_updates": "Incident updates",
    "postmortem": "Postmortems",
    "subscribers": "Subscribers",
    "incident_templates": "Incident templates",
}
PREFIX = "/api/v1/"


class Problem(serializers.Serializer):
    """401, 403, 404 and 429: what went wrong, in one sentence."""

    detail = serializers.CharField(help_text="E.g. “No such page.”")


class ErrorShape(serializers.Serializer):
    """An error body whose keys are the request's field names (mapped by the extension)."""

    shape: dict = {}


MESSAGES = {"type": "array", "items": {"type": "string"}}


class FieldErrors(ErrorShape):
    """400: the body is not what the operation takes (wrong type, unknown choice, bad JSON)."""

    shape = {
        "type": "object",
        "description": 'Messages per field, e.g. `{"status": ["…"]}`; a body that is not '
        'JSON gives `{"detail": "…"}`.',
        "properties": {"detail": {"type": "string"}},
        "additionalProperties": MESSAGES,
    }


class RuleError(ErrorShape):
    """422: well-formed, but against a rule (an empty title, a taken subdomain, a field we
    cannot honour)."""

    shape = {
        "type": "object",
        "description": "`error` is the first message; each field it concerns has its messages.",
        "properties": {"error": {"type": "string"}},
        "required": ["error"],
        "additionalProperties": MESSAGES,
    }


class ErrorShapeSchema(OpenApiSerializerExtension):
    target_class = "statuspage.api_schema.ErrorShape"
    match_subclasses = True

    def map_serializer(self, auto_schema, direction):
        return self.target.shape


ERRORS = {
    400: (FieldErrors, "The body does not have the documented shape."),
    401: (Problem, "No key, or a wrong or revoked one."),
    403: (Problem, "The key's access level does not allow this."),
    404: (Problem, "No such object for this key (another organisation's objects included)."),
    422: (RuleError, "The values break a rule; nothing was changed."),
    429: (Problem, "Too many requests this minute; retry after `Retry-After` seconds."),
}
RETRY_AFTER = {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."}}


PAGING = [
    {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "default": 1},
     "description": "Which page of results."},
    {"name": "per_page", "in": "query",
     "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 100},
     "description": "Results per page."},
]  # fmt: skip


def error_codes(operation: dict, method: str, path: str) -> list[int]:
    codes = [401, 429]
    if method != "GET":
        codes += [403, 422]
    if "requestBody" in operation:
        codes.append(400)
    if "{" in path:
        codes.append(404)
    return sorted(codes)


def is_list(operation: dict) -> bool:
    content = operation["responses"].get("200", {}).get("content", {})
    return content.get("application/json", {}).get("schema", {}).get("type") == "array"


class ApiSchema(AutoSchema):
    """Statuspage's operation ids and our tags and error answers, for every API view."""

    def get_operation_id(self):
        words = re.findall(r"[a-z0-9]+", self.path.removeprefix(PREFIX))
        return self.method.lower() + "".join(word.capitalize() for word in words)

    def get_tags(self):
        segments = self.path.removeprefix(PREFIX).split("/")
        return [next((TAGS[s] for s in reversed(segments) if s in TAGS), "Pages")]

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        if is_list(operation):
            operation["parameters"] = [*operation.get("parameters", []), *PAGING]
        for code in error_codes(operation, method, path):
            serializer, description = ERRORS[code]
            content = {"application/json": {"schema": self.resolve_serializer(
                serializer, "response").ref}}  # fmt: skip
            response = {"description": description, "content": content}
            if code == 429:
                response["headers"] = RETRY_AFTER
            operation["responses"][str(code)] = response
        return operation


def resource_request(fields_class: type[serializers.Serializer], *, name: str) -> dict:
    """The request body of a write: `{"<resource>": {...}}` as JSON, or the same fields
    form-encoded as `<resource>[name]=…&<resource>[ids][]=…` (OpenAPI's deepObject)."""
    resource = fields_class.resource
    body = inline_serializer(name=name, fields={resource: fields_class()})
    form = OpenApiRequest(body, encoding={resource: {"style": "deepObject", "explode": True}})
    return {"application/json": body, "application/x-www-form-urlencoded": form}
