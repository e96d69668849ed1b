from django.db import models


class DeliveryStatus(models.TextChoices):
    # Also while a send job holds the row's lease (claimed_at): the claim leaves the status,
    # so that it changes no indexed column.
    PENDING = "pending", "Queued"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    # The subscriber left (unsubscribed, quarantined, removed) between fan-out and sending.
    WITHDRAWN = "withdrawn", "Not sent: no longer subscribed"


class SubscriberState(models.TextChoices):
    PENDING = "pending", "Pending confirmation"
    CONFIRMED = "confirmed", "Confirmed"
    UNSUBSCRIBED = "unsubscribed", "Unsubscribed"
    QUARANTINED = "quarantined", "Quarantined"


class SubscriberKind(models.TextChoices):
    EMAIL = "email", "Email"
    WEBHOOK = "webhook", "Webhook"
