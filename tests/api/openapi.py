"""Reading our own OpenAPI description in tests: operations, bodies, and response checks."""

from __future__ import annotations

import json

from django.test import Client

WRITES = ("post", "put", "patch")


def load_schema() -> dict:
    return json.loads(Client().get("/api/v1/openapi.json").content)


def operations(schema: dict):
    """(method, path, operation) for every documented operation."""
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                yield method, path, operation


def resolve(schema: dict, node: dict) -> dict:
    """A schema node with its `$ref`, and a lone `allOf` (an enum with a description),
    followed."""
    while True:
        if "$ref" in node:
            node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
        elif len(node.get("allOf", [])) == 1:
            node = node["allOf"][0]
        else:
            return node


def success(operation: dict) -> tuple[str, dict]:
    [code] = [c for c in operation["responses"] if c.startswith("2")]
    return code, operation["responses"][code]


def mismatches(schema: dict, node: dict, value, where: str = "") -> list[str]:
    """Where `value` has keys the description lacks, or lacks keys it requires."""
    node = resolve(schema, node)
    if value is None:
        return [] if node.get("nullable") else [f"{where}: null, not documented as nullable"]
    if "oneOf" in node:
        return []  # a nullable enum: the value is checked by its own tests
    if node.get("type") == "array":
        return [p for i, item in enumerate(value)
                for p in mismatches(schema, node["items"], item, f"{where}[{i}]")]  # fmt: skip
    if node.get("type") != "object" or "properties" not in node:
        return []
    documented, required = set(node["properties"]), set(node.get("required", []))
    problems = [f"{where}.{k}: not documented" for k in sorted(set(value) - documented)]
    problems += [f"{where}.{k}: documented, missing" for k in sorted(required - set(value))]
    for key in sorted(set(value) & documented):
        problems += mismatches(schema, node["properties"][key], value[key], f"{where}.{key}")
    return problems


def resource_of(schema: dict, operation: dict) -> tuple[str, dict]:
    """The resource name of a write (`incident`) and the schema of the fields inside it."""
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    [(resource, fields)] = resolve(schema, body)["properties"].items()
    return resource, resolve(schema, fields)


def form_encoded(resource: str, fields: dict) -> str:
    """`fields` as Statuspage's forms send them: `incident[name]=…&incident[ids][]=…`."""
    from urllib.parse import urlencode

    pairs = []
    for name, value in fields.items():
        if isinstance(value, list):
            pairs += [(f"{resource}[{name}][]", item) for item in value]
        elif isinstance(value, dict):
            pairs += [(f"{resource}[{name}][{k}]", v) for k, v in value.items()]
        else:
            pairs.append((f"{resource}[{name}]", "" if value is None else value))
    return urlencode(pairs)


SAMPLES = {"date-time": "2030-01-01T02:00:00Z", "date": "2030-01-01", "email": "a@example.test",
           "uri": "https://example.test/hook"}  # fmt: skip
HOSTILE = [None, 7, ["x"], {"x": "y"}, "😀" * 3, "", True]


def sample(schema: dict, node: dict):
    """A value of the documented shape (the first choice of an enum)."""
    node = resolve(schema, node)
    if "enum" in node:
        return node["enum"][0]
    kind = node.get("type")
    if kind == "array":
        return [sample(schema, node["items"])]
    if kind == "object":
        if "properties" in node:
            return {k: sample(schema, v) for k, v in node["properties"].items()}
        return {"x": sample(schema, node.get("additionalProperties", {}))}
    return {"boolean": True, "integer": 1, "number": 1.5}.get(kind) or SAMPLES.get(
        node.get("format"), "x"
    )


def documented_bodies(schema: dict, operation: dict) -> list[tuple[str, str, object]]:
    """(content type, label, body) for a write: its documented fields with sample values, as
    JSON and form-encoded, then each field alone, with its sample value and with every hostile
    one (alone, so that no other field's refusal hides what the handler does with it)."""
    resource, fields = resource_of(schema, operation)
    valid = sample(schema, fields)
    bodies = [("json", "documented", {resource: valid}),
              ("form", "documented", form_encoded(resource, valid))]  # fmt: skip
    for name in valid:
        for value in [valid[name], *HOSTILE]:
            bodies.append(("json", f"{name}={value!r}", {resource: {name: value}}))
    return bodies
