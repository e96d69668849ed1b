"""The audit log: every service that changes state records one entry, inside its transaction."""

from __future__ import annotations

from typing import Any

from django.db import models

from statuspage.actors import Actor
from statuspage.models import AuditEntry, Organization, Page


def snapshot(instance: models.Model, fields: list[str]) -> dict[str, Any]:
    """The JSON-safe values of `fields`, for an entry's before/after."""
    values: dict[str, Any] = {}
    for name in fields:
        value = getattr(instance, name)
        if isinstance(value, models.Model):
            value = getattr(value, "public_id", None) or str(value)
        elif isinstance(value, (bytes, memoryview)):
            value = f"<{len(value)} bytes>"
        elif value is not None and not isinstance(value, (str, int, float, bool, list, dict)):
            value = str(value) if not hasattr(value, "isoformat") else value.isoformat()
        values[name] = value
    return values


def record_audit(
    organization: Organization,
    *,
    actor: Actor,
    verb: str,
    target: models.Model,
    page: Page | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    target_label: str | None = None,
) -> AuditEntry:
    return AuditEntry.objects.with_scopes_disabled().create(
        organization=organization,
        page=page,
        actor=actor.user,
        actor_label=actor.label,
        verb=verb,
        target_type=target._meta.model_name or type(target).__name__.lower(),
        target_id=str(getattr(target, "public_id", "") or target.pk or ""),
        target_label=(target_label if target_label is not None else str(target))[:300],
        before=before,
        after=after,
    )
