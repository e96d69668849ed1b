"""Periodic jobs: what runs every minute, whoever runs it.

`python manage.py run_periodic_jobs` (the `scheduler` service, or a thread beside `make run`)
enqueues each registered job on its interval. Every job is written to catch up (it looks at the
database, not at the clock it was scheduled for) and to be harmless when run twice, so a
scheduler that was down, or two schedulers, never lose or double a transition.

Apps register their jobs in `settings.PERIODIC_JOBS` as (dotted path, interval in seconds).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from django.conf import settings

from statuspage.queue import enqueue_now

logger = logging.getLogger(__name__)


def run_due_jobs(last_run: dict[str, float], now: float) -> list[str]:
    """Enqueue each job whose interval has passed; returns the ones enqueued.

    A job the queue refused (Redis unreachable) stays due, so it is tried again on the next
    tick: once Redis is back, the sweep runs within a tick, not a whole interval later."""
    enqueued = []
    for job_path, interval in settings.PERIODIC_JOBS:
        if now - last_run.get(job_path, 0.0) >= interval:
            try:
                accepted = enqueue_now(job_path)
            except Exception:  # one failing job must not stop the others
                logger.exception("periodic job %s failed", job_path)
                accepted = True  # it ran (in-process) and failed: its next interval, not a loop
            if accepted:
                last_run[job_path] = now
                enqueued.append(job_path)
    return enqueued


def run_forever(
    *, tick_seconds: float = 5.0, should_stop: Callable[[], bool] = lambda: False
) -> None:
    last_run: dict[str, float] = {}
    while not should_stop():
        run_due_jobs(last_run, time.monotonic())
        time.sleep(tick_seconds)
