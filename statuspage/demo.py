"""The demo tenant `seed_demo` creates: Acme, its page `acme` and two logins.

Idempotent: run it again and it finds what is there, resets the demo passwords, and adds only
what is missing. Each app adds its own demo content through its services, so the demo shows
exactly what an operator could have made by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django_scopes import scope, scopes_disabled

from statuspage import services
from statuspage.actors import Actor
from statuspage.enums import Role
from statuspage.models import ApiKey, Membership, Organization, Page, User

DEMO_PASSWORD = "demo12345"
DEMO_LOGINS = [("owner@acme.test", "Olivia Owner", Role.OWNER),
               ("responder@acme.test", "Rafael Responder", Role.RESPONDER)]  # fmt: skip


@dataclass
class Demo:
    organization: Organization
    page: Page
    users: dict[str, User] = field(default_factory=dict)
    api_key: str | None = None


def _ensure_user(email: str, name: str) -> User:
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(email=email, password=DEMO_PASSWORD, name=name)
    else:
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
    return user


@transaction.atomic
def seed_tenant() -> Demo:
    with scopes_disabled():
        page = Page.objects.select_related("organization").filter(slug="acme").first()
    owner_email, owner_name, _ = DEMO_LOGINS[0]
    if page is None:
        signup = services.sign_up(
            name=owner_name,
            email=owner_email,
            password=DEMO_PASSWORD,
            organization_name="Acme",
            page_name="Acme Cloud",
            page_slug="acme",
            time_zone="Europe/London",
        )
        page = signup.page
    organization = page.organization
    demo = Demo(organization=organization, page=page)
    with scope(organization=organization.pk):
        for email, name, role in DEMO_LOGINS:
            user = _ensure_user(email, name)
            Membership.objects.get_or_create(
                organization=organization, user=user, defaults={"role": role}
            )
            demo.users[email] = user
        if not page.support_url:
            page.support_url = "https://acme.example.com/support"
            page.save(update_fields=["support_url"])
        seed_content(demo)
        demo.api_key = fresh_demo_api_key(demo)
    return demo


def fresh_demo_api_key(demo: Demo) -> str:
    """Keys are stored hashed, so each run replaces the demo key and prints the new one."""
    actor = Actor.for_user(demo.users[DEMO_LOGINS[0][0]])
    for old in ApiKey.objects.filter(organization=demo.organization, name="Demo key",
                                     revoked_at__isnull=True):  # fmt: skip
        services.revoke_api_key(old, actor=actor)
    _, raw = services.create_api_key(demo.organization, actor=actor, name="Demo key",
                                     access="admin")  # fmt: skip
    return raw


def seed_content(demo: Demo) -> None:
    """Each app's demo content, in dependency order."""
    from components.demo import seed as seed_components
    from incidents.demo import seed as seed_incidents
    from postmortems.demo import seed as seed_postmortems
    from subscribers.demo import seed as seed_subscribers

    actor = Actor.for_user(demo.users[DEMO_LOGINS[0][0]])
    components = seed_components(demo.page, actor)
    # Subscribers before incidents: the demo's past incidents notified no one anyway.
    seed_subscribers(demo.page, components)
    seed_incidents(demo.page, actor, components)
    seed_postmortems(demo.page, actor, demo.users[DEMO_LOGINS[1][0]])
