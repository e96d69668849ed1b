import json

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django_scopes import scopes_disabled

from components.models import Component, ComponentGroup
from incidents.models import Incident
from postmortems.models import ActionItem, Postmortem
from statuspage.models import Membership, Page, User
from subscribers.models import Subscriber

pytestmark = pytest.mark.django_db


def run_seed_demo(capsys, *args):
    call_command("seed_demo", *args)
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_seed_demo_prints_the_page_and_logins(capsys, settings):
    settings.DEBUG = True
    line = run_seed_demo(capsys)
    with scopes_disabled():
        page = Page.objects.get(slug="acme")
        assert line["page_id"] == page.public_id
        assert page.name == "Acme Cloud"
        assert page.organization.name == "Acme"
        roles = dict(
            Membership.objects.filter(organization=page.organization).values_list(
                "user__email", "role"
            )
        )
    assert roles == {"owner@acme.test": "owner", "responder@acme.test": "responder"}
    assert line["logins"] == [
        {"email": "owner@acme.test", "password": "demo12345", "role": "owner"},
        {"email": "responder@acme.test", "password": "demo12345", "role": "responder"},
    ]
    assert User.objects.get(email="owner@acme.test").check_password("demo12345")
    response = Client(HTTP_AUTHORIZATION=f"OAuth {line['api_key']}").get("/api/v1/pages")
    assert [p["id"] for p in response.json()] == [line["page_id"]]
    with scopes_disabled():
        assert Component.objects.filter(page=page).count() == 8
        assert ComponentGroup.objects.filter(page=page).count() == 3
        assert Subscriber.objects.filter(page=page, confirmed_at__isnull=False).count() == 3
        assert Postmortem.objects.get(incident__page=page).is_published is True
        assert ActionItem.objects.filter(postmortem__incident__page=page).count() == 2
        kinds = list(
            Incident.objects.filter(page=page).values_list("kind", "status").order_by("kind")
        )
    assert sorted(kinds) == sorted(
        [("incident", "identified"), ("maintenance", "scheduled"), ("incident", "postmortem")]
        + [("incident", "resolved")] * 4
    )


def test_seed_demo_is_idempotent(capsys, settings):
    settings.DEBUG = True
    first = run_seed_demo(capsys)
    second = run_seed_demo(capsys)
    assert first["page_id"] == second["page_id"]
    with scopes_disabled():
        assert Page.objects.filter(slug="acme").count() == 1
    assert User.objects.filter(email__endswith="@acme.test").count() == 2
    with scopes_disabled():
        assert Incident.objects.count() == 7
        assert Component.objects.count() == 8


def test_seed_demo_refuses_production_without_force(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError):
        call_command("seed_demo")


def test_run_periodic_jobs_once_runs_every_registered_job(capsys, settings):
    settings.PERIODIC_JOBS = [("tests.statuspage.periodic_probe.probe_job", 60)]
    from tests.statuspage import periodic_probe

    periodic_probe.CALLS.clear()
    call_command("run_periodic_jobs", "--once")
    assert periodic_probe.CALLS == ["ran"]
    assert capsys.readouterr().out.strip() == "ran 1 periodic job(s)"
