"""Demo subscribers for `seed_demo`: a few confirmed addresses, one per component set."""

from django.utils import timezone

from components.models import Component
from statuspage.models import Page
from subscribers.models import Subscriber

DEMO_SUBSCRIBERS = [
    ("ops@customer-one.test", []),
    ("cto@customer-two.test", ["API", "Authentication"]),
    ("it@customer-three.test", ["Email delivery"]),
]


def seed(page: Page, components: dict[str, Component]) -> None:
    if Subscriber.objects.filter(page=page).exists():
        return
    for email, names in DEMO_SUBSCRIBERS:
        subscriber = Subscriber.objects.create(
            organization_id=page.organization_id, page=page, email=email,
            confirmed_at=timezone.now(),
        )  # fmt: skip
        subscriber.components.set([components[name] for name in names])
