"""Shared fixtures. Personas: `org` is ours, `other_org` is the intruder with look-alike data.

Hosts in tests: the app host is `testserver` (Django's test client default) and pages live
under `<slug>.status.test`.
"""

from __future__ import annotations

import os

import pytest
from django.test import Client
from django_scopes import scope, scopes_disabled

from statuspage.enums import Role
from tests.factories import MembershipFactory, OrganizationFactory, PageFactory

APP_HOST = "testserver"
BASE_DOMAIN = "status.test"


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path):
    settings.APP_HOST = APP_HOST
    settings.BASE_DOMAIN = BASE_DOMAIN
    settings.SITE_SCHEME = "http"
    settings.SITE_PORT = ""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.DNS_TXT_RESOLVER = "tests.dns.fake_txt_records"
    settings.AXES_ENABLED = True
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    # Jobs run in-process unless a test that drives a real RQ worker says otherwise.
    settings.JOBS_RUN_IN_PROCESS = True
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True  # the test receivers listen on loopback
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _clear_cache(_test_settings):
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def no_scopes():
    """For test bodies that read tenant rows directly, as an assertion would."""
    with scopes_disabled():
        yield


@pytest.fixture
def org_scope(org):
    """Run the test inside `org`'s tenant scope, as a console view or job would."""
    with scope(organization=org.pk):
        yield


@pytest.fixture
def org(db):
    return OrganizationFactory(name="Acme Org")


@pytest.fixture
def page(org):
    return PageFactory(organization=org, name="Acme Cloud", slug="acme")


@pytest.fixture
def member(org, page):
    """The owner of `org`."""
    return MembershipFactory(organization=org, role=Role.OWNER, user__email="owner@acme.test")


def member_with_role(org, role: Role):
    return MembershipFactory(organization=org, role=role, user__email=f"{role}@acme.test")


@pytest.fixture
def other_org(db):
    return OrganizationFactory(name="Intruder Org")


@pytest.fixture
def other_page(other_org):
    return PageFactory(organization=other_org, name="Intruder Page", slug="intruder")


@pytest.fixture
def other_member(other_org, other_page):
    return MembershipFactory(
        organization=other_org, role=Role.OWNER, user__email="owner@intruder.test"
    )


def login_client(membership) -> Client:
    client = Client()
    client.force_login(membership.user)
    return client


@pytest.fixture
def console_client(member):
    return login_client(member)


@pytest.fixture
def public_client(page):
    """A client whose requests go to `page`'s public host."""
    return Client(HTTP_HOST=f"{page.slug}.{BASE_DOMAIN}")


def needs_postgresql(why: str) -> None:
    """Skip on SQLite (a laptop's `make test`); fail where CI says the services are there
    (REQUIRE_SERVICES), so a misconfigured run cannot pass by skipping."""
    from django.db import connection

    if connection.vendor == "postgresql":
        return
    if os.environ.get("REQUIRE_SERVICES"):
        pytest.fail(f"REQUIRE_SERVICES is set but the database is {connection.vendor}: {why}")
    pytest.skip(f"needs PostgreSQL: {why}")


def pytest_collection_modifyitems(config, items):
    """Browser tests skip without a chromium, unless CI says they must run."""
    chromium = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    if os.path.exists(chromium):
        return
    if os.environ.get("REQUIRE_BROWSER"):
        raise pytest.UsageError(f"REQUIRE_BROWSER is set but {chromium} does not exist.")
    skip = pytest.mark.skip(reason=f"no chromium at {chromium}")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)
