"""Benchmark of the notification fan-out (issue: "an email fan-out that loses nothing").

Seeds 100,000 confirmed subscribers and lets two RQ workers deliver notified updates, posted
through the console view, to Postfix's smtp-sink (whose own cost is negligible). For each of
`BENCH_ROUNDS` updates (3) it measures the time from the post to the last accepted message and
emails/s, and between rounds the raw ceiling: the same number of processes pushing the same
pre-built message over one SMTP connection each. A round's ratio is taken against the mean of
the ceilings just before and after it; the median round is printed, with every round below it,
as well as peak worker RSS and the console's post-update response time (p50/p95 over all
posts). On a shared machine the speed drifts by tens of per cent within minutes: compare the
ratios, not the seconds.

Needs PostgreSQL and Redis on 127.0.0.1 and Debian's postfix package (for smtp-sink).
`BENCH_SUBSCRIBERS` changes the count.
"""

from __future__ import annotations

import json
import os
import signal
import smtplib
import statistics
import subprocess
import sys
import time
from multiprocessing import Pool
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SUBSCRIBERS = int(os.environ.get("BENCH_SUBSCRIBERS", "100000"))
WORKERS = 2
# Notified updates, each delivered to everyone, with the raw ceiling measured between them.
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
# SimpleWorker runs jobs in the worker process: no fork and no new connections per job.
WORKER_ARGS = os.environ.get("BENCH_WORKER_ARGS", "").split()
SINK_PORT = 2525
ENV = {
    "DJANGO_SETTINGS_MODULE": "statuspage.settings",
    "DEBUG": "false",
    "SECRET_KEY": "bench-only-secret-key-not-for-production-0123456789abcdef",
    "DATABASE_URL": os.environ.get(
        "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/statuspage_bench"
    ),
    "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13"),
    "EMAIL_URL": f"smtp://127.0.0.1:{SINK_PORT}/?timeout=30",
    "APP_HOST": "localhost",
    "BASE_DOMAIN": "bench.test",
    "SITE_SCHEME": "http",
    "SECURE_SSL_REDIRECT": "false",
    "BEHIND_TLS_PROXY": "false",
    "AXES_ENABLED": "false",
    "LOG_LEVEL": "WARNING",
}


def log(message: str) -> None:
    print(message, flush=True)


def raw_sender(job: tuple[int, bytes]) -> float:
    count, message = job
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", SINK_PORT) as smtp:
        for _ in range(count):
            smtp.sendmail("status@bench.test", ["someone@example.test"], message)
    return time.perf_counter() - started


