"""Reads of postmortems and action items."""

from __future__ import annotations

import datetime

from django.core import signing
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from incidents.models import Incident
from postmortems.models import ActionItem, Postmortem
from statuspage.models import Organization, Page

PREVIEW_SALT = "postmortems.preview"
PREVIEW_MAX_AGE = 60 * 60


def list_postmortems(page: Page) -> QuerySet[Postmortem]:
    return (
        Postmortem.objects.filter(incident__page=page)
        .select_related("incident")
        .order_by("-incident__started_at")
    )


def find_postmortem(incident: Incident) -> Postmortem | None:
    return (
        Postmortem.objects.filter(incident=incident)
        .prefetch_related("timeline", "action_items__owner")
        .first()
    )


def default_timeline(incident: Incident) -> list[tuple[datetime.datetime, str]]:
    """A starting timeline from the incident's updates, oldest first."""
    updates = sorted(incident.updates.all(), key=lambda u: u.display_at)
    return [
        (u.display_at, f"{u.get_status_display()}: {u.body.strip().splitlines()[0]}"
         if u.body.strip() else u.get_status_display())
        for u in updates
    ]  # fmt: skip


def published_postmortems(incident_ids) -> dict[int, Postmortem]:
    """{incident id: its published postmortem}, one query."""
    return {
        p.incident_id: p
        for p in Postmortem.objects.filter(
            incident_id__in=list(incident_ids), published_at__isnull=False
        )
    }


def list_action_items(
    organization: Organization, *, state: str = "open", owner_id: str = ""
) -> QuerySet[ActionItem]:
    items = ActionItem.objects.filter(organization=organization).select_related(
        "owner", "done_by", "postmortem__incident__page"
    )
    today = timezone.localdate()
    if state == "open":
        items = items.filter(done_at__isnull=True)
    elif state == "overdue":
        items = items.filter(done_at__isnull=True, due_date__lt=today)
    elif state == "done":
        items = items.filter(done_at__isnull=False)
    if owner_id:
        items = items.filter(owner__public_id=owner_id)
    return items.order_by("done_at", "due_date", "id")


def get_action_item_for_member(organization: Organization, public_id: str) -> ActionItem:
    item = (
        ActionItem.objects.filter(organization=organization, public_id=public_id)
        .select_related("postmortem__incident__page")
        .first()
    )
    if item is None:
        raise Http404("No such action item.")
    return item


def preview_token(postmortem: Postmortem) -> str:
    return signing.dumps(postmortem.public_id, salt=PREVIEW_SALT)


def preview_allows(token: str, postmortem: Postmortem) -> bool:
    try:
        return signing.loads(token, salt=PREVIEW_SALT, max_age=PREVIEW_MAX_AGE) == (
            postmortem.public_id
        )
    except signing.BadSignature:
        return False
