"""Slowing password guessing without letting anyone lock a person out of their account.

Two layers, both keyed on the real client address (statuspage.client_address):

1. Per address, django-axes: an address that fails `LOGIN_ADDRESS_FAILURE_LIMIT` times (on any
   accounts) is locked out for `LOGIN_LOCKOUT_MINUTES`. It counts the address alone, so an
   attacker locks out only themselves, never the account they are guessing.
2. Per account, here: once an account has failed `LOGIN_FAILURE_LIMIT` times (from anywhere,
   within a day), each address *that has failed on it* must wait before its next attempt,
   `LOGIN_DELAY_SECONDS` doubling with every further failure of the account, at most
   `LOGIN_DELAY_MAX_SECONDS`, counted from that address's own last failure. An address that
   has not failed on the account (its owner at home or in the office) is never delayed, so a
   botnet hammering the account cannot keep its owner out; each of the botnet's addresses,
   though, gets one guess per delay. While an address waits its password is not even checked.

A successful login clears the account's count and the address's failures; a completed password
reset does too (proving the mailbox).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.conf import settings

from statuspage import throttle
from statuspage.client_address import client_key

ACCOUNT_SCOPE = "login-account"
PAIR_SCOPE = "login-account-address"


@dataclass(frozen=True)
class Attempt:
    account: str
    address: str

    @property
    def pair(self) -> str:
        return f"{self.account}|{self.address}"


def attempt_of(request, username: str) -> Attempt:
    return Attempt(account=username.strip().lower(), address=client_key(request))


def wait_seconds(attempt: Attempt) -> int:
    """Seconds this address must still wait before trying this account again (0: go ahead)."""
    pair_failures, pair_last = throttle.failure_count(PAIR_SCOPE, attempt.pair)
    if not pair_failures:
        return 0
    account_failures, _ = throttle.failure_count(ACCOUNT_SCOPE, attempt.account)
    delay = throttle.backoff_seconds(
        # The account's count decides, but never less than this pair's own.
        max(account_failures, pair_failures),
        free=settings.LOGIN_FAILURE_LIMIT,
        base=settings.LOGIN_DELAY_SECONDS,
        cap=settings.LOGIN_DELAY_MAX_SECONDS,
    )
    return max(0, int(pair_last + delay - time.time() + 0.999))


def record_failure(attempt: Attempt) -> None:
    window = settings.LOGIN_FAILURE_WINDOW_SECONDS
    throttle.record_failure(ACCOUNT_SCOPE, attempt.account, window_seconds=window)
    throttle.record_failure(PAIR_SCOPE, attempt.pair, window_seconds=window)


def record_success(attempt: Attempt) -> None:
    throttle.clear(ACCOUNT_SCOPE, attempt.account)
    throttle.clear(PAIR_SCOPE, attempt.pair)
