"""Sample values for every URL parameter: the intruder's object, named as a URL would name it.

A console or API URL parameter that appears here nowhere makes the harness fail, so every new
URL is covered the day it is added.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.isolation.world import Tenant

TENANT_SAMPLES: dict[str, Callable[[Tenant], Any]] = {
    "page_slug": lambda t: t.page.slug,
    "user_id": lambda t: t.objects["member"].user.public_id,
    "invitation_id": lambda t: t.objects["invitation"].public_id,
    "component_id": lambda t: t.objects["component"].public_id,
    "group_id": lambda t: t.objects["component_group"].public_id,
    "incident_id": lambda t: t.objects["incident"].public_id,
    "update_id": lambda t: t.objects["incident_update"].public_id,
    "template_id": lambda t: t.objects["incident_template"].public_id,
    "subscriber_id": lambda t: t.objects["subscriber"].public_id,
    "item_id": lambda t: t.objects["action_item"].public_id,
    "key_id": lambda t: t.objects["api_key"].public_id,
    "integration_id": lambda t: t.objects["integration"].public_id,
    "team_id": lambda t: t.objects["team"].public_id,
}

# Parameters that do not name a tenant's object (signed tokens and the like): a fixed value.
NON_TENANT_SAMPLES: dict[str, str] = {
    "token": "not-a-valid-token",
    "uidb64": "MQ",
}

# Routes outside any tenant (no parameter names a tenant object): exempt from the harness.
# (integrations/ is reached with an integration's secret token, tested in tests/incidents.)
PUBLIC_ROUTE_PREFIXES = ("accounts/", "healthz", "internal/", "integrations/")
# The management API authenticates with keys: its own walk uses another organisation's ids.
API_ROUTE_PREFIX = "api/v1/"


def _their_manage_token(tenant: Tenant) -> str:
    from subscribers.links import manage_token

    return manage_token(tenant.objects["subscriber"])


# Public routes take the intruder's objects as their own host would name them.
API_SAMPLES: dict[str, Callable[[Tenant], Any]] = {
    "page_id": lambda t: t.page.public_id,
    "group_id": TENANT_SAMPLES["group_id"],
    "update_id": TENANT_SAMPLES["update_id"],
    "subscriber_id": TENANT_SAMPLES["subscriber_id"],
    "template_id": TENANT_SAMPLES["template_id"],
    "component_id": TENANT_SAMPLES["component_id"],
    "incident_id": TENANT_SAMPLES["incident_id"],
}

PUBLIC_SAMPLES: dict[str, Callable[[Tenant], Any]] = {
    "incident_id": TENANT_SAMPLES["incident_id"],
    "token": _their_manage_token,
}