def raw_ceiling(total: int, message: bytes) -> float:
    """The same number of processes pushing the very bytes of a real notification (the last
    update's email, as the send jobs build it) over one SMTP connection each: the ceiling
    without the database, the queue or any per-recipient work."""
    with Pool(WORKERS) as pool:
        started = time.perf_counter()
        pool.map(raw_sender, [(total // WORKERS, message)] * WORKERS)
        return total / (time.perf_counter() - started)


def real_message(incident) -> bytes:
    """The bytes one subscriber would get for the incident's latest update."""
    from subscribers.emails import prepare_update
    from subscribers.models import Delivery, Subscriber

    update = incident.updates.order_by("-id").first()
    subscriber = Subscriber.objects.filter(page=incident.page).first()
    delivery = Delivery(pk=1, update=update, subscriber=subscriber)
    message = prepare_update(update).for_delivery(delivery)[1]
    return message if isinstance(message, bytes) else message.message().as_bytes()


def post_update(client, url: str, body: str, *, notify: bool) -> tuple[float, float]:
    """Post an update through the console; returns (when it was posted, its ms)."""
    data = {"status": "identified", "body": body}
    if notify:
        data["deliver_notifications"] = "on"
    posted_at, started = time.time(), time.perf_counter()
    response = client.post(url, data)
    assert response.status_code == 302, response.status_code
    return posted_at, (time.perf_counter() - started) * 1000


def wait_for_delivery(incident, posted_at: float, workers) -> dict:
    """Wait until the incident's latest update reached every subscriber; its figures."""
    from django.db.models import Max
    from django_scopes import scopes_disabled

    from incidents.models import IncidentUpdate
    from subscribers.models import Delivery

    with scopes_disabled():
        update = IncidentUpdate.objects.filter(incident=incident).order_by("-id").first()
    import django_rq
    from rq.registry import StartedJobRegistry

    queue = django_rq.get_queue("default")
    running = StartedJobRegistry(queue=queue)
    peak_kb, deadline = 0, time.time() + 600
    while time.time() < deadline:
        peak_kb = max(peak_kb, *(sum(rss_kb(p) for p in family(w.pid)) for w in workers))
        # Done when the queue is idle and the update fanned out with nothing pending. Asked of
        # Redis first: reading the update's 100,000 rows every second would load the run.
        if queue.count == 0 and running.count == 0:
            with scopes_disabled():
                update.refresh_from_db(fields=["fanned_out_at"])
                pending = Delivery.objects.filter(update=update, status="pending").exists()
            if update.fanned_out_at and not pending:
                break
        time.sleep(0.25)
    with scopes_disabled():
        deliveries = Delivery.objects.filter(update=update)
        last = deliveries.aggregate(Max("sent_at"))["sent_at__max"]
        sent = deliveries.filter(status="sent").count()
        not_sent = deliveries.exclude(status="sent").count()
    seconds = last.timestamp() - posted_at
    return {"seconds": seconds, "rate": sent / seconds, "peak_kb": peak_kb, "not_sent": not_sent}


def rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def family(pid: int) -> list[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children")
    try:
        kids = [int(p) for p in children.read_text().split()]
    except OSError:
        kids = []
    return [pid, *[k for kid in kids for k in family(kid)]]


def main() -> None:
    os.environ.update(ENV)
    if not Path("/usr/sbin/smtp-sink").exists():
        sys.exit("bench: needs Debian's postfix package for /usr/sbin/smtp-sink")
    from bench.public_page import prepare_environment

    prepare_environment()
    subprocess.run(["redis-cli", "-n", ENV["REDIS_URL"].rsplit("/", 1)[1], "flushdb"],
                   check=True, capture_output=True)  # fmt: skip
    sink = subprocess.Popen(["/usr/sbin/smtp-sink", "-u", "nobody", "-c",
                             f"127.0.0.1:{SINK_PORT}", "1000"],
                            stdout=subprocess.DEVNULL)  # fmt: skip
    time.sleep(0.5)
    workers = []
    try:
        import django

        django.setup()
        from django.test import Client
        from django_scopes import scope, scopes_disabled

        from incidents.models import Incident
        from incidents.services import open_incident
        from statuspage.actors import Actor
        from statuspage.models import Page, User
        from statuspage.services import sign_up
        from subscribers.models import Delivery, Subscriber

        with scopes_disabled():
            page = Page.objects.filter(slug="notify").first()
            if page is None:
                page = sign_up(name="Notify", email="notify@bench.test",
                               password="bench-password-123", organization_name="Notify",
                               page_name="Notify", page_slug="notify").page  # fmt: skip
            have = Subscriber.objects.filter(page=page).count()
            if have < SUBSCRIBERS:
                log(f"seeding {SUBSCRIBERS - have} subscribers…")
                Subscriber.objects.bulk_create(
                    (
                        Subscriber(
                            organization_id=page.organization_id,
                            page=page,
                            email=f"reader{i}@example.test",
                            confirmed_at="2026-01-01T00:00Z",
                        )
                        for i in range(have, SUBSCRIBERS)
                    ),
                    batch_size=5000,
                )
            Delivery.objects.filter(update__incident__page=page).delete()
            owner = User.objects.get(email="notify@bench.test")
        with scope(organization=page.organization_id):
            incident = Incident.objects.filter(page=page).first() or open_incident(
                page,
                actor=Actor.system("bench"),
                name="Bench incident",
                deliver_notifications=False,
            )
        database = ENV["DATABASE_URL"].rsplit("/", 1)[1]
        # The previous run's deliveries were just deleted: vacuum them now, or autovacuum
        # does it during the measured run.
        analyze = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", database, "-qc",
                   "VACUUM ANALYZE"]  # fmt: skip
        subprocess.run(analyze, check=True)

        with scope(organization=page.organization_id):
            sample = real_message(incident)
        log(f"raw ceiling: {WORKERS} processes × one SMTP connection, a real {len(sample):,}-byte"
            " message…")  # fmt: skip
        ceiling_before = raw_ceiling(min(SUBSCRIBERS, 40000), sample)

        command = [sys.executable, "manage.py", "rqworker", "default", *WORKER_ARGS]
        for _ in range(WORKERS):
            workers.append(
                subprocess.Popen(command, cwd=ROOT, env=os.environ,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            )  # fmt: skip
        time.sleep(3)  # workers connect and wait

        client = Client(HTTP_HOST="localhost")
        client.force_login(owner)
        url = f"/console/notify/incidents/{incident.public_id}/updates/"
        timings = []
        for n in range(10):  # the console's answer to an update nobody is notified of
            timings.append(post_update(client, url, f"Update {n}", notify=False)[1])
        ceilings, rounds = [ceiling_before], []
        for n in range(ROUNDS):
            posted_at, took = post_update(client, url, f"Notified update {n}", notify=True)
            timings.append(took)
            rounds.append(wait_for_delivery(incident, posted_at, workers))
            # Measured again after each round: on a shared machine the ceiling drifts by tens
            # of per cent within minutes, so a round's ratio is taken against the mean of the
            # ceilings measured just before and just after it.
            ceilings.append(raw_ceiling(min(SUBSCRIBERS, 40000), sample))
        for n, result in enumerate(rounds):
            result["ceiling"] = (ceilings[n] + ceilings[n + 1]) / 2
            result["ratio"] = result["rate"] / result["ceiling"]
        middle = sorted(rounds, key=lambda r: r["ratio"])[len(rounds) // 2]
        timings.sort()
        p95 = timings[int(len(timings) * 0.95) - 1]
        peak_kb = max(r["peak_kb"] for r in rounds)
        log("")
        log(f"== notification benchmark: {SUBSCRIBERS} subscribers, {WORKERS} RQ workers, "
            f"smtp-sink, {ROUNDS} round(s); the median round:")  # fmt: skip
        log(f"post → last accepted message   {middle['seconds']:.1f} s   target ≤ 90 s")
        log(f"throughput                     {middle['rate']:.0f} emails/s   target ≥ 1,100")
        log(f"raw ceiling (same processes)   {middle['ceiling']:.0f} emails/s;  "
            f"ratio {middle['ratio']:.2f}   target ≥ 0.70")  # fmt: skip
        log(f"peak worker RSS (worker+horse) {peak_kb / 1024:.0f} MB   target ≤ 300 MB")
        log(f"post-update response           p50 {statistics.median(timings):.0f} ms, "
            f"p95 {p95:.0f} ms   target p95 ≤ 150 ms")  # fmt: skip
        for n, result in enumerate(rounds):
            log(f"  round {n + 1}: {result['seconds']:.1f} s, {result['rate']:.0f} emails/s, "
                f"ceiling {result['ceiling']:.0f}, ratio {result['ratio']:.2f}, "
                f"not sent {result['not_sent']}")  # fmt: skip
        print(json.dumps({"seconds": round(middle["seconds"], 1),
                          "emails_per_second": round(middle["rate"]),
                          "raw_ceiling": round(middle["ceiling"]),
                          "ratio": round(middle["ratio"], 2),
                          "peak_rss_mb": round(peak_kb / 1024), "post_p95_ms": round(p95),
                          "ratios": [round(r["ratio"], 2) for r in rounds]}))  # fmt: skip
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            worker.wait(timeout=30)
        sink.terminate()


if __name__ == "__main__":
    main()
