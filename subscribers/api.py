"""Management API for subscribers (Statuspage v1)."""

import zoneinfo

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework import status as http_status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from components.api import components_named
from statuspage.api import (
    Flag,
    Ids,
    OrganizationAPIView,
    ResourceFields,
    Text,
    as_bool,
    not_found,
    paginate,
    read_fields,
)
from statuspage.api_auth import HasAccess, ReadsPersonalData
from statuspage.api_schema import resource_request
from statuspage.public_json import timestamp
from subscribers import services
from subscribers.enums import SubscriberKind
from subscribers.models import Subscriber


class SubscriberSerializer(serializers.Serializer):
    id = serializers.CharField()
    mode = serializers.ChoiceField(choices=SubscriberKind.choices)
    email = serializers.EmailField(allow_null=True)
    endpoint = serializers.URLField(allow_null=True, help_text="A webhook subscriber's URL.")
    skip_confirmation_notification = serializers.BooleanField(help_text="Always false.")
    components = serializers.ListField(child=serializers.CharField(),
                                       help_text="Empty: every component.")  # fmt: skip
    created_at = serializers.DateTimeField()
    confirmed_at = serializers.DateTimeField(allow_null=True)
    quarantined_at = serializers.DateTimeField(allow_null=True)
    purge_at = serializers.DateTimeField(allow_null=True, help_text="Always null.")


class SubscriberFields(ResourceFields):
    """An email subscriber, or a webhook one when `endpoint` is given."""

    resource = "subscriber"
    email = Text()
    endpoint = Text(help_text="An https URL: makes a webhook subscriber.")
    component_ids = Ids(help_text="Only these components; empty: every component.")
    skip_confirmation_notification = Flag(help_text="Email: confirmed without asking.")


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


# Every subscriber endpoint answers with the subscriber's address or endpoint.
PERSONAL_DATA = [HasAccess, ReadsPersonalData]


class SubscriberList(OrganizationAPIView):
    permission_classes = PERSONAL_DATA

    @extend_schema(summary="Subscribers of a page, newest first",
                   responses={200: SubscriberSerializer(many=True)})  # fmt: skip
    def get(self, request, page_id):
        page = self.page(page_id)
        subscribers = Subscriber.objects.filter(page=page, unsubscribed_at__isnull=True)
        subscribers = list(subscribers.prefetch_related("components").order_by("-created_at"))
        return Response([subscriber_json(s, page) for s in paginate(request, subscribers)])

    @extend_schema(summary="Add a subscriber",
                   request=resource_request(SubscriberFields, name="SubscriberWrite"),
                   responses={201: SubscriberSerializer})  # fmt: skip
    def post(self, request, page_id):
        page = self.page(page_id)
        fields = read_fields(request, SubscriberFields)
        ids = fields.get("component_ids", [])
        components = components_named(page, ids, field="component_ids")
        if fields.get("endpoint"):
            subscriber = services.add_webhook_subscriber(
                page, actor=self.actor, endpoint=fields["endpoint"], components=components
            )
        else:
            subscriber = services.add_subscriber(
                page, actor=self.actor, email=fields.get("email") or "", components=components,
                skip_confirmation=as_bool(fields.get("skip_confirmation_notification"), False),
            )  # fmt: skip
        return Response(subscriber_json(subscriber, page), status=http_status.HTTP_201_CREATED)


def subscriber_or_404(page, subscriber_id) -> Subscriber:
    subscriber = Subscriber.objects.filter(page=page, public_id=subscriber_id).first()
    if subscriber is None:
        raise not_found("subscriber")
    return subscriber


class SubscriberDetail(OrganizationAPIView):
    permission_classes = PERSONAL_DATA

    @extend_schema(summary="A subscriber", responses={200: SubscriberSerializer})
    def get(self, request, page_id, subscriber_id):
        page = self.page(page_id)
        return Response(subscriber_json(subscriber_or_404(page, subscriber_id), page))

    @extend_schema(summary="Unsubscribe; answers with who it was",
                   responses={200: SubscriberSerializer})  # fmt: skip
    def delete(self, request, page_id, subscriber_id):
        page = self.page(page_id)
        subscriber = subscriber_or_404(page, subscriber_id)
        data = subscriber_json(subscriber, page)
        services.remove_subscriber(subscriber, actor=self.actor)
        return Response(data)


class SubscriberResendConfirmation(OrganizationAPIView):
    permission_classes = PERSONAL_DATA

    @extend_schema(summary="Send the confirmation email again", request=None,
                   responses={201: None})  # fmt: skip
    def post(self, request, page_id, subscriber_id):
        page = self.page(page_id)
        subscriber = subscriber_or_404(page, subscriber_id)
        if subscriber.kind != SubscriberKind.EMAIL:
            raise ValidationError({"subscriber": ["Only email subscribers confirm."]})
        services.resend_confirmation(subscriber, actor=self.actor)
        return Response(status=http_status.HTTP_201_CREATED)
