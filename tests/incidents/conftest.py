"""Fixtures shared by the incidents tests: an API component and three confirmed subscribers."""

import datetime

import pytest
from django_scopes import scope

from subscribers.models import Subscriber
from tests.component_factories import ComponentFactory


@pytest.fixture
def api(page):
    return ComponentFactory(page=page, name="API")


@pytest.fixture
def subscribers(page):
    with scope(organization=page.organization_id):
        return [
            Subscriber.objects.create(
                organization=page.organization,
                page=page,
                email=f"s{i}@example.test",
                confirmed_at=datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC),
            )
            for i in range(3)
        ]
