import signal

from django.conf import settings
from django.core.management.base import BaseCommand

from statuspage.periodic import run_due_jobs, run_forever


class Command(BaseCommand):
    help = (
        "Enqueue the periodic jobs (maintenance transitions, notification sweeps) on their "
        "intervals. Without REDIS_URL they run in this process."
    )

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Run every job once and exit.")
        parser.add_argument("--tick", type=float, default=5.0, help="Seconds between checks.")

    def handle(self, *args, once: bool, tick: float, **options):
        if once:
            done = run_due_jobs({}, float("inf"))
            self.stdout.write(f"ran {len(done)} periodic job(s)")
            return
        stopping = False

        def stop(*_):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        mode = "in-process" if settings.JOBS_RUN_IN_PROCESS else "via RQ"
        self.stdout.write(f"periodic jobs running {mode}: {len(settings.PERIODIC_JOBS)} job(s)")
        run_forever(tick_seconds=tick, should_stop=lambda: stopping)
