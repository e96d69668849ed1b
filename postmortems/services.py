"""Writes of postmortems: draft, publish, unpublish, and the action items."""

from __future__ import annotations

import datetime
import zoneinfo

from django.db import transaction
from django.utils import timezone

from incidents.enums import IncidentKind, IncidentStatus
from incidents.models import Incident
from incidents.services import set_postmortem_published
from postmortems.models import SECTIONS, ActionItem, Postmortem, TimelineEntry
from statuspage.actors import Actor
from statuspage.audit import record_audit, snapshot
from statuspage.errors import DomainError
from statuspage.markdown import render_markdown
from statuspage.models import Membership, User
from statuspage.publishing import public_content_changed

FIELDS = ["title", *(name for name, _ in SECTIONS), "show_action_items"]


def compose_body(
    postmortem: Postmortem, timeline: list[tuple[datetime.datetime, str]], time_zone: str
) -> str:
    """The whole report as one Markdown document (Statuspage's postmortem_body)."""
    zone = zoneinfo.ZoneInfo(time_zone)
    parts = []
    for name, label in SECTIONS:
        text = getattr(postmortem, name).strip()
        if text:
            parts.append(f"### {label}\n\n{text}")
    if timeline:
        lines = [
            f"- **{timezone.localtime(at, zone):%d %b %Y %H:%M %Z}**: {text}"
            for at, text in sorted(timeline)
        ]
        parts.append("### Timeline\n\n" + "\n".join(lines))
    return "\n\n".join(parts)


def save_postmortem(
    incident: Incident,
    *,
    actor: Actor,
    title: str,
    summary: str = "",
    impact: str = "",
    root_cause: str = "",
    resolution: str = "",
    corrective_actions: str = "",
    timeline: list[tuple[datetime.datetime, str]] = (),  # type: ignore[assignment]
    show_action_items: bool = True,
) -> Postmortem:
    """Create or update the draft (or, once published, the live report: the edit is
    audited and its time shown publicly)."""
    if not (title or "").strip():
        raise DomainError("Give the postmortem a title.", field="title")
    with transaction.atomic():
        incident = Incident.objects.select_for_update().select_related("page").get(pk=incident.pk)
        if incident.kind != IncidentKind.INCIDENT:
            raise DomainError("Postmortems are for incidents, not maintenance.")
        if incident.status not in (IncidentStatus.RESOLVED, IncidentStatus.POSTMORTEM):
            raise DomainError("Resolve the incident first: a postmortem looks back on it.")
        postmortem = Postmortem.objects.filter(incident=incident).first()
        before = snapshot(postmortem, FIELDS) if postmortem else None
        postmortem = postmortem or Postmortem(
            organization_id=incident.organization_id, incident=incident
        )
        postmortem.title = title.strip()
        postmortem.summary, postmortem.impact = summary, impact
        postmortem.root_cause, postmortem.resolution = root_cause, resolution
        postmortem.corrective_actions = corrective_actions
        postmortem.show_action_items = show_action_items
        postmortem.body = compose_body(postmortem, list(timeline), incident.page.time_zone)
        postmortem.body_html = render_markdown(postmortem.body)
        postmortem.save()
        TimelineEntry.objects.filter(postmortem=postmortem).delete()
        TimelineEntry.objects.bulk_create(
            TimelineEntry(
                organization_id=incident.organization_id,
                postmortem=postmortem,
                at=at,
                description=text,
            )
            for at, text in timeline
        )
        record_audit(
            incident.page.organization,
            actor=actor,
            verb="postmortem.edited" if before else "postmortem.drafted",
            target=postmortem,
            page=incident.page,
            before=before,
            after=snapshot(postmortem, FIELDS),
        )
        if postmortem.is_published:
            public_content_changed(incident.page)
    return postmortem


def publish_postmortem(postmortem: Postmortem, *, actor: Actor) -> Postmortem:
    """Public at once; never notifies subscribers (no update row is created)."""
    with transaction.atomic():
        if postmortem.published_at is None:
            postmortem.published_at = timezone.now()
            postmortem.save(update_fields=["published_at", "updated_at"])
        set_postmortem_published(postmortem.incident, published=True)
        record_audit(
            postmortem.incident.page.organization,
            actor=actor,
            verb="postmortem.published",
            target=postmortem,
            page=postmortem.incident.page,
        )
    return postmortem


def unpublish_postmortem(postmortem: Postmortem, *, actor: Actor) -> Postmortem:
    with transaction.atomic():
        postmortem.published_at = None
        postmortem.save(update_fields=["published_at", "updated_at"])
        set_postmortem_published(postmortem.incident, published=False)
        record_audit(
            postmortem.incident.page.organization,
            actor=actor,
            verb="postmortem.unpublished",
            target=postmortem,
            page=postmortem.incident.page,
        )
    return postmortem


def _check_owner(postmortem: Postmortem, owner: User | None) -> None:
    if (
        owner is not None
        and not Membership.objects.filter(
            organization_id=postmortem.organization_id, user=owner
        ).exists()
    ):
        raise DomainError("The owner must be a member of the organisation.", field="owner")


def add_action_item(
    postmortem: Postmortem,
    *,
    actor: Actor,
    description: str,
    owner: User | None = None,
    due_date: datetime.date | None = None,
) -> ActionItem:
    if not (description or "").strip():
        raise DomainError("Describe the action.", field="description")
    _check_owner(postmortem, owner)
    with transaction.atomic():
        item = ActionItem.objects.create(
            organization_id=postmortem.organization_id,
            postmortem=postmortem,
            description=description.strip(),
            owner=owner,
            due_date=due_date,
        )
        record_audit(
            postmortem.incident.page.organization,
            actor=actor,
            verb="action_item.added",
            target=item,
            page=postmortem.incident.page,
        )
        if postmortem.is_published:
            public_content_changed(postmortem.incident.page)
    return item


def set_action_item_done(item: ActionItem, *, actor: Actor, done: bool) -> ActionItem:
    with transaction.atomic():
        item.done_at = timezone.now() if done else None
        item.done_by = actor.user if done else None
        item.save(update_fields=["done_at", "done_by"])
        page = item.postmortem.incident.page
        record_audit(
            page.organization,
            actor=actor,
            verb="action_item.done" if done else "action_item.reopened",
            target=item,
            page=page,
        )
        if item.postmortem.is_published:
            public_content_changed(page)
    return item


def delete_action_item(item: ActionItem, *, actor: Actor) -> None:
    with transaction.atomic():
        page = item.postmortem.incident.page
        record_audit(
            page.organization, actor=actor, verb="action_item.deleted", target=item, page=page
        )
        item.delete()
        public_content_changed(page)
