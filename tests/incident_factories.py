"""Incidents are made through the services (they maintain claims and updates); these helpers
only shorten the calls in tests."""

from django_scopes import scope

from incidents import services
from statuspage.actors import Actor

ACTOR = Actor.system("tests")


def open_incident(page, **kwargs):
    kwargs.setdefault("name", "API errors")
    kwargs.setdefault("impact", "major")
    with scope(organization=page.organization_id):
        return services.open_incident(page, actor=ACTOR, **kwargs)
