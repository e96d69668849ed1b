"""Emails to responders about their incidents (never to subscribers)."""

from django.urls import reverse

from incidents.models import Incident
from statuspage.emails import send_triad
from statuspage.enums import Role
from statuspage.models import Membership
from statuspage.page_urls import app_url

RESPONDER_ROLES = [Role.RESPONDER, Role.ADMIN, Role.OWNER]


def send_update_reminder(incident: Incident, *, quiet_minutes: int) -> None:
    if incident.owner is not None:
        recipients = [incident.owner.email]
    else:
        recipients = list(
            Membership.objects.filter(
                organization_id=incident.organization_id, role__in=RESPONDER_ROLES
            ).values_list("user__email", flat=True)
        )
    if not recipients:
        return
    url = app_url(reverse("incidents:detail", args=[incident.page.slug, incident.public_id]))
    context = {
        "incident": incident,
        "page": incident.page,
        "minutes": quiet_minutes,
        "url": url + "#post-update",
    }
    send_triad("update_reminder", context, recipients)
