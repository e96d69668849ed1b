"""Benchmark of the public read path (issue: "fast under an outage's traffic spike").

Seeds a page with 30 showcased components in 5 groups and two years of history (~500
incidents with updates) in a PostgreSQL database of its own, starts gunicorn with production
settings (PostgreSQL, Redis cache), drives it with wrk over loopback and prints:

  (a) req/s, p50, p99 for the warm public page and for summary.json
  (b) the same for a static file of the same size served by whitenoise through the same
      gunicorn, and the ratio a/b
  (c) the 304 path (If-None-Match)
  (d) the cold render: median time and query count
  (e) the page's HTML size, raw and compressed
  (f) the warm page through an nginx micro-cache (docs/nginx-microcache.conf) as a ratio to
      nginx serving the same bytes from disk

Needs PostgreSQL on 127.0.0.1:5432, Redis on 127.0.0.1:6379, and Debian's wrk and nginx
(`apt-get install wrk nginx-light`). Run with `make bench`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PORT = 8765
NGINX_PORT = 8766
HOST = "bench.bench.test"
DURATION = os.environ.get("BENCH_SECONDS", "8")
CONNECTIONS = os.environ.get("BENCH_CONNECTIONS", "32")
ENV = {
    "DJANGO_SETTINGS_MODULE": "statuspage.settings",
    "DEBUG": "false",
    "SECRET_KEY": "bench-only-secret-key-not-for-production-0123456789abcdef",
    "DATABASE_URL": os.environ.get(
        "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/statuspage_bench"
    ),
    "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14"),
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


def prepare_environment() -> None:
    os.environ.update(ENV)
    for tool in ("wrk", "nginx", "psql"):
        if shutil.which(tool) is None and not Path(f"/usr/sbin/{tool}").exists():
            sys.exit(f"bench: {tool} is needed (apt-get install wrk nginx-light postgresql-client)")
    database = ENV["DATABASE_URL"].rsplit("/", 1)[1]
    exists = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-tAc",
         f"SELECT 1 FROM pg_database WHERE datname='{database}'"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    if not exists:
        subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-c",
                        f"CREATE DATABASE {database}"], check=True)  # fmt: skip
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput", "-v0"], check=True, env=os.environ)
    subprocess.run([*manage, "collectstatic", "--noinput", "-v0"], check=True, env=os.environ)


def seed() -> None:
    """30 components in 5 groups, ~500 incidents over two years, a few live ones."""
    import datetime
    import random

    import django

    django.setup()
    from django.db import transaction
    from django.utils import timezone
    from django_scopes import scope

    from components import services as components
    from incidents import services as incidents
    from incidents.models import IncidentUpdate
    from statuspage.actors import Actor
    from statuspage.models import Page
    from statuspage.services import sign_up

    if Page.objects.with_scopes_disabled().filter(slug="bench").exists():
        return
    log("seeding: 30 components, ~500 incidents over two years (takes a minute)…")
    actor = Actor.system("bench")
    random.seed(7)
    page = sign_up(name="Bench", email="bench@bench.test", password="bench-password-123",
                   organization_name="Bench", page_name="Bench Cloud",
                   page_slug="bench").page  # fmt: skip
    now = timezone.now()
    with scope(organization=page.organization_id), transaction.atomic():
        made = []
        start = (now - datetime.timedelta(days=800)).date()
        for g in range(5):
            group = components.create_group(page, actor=actor, name=f"Region {g + 1}")
            for c in range(6):
                made.append(components.create_component(
                    page, actor=actor, name=f"Service {g + 1}.{c + 1}", group=group,
                    description="A part of the platform customers rely on.", start_date=start,
                ))  # fmt: skip
        for n in range(500):
            started = now - datetime.timedelta(minutes=random.randint(60, 730 * 24 * 60))
            duration = datetime.timedelta(minutes=random.randint(5, 240))
            affected = random.sample(made, random.randint(1, 3))
            incident = incidents.create_backfilled_incident(
                page, actor=actor, name=f"Incident {n}: elevated errors",
                impact=random.choice(["minor", "major", "critical"]),
                body="Resolved. We are sorry for the disruption.",
                component_statuses=dict.fromkeys(affected),
                started_at=started, resolved_at=min(started + duration, now),
            )  # fmt: skip
            for status, minutes in (("investigating", 0), ("identified", 10), ("monitoring", 20)):
                # History written directly: a backfilled timeline has no services to replay.
                IncidentUpdate.objects.create(
                    organization_id=page.organization_id, incident=incident, status=status,
                    body=f"{status.title()}: details of what we saw and did.",
                    body_html=f"<p>{status.title()}: details of what we saw and did.</p>",
                    display_at=started + datetime.timedelta(minutes=minutes),
                )  # fmt: skip
        incidents.open_incident(page, actor=actor, name="Elevated API latency", impact="minor",
                                body="We are investigating.",
                                component_statuses={made[0]: None})  # fmt: skip


def measure_cold_render() -> dict:
    import django

    django.setup()
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django_scopes import scope

    from statuspage.models import Page
    from statuspage.publishing import public_content_changed

    page = Page.objects.with_scopes_disabled().get(slug="bench")
    client = Client(HTTP_HOST=HOST)
    client.get("/")  # host map and connections warm
    timings, queries = [], []
    for _ in range(25):
        with scope(organization=page.organization_id):
            public_content_changed(page)
        reset_queries()
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get("/")
            timings.append((time.perf_counter() - started) * 1000)
        queries.append(len(captured.captured_queries))
        assert response.status_code == 200
    html = client.get("/").content
    gz = client.get("/", HTTP_ACCEPT_ENCODING="gzip").content
    br = client.get("/", HTTP_ACCEPT_ENCODING="br").content
    return {
        "cold_ms_median": round(statistics.median(timings), 1),
        "cold_queries": max(queries),
        "html_bytes": len(html),
        "gzip_bytes": len(gz),
        "brotli_bytes": len(br),
        "html": html,
    }


def wrk(url: str, headers: dict[str, str] | None = None) -> dict:
    command = ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{DURATION}s", "--latency",
               "-s", str(ROOT / "bench" / "wrk_report.lua")]  # fmt: skip
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    report = json.loads(output.strip().splitlines()[-1])
    seconds = report["duration_us"] / 1e6
    return {
        "rps": round(report["requests"] / seconds),
        "p50_ms": round(report["p50_us"] / 1000, 2),
        "p99_ms": round(report["p99_us"] / 1000, 2),
        "errors": report["errors"] + report["non2xx"],
    }


def wait_for(url: str, headers: dict[str, str]) -> None:
    import urllib.request

    for _ in range(100):
        try:
            request = urllib.request.Request(url, headers=headers)
            with urllib.request.urlopen(request, timeout=1):
                return
        except Exception:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def start_gunicorn() -> subprocess.Popen:
    command = [str(Path(sys.executable).parent / "gunicorn"), "statuspage.wsgi:application",
               "-b", f"127.0.0.1:{PORT}", "-w", "2", "--log-level", "warning"]  # fmt: skip
    process = subprocess.Popen(command, cwd=ROOT, env=os.environ)
    wait_for(f"http://127.0.0.1:{PORT}/healthz", {"Host": "localhost"})
    return process


def start_nginx(static_dir: Path) -> tuple[subprocess.Popen, Path]:
    prefix = Path(tempfile.mkdtemp(prefix="bench-nginx-"))
    (prefix / "logs").mkdir()
    template = (ROOT / "docs" / "nginx-microcache.conf").read_text()
    config = template.replace("127.0.0.1:8000", f"127.0.0.1:{PORT}").replace(
        "listen 80;", f"listen {NGINX_PORT};"
    )
    config = config.replace("/var/cache/nginx/statuspage", str(prefix / "cache"))
    # As root, nginx's workers drop to nobody, who cannot read our private temp folders.
    user = "user root;\n" if os.geteuid() == 0 else ""
    main = user + (
        f"worker_processes 1; pid {prefix}/nginx.pid; error_log {prefix}/logs/error.log;\n"
        "events { worker_connections 1024; }\n"
        f"http {{ access_log off; include /etc/nginx/mime.types;\n{config}\n"
        f"server {{ listen {NGINX_PORT + 1}; location / {{ root {static_dir}; }} }} }}\n"
    )
    (prefix / "nginx.conf").write_text(main)
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    process = subprocess.Popen([nginx, "-p", str(prefix), "-c", str(prefix / "nginx.conf"),
                                "-g", "daemon off;"])  # fmt: skip
    try:
        wait_for(f"http://127.0.0.1:{NGINX_PORT + 1}/page.html", {})
    except RuntimeError:
        process.terminate()
        raise
    return process, prefix


def main() -> None:
    sys.path.insert(0, str(ROOT))
    prepare_environment()
    subprocess.run(["redis-cli", "-n", ENV["REDIS_URL"].rsplit("/", 1)[1], "flushdb"],
                   check=True, capture_output=True)  # fmt: skip
    seed()
    # Fresh tables have no planner statistics; autovacuum would gather them in production.
    database = ENV["DATABASE_URL"].rsplit("/", 1)[1]
    analyze = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", database, "-qc", "ANALYZE"]
    subprocess.run(analyze, check=True)
    cold = measure_cold_render()
    html = cold.pop("html")
    static_root = ROOT / "staticfiles"
    (static_root / "bench").mkdir(exist_ok=True)
    (static_root / "bench" / "page.html").write_bytes(html)
    disk = Path(tempfile.mkdtemp(prefix="bench-disk-"))
    (disk / "page.html").write_bytes(html)

    gunicorn = start_gunicorn()
    nginx = None
    try:
        base = f"http://127.0.0.1:{PORT}"
        page_headers = {"Host": HOST}
        wait_for(base + "/", page_headers)
        etag = re.search(
            r'ETag: (".*?")',
            subprocess.run(["curl", "-sI", "-H", f"Host: {HOST}", base + "/"],
                           capture_output=True, text=True).stdout,
        )[1]  # fmt: skip
        results = {
            "warm_page": wrk(base + "/", page_headers),
            "summary_json": wrk(base + "/api/v2/summary.json", page_headers),
            "static_same_size": wrk(base + "/static/bench/page.html", {"Host": "localhost"}),
            "not_modified_304": wrk(base + "/", {**page_headers, "If-None-Match": etag}),
        }
        nginx, _prefix = start_nginx(disk)
        wait_for(f"http://127.0.0.1:{NGINX_PORT}/", page_headers)
        # Fill the cache with the variant wrk asks for (no Accept-Encoding; urllib's request
        # above sends "identity", a variant of its own): otherwise the run starts on a miss,
        # and proxy_cache_lock holds all 32 connections, polling every 500 ms.
        subprocess.run(["curl", "-s", "-o", "/dev/null", "-H", f"Host: {HOST}",
                        f"http://127.0.0.1:{NGINX_PORT}/"], check=True)  # fmt: skip
        results["nginx_microcache_page"] = wrk(f"http://127.0.0.1:{NGINX_PORT}/", page_headers)
        results["nginx_disk_same_bytes"] = wrk(f"http://127.0.0.1:{NGINX_PORT + 1}/page.html")
    finally:
        gunicorn.terminate()
        if nginx:
            nginx.terminate()
        gunicorn.wait()
    ratio = results["warm_page"]["rps"] / results["static_same_size"]["rps"]
    nginx_ratio = results["nginx_microcache_page"]["rps"] / results["nginx_disk_same_bytes"]["rps"]
    log("")
    log(f"== public page benchmark (2 gunicorn workers, wrk -t2 -c{CONNECTIONS} -d{DURATION}s)")
    for name, result in results.items():
        log(f"{name:24} {result['rps']:>7} req/s  p50 {result['p50_ms']:>6} ms  "
            f"p99 {result['p99_ms']:>6} ms  errors {result['errors']}")  # fmt: skip
    log(f"(a/b) warm page / static file       {ratio:.2f}   target ≥ 0.90")
    log(f"(d) cold render median               {cold['cold_ms_median']} ms   target ≤ 25 ms")
    log(f"(d) cold render queries              {cold['cold_queries']}   target ≤ 12")
    log(f"(e) HTML raw / gzip / brotli bytes   {cold['html_bytes']} / {cold['gzip_bytes']} / "
        f"{cold['brotli_bytes']}   target compressed ≤ 20 KB")  # fmt: skip
    log(f"(f) nginx micro-cache / nginx disk   {nginx_ratio:.2f}   target ≥ 0.80")
    print(json.dumps({**results, **cold,
                      "ratio_warm_vs_static": round(ratio, 3),
                      "ratio_nginx_cache_vs_disk": round(nginx_ratio, 3)}))  # fmt: skip


if __name__ == "__main__":
    main()
