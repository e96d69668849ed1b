"""RQ entry points of the notification pipeline: load by id, call one service."""

from django_scopes import scope, scopes_disabled

from components.models import ComponentStatusChange
from incidents.models import IncidentUpdate
from subscribers import services
from subscribers.emails import send_confirmation_email
from subscribers.models import Delivery, Subscriber


def fan_out_job(update_id: int) -> None:
    with scopes_disabled():
        update = (
            IncidentUpdate.objects.select_related("incident__page").filter(pk=update_id).first()
        )
    if update is not None:
        with scope(organization=update.organization_id):
            services.fan_out_update(update)


def fan_out_component_change_job(change_id: int) -> None:
    with scopes_disabled():
        change = ComponentStatusChange.objects.filter(pk=change_id).first()
    if change is not None:
        with scope(organization=change.organization_id):
            services.fan_out_component_change(change)


def send_deliveries_job(
    delivery_ids: list[int], organization_id: int | None = None
) -> dict[str, int]:
    if organization_id is None:  # a job enqueued before the organisation came with it
        with scopes_disabled():
            organization_id = (
                Delivery.objects.filter(pk__in=delivery_ids[:1])
                .values_list("organization_id", flat=True)
                .first()
            )
    if organization_id is None:
        return {"sent": 0, "failed": 0, "retry": 0}
    with scope(organization=organization_id):
        return services.send_deliveries(delivery_ids, organization_id)


def send_confirmation_job(subscriber_id: int) -> None:
    with scopes_disabled():
        subscriber = (
            Subscriber.objects.select_related("page")
            .filter(pk=subscriber_id, confirmed_at__isnull=True, unsubscribed_at__isnull=True)
            .first()
        )
    if subscriber is not None:
        send_confirmation_email(subscriber)


def send_webhook_challenge_job(subscriber_id: int) -> None:
    with scopes_disabled():
        subscriber = Subscriber.objects.select_related("page").filter(pk=subscriber_id).first()
    if subscriber is not None:
        with scope(organization=subscriber.organization_id):
            services.send_webhook_challenge(subscriber)


def sweep_job() -> dict[str, int]:
    return services.sweep()


def release_abandoned_sends_job() -> int:
    return services.release_abandoned_sends()
