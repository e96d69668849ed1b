"""Demo components for `seed_demo`: eight components in three groups, made via the services."""

import datetime

from django.utils import timezone

from components import services
from components.models import Component
from statuspage.actors import Actor
from statuspage.models import Page

DEMO_LAYOUT = [
    ("Core platform", ["API", "Dashboard", "Authentication"]),
    ("Data", ["Database", "Backups", "Search"]),
    ("Delivery", ["Email delivery", "Webhooks"]),
]


def seed(page: Page, actor: Actor) -> dict[str, Component]:
    """Create what is missing; return every demo component by name."""
    existing = {c.name: c for c in Component.objects.filter(page=page)}
    if existing:
        return existing
    components = {}
    # The demo has run for a while: its uptime bars cover the whole 90 days.
    since = (timezone.now() - datetime.timedelta(days=365)).date()
    for group_name, names in DEMO_LAYOUT:
        group = services.create_group(page, actor=actor, name=group_name)
        for name in names:
            components[name] = services.create_component(
                page, actor=actor, name=name, group=group, start_date=since
            )
    return components
