"""A per-process circuit breaker for a dependency we can live without for a while (Redis).

After a failure the breaker *opens*: for `cooldown` seconds callers skip the dependency at
once instead of each paying a timeout. The first caller after the cooldown probes it; on
success the breaker closes (`succeeded()` says so, and the caller runs its recovery steps
before its own call), on failure it opens again.

Logging is per interval, not per call: one warning when the outage starts, one every
`log_interval` seconds while it lasts (with the count of failed and skipped calls), one
when it ends.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime

logger = logging.getLogger(__name__)


class Breaker:
    def __init__(self, name: str, *, cooldown: float = 5.0, log_interval: float = 60.0):
        self.name = name
        self.cooldown = cooldown
        self.log_interval = log_interval
        self._lock = threading.Lock()
        self._reset()

    def _reset(self) -> None:
        self.down_since: float | None = None  # wall clock, for people
        self.last_error = ""
        self._retry_at = 0.0  # monotonic
        self._logged_at = 0.0
        self._failures = 0
        self._skipped = 0

    @property
    def is_down(self) -> bool:
        return self.down_since is not None

    def allow(self) -> bool:
        """May this call try the dependency? False while open (the call is counted as skipped);
        once per cooldown one caller is let through to probe."""
        if self.down_since is None:
            return True
        with self._lock:
            if self.down_since is None:
                return True
            now = time.monotonic()
            # One prober at a time; one that never reported back does not block the next.
            if now >= self._retry_at:
                self._retry_at = now + self.cooldown
                return True
            self._skipped += 1
            self._log_if_due(now)
            return False

    def failed(self, error: BaseException, *, trip: bool = True) -> None:
        """Record a failure. With `trip=False` (a failure that cost nothing, such as a refused
        connection) the outage is recorded and logged but the next call may try at once."""
        with self._lock:
            now = time.monotonic()
            self._failures += 1
            self.last_error = f"{type(error).__name__}: {error}"
            self._retry_at = now + self.cooldown if trip else now
            if self.down_since is None:
                self.down_since = time.time()
                self._logged_at = now
                logger.warning("%s unavailable since %s: %s; degrading", self.name,
                               self._since(), self.last_error)  # fmt: skip
            else:
                self._log_if_due(now)

    def succeeded(self) -> bool:
        """Record a success; True when it ended an outage."""
        if self.down_since is None:
            return False
        with self._lock:
            if self.down_since is None:
                return False
            down_for = time.time() - self.down_since
            failures, skipped = self._failures, self._skipped
            self._reset()
        logger.warning("%s available again after %.1f s (%d errors, %d calls skipped)",
                       self.name, down_for, failures, skipped)  # fmt: skip
        return True

    def _log_if_due(self, now: float) -> None:
        if now - self._logged_at >= self.log_interval:
            self._logged_at = now
            logger.warning("%s unavailable since %s, %d errors, %d calls skipped; last: %s",
                           self.name, self._since(), self._failures, self._skipped,
                           self.last_error)  # fmt: skip

    def _since(self) -> str:
        assert self.down_since is not None
        return datetime.fromtimestamp(self.down_since, UTC).isoformat(timespec="seconds")

    def state(self) -> dict[str, str]:
        """For readiness: `ok`, or `unavailable` with the reason and since when."""
        if self.down_since is None:
            return {"status": "ok"}
        return {"status": "unavailable", "since": self._since(), "reason": self.last_error}


_breakers: dict[str, Breaker] = {}
_breakers_lock = threading.Lock()


def breaker_for(name: str, **options) -> Breaker:
    """The process-wide breaker called `name` (every thread's client of one Redis shares it)."""
    with _breakers_lock:
        if name not in _breakers:
            _breakers[name] = Breaker(name, **options)
        return _breakers[name]
