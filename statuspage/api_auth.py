"""Authentication, access and limits of the management API (`/api/v1`).

Keys come as `Authorization: OAuth <key>` (Statuspage's form) or `Bearer <key>`. A key belongs
to one organisation, has an access level (read-only, responder, admin) and may be limited to
some pages; every request runs inside its organisation's tenant scope.
"""

from __future__ import annotations

import hmac

from django.conf import settings
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions, permissions
from rest_framework.authentication import BaseAuthentication
from rest_framework.throttling import BaseThrottle

from statuspage.enums import Role
from statuspage.models import ApiKey, Page
from statuspage.services import hash_api_key
from statuspage.throttle import allow


class ApiClient:
    """request.user for API requests: not a person, but authenticated."""

    is_authenticated = True
    is_anonymous = False

    def __init__(self, key: ApiKey):
        self.key = key


def key_from_header(header: str) -> ApiKey | None:
    scheme, _, raw = header.partition(" ")
    if scheme.lower() not in ("oauth", "bearer") or not raw.startswith("sp_"):
        return None
    raw = raw.strip()
    prefix = raw.split("_")[1] if raw.count("_") >= 2 else ""
    key = (
        ApiKey.objects.with_scopes_disabled()
        .select_related("organization")
        .filter(prefix=prefix, revoked_at__isnull=True)
        .first()
    )
    if key is None or not hmac.compare_digest(key.key_hash, hash_api_key(raw)):
        return None
    return key


class ApiKeyAuthentication(BaseAuthentication):
    def authenticate(self, request):
        key = getattr(request._request, "api_key", None)
        if key is None:
            if request.META.get("HTTP_AUTHORIZATION"):
                raise exceptions.AuthenticationFailed("Invalid or revoked API key.")
            return None
        return ApiClient(key), key

    def authenticate_header(self, request):
        return 'OAuth realm="api"'


def touch_last_used(key: ApiKey) -> None:
    now = timezone.now()
    if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
        ApiKey.objects.with_scopes_disabled().filter(pk=key.pk).update(last_used_at=now)


class HasAccess(permissions.BasePermission):
    """Reads need any key; writes need the view's `write_role` (responder or admin)."""

    message = "This API key's access level does not allow that."

    def has_permission(self, request, view):
        key = request.auth
        if key is None:
            return False
        if request.method in permissions.SAFE_METHODS:
            return True
        return key.role.includes(getattr(view, "write_role", Role.ADMIN))


class ReadsPersonalData(permissions.BasePermission):
    """Subscribers' email addresses and webhook URLs: an admin key, or one with the personal
    data scope (console viewers and responders never see them)."""

    message = (
        "This API key may not read personal data (subscribers' email addresses and webhook "
        "URLs): use an admin key, or one with the personal data scope."
    )

    def has_permission(self, request, view):
        key = request.auth
        return key is not None and key.reads_personal_data


def page_for_key(key: ApiKey, page_id: str) -> Page:
    """The key's page named by `page_id`; 404 for another organisation's or a page the key
    is not allowed to touch."""
    page = Page.objects.filter(public_id=page_id).first()
    if page is None:
        raise exceptions.NotFound("No such page.")
    allowed = list(key.pages.all())
    if allowed and page not in allowed:
        raise exceptions.NotFound("No such page.")
    return page


class ApiKeyThrottle(BaseThrottle):
    """Statuspage allows about one request a second per key; we allow bursts within a minute."""

    def allow_request(self, request, view):
        key = request.auth
        if key is None:
            return True
        self.wait_seconds = 60
        return allow("api-key", key.prefix, limit=settings.API_REQUESTS_PER_MINUTE,
                     window_seconds=60)  # fmt: skip

    def wait(self):
        return self.wait_seconds


class ApiKeySchema(OpenApiAuthenticationExtension):
    """How the OpenAPI description names our key header."""

    target_class = "statuspage.api_auth.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "Authorization",
                "description": "`OAuth <key>` or `Bearer <key>`"}  # fmt: skip
