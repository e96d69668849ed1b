"""The RQ worker: jobs run in the worker process itself, which keeps its database connection.

RQ's default worker forks a work horse per job, and each horse opens its own connection to
PostgreSQL, whose fresh backend then loads its catalogue caches again on every first
statement: ~40 ms of a send job that sends a thousand messages in ~300 ms. Our jobs need no
fork for safety: each is one service call that commits or rolls back on its own, a crashed
or killed worker loses at most a job the sweep enqueues again, and RQ's time limit still
applies (SIGALRM, in the worker's main thread).

A worker that dies is seen within HEARTBEAT_TTL seconds: while a job runs, a thread renews
the job's entry in RQ's StartedJobRegistry (and the worker's own key) every
HEARTBEAT_SECONDS, with a short time to live. RQ's SimpleWorker beats only before a job,
with the job's whole timeout (ten minutes) as the time to live, so a killed worker looked
alive that long. `abandoned_jobs` lists the jobs whose entry expired: their worker is gone.
"""

from __future__ import annotations

import logging
import threading

from django.conf import settings
from django.db import close_old_connections
from redis.exceptions import RedisError
from rq.job import Job, get_current_job
from rq.registry import StartedJobRegistry
from rq.worker import SimpleWorker

logger = logging.getLogger(__name__)
HEARTBEAT_SECONDS = 5
HEARTBEAT_TTL = 20


class Worker(SimpleWorker):
    def execute_job(self, job, queue):
        # Before and after each job, as Django does around each request: a connection that
        # broke, or outlived CONN_MAX_AGE, is closed and the next query opens a fresh one.
        close_old_connections()
        stop = threading.Event()
        beat = threading.Thread(target=self._beat_while_running, args=(job, stop), daemon=True,
                                name=f"heartbeat {job.id}")  # fmt: skip
        beat.start()
        try:
            return super().execute_job(job, queue)
        finally:
            stop.set()
            beat.join()
            close_old_connections()

    def get_heartbeat_ttl(self, job) -> int:
        """The time to live of the job's registry entry: short, renewed by the beat."""
        return HEARTBEAT_TTL

    def _beat_while_running(self, job, stop: threading.Event) -> None:
        while not stop.wait(HEARTBEAT_SECONDS):
            if getattr(self, "execution", None) is None:
                continue  # not registered yet, or finished
            try:
                self.maintain_heartbeats(job)
            except Exception:  # Redis away for a moment: the next beat tries again
                logger.warning("heartbeat of job %s failed", job.id, exc_info=True)


def current_job() -> Job | None:
    """The RQ job this code runs in (in its main thread), or None in-process."""
    return get_current_job()


def abandoned_jobs(func_name: str, queue: str = "default") -> list[Job]:
    """Jobs of `func_name` that were running on a worker that stopped beating (killed, or its
    machine gone): their StartedJobRegistry entry expired. Empty when jobs run in-process."""
    if settings.JOBS_RUN_IN_PROCESS:
        return []
    import django_rq

    try:
        connection = django_rq.get_connection(queue)
        ids = StartedJobRegistry(queue, connection=connection).get_expired_job_ids()
        jobs = Job.fetch_many(ids, connection=connection) if ids else []
    except RedisError:  # Redis away: the leases run out instead
        logger.warning("could not read RQ's registry of started jobs", exc_info=True)
        return []
    return [job for job in jobs if job is not None and job.func_name == func_name]


def forget_abandoned_jobs(queue: str = "default") -> None:
    """RQ's own bookkeeping of expired entries: moved to the FailedJobRegistry."""
    if settings.JOBS_RUN_IN_PROCESS:
        return
    import django_rq

    try:
        StartedJobRegistry(queue, connection=django_rq.get_connection(queue)).cleanup()
    except RedisError:
        logger.warning("could not clean RQ's registry of started jobs", exc_info=True)
