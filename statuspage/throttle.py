"""Rate limits shared by every process: counters in the cache (Redis).

Two shapes:
- `allow`: a fixed-window counter, "at most `limit` attempts per window";
- `failure_count` / `record_failure` / `clear`: a failure counter that lives for a window after
  its first failure, which callers turn into a growing delay (`backoff_seconds`).

A limit is a safety net, not a source of truth: when the cache fails (Redis down, or the
degraded backend returning defaults) every check fails *open*, allowing the request and
logging, rather than turning an outage of the cache into an outage of sign-up and login.
"""

from __future__ import annotations

import hashlib
import logging
import time

from django.core.cache import cache

log = logging.getLogger(__name__)
LOG_EVERY_SECONDS = 60
_last_logged = 0.0


def _cache_failed(scope: str, outcome: str) -> None:
    """Log a cache failure at most once a minute per process: during an outage every request
    would log it."""
    global _last_logged
    now = time.monotonic()
    if now - _last_logged >= LOG_EVERY_SECONDS:
        _last_logged = now
        log.warning("throttle %s: cache unavailable, %s", scope, outcome, exc_info=True)


def _key(scope: str, key: str) -> str:
    digest = hashlib.blake2s(key.encode(), digest_size=12).hexdigest()
    return f"throttle:{scope}:{digest}"


def _increment(bucket: str, timeout: int) -> int:
    """Atomic where the cache is (Redis INCR); 1 when the key had expired or was missing."""
    cache.add(bucket, 0, timeout=timeout)
    try:
        return cache.incr(bucket)
    except ValueError:  # expired between add and incr, or a cache that stores nothing
        cache.set(bucket, 1, timeout=timeout)
        return 1


def allow(scope: str, key: str, *, limit: int, window_seconds: int) -> bool:
    """True while `key` has made fewer than `limit` attempts in the current window."""
    bucket = f"{_key(scope, key)}:{int(time.time() // window_seconds)}"
    try:
        return _increment(bucket, window_seconds * 2) <= limit
    except Exception:  # the cache is down: fail open
        _cache_failed(scope, "allowing the request")
        return True


def failure_count(scope: str, key: str) -> tuple[int, float]:
    """(failures, time of the last one) recorded for `key`; (0, 0.0) when none or unknown."""
    try:
        found = cache.get_many([_key(scope, key), _key(scope, key) + ":last"])
    except Exception:
        _cache_failed(scope, "assuming no failures")
        return 0, 0.0
    count = found.get(_key(scope, key)) or 0
    last = found.get(_key(scope, key) + ":last") or 0.0
    return int(count), float(last)


def record_failure(scope: str, key: str, *, window_seconds: int) -> int:
    """Count one failure for `key` (kept `window_seconds` after the first); the new count."""
    try:
        count = _increment(_key(scope, key), window_seconds)
        cache.set(_key(scope, key) + ":last", time.time(), timeout=window_seconds)
        return count
    except Exception:
        _cache_failed(scope, "failure not counted")
        return 0


def clear(scope: str, key: str) -> None:
    try:
        cache.delete_many([_key(scope, key), _key(scope, key) + ":last"])
    except Exception:
        _cache_failed(scope, "nothing cleared")


def backoff_seconds(failures: int, *, free: int, base: int, cap: int) -> int:
    """The wait after `failures` failures: none for the first `free`, then base, 2×base,
    4×base … at most `cap`."""
    if failures < free:
        return 0
    return min(cap, base * 2 ** min(failures - free, 32))
