"""Show stored UTC times in a page's time zone: {{ value|in_zone:page.time_zone|date:"…" }}."""

import datetime
import zoneinfo

from django import template
from django.utils import timezone

register = template.Library()


@register.filter
def in_zone(value: datetime.datetime | None, zone_name: str):
    if value is None:
        return None
    try:
        zone = zoneinfo.ZoneInfo(zone_name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = datetime.UTC
    return timezone.localtime(value, zone)
