"""The resilient cache backend against a real, private redis-server that the test kills,
freezes and brings back: errors degrade to defaults, a frozen server costs one timeout, the
outage is logged once per interval, and recovery hooks run before the call that found Redis
back."""

from __future__ import annotations

import logging
import time

import pytest
from django.core.cache import cache

from statuspage import throttle
from statuspage.breaker import _breakers
from statuspage.settings import redis_cache
from tests.faults import PrivateRedis

recovered: list[str] = []


def record_recovery() -> None:
    """A recovery hook: what the cache held when it ran (before the caller's own call)."""
    recovered.append(cache.get("probe", "missing"))


@pytest.fixture
def redis_server():
    server = PrivateRedis().start()
    yield server
    server.close()


@pytest.fixture
def resilient_cache(settings, redis_server):
    config = redis_cache(redis_server.url())
    config["OPTIONS"].update(
        BREAKER_COOLDOWN=0.3,
        LOG_INTERVAL=0.5,
        RECOVERY_HOOKS=["tests.statuspage.test_cache_backend.record_recovery"],
    )
    _breakers.clear()
    recovered.clear()
    settings.CACHES = {"default": config}
    yield cache
    _breakers.clear()


def elapsed(call) -> tuple[object, float]:
    started = time.perf_counter()
    result = call()
    return result, time.perf_counter() - started


def test_every_operation_degrades_when_redis_is_killed(resilient_cache, redis_server):
    assert resilient_cache.set("a", 1) is True
    assert resilient_cache.get("a") == 1
    redis_server.stop()
    assert resilient_cache.get("a", "default") == "default"
    assert resilient_cache.get_many(["a", "b"]) == {}
    assert resilient_cache.set("a", 2) is False
    assert resilient_cache.add("b", 1) is False
    assert resilient_cache.has_key("a") is False
    assert resilient_cache.delete("a") is False
    assert resilient_cache.set_many({"a": 1, "b": 2}) == ["a", "b"]
    assert resilient_cache.delete_many(["a"]) is None
    assert resilient_cache.touch("a") is False
    assert resilient_cache.set_max("v", 3) is False
    with pytest.raises(ValueError):
        resilient_cache.incr("a")


def test_rate_limits_fail_open_without_redis(resilient_cache, redis_server):
    assert [throttle.allow("t", "k", limit=2, window_seconds=60) for _ in range(3)] == [
        True,
        True,
        False,
    ]
    redis_server.stop()
    assert [throttle.allow("t", "k", limit=2, window_seconds=60) for _ in range(3)] == [True] * 3


def test_a_frozen_redis_costs_one_timeout_then_nothing(resilient_cache, redis_server, settings):
    resilient_cache.set("a", 1)
    redis_server.pause()
    try:
        first, first_took = elapsed(lambda: resilient_cache.get("a"))
        rest, rest_took = elapsed(lambda: [resilient_cache.get("a") for _ in range(100)])
    finally:
        redis_server.resume()
    assert (first, rest) == (None, [None] * 100)
    assert 0.2 <= first_took < 0.25 + 0.15  # REDIS_TIMEOUT, no retries
    assert rest_took < 0.05  # the breaker is open: Redis is not asked


def test_the_outage_is_logged_once_per_interval_and_its_end_once(
    resilient_cache, redis_server, caplog
):
    caplog.set_level(logging.WARNING, logger="statuspage.breaker")
    redis_server.stop()
    for _ in range(50):
        resilient_cache.get("a")
    assert len(caplog.records) == 1
    assert "unavailable since" in caplog.records[0].getMessage()
    time.sleep(0.55)  # past LOG_INTERVAL
    for _ in range(50):
        resilient_cache.get("a")
    assert len(caplog.records) == 2
    assert "errors" in caplog.records[1].getMessage()
    redis_server.start()
    time.sleep(0.35)  # past BREAKER_COOLDOWN
    assert resilient_cache.set("a", 1) is True
    assert [r.getMessage().split(" after ")[0] for r in caplog.records[2:]] == [
        f"cache redis at 127.0.0.1:{redis_server.port}/0 available again"
    ]


def test_recovery_hooks_run_before_the_call_that_found_redis_back(resilient_cache, redis_server):
    redis_server.stop()
    assert resilient_cache.get("probe") is None
    redis_server.start()  # empty
    assert resilient_cache.set("probe", "stored") is False  # within the cooldown: skipped
    time.sleep(0.35)
    assert resilient_cache.set("probe", "stored") is True
    assert recovered == ["missing"]  # the hook ran first, and with the cache usable
    assert resilient_cache.get("probe") == "stored"


def test_set_max_only_moves_forward(resilient_cache):
    assert resilient_cache.set_max("v", 5) is True
    assert resilient_cache.set_max("v", 3) is True  # reached: the key holds 5 or more
    assert resilient_cache.get("v") == 5
    assert resilient_cache.set_max("v", 9) is True
    assert resilient_cache.get("v") == 9
