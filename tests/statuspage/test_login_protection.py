"""Login protection behind the proxy: an attacker slows and locks out only themselves."""

import datetime

import pytest
import time_machine
from django.test import Client

from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

PROXY = "10.0.0.5"
ATTACKER = "198.51.100.66"
VICTIM_HOME = "203.0.113.7"


@pytest.fixture(autouse=True)
def _behind_proxy(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    settings.LOGIN_FAILURE_LIMIT = 5
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 20
    settings.AXES_FAILURE_LIMIT = 20
    settings.LOGIN_DELAY_SECONDS = 30
    settings.LOGIN_DELAY_MAX_SECONDS = 900


def via_proxy(address: str, spoofed: str = "") -> Client:
    """A client whose requests reach the app through our proxy, as `address`; `spoofed` is
    what it puts in X-Forwarded-For itself (the proxy appends the real address)."""
    forwarded = f"{spoofed}, {address}" if spoofed else address
    return Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=forwarded)


def log_in(client, email, password):
    return client.post("/accounts/login/", {"username": email, "password": password})


@pytest.fixture
def victim(db):
    return UserFactory(email="victim@acme.test")


def test_guessing_one_account_is_slowed_exponentially(victim):
    attacker = via_proxy(ATTACKER)
    with time_machine.travel(datetime.datetime(2026, 11, 2, 9, 0, tzinfo=datetime.UTC)) as clock:
        statuses = [log_in(attacker, victim.email, "wrong").status_code for _ in range(6)]
        assert statuses == [400, 400, 400, 400, 400, 429]
        # Even the right password is not checked while the address must wait.
        response = log_in(attacker, victim.email, PASSWORD)
        assert response.status_code == 429
        assert "Too many failed attempts on this account. Try again in 1 minute" in (
            response.content.decode()
        )
        clock.shift(31)
        assert log_in(attacker, victim.email, "wrong").status_code == 400  # failure 6
        clock.shift(31)
        assert log_in(attacker, victim.email, "wrong").status_code == 429  # now 60 s
        clock.shift(30)
        assert log_in(attacker, victim.email, PASSWORD).status_code == 302


def test_an_attacker_cannot_lock_the_owner_out(victim):
    """Spoofing X-Forwarded-For does not help either: the proxy's hop is the one counted."""
    for n in range(40):
        attacker = via_proxy(f"198.51.100.{n + 1}", spoofed=VICTIM_HOME)
        for _ in range(3):
            log_in(attacker, victim.email, "wrong")
    owner = via_proxy(VICTIM_HOME)
    response = log_in(owner, victim.email, PASSWORD)
    assert (response.status_code, response["Location"]) == (302, "/console/")


def test_addresses_that_failed_on_a_hammered_account_wait(victim):
    for n in range(10):
        log_in(via_proxy(f"198.51.100.{n + 1}"), victim.email, "wrong")
    # The account has failed 10 times: an address that failed on it waits 30 × 2^5 s (capped).
    assert log_in(via_proxy("198.51.100.1"), victim.email, PASSWORD).status_code == 429
    assert log_in(via_proxy("198.51.100.99"), victim.email, "wrong").status_code == 400


def test_one_address_failing_on_many_accounts_is_locked_out(victim):
    attacker = via_proxy(ATTACKER, spoofed="192.0.2.1")
    for n in range(20):
        assert log_in(attacker, f"user{n}@acme.test", "wrong").status_code in (400, 429)
    response = log_in(attacker, victim.email, PASSWORD)
    assert response.status_code == 429
    assert "Too many failed attempts from your address. Try again in 15 minutes" in (
        response.content.decode()
    )
    # Changing the spoofed part changes nothing; the owner elsewhere is unaffected.
    assert (
        log_in(via_proxy(ATTACKER, spoofed="192.0.2.2"), victim.email, PASSWORD).status_code == 429
    )
    assert log_in(via_proxy(VICTIM_HOME), victim.email, PASSWORD).status_code == 302


def test_a_successful_login_clears_the_account_delay(victim):
    owner = via_proxy(VICTIM_HOME)
    for _ in range(4):
        log_in(owner, victim.email, "wrong")
    assert log_in(owner, victim.email, PASSWORD).status_code == 302
    owner.post("/accounts/logout/")
    statuses = [log_in(owner, victim.email, "wrong").status_code for _ in range(5)]
    assert statuses == [400, 400, 400, 400, 400]


def test_sign_up_is_rate_limited_per_client_address(settings):
    settings.SIGNUP_LIMIT_PER_HOUR = 2
    spammer = via_proxy(ATTACKER)
    statuses = [spammer.post("/accounts/signup/", {"email": f"x{n}"}).status_code for n in range(3)]
    assert statuses == [400, 400, 429]
    response = via_proxy(ATTACKER, spoofed="192.0.2.3").post("/accounts/signup/", {"email": "y"})
    assert "Too many sign-ups from your address. Please try again in an hour." in (
        response.content.decode()
    )
    assert via_proxy(VICTIM_HOME).post("/accounts/signup/", {"email": "y"}).status_code == 400


def test_password_reset_emails_are_limited_per_address_asked_for(victim, mailoutbox):
    statuses = [
        via_proxy(f"198.51.100.{n + 1}")
        .post("/accounts/password/reset/", {"email": victim.email})
        .status_code
        for n in range(5)
    ]
    # The same answer every time; only three emails reach the mailbox.
    assert statuses == [302] * 5
    assert [message.to for message in mailoutbox] == [[victim.email]] * 3
