"""Two tenants with look-alike data, for the isolation harness.

`ours` is the organisation whose owner makes every request; `theirs` owns one object of every
kind a URL can name, each carrying MARKER in its text so a leak shows in a response body.
Each app that adds URL parameters adds its objects in `build_tenant` and a sample in
tests/isolation/samples.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from statuspage.enums import Role
from tests.factories import InvitationFactory, MembershipFactory, OrganizationFactory, PageFactory

MARKER = "ZZINTRUDERZZ"


@dataclass
class Tenant:
    organization: Any
    page: Any
    owner: Any
    objects: dict[str, Any] = field(default_factory=dict)


def build_tenant(label: str, marker: str) -> Tenant:
    organization = OrganizationFactory(name=f"{marker} {label} org")
    page = PageFactory(organization=organization, name=f"{marker} {label} page", slug=label)
    owner = MembershipFactory(
        organization=organization, role=Role.OWNER, user__name=f"{marker} {label} owner"
    )
    tenant = Tenant(organization=organization, page=page, owner=owner)
    tenant.objects["member"] = MembershipFactory(
        organization=organization, role=Role.RESPONDER, user__name=f"{marker} {label} member"
    )
    from statuspage.actors import Actor
    from statuspage.services import create_api_key

    tenant.objects["api_key"], _ = create_api_key(
        organization, actor=Actor.system("tests"), name=f"{marker} key", access="admin"
    )
    tenant.objects["invitation"] = InvitationFactory(
        organization=organization, email=f"{label}-invitee@example.test"
    )
    for extend in EXTENSIONS:
        extend(tenant, marker)
    return tenant


def add_components(tenant: Tenant, marker: str) -> None:
    from tests.component_factories import ComponentFactory, ComponentGroupFactory

    group = ComponentGroupFactory(page=tenant.page, name=f"{marker} group")
    tenant.objects["component_group"] = group
    tenant.objects["component"] = ComponentFactory(
        page=tenant.page, group=group, name=f"{marker} component"
    )


def add_incidents(tenant: Tenant, marker: str) -> None:
    from django_scopes import scope

    from incidents.services import create_incident_template
    from statuspage.actors import Actor
    from tests.incident_factories import open_incident

    component = tenant.objects["component"]
    incident = open_incident(
        tenant.page, name=f"{marker} incident", body=marker, component_statuses={component: None}
    )
    tenant.objects["incident"] = incident
    with scope(organization=tenant.organization.pk):
        tenant.objects["incident_update"] = incident.updates.get()
        from incidents.services import create_integration

        tenant.objects["integration"] = create_integration(
            tenant.page, actor=Actor.system("tests"), name=f"{marker} integration",
            kind="generic",
        )  # fmt: skip
        tenant.objects["incident_template"] = create_incident_template(
            tenant.page, actor=Actor.system("tests"), name=f"{marker} template", title=marker
        )
        from incidents.responders import save_team

        tenant.objects["team"] = save_team(
            tenant.organization, actor=Actor.system("tests"), name=f"{marker} team", members=[]
        )


def add_subscribers(tenant: Tenant, marker: str) -> None:
    from django_scopes import scope

    from subscribers.models import Subscriber

    with scope(organization=tenant.organization.pk):
        tenant.objects["subscriber"] = Subscriber.objects.create(
            organization=tenant.organization, page=tenant.page,
            email=f"{marker.lower()}@{tenant.page.slug}.example",
        )  # fmt: skip
        # A pending webhook whose challenge failed: its endpoint and reason show in listings.
        tenant.objects["webhook_subscriber"] = Subscriber.objects.create(
            organization=tenant.organization, page=tenant.page, kind="webhook",
            endpoint=f"https://{tenant.page.slug}.example/{marker}", secret="s",
            challenge="token", challenge_error=f"{marker} HTTP 404",
        )  # fmt: skip


def add_postmortems(tenant: Tenant, marker: str) -> None:
    from django_scopes import scope

    from incidents.services import resolve_incident
    from postmortems.services import add_action_item, publish_postmortem, save_postmortem
    from statuspage.actors import Actor

    actor = Actor.system("tests")
    with scope(organization=tenant.organization.pk):
        incident = tenant.objects["incident"]
        resolve_incident(incident, actor=actor)
        postmortem = save_postmortem(incident, actor=actor, title=f"{marker} postmortem",
                                     summary=marker)  # fmt: skip
        publish_postmortem(postmortem, actor=actor)
        tenant.objects["action_item"] = add_action_item(
            postmortem, actor=actor, description=f"{marker} action"
        )


# Functions (tenant, marker) -> None that add an app's look-alike objects to tenant.objects.
EXTENSIONS: list = [add_components, add_incidents, add_subscribers, add_postmortems]
