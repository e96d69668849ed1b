"""The shared cache (Redis) as something we can lose: every error degrades, none raises.

`ResilientRedisCache` is Django's RedisCache with each operation guarded: when Redis refuses,
times out or answers an error, reads return their default (or nothing), writes return False,
`incr` raises ValueError as for a missing key, and a per-process circuit breaker
(statuspage.breaker) skips Redis for a few seconds, so only the first request after a failure
pays a timeout. Timeouts are short and redis-py does not retry (OPTIONS, settings.py): a
frozen server costs one `TIMEOUT`, not the default retry schedule's ~15 s.

Callers that must not be wrong when the cache is gone keep their truth elsewhere: the
content version (statuspage.publishing) and the host map (statuspage.hosts) fall back to
PostgreSQL, rate limits (statuspage.throttle) fail open.

OPTIONS["RECOVERY_HOOKS"] (dotted paths) run when Redis answers again, before the call that
found it up proceeds: the content-version mirror is reconciled there, so a partition that
healed with old data in Redis does not serve it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from django.core.cache import caches
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from django.utils.module_loading import import_string
from redis.exceptions import RedisError

from statuspage.breaker import Breaker, breaker_for

# Set-if-greater, atomically: mirrors of a counter only move forward, whatever order the
# writers' updates arrive in.
SET_MAX = """
local current = tonumber(redis.call('GET', KEYS[1]))
if current == nil or tonumber(ARGV[1]) > current then
  redis.call('SET', KEYS[1], ARGV[1])
  return 1
end
return 0
"""
ERRORS = (RedisError, OSError)
logger = logging.getLogger(__name__)


def redis_label(url: str) -> str:
    """host:port/db of a Redis URL, never its password (it goes into logs)."""
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port or 6379}{parts.path or '/0'}"


class _Client(RedisCacheClient):
    def set_max(self, key: str, value: int) -> bool:
        return bool(self.get_client(key, write=True).eval(SET_MAX, 1, key, int(value)))

    def ping(self) -> bool:
        return bool(self.get_client(None, write=True).ping())


class ResilientRedisCache(RedisCache):
    def __init__(self, server, params):
        options = dict(params.get("OPTIONS", {}))
        cooldown = float(options.pop("BREAKER_COOLDOWN", 5.0))
        log_interval = float(options.pop("LOG_INTERVAL", 60.0))
        self._recovery_hooks = tuple(options.pop("RECOVERY_HOOKS", ()))
        super().__init__(server, {**params, "OPTIONS": options})
        self._class = _Client
        name = f"cache redis at {redis_label(self._servers[0])}"
        self.breaker: Breaker = breaker_for(name, cooldown=cooldown, log_interval=log_interval)

    def _guarded(self, default: Any, call: Callable[[], Any]) -> Any:
        breaker = self.breaker
        if breaker.is_down:
            if not breaker.allow():
                return default
            try:  # the probe: the caller's own call runs only once Redis is back
                self._cache.ping()
            except ERRORS as error:
                breaker.failed(error)
                return default
            if breaker.succeeded():
                self._recovered()
        try:
            return call()
        except ERRORS as error:
            breaker.failed(error)
            return default

    def _recovered(self) -> None:
        for path in self._recovery_hooks:
            try:
                import_string(path)()
            except Exception:  # a hook never fails the call that found Redis up again
                logger.exception("cache recovery hook %s failed", path)

    @property
    def is_available(self) -> bool:
        return not self.breaker.is_down

    def health(self) -> dict[str, str]:
        """Readiness: a live PING, or while the breaker is open its state (a probe per
        cooldown, as for any call: a frozen Redis does not make every probe wait)."""
        self._guarded(None, self._cache.ping)
        return self.breaker.state()

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._guarded(False, lambda: super(ResilientRedisCache, self).add(
            key, value, timeout, version))  # fmt: skip

    def get(self, key, default=None, version=None):
        return self._guarded(default, lambda: super(ResilientRedisCache, self).get(
            key, default, version))  # fmt: skip

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        def call():
            super(ResilientRedisCache, self).set(key, value, timeout, version)
            return True

        return self._guarded(False, call)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._guarded(False, lambda: super(ResilientRedisCache, self).touch(
            key, timeout, version))  # fmt: skip

    def delete(self, key, version=None):
        return self._guarded(False, lambda: super(ResilientRedisCache, self).delete(
            key, version))  # fmt: skip

    def get_many(self, keys, version=None):
        return self._guarded({}, lambda: super(ResilientRedisCache, self).get_many(
            keys, version))  # fmt: skip

    def has_key(self, key, version=None):
        return self._guarded(False, lambda: super(ResilientRedisCache, self).has_key(
            key, version))  # fmt: skip

    def incr(self, key, delta=1, version=None):
        missing = object()
        result = self._guarded(missing, lambda: super(ResilientRedisCache, self).incr(
            key, delta, version))  # fmt: skip
        if result is missing:  # what a caller does for an expired key is right here too
            raise ValueError(f"Key '{key}' not found (cache unavailable).")
        return result

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return self._guarded(list(data), lambda: super(ResilientRedisCache, self).set_many(
            data, timeout, version))  # fmt: skip

    def delete_many(self, keys, version=None):
        return self._guarded(None, lambda: super(ResilientRedisCache, self).delete_many(
            keys, version))  # fmt: skip

    def clear(self):
        return self._guarded(False, lambda: super(ResilientRedisCache, self).clear())

    def set_max(self, key: str, value: int, version=None) -> bool:
        """Store `value` unless the key already holds a greater integer. True once the key
        holds `value` or more, False when Redis could not be reached."""
        full_key = self.make_and_validate_key(key, version=version)

        def call():
            self._cache.set_max(full_key, value)
            return True

        return self._guarded(False, call)


def cache_health(alias: str = "default") -> dict[str, str]:
    backend = caches[alias]
    if isinstance(backend, ResilientRedisCache):
        return backend.health()
    return {"status": "ok", "backend": type(backend).__name__}


def cache_is_available(alias: str = "default") -> bool:
    """False while this process's breaker for the cache is open (other backends: always)."""
    backend = caches[alias]
    return not isinstance(backend, ResilientRedisCache) or not backend.breaker.is_down
