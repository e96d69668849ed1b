"""Emails to operators (invitations). Subscriber notifications live in the subscribers app."""

from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from statuspage.enums import Role
from statuspage.models import Invitation
from statuspage.page_urls import app_url
from statuspage.services import invitation_token


def send_triad(template: str, context: dict, to: list[str]) -> None:
    """Send `emails/<template>.{subject.txt,txt,html}` rendered with `context`."""
    message = EmailMultiAlternatives(
        # One line, whatever the names in it contain: a newline would break the header.
        subject=" ".join(render_to_string(f"emails/{template}.subject.txt", context).split()),
        body=render_to_string(f"emails/{template}.txt", context),
        to=to,
    )
    message.attach_alternative(render_to_string(f"emails/{template}.html", context), "text/html")
    message.send()


def send_invitation_email(invitation: Invitation) -> None:
    accept_path = reverse("accounts:invitation-accept", args=[invitation_token(invitation)])
    context = {
        "invitation": invitation,
        "organization": invitation.organization,
        "inviter": invitation.invited_by,
        "role": Role(invitation.role).label,
        "accept_url": app_url(accept_path),
    }
    send_triad("invitation", context, [invitation.email])
