"""Subscriber emails. An update is rendered once; each recipient's message only substitutes
their own signed links into the rendered text, so a batch costs string work, not templates."""

from __future__ import annotations

from dataclasses import dataclass
from email.utils import parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from incidents.models import IncidentUpdate
from statuspage.page_urls import public_base_url
from subscribers.links import confirm_url, manage_token, manage_url, unsubscribe_url
from subscribers.models import Delivery, Subscriber

MANAGE = "%%MANAGE_URL%%"
UNSUBSCRIBE = "%%UNSUBSCRIBE_URL%%"


@dataclass(frozen=True)
class RenderedUpdate:
    subject: str
    text: str
    html: str
    update_public_id: str


def render_update(update: IncidentUpdate) -> RenderedUpdate:
    incident = update.incident
    page = incident.page
    context = {
        "page": page,
        "incident": incident,
        "update": update,
        "affected": list(incident.affected.select_related("component")),
        "incident_url": f"{public_base_url(page)}/incidents/{incident.public_id}",
        "manage_url": MANAGE,
        "unsubscribe_url": UNSUBSCRIBE,
    }
    subject = " ".join(render_to_string("emails/incident_update.subject.txt", context).split())
    return RenderedUpdate(
        subject=subject,
        text=render_to_string("emails/incident_update.txt", context),
        html=render_to_string("emails/incident_update.html", context),
        update_public_id=update.public_id,
    )


def message_for(rendered: RenderedUpdate, delivery: Delivery) -> EmailMultiAlternatives:
    subscriber = delivery.subscriber
    manage, unsubscribe = manage_url(subscriber), unsubscribe_url(subscriber)
    sender = parseaddr(settings.DEFAULT_FROM_EMAIL)[1] or "status@localhost"
    message = EmailMultiAlternatives(
        subject=rendered.subject,
        body=rendered.text.replace(MANAGE, manage).replace(UNSUBSCRIBE, unsubscribe),
        to=[subscriber.email],
        headers={
            # Deterministic, so a resend after a crash is recognisable as the same message.
            "Message-ID": f"<delivery-{delivery.pk}.{rendered.update_public_id}@"
            f"{settings.BASE_DOMAIN}>",
            "List-Unsubscribe": f"<{unsubscribe}>, "
            f"<mailto:{sender}?subject=unsubscribe%20{manage_token(subscriber)}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Auto-Submitted": "auto-generated",
        },
    )
    message.attach_alternative(
        rendered.html.replace(MANAGE, manage).replace(UNSUBSCRIBE, unsubscribe), "text/html"
    )
    return message


def send_confirmation_email(subscriber: Subscriber) -> None:
    context = {"page": subscriber.page, "confirm_url": confirm_url(subscriber),
               "page_url": public_base_url(subscriber.page)}  # fmt: skip
    message = EmailMultiAlternatives(
        subject=" ".join(
            render_to_string("emails/subscription_confirm.subject.txt", context).split()
        ),
        body=render_to_string("emails/subscription_confirm.txt", context),
        to=[subscriber.email],
        headers={"Auto-Submitted": "auto-generated"},
    )
    message.attach_alternative(
        render_to_string("emails/subscription_confirm.html", context), "text/html"
    )
    message.send()
