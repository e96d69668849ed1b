"""Custom-domain claims: an unverified claim blocks nobody and lapses; the first to verify wins."""

import datetime
import threading

import pytest
import time_machine
from django.db import IntegrityError, connection, transaction
from django_scopes import scopes_disabled

from statuspage import services
from statuspage.actors import Actor
from statuspage.errors import DomainError
from statuspage.models import Page
from tests.conftest import needs_postgresql
from tests.dns import TXT_RECORDS

pytestmark = pytest.mark.django_db
DOMAIN = "status.shared.example"
TAKEN = "That domain is already connected to another page."


@pytest.fixture
def actor(member):
    return Actor.for_user(member.user)


@pytest.fixture
def other_actor(other_member):
    return Actor.for_user(other_member.user)


@pytest.fixture(autouse=True)
def _clean_dns():
    yield
    TXT_RECORDS.clear()


def publish_txt(page):
    TXT_RECORDS.setdefault(f"_statuspage-verification.{page.custom_domain}", []).append(
        f"statuspage-verification={page.custom_domain_token}"
    )


def test_an_unverified_claim_blocks_nobody(page, other_page, actor, other_actor):
    with scopes_disabled():
        services.set_custom_domain(other_page, actor=other_actor, domain=DOMAIN)
    services.set_custom_domain(page, actor=actor, domain=DOMAIN)
    assert (page.custom_domain, other_page.custom_domain) == (DOMAIN, DOMAIN)
    assert page.custom_domain_token != other_page.custom_domain_token


def test_the_first_to_verify_wins(page, other_page, actor, other_actor):
    with scopes_disabled():
        services.set_custom_domain(other_page, actor=other_actor, domain=DOMAIN)
    services.set_custom_domain(page, actor=actor, domain=DOMAIN)
    publish_txt(page)  # the real owner of the domain is `page`
    with scopes_disabled(), pytest.raises(DomainError) as error:
        services.verify_custom_domain(other_page, actor=other_actor)
    assert error.value.message.startswith("We could not find the TXT record yet.")
    services.verify_custom_domain(page, actor=actor)
    publish_txt(other_page)  # even with both records published, it is too late now
    with scopes_disabled(), pytest.raises(DomainError) as error:
        services.verify_custom_domain(other_page, actor=other_actor)
    assert error.value.message == f"{TAKEN} It was verified there first."
    with scopes_disabled():
        assert Page.objects.filter(custom_domain_verified_at__isnull=False).get() == page


def test_a_verified_domain_cannot_be_claimed(page, other_page, actor, other_actor):
    services.set_custom_domain(page, actor=actor, domain=DOMAIN)
    publish_txt(page)
    services.verify_custom_domain(page, actor=actor)
    with scopes_disabled(), pytest.raises(DomainError) as error:
        services.set_custom_domain(other_page, actor=other_actor, domain=DOMAIN)
    assert (error.value.message, error.value.field) == (TAKEN, "domain")


def test_an_unverified_claim_lapses(page, actor, settings):
    settings.CUSTOM_DOMAIN_CLAIM_DAYS = 7
    start = datetime.datetime(2026, 11, 2, 9, 0, tzinfo=datetime.UTC)
    with time_machine.travel(start, tick=False) as clock:
        services.set_custom_domain(page, actor=actor, domain=DOMAIN)
        publish_txt(page)
        clock.shift(datetime.timedelta(days=7, seconds=1))
        with pytest.raises(DomainError) as error:
            services.verify_custom_domain(page, actor=actor)
        assert error.value.message == (
            "This claim lapsed after 7 days unverified. Save the domain again for a new TXT record."
        )
        services.set_custom_domain(page, actor=actor, domain=DOMAIN)  # a new claim, a new token
        publish_txt(page)
        services.verify_custom_domain(page, actor=actor)
    assert page.custom_domain_verified_at == start + datetime.timedelta(days=7, seconds=1)


def test_the_database_allows_one_verified_page_per_domain(page, other_page):
    now = datetime.datetime(2026, 11, 2, tzinfo=datetime.UTC)
    with scopes_disabled():
        Page.objects.filter(pk__in=[page.pk, other_page.pk]).update(custom_domain=DOMAIN)
        Page.objects.filter(pk=page.pk).update(custom_domain_verified_at=now)
        with pytest.raises(IntegrityError), transaction.atomic():
            Page.objects.filter(pk=other_page.pk).update(custom_domain_verified_at=now)


def test_console_shows_a_lapsed_claim(console_client, page, actor, settings):
    start = datetime.datetime(2026, 11, 2, 9, 0, tzinfo=datetime.UTC)
    with time_machine.travel(start, tick=False) as clock:
        services.set_custom_domain(page, actor=actor, domain=DOMAIN)
        clock.shift(datetime.timedelta(days=8))
        response = console_client.get("/console/acme/domain/")
    body = response.content.decode()
    assert response.status_code == 200
    assert '<span class="badge badge-warning">Lapsed</span>' in body
    assert "console/acme/domain/verify/" not in body


# --- Two verifications at once (PostgreSQL: SQLite serialises writers anyway) ----------------

_barrier = threading.Barrier(2, timeout=10)


def txt_after_both_checked(name: str) -> list[str]:
    """A resolver that holds each verification until both have passed the 'taken?' check."""
    _barrier.wait()
    return list(TXT_RECORDS.get(name, []))


@pytest.mark.django_db(transaction=True)
def test_concurrent_verifications_one_wins(page, other_page, actor, other_actor, settings):
    needs_postgresql("two verifications at once")
    with scopes_disabled():
        services.set_custom_domain(page, actor=actor, domain=DOMAIN)
        services.set_custom_domain(other_page, actor=other_actor, domain=DOMAIN)
    publish_txt(page)
    publish_txt(other_page)
    settings.DNS_TXT_RESOLVER = "tests.statuspage.test_domains.txt_after_both_checked"
    _barrier.reset()
    outcomes: dict[str, str] = {}

    def verify(which, target, who):
        try:
            with scopes_disabled():
                services.verify_custom_domain(target, actor=who)
            outcomes[which] = "verified"
        except DomainError as error:
            outcomes[which] = error.message
        finally:
            connection.close()

    threads = [
        threading.Thread(target=verify, args=("ours", page, actor)),
        threading.Thread(target=verify, args=("theirs", other_page, other_actor)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert sorted(outcomes.values()) == sorted(
        ["verified", f"{TAKEN} It was verified there first."]
    )
    with scopes_disabled():
        assert Page.objects.filter(custom_domain_verified_at__isnull=False).count() == 1
