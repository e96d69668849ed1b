"""The seam between a committed write and its background work.

`enqueue_on_commit("app.jobs.some_job", *ids)` runs the job after the surrounding transaction
commits: on an RQ worker when REDIS_URL is set, or synchronously in-process when it is not (the
embedded `make run` mode and the default test setting). Jobs are named by dotted path so the app
that enqueues never imports the app that does the work.

If Redis is unreachable at commit time the write has still succeeded; we rely on the periodic
sweeps to pick the work up from the database, which is the source of truth. Enqueueing is
bounded: short timeouts without retries (settings.REDIS_TIMEOUT), and after a failure a
per-process breaker skips Redis for a few seconds, so a post with the queue gone costs at most
one timeout. A failure that cost nothing (a refused connection) does not open the breaker,
so the first enqueue after Redis returns (the sweep's, say) goes through. The outage is
logged once per minute, not per job.
"""

from __future__ import annotations

import datetime
import functools
import logging
import time
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.module_loading import import_string

from statuspage.breaker import Breaker, breaker_for
from statuspage.cache_backend import redis_label

logger = logging.getLogger(__name__)


@functools.lru_cache(maxsize=8)
def _redis(url: str):
    """One client, with its connection pool, per process and Redis URL. django_rq.get_queue
    makes a new one per call: each enqueue opened a TCP connection, and redis-py read its own
    package metadata for CLIENT SETINFO (~5 ms; a fan-out to 100,000 enqueues 100 jobs)."""
    from redis import Redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    timeout = settings.REDIS_TIMEOUT
    return Redis.from_url(url, driver_info=None, socket_connect_timeout=timeout,
                          socket_timeout=timeout, retry=Retry(NoBackoff(), 0))  # fmt: skip


def queue_breaker(queue: str = "default") -> Breaker:
    name = f"queue redis at {redis_label(settings.RQ_QUEUES[queue]['URL'])}"
    return breaker_for(name, cooldown=settings.REDIS_BREAKER_COOLDOWN)


def enqueue_now(job_path: str, *args: Any, queue: str = "default", **options: Any) -> bool:
    """Enqueue (or run in-process) immediately. Returns False when Redis refused the job."""
    if settings.JOBS_RUN_IN_PROCESS:
        import_string(job_path)(*args)
        return True
    return _enqueue(job_path, args, queue, None, options)


def enqueue_at(at: datetime.datetime, job_path: str, *args: Any, queue: str = "default") -> bool:
    """Run the job at `at`, through RQ's scheduler (workers run `--with-scheduler`). False when
    Redis refused it, and in-process, where nothing waits: there the periodic sweep, which
    these jobs only ever hurry, does the work."""
    if settings.JOBS_RUN_IN_PROCESS:
        return False
    return _enqueue(job_path, args, queue, at, {})


def _enqueue(
    job_path: str, args: tuple, queue: str, at: datetime.datetime | None, options: dict
) -> bool:
    import django_rq
    from redis.exceptions import RedisError

    breaker = queue_breaker(queue)
    if not breaker.allow():
        return False
    started = time.monotonic()
    try:
        connection = _redis(settings.RQ_QUEUES[queue]["URL"])
        rq_queue = django_rq.get_queue(queue, connection=connection)
        if at is None:
            rq_queue.enqueue(job_path, *args, **options)
        else:
            rq_queue.enqueue_at(at, job_path, *args, **options)
    except (RedisError, OSError) as error:
        # Logged once per interval; the periodic sweep enqueues the job again.
        breaker.failed(error, trip=time.monotonic() - started > settings.REDIS_TIMEOUT / 5)
        return False
    breaker.succeeded()
    return True


def queue_health(queue: str = "default") -> dict[str, str]:
    """Readiness: `ok` (a PING answered, or jobs run in-process), else `unavailable`; while
    the breaker is open, a PING once per cooldown, as for enqueueing."""
    if settings.JOBS_RUN_IN_PROCESS:
        return {"status": "ok", "mode": "in-process"}
    from redis.exceptions import RedisError

    breaker = queue_breaker(queue)
    if breaker.allow():
        try:
            _redis(settings.RQ_QUEUES[queue]["URL"]).ping()
        except (RedisError, OSError) as error:
            breaker.failed(error)
        else:
            breaker.succeeded()
    state = breaker.state()
    if state["status"] != "ok":
        state["effect"] = "jobs wait in the database; the periodic sweep enqueues them"
    return state


def enqueue_on_commit(job_path: str, *args: Any, queue: str = "default", **options: Any) -> None:
    transaction.on_commit(lambda: enqueue_now(job_path, *args, queue=queue, **options))
