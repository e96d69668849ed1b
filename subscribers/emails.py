"""Subscriber emails. An update is rendered once; each recipient's message only substitutes
their own signed links into the rendered text, so a batch costs string work, not templates."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from email.utils import parseaddr

from django.conf import settings
from django.core.cache import cache
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from incidents.models import IncidentUpdate
from statuspage.page_urls import public_base_url
from subscribers.addresses import WireAddress, wire_address
from subscribers.links import confirm_url, manage_links, manage_signer, subscription_base_url
from subscribers.models import Delivery, Subscriber

MANAGE = "%%MANAGE_URL%%"
UNSUBSCRIBE = "%%UNSUBSCRIBE_URL%%"
RECIPIENT = "%%RECIPIENT%%"
MESSAGE_ID = "%%MESSAGE_ID%%"
TOKEN = "%%MANAGE_TOKEN%%"
PLACEHOLDERS = (MANAGE, UNSUBSCRIBE, RECIPIENT, MESSAGE_ID, TOKEN)
logger = logging.getLogger(__name__)
PLACEHOLDER = re.compile(b"(" + b"|".join(re.escape(p.encode()) for p in PLACEHOLDERS) + b")")


@dataclass(frozen=True)
class RenderedUpdate:
    subject: str
    text: str
    html: str
    update_public_id: str
    links_base: str  # the page's subscription URLs, every recipient's links start with it


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
        links_base=subscription_base_url(page),
    )


def _message(rendered: RenderedUpdate, *, to: str, message_id: str, manage: str,
             unsubscribe: str, token: str) -> EmailMultiAlternatives:  # fmt: skip
    sender = parseaddr(settings.DEFAULT_FROM_EMAIL)[1] or "status@localhost"
    message = EmailMultiAlternatives(
        subject=rendered.subject,
        body=rendered.text.replace(MANAGE, manage).replace(UNSUBSCRIBE, unsubscribe),
        to=[to],
        headers={
            "Message-ID": message_id,
            "List-Unsubscribe": f"<{unsubscribe}>, <mailto:{sender}?subject=unsubscribe%20{token}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Auto-Submitted": "auto-generated",
        },
    )
    message.attach_alternative(
        rendered.html.replace(MANAGE, manage).replace(UNSUBSCRIBE, unsubscribe), "text/html"
    )
    return message


def _message_id(rendered: RenderedUpdate, delivery_id) -> str:
    # Deterministic, so a resend after a crash is recognisable as the same message.
    return f"<delivery-{delivery_id}.{rendered.update_public_id}@{settings.BASE_DOMAIN}>"


def message_for(
    rendered: RenderedUpdate, delivery: Delivery, *, to: str | None = None
) -> EmailMultiAlternatives:
    """The recipient's whole message. `delivery` is a Delivery or the send path's lighter
    claimed row: only its `pk` and its subscriber's `email` and `public_id` are read. `to`
    is the address as the To header shows it (the IDNA form, from `wire_address`)."""
    subscriber = delivery.subscriber
    manage, unsubscribe, token = manage_links(subscriber, base=rendered.links_base)
    return _message(rendered, to=to or subscriber.email,
                    message_id=_message_id(rendered, delivery.pk),
                    manage=manage, unsubscribe=unsubscribe, token=token)  # fmt: skip


@dataclass(frozen=True)
class PreparedUpdate:
    """The update's whole MIME message, built once and cut at the placeholders for what
    differs per recipient. Building a message with the email package costs ~2 ms; joining a
    few byte strings costs microseconds, which is what lets a worker send thousands a second.
    """

    rendered: RenderedUpdate
    envelope_sender: str  # the bare address for MAIL FROM
    # The message's literal runs, with the placeholder between each two: None when an
    # encoding hid a placeholder, and each message is built in full.
    literals: tuple[bytes, ...] | None
    slots: tuple[str, ...] = ()
    signer: object = field(default_factory=manage_signer, compare=False)

    def for_delivery(
        self, delivery: Delivery
    ) -> tuple[WireAddress, bytes | EmailMultiAlternatives]:
        """(the recipient's address on the wire, their message); raises UndeliverableAddress
        when the address can never be sent to, or whatever building the message raised."""
        subscriber = delivery.subscriber
        wire = wire_address(subscriber.email)
        if self.literals is None:
            return wire, message_for(self.rendered, delivery, to=wire.header)
        manage, unsubscribe, token = manage_links(
            subscriber, base=self.rendered.links_base, signer=self.signer
        )
        values = {
            RECIPIENT: wire.header,
            MESSAGE_ID: _message_id(self.rendered, delivery.pk)[1:-1],
            MANAGE: manage,
            UNSUBSCRIBE: unsubscribe,
            TOKEN: token,
        }
        parts = [b""] * (2 * len(self.slots) + 1)
        parts[0::2] = self.literals
        parts[1::2] = [values[slot].encode() for slot in self.slots]
        return wire, b"".join(parts)


def _cache_key(update_id: int, *versions) -> str:
    return f"notification-message:{update_id}:" + ":".join(f"{v.timestamp():.6f}" for v in versions)


def prepare_update(update: IncidentUpdate) -> PreparedUpdate:
    """The update's message, cut for substitution. Built once per version of the update, its
    incident and its page, and kept in the shared cache for the update's other send jobs,
    in whichever worker they run: rendering the templates costs ~40 ms."""
    incident = update.incident
    key = _cache_key(update.pk, update.updated_at, incident.updated_at, incident.page.updated_at)
    parts = cache.get(key)
    if parts is None:
        parts = _cut_message(update)
        cache.set(key, parts, timeout=3600)
    return PreparedUpdate(*parts)


def prepared_updates(update_ids) -> tuple[dict[int, PreparedUpdate], dict[int, Exception]]:
    """`prepare_update` for each of these updates of the current organisation, by id, and
    what preparing each of the others raised (an update missing from both was deleted). What
    keys the cache is read as plain values: loading the update, its incident and its page as
    models only to find the message cached cost a send job ~9 ms."""
    keys = {
        _cache_key(pk, *versions): pk
        for pk, *versions in IncidentUpdate.objects.filter(pk__in=update_ids).values_list(
            "pk", "updated_at", "incident__updated_at", "incident__page__updated_at"
        )
    }
    cached = cache.get_many(list(keys))
    prepared = {keys[key]: PreparedUpdate(*parts) for key, parts in cached.items()}
    missing = [pk for pk in keys.values() if pk not in prepared]
    failures: dict[int, Exception] = {}
    if missing:
        updates = IncidentUpdate.objects.select_related("incident__page").filter(pk__in=missing)
        for update in updates:
            try:  # one update whose message cannot be built fails its rows, not the others'
                prepared[update.pk] = prepare_update(update)
            except Exception as error:
                logger.exception("could not build the message of update %s", update.pk)
                failures[update.pk] = error
    return prepared, failures


def _cut_message(update: IncidentUpdate) -> tuple:
    rendered = render_update(update)
    sender = settings.DEFAULT_FROM_EMAIL
    message = _message(rendered, to=f"{RECIPIENT}@recipient.invalid",
                       message_id=f"<{MESSAGE_ID}>", manage=MANAGE, unsubscribe=UNSUBSCRIBE,
                       token=TOKEN)  # fmt: skip
    data = message.message().as_bytes(linesep="\r\n")
    data = data.replace(f"{RECIPIENT}@recipient.invalid".encode(), RECIPIENT.encode())
    pieces = PLACEHOLDER.split(data)
    literals, slots = tuple(pieces[0::2]), tuple(p.decode() for p in pieces[1::2])
    envelope_sender = parseaddr(sender)[1] or sender
    if not set(PLACEHOLDERS) <= set(slots):  # an encoding hid one: build each message instead
        return rendered, envelope_sender, None
    return rendered, envelope_sender, literals, slots


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
