"""Who the client is behind the reverse proxy, and the limits that key on it."""

import pytest
from django.test import RequestFactory

from statuspage import throttle
from statuspage.client_address import address_key, client_address, client_key

PROXY = "10.0.0.5"


def request_from(peer: str, forwarded_for: str | None = None):
    extra = {"REMOTE_ADDR": peer}
    if forwarded_for is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded_for
    return RequestFactory().get("/", **extra)


def test_without_trusted_proxies_the_peer_is_the_client(settings):
    settings.TRUSTED_PROXIES = []
    assert client_address(request_from("203.0.113.7", "198.51.100.1")) == "203.0.113.7"


def test_behind_a_trusted_proxy_the_forwarded_client_is_used(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert client_address(request_from(PROXY, "203.0.113.7")) == "203.0.113.7"


def test_a_spoofed_left_most_hop_is_ignored(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    # The client sent "X-Forwarded-For: 1.2.3.4"; our proxy appended the real address.
    request = request_from(PROXY, "1.2.3.4, 203.0.113.7")
    assert client_address(request) == "203.0.113.7"


def test_every_trusted_hop_is_skipped_from_the_right(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8", "192.0.2.10"]
    request = request_from(PROXY, "1.2.3.4, 203.0.113.7, 192.0.2.10, 10.1.1.1")
    assert client_address(request) == "203.0.113.7"


def test_an_untrusted_peer_cannot_forward_anything(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert client_address(request_from("198.51.100.9", "1.2.3.4")) == "198.51.100.9"


def test_garbage_in_the_chain_stops_at_the_last_trusted_hop(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert client_address(request_from(PROXY, "1.2.3.4, not-an-ip")) == PROXY
    assert client_address(request_from(PROXY, "")) == PROXY


def test_ports_brackets_and_mapped_addresses(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert client_address(request_from(PROXY, "203.0.113.7:51234")) == "203.0.113.7"
    assert client_address(request_from(PROXY, "[2001:db8::1]:443")) == "2001:db8::1"
    assert client_address(request_from("::ffff:10.0.0.5", "203.0.113.7")) == "203.0.113.7"


def test_ipv6_clients_are_counted_by_their_64():
    assert address_key("2001:db8:1:2:aaaa::1") == "2001:db8:1:2::"
    assert address_key("2001:db8:1:2:bbbb::9") == "2001:db8:1:2::"
    assert address_key("203.0.113.7") == "203.0.113.7"


def test_client_key_combines_both(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert client_key(request_from(PROXY, "2001:db8:1:2:3:4:5:6")) == "2001:db8:1:2::"


class BrokenCache:
    def __getattr__(self, name):
        def fail(*args, **kwargs):
            raise ConnectionError("Redis is down")

        return fail


def test_throttles_fail_open_when_the_cache_is_down(monkeypatch):
    monkeypatch.setattr(throttle, "cache", BrokenCache())
    assert [throttle.allow("s", "k", limit=1, window_seconds=60) for _ in range(3)] == [
        True,
        True,
        True,
    ]
    assert throttle.record_failure("s", "k", window_seconds=60) == 0
    assert throttle.failure_count("s", "k") == (0, 0.0)
    throttle.clear("s", "k")


@pytest.mark.parametrize(
    ("failures", "wait"), [(0, 0), (4, 0), (5, 30), (6, 60), (8, 240), (12, 900), (99, 900)]
)
def test_backoff_doubles_after_the_free_attempts(failures, wait):
    assert throttle.backoff_seconds(failures, free=5, base=30, cap=900) == wait


def test_throttles_allow_everything_with_a_cache_that_stores_nothing(settings):
    # What a degraded cache looks like from here: writes vanish, reads give the default.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    assert [throttle.allow("s", "k", limit=1, window_seconds=60) for _ in range(3)] == [
        True,
        True,
        True,
    ]
    assert throttle.failure_count("s", "k") == (0, 0.0)
