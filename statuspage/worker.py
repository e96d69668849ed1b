"""The RQ worker: jobs run in the worker process itself, which keeps its database connection.

RQ's default worker forks a work horse per job, and each horse opens its own connection to
PostgreSQL, whose fresh backend then loads its catalogue caches again on every first
statement: ~40 ms of a send job that sends a thousand messages in ~300 ms. Our jobs need no
fork for safety: each is one service call that commits or rolls back on its own, a crashed
or killed worker loses at most a job the sweep enqueues again, and RQ's time limit still
applies (SIGALRM, in the worker's main thread).
"""

from django.db import close_old_connections
from rq.worker import SimpleWorker


class Worker(SimpleWorker):
    def execute_job(self, job, queue):
        # Before and after each job, as Django does around each request: a connection that
        # broke, or outlived CONN_MAX_AGE, is closed and the next query opens a fresh one.
        close_old_connections()
        try:
            return super().execute_job(job, queue)
        finally:
            close_old_connections()
