from django import template

from components.enums import ComponentStatus

register = template.Library()


@register.filter
def status_label(value: str) -> str:
    """“major_outage” → “Major outage”."""
    try:
        return ComponentStatus(value).label
    except ValueError:
        return value
