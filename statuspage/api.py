"""The management API's shared parts (base view, body shapes, paging, errors) and its pages.

Statuspage's v1 paths, field names and values, so existing scripts work by changing only the
base URL and the key. Every view is thin: parse, one service call, serialise.
"""

from __future__ import annotations

import zoneinfo
from typing import Any

from django.http import QueryDict
from django_scopes import scope
from rest_framework import status as http_status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView, exception_handler

from statuspage import services
from statuspage.actors import Actor
from statuspage.api_auth import key_from_header, page_for_key, touch_last_used
from statuspage.enums import Role
from statuspage.errors import DomainError
from statuspage.models import Page
from statuspage.page_urls import public_base_url
from statuspage.public_json import timestamp


class OrganizationAPIView(APIView):
    """Resolves the key before DRF runs and keeps the whole request inside its organisation's
    tenant scope, so no query in a handler can reach another tenant's rows."""

    write_role = Role.ADMIN

    def dispatch(self, request, *args, **kwargs):
        key = key_from_header(request.META.get("HTTP_AUTHORIZATION", ""))
        request.api_key = key
        if key is None:
            return super().dispatch(request, *args, **kwargs)
        touch_last_used(key)
        with scope(organization=key.organization_id):
            return super().dispatch(request, *args, **kwargs)

    @property
    def actor(self) -> Actor:
        return Actor.api_key(self.request.auth.name)

    def page(self, page_id: str) -> Page:
        return page_for_key(self.request.auth, page_id)


def handle_exception(exc, context):
    """DRF's errors, plus a DomainError as 422 with its message on its field."""
    if isinstance(exc, DomainError):
        body: dict[str, Any] = {"error": exc.message}
        if exc.field:
            body[exc.field] = [exc.message]
        return Response(body, status=http_status.HTTP_422_UNPROCESSABLE_ENTITY)
    return exception_handler(exc, context)


def resource_fields(data, resource: str) -> dict[str, Any]:
    """`{"incident": {...}}` JSON, or form-encoded `incident[name]=…&incident[ids][]=…`."""
    if not isinstance(data, QueryDict):
        inner = data.get(resource, data) if hasattr(data, "get") else {}
        if not isinstance(inner, dict):
            raise ValidationError({resource: ["Send an object."]})
        return inner
    fields: dict[str, Any] = {}
    prefix = f"{resource}["
    for key in data:
        if not key.startswith(prefix):
            continue
        path = [part.rstrip("]") for part in key[len(prefix) :].split("[")]
        if len(path) >= 2 and path[1] == "":
            fields[path[0]] = data.getlist(key)
        elif len(path) == 2:
            fields.setdefault(path[0], {})[path[1]] = data[key]
        else:
            fields[path[0]] = data[key]
    return fields


def text(fields: dict, name: str, default: str | None = "") -> str | None:
    """A text field of the body: a string (numbers are accepted as text), else a 400."""
    value = fields.get(name, default)
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    raise ValidationError({name: ["Expected text."]})


def as_bool(value, default=None):
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in {"1", "true", "yes", "on"}


def paginate(request, items: list) -> list:
    try:
        page = max(1, int(request.query_params.get("page", 1)))
        per_page = min(100, max(1, int(request.query_params.get("per_page", 100))))
    except ValueError as error:
        raise ValidationError({"page": ["page and per_page are whole numbers."]}) from error
    return items[(page - 1) * per_page : page * per_page]


# --- Pages ----------------------------------------------------------------------------------


def page_json(page: Page) -> dict:
    zone = zoneinfo.ZoneInfo(page.time_zone)
    return {
        "id": page.public_id,
        "created_at": timestamp(page.created_at, zone),
        "updated_at": timestamp(page.updated_at, zone),
        "name": page.name,
        "subdomain": page.slug,
        "domain": page.custom_domain if page.has_verified_custom_domain else None,
        "url": public_base_url(page),
        "support_url": page.support_url or None,
        "time_zone": page.time_zone,
        "allow_page_subscribers": page.allow_subscribers,
        "allow_incident_subscribers": page.allow_subscribers,
        "allow_email_subscribers": page.allow_subscribers,
        "allow_webhook_subscribers": page.allow_subscribers,
        "allow_rss_atom_feeds": page.allow_feeds,
        "brand_color": page.accent_color,
    }


PAGE_FIELD_MAP = {
    "name": "name",
    "support_url": "support_url",
    "time_zone": "time_zone",
    "allow_page_subscribers": "allow_subscribers",
    "allow_rss_atom_feeds": "allow_feeds",
    "brand_color": "accent_color",
}


class PageList(OrganizationAPIView):
    def get(self, request):
        key = request.auth
        pages = list(key.pages.all()) or list(Page.objects.order_by("name"))
        return Response([page_json(p) for p in paginate(request, pages)])


class PageDetail(OrganizationAPIView):
    def get(self, request, page_id):
        return Response(page_json(self.page(page_id)))

    def patch(self, request, page_id):
        page = self.page(page_id)
        fields = resource_fields(request.data, "page")
        unknown = set(fields) - set(PAGE_FIELD_MAP)
        if unknown:
            raise ValidationError(
                {name: ["This field cannot be changed here."] for name in unknown}
            )
        changes = {PAGE_FIELD_MAP[name]: value for name, value in fields.items()}
        for boolean in ("allow_subscribers", "allow_feeds"):
            if boolean in changes:
                changes[boolean] = as_bool(changes[boolean])
        services.update_page_settings(page, actor=self.actor, **changes)
        return Response(page_json(page))

    put = patch


def not_found(what: str) -> NotFound:
    return NotFound(f"No such {what}.")
