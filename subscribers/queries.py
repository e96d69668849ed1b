"""Reads of subscribers and deliveries for the console."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from statuspage.models import Page
from subscribers.enums import DeliveryStatus, SubscriberState
from subscribers.models import Delivery, Subscriber

STATE_FILTERS = {
    SubscriberState.PENDING: Q(confirmed_at__isnull=True, unsubscribed_at__isnull=True),
    SubscriberState.CONFIRMED: Q(
        confirmed_at__isnull=False, unsubscribed_at__isnull=True, quarantined_at__isnull=True
    ),
    SubscriberState.UNSUBSCRIBED: Q(unsubscribed_at__isnull=False),
    SubscriberState.QUARANTINED: Q(quarantined_at__isnull=False, unsubscribed_at__isnull=True),
}


def page_has_confirmed_subscriber(page: Page) -> bool:
    return (
        Subscriber.objects.filter(page=page)
        .filter(STATE_FILTERS[SubscriberState.CONFIRMED])
        .exists()
    )


def list_subscribers(page: Page, *, state: str = "", search: str = "") -> QuerySet[Subscriber]:
    subscribers = Subscriber.objects.filter(page=page).prefetch_related("components")
    if state in STATE_FILTERS:
        subscribers = subscribers.filter(STATE_FILTERS[SubscriberState(state)])
    if search:
        subscribers = subscribers.filter(email__icontains=search)
    return subscribers.order_by("-created_at", "-id")


def subscriber_counts(page: Page) -> dict[str, int]:
    return Subscriber.objects.filter(page=page).aggregate(
        **{state.value: Count("id", filter=condition) for state, condition in STATE_FILTERS.items()}
    )


def get_subscriber_for_page(page: Page, public_id: str) -> Subscriber:
    subscriber = Subscriber.objects.filter(page=page, public_id=public_id).first()
    if subscriber is None:
        raise Http404("No such subscriber.")
    return subscriber


DELIVERY_BUCKETS = {
    DeliveryStatus.PENDING: "queued",
    DeliveryStatus.SENT: "sent",
    DeliveryStatus.FAILED: "failed",
    DeliveryStatus.WITHDRAWN: "withdrawn",
}


def delivery_stats(update_ids) -> dict[int, dict[str, int]]:
    """{update id: {queued, sent, failed, withdrawn}} for each id asked, in one query."""
    update_ids = list(update_ids)
    stats = {pk: dict.fromkeys(["queued", "sent", "failed", "withdrawn"], 0) for pk in update_ids}
    rows = (
        Delivery.objects.filter(update_id__in=update_ids)
        .values_list("update_id", "status")
        .annotate(n=Count("id"))
    )
    for update_id, status, n in rows:
        stats[update_id][DELIVERY_BUCKETS[status]] += n
    return stats


def list_failed_deliveries(update, limit: int = 200) -> list[Delivery]:
    return list(
        Delivery.objects.filter(update=update)
        .exclude(error="")
        .select_related("subscriber")
        .order_by("-status", "subscriber__email")[:limit]
    )
