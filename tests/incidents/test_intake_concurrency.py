"""Concurrent requests of one storm on real PostgreSQL: the integration's row lock makes them
one incident, not one each."""

import threading

import pytest
from django.db import connections
from django.test import Client
from django_scopes import scope, scopes_disabled

from incidents.models import Incident, IncidentAlert
from incidents.services import create_integration
from statuspage.actors import Actor
from tests.component_factories import ComponentFactory
from tests.conftest import needs_postgresql
from tests.incidents.test_intake import am_alert

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]
THREADS = 8


@pytest.fixture
def postgres():
    needs_postgresql("SQLite serialises writers anyway")


def test_concurrent_posts_of_one_storm_open_one_incident(postgres, page):
    api = ComponentFactory(page=page, name="API")
    with scope(organization=page.organization_id):
        hook = create_integration(page, actor=Actor.system("t"), name="am", kind="alertmanager",
                                  components=[api])  # fmt: skip
    start, codes = threading.Barrier(THREADS), []

    def fire(n):
        try:
            start.wait()
            body = {"status": "firing", "alerts": [am_alert("firing", f"fp{n}", f"Alert {n}")]}
            response = Client().post(
                f"/integrations/alertmanager/{hook.token}", body, content_type="application/json"
            )
            codes.append(response.status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=fire, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert codes == [200] * THREADS
    with scopes_disabled():
        assert Incident.objects.filter(page=page).count() == 1
        assert IncidentAlert.objects.filter(incident__page=page).count() == THREADS
