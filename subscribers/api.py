"""Management API for subscribers (Statuspage v1)."""

import zoneinfo

from django.http import Http404
from rest_framework import status as http_status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from components.queries import components_by_public_ids
from statuspage.api import (
    OrganizationAPIView,
    as_bool,
    not_found,
    paginate,
    resource_fields,
    text,
)
from statuspage.public_json import timestamp
from subscribers import services
from subscribers.enums import SubscriberKind
from subscribers.models import Subscriber


def subscriber_json(subscriber, page) -> dict:
    zone = zoneinfo.ZoneInfo(page.time_zone)
    return {
        "id": subscriber.public_id,
        "mode": subscriber.kind,
        "email": subscriber.email or None,
        "endpoint": subscriber.endpoint or None,
        "skip_confirmation_notification": False,
        "components": [c.public_id for c in subscriber.components.all()],
        "created_at": timestamp(subscriber.created_at, zone),
        "confirmed_at": timestamp(subscriber.confirmed_at, zone),
        "quarantined_at": timestamp(subscriber.quarantined_at, zone),
        "purge_at": None,
    }


class SubscriberList(OrganizationAPIView):
    def get(self, request, page_id):
        page = self.page(page_id)
        subscribers = Subscriber.objects.filter(page=page, unsubscribed_at__isnull=True)
        subscribers = list(subscribers.prefetch_related("components").order_by("-created_at"))
        return Response([subscriber_json(s, page) for s in paginate(request, subscribers)])

    def post(self, request, page_id):
        page = self.page(page_id)
        fields = resource_fields(request.data, "subscriber")
        ids = fields.get("component_ids") or []
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise ValidationError({"component_ids": ["Send a list of component ids."]})
        try:
            components = components_by_public_ids(page, set(ids))
        except Http404 as error:
            raise ValidationError({"component_ids": ["Unknown component on this page."]}) from error
        if fields.get("endpoint"):
            subscriber = services.add_webhook_subscriber(
                page, actor=self.actor, endpoint=text(fields, "endpoint"), components=components
            )
        else:
            subscriber = services.add_subscriber(
                page, actor=self.actor, email=text(fields, "email") or "", components=components,
                skip_confirmation=as_bool(fields.get("skip_confirmation_notification"), False),
            )  # fmt: skip
        return Response(subscriber_json(subscriber, page), status=http_status.HTTP_201_CREATED)


class SubscriberDetail(OrganizationAPIView):
    def _subscriber(self, page, subscriber_id):
        subscriber = Subscriber.objects.filter(page=page, public_id=subscriber_id).first()
        if subscriber is None:
            raise not_found("subscriber")
        return subscriber

    def get(self, request, page_id, subscriber_id):
        page = self.page(page_id)
        return Response(subscriber_json(self._subscriber(page, subscriber_id), page))

    def delete(self, request, page_id, subscriber_id):
        page = self.page(page_id)
        subscriber = self._subscriber(page, subscriber_id)
        data = subscriber_json(subscriber, page)
        services.remove_subscriber(subscriber, actor=self.actor)
        return Response(data)


class SubscriberResendConfirmation(SubscriberDetail):
    def post(self, request, page_id, subscriber_id):
        page = self.page(page_id)
        subscriber = self._subscriber(page, subscriber_id)
        if subscriber.kind != SubscriberKind.EMAIL:
            raise ValidationError({"subscriber": ["Only email subscribers confirm."]})
        services.resend_confirmation(subscriber, actor=self.actor)
        return Response(status=http_status.HTTP_201_CREATED)
