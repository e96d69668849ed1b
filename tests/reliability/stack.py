"""The production shape as subprocesses, with a fault switch on each dependency.

`Stack` starts gunicorn (statuspage.wsgi:application, DEBUG off), RQ workers
(`rqworker default --with-scheduler`) and `run_periodic_jobs`, all against the test database
through a `TcpProxy` (cut it: PostgreSQL is gone), one `PrivateRedis` for cache and queue (as
docker-compose has it; stop it: Redis is gone) and `MailSink`, an SMTP server whose mode is
switched at run time (accept, 451 every message, hang). `Reader` threads read the public page
meanwhile. Nothing here touches the PostgreSQL or Redis other test runs share: the faults go
into the proxy and the private Redis only.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import json
import logging
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from aiosmtpd.controller import Controller

from tests.faults import PrivateRedis, TcpProxy, free_port

ROOT = Path(__file__).resolve().parents[2]
APP_HOST = "testserver"
BASE_DOMAIN = "status.test"
RECOVERY_TARGET_SECONDS = 60.0
OTHER_SESSIONS = """SELECT pid, state, left(query, 60) FROM pg_stat_activity
 WHERE datname = current_database() AND pid <> pg_backend_pid()"""


@dataclass(frozen=True)
class Scale:
    """How big a run is: CI's (the default) or the issue's (CHAOS_SCALE=big)."""

    name: str
    subscribers: int
    redis_down_seconds: float
    postgres_down_seconds: float
    smtp_451_seconds: float
    smtp_hang_seconds: float
    storm_alerts: int
    sweep_seconds: int | None  # None: the production intervals of settings.PERIODIC_JOBS
    batch_size: int | None  # None: the production DELIVERY_BATCH_SIZE
    smtp_latency_seconds: float  # per message, in the worker-kill scenario (a distant relay)
    reader_threads: int = 3

    @classmethod
    def from_environment(cls) -> Scale:
        if os.environ.get("CHAOS_SCALE", "small") == "big":
            return cls("big", subscribers=10_000, redis_down_seconds=60,
                       postgres_down_seconds=30, smtp_451_seconds=120, smtp_hang_seconds=60,
                       storm_alerts=2_000, sweep_seconds=None, batch_size=None,
                       smtp_latency_seconds=0.002, reader_threads=4)  # fmt: skip
        return cls("small", subscribers=200, redis_down_seconds=5, postgres_down_seconds=5,
                   smtp_451_seconds=6, smtp_hang_seconds=8, storm_alerts=200, sweep_seconds=5,
                   batch_size=50, smtp_latency_seconds=0.01)  # fmt: skip


# --- SMTP --------------------------------------------------------------------------------

# aiosmtpd logs every SMTP command at INFO: tens of thousands of lines per scenario.
logging.getLogger("mail.log").setLevel(logging.WARNING)

MESSAGE_ID = re.compile(rb"^Message-ID:\s*<delivery-(\d+)\.([^@>]+)@", re.MULTILINE | re.I)


def normalise_address(address: str) -> str:
    """Lower case, an IDNA (xn--) domain decoded: how a recipient is counted."""
    local, _, domain = address.strip().strip("<>").rpartition("@")
    with contextlib.suppress(UnicodeError):
        domain = domain.encode("ascii").decode("idna")
    return f"{local}@{domain}".lower()


class MailSink:
    """An SMTP server (SMTPUTF8 on, as Postfix has it) that counts what it accepted, per
    recipient and incident update (the update's public id is in our Message-ID).

    `mode`: "accept"; "defer" answers every message 451; "hang" holds each message's DATA
    until the mode changes and then answers 451 without keeping it (the client has long given
    up; a server that never answered never accepted). `latency` delays each accepted message.
    """

    def __init__(self):
        self.mode = "accept"
        self.latency = 0.0
        self.accepted: list[tuple[str, str, float]] = []  # (recipient, update id, when)
        self.answers: Counter[str] = Counter()
        self.port = free_port()
        self._lock = threading.Lock()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port,
                                      enable_SMTPUTF8=True)  # fmt: skip

    def start(self) -> MailSink:
        self._controller.start()
        return self

    def stop(self) -> None:
        self.mode = "accept"  # let a held DATA go, so the server's loop can stop
        with contextlib.suppress(Exception):
            self._controller.stop()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        held = False
        while self.mode == "hang":
            held = True
            await asyncio.sleep(0.05)
        if held or self.mode == "defer":
            self.answers["451"] += 1
            return "451 4.3.0 Try again later"
        if self.latency:
            await asyncio.sleep(self.latency)
        found = MESSAGE_ID.search(envelope.content)
        update = found.group(2).decode() if found else ""
        now = time.monotonic()
        with self._lock:
            for recipient in envelope.rcpt_tos:
                self.accepted.append((normalise_address(recipient), update, now))
        self.answers["250"] += 1
        return "250 Message accepted"

    def copies(self, update: str) -> Counter[str]:
        with self._lock:
            return Counter(r for r, u, _ in self.accepted if u == update)

    def copies_of_any(self, updates: set[str]) -> Counter[str]:
        with self._lock:
            return Counter(r for r, u, _ in self.accepted if u in updates)

    def count(self) -> int:
        with self._lock:
            return len(self.accepted)

    def last_accepted_at(self) -> float | None:
        with self._lock:
            return self.accepted[-1][2] if self.accepted else None


# --- HTTP --------------------------------------------------------------------------------


@dataclass
class Answer:
    status: int  # 0: no answer (refused, reset, timed out)
    body: bytes = b""
    error: str = ""


def request(port: int, method: str, path: str, *, host: str, body: bytes | None = None,
            headers: dict | None = None, timeout: float = 10.0) -> Answer:  # fmt: skip
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers={"Host": host, **(headers or {})})
        response = connection.getresponse()
        return Answer(response.status, response.read())
    except (OSError, http.client.HTTPException) as error:
        return Answer(0, error=f"{type(error).__name__}: {error}")
    finally:
        connection.close()


class Reader:
    """Threads that read the public page, its summary JSON and an incident page in a loop,
    counting answers, 5xx and requests that got no answer at all."""

    def __init__(self, port: int, host: str, paths: list[str], threads: int):
        self.port, self.host, self.paths = port, host, paths
        self.statuses: Counter[int] = Counter()
        self.errors: Counter[str] = Counter()
        self.last_failure_at: float | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._loop, args=(i,), daemon=True)
                         for i in range(threads)]  # fmt: skip

    def start(self) -> Reader:
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=15)

    def _loop(self, offset: int) -> None:
        n = offset
        while not self._stop.is_set():
            path = self.paths[n % len(self.paths)]
            n += 1
            answer = request(self.port, "GET", path, host=self.host, timeout=10)
            with self._lock:
                if answer.status:
                    self.statuses[answer.status] += 1
                else:
                    self.errors[answer.error.split(":")[0]] += 1
                if answer.status == 0 or answer.status >= 500:
                    self.last_failure_at = time.monotonic()
            time.sleep(0.01)

    @property
    def answered(self) -> int:
        return sum(self.statuses.values())

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500)

    @property
    def unanswered(self) -> int:
        return sum(self.errors.values())


# --- PostgreSQL -----------------------------------------------------------------------------


# --- The processes -----------------------------------------------------------------------


@dataclass
class Process:
    name: str
    popen: subprocess.Popen
    log: Path

    def alive(self) -> bool:
        return self.popen.poll() is None

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, sig)

    def stop(self) -> None:
        self.kill(signal.SIGTERM)
        try:
            self.popen.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.kill(signal.SIGKILL)
            self.popen.wait(timeout=10)


@dataclass
class Stack:
    database: dict  # the test database's settings_dict
    scale: Scale
    workdir: Path
    extra_env: dict = field(default_factory=dict)
    redis: PrivateRedis = field(init=False)
    postgres: TcpProxy = field(init=False)
    sink: MailSink = field(init=False)
    web_port: int = field(init=False)
    processes: list[Process] = field(default_factory=list)

    def start(self, *, workers: int = 2) -> Stack:
        self.redis = PrivateRedis().start()
        self.postgres = TcpProxy(int(self.database["PORT"] or 5432),
                                 self.database["HOST"] or "127.0.0.1").start()  # fmt: skip
        self.sink = MailSink().start()
        self.web_port = free_port()
        self.spawn("web", "-m", "gunicorn", "statuspage.wsgi:application", "--bind",
                   f"127.0.0.1:{self.web_port}", "--workers", "2", "--timeout", "30",
                   "--graceful-timeout", "5")  # fmt: skip
        for _ in range(workers):
            self.start_worker()
        self.spawn("periodic", "manage.py", "run_periodic_jobs", "--tick", "1")
        self.wait_until_serving()
        return self

    def env(self) -> dict[str, str]:
        database = self.database
        credentials = quote(database["USER"] or "postgres", safe="")
        if database.get("PASSWORD"):
            credentials += ":" + quote(database["PASSWORD"], safe="")
        replaced = ("TEST_DATABASE_NAME", "DATABASE_URL", "REDIS_URL", "EMAIL_URL")
        env = {key: value for key, value in os.environ.items() if key not in replaced}
        env.update({
            "DJANGO_SETTINGS_MODULE": "tests.reliability.stack_settings",
            "PYTHONPATH": str(ROOT),
            "DEBUG": "false",
            "TESTING": "1",
            "SECRET_KEY": "chaos-only-not-a-secret-0123456789abcdefghijklmnopqrstuvwxyz",
            "SECURE_SSL_REDIRECT": "false",
            "BEHIND_TLS_PROXY": "false",
            "SECURE_HSTS_SECONDS": "0",
            "APP_HOST": APP_HOST,
            "BASE_DOMAIN": BASE_DOMAIN,
            "SITE_SCHEME": "http",
            "SITE_PORT": "",
            "VAR_DIR": str(self.workdir / "var"),
            "DATABASE_URL": f"postgres://{credentials}@127.0.0.1:{self.postgres.port}/"
                            f"{database['NAME']}",
            "REDIS_URL": self.redis.url(0),
            "EMAIL_URL": f"smtp://127.0.0.1:{self.sink.port}/?timeout=10",
            "WEBHOOK_ALLOW_PRIVATE_ADDRESSES": "true",
            "API_REQUESTS_PER_MINUTE": "100000",
            # Back-off short enough that a retry after the fault is seen within the run (the
            # production 30 s doubling to an hour would put the next try minutes after it).
            "DELIVERY_RETRY_BASE_SECONDS": "2" if self.scale.name == "small" else "5",
            "DELIVERY_RETRY_MAX_SECONDS": "10" if self.scale.name == "small" else "30",
            "LOG_LEVEL": "INFO",
            "PYTHONUNBUFFERED": "1",
        })  # fmt: skip
        # The lease stays at its production value: how long a dead worker's rows wait is
        # what the worker-kill scenario measures. CHAOS_LEASE_SECONDS overrides it.
        if os.environ.get("CHAOS_LEASE_SECONDS"):
            env["DELIVERY_LEASE_SECONDS"] = os.environ["CHAOS_LEASE_SECONDS"]
        if self.scale.sweep_seconds:
            env["CHAOS_SWEEP_SECONDS"] = str(self.scale.sweep_seconds)
        if self.scale.batch_size:
            env["DELIVERY_BATCH_SIZE"] = str(self.scale.batch_size)
        env.update(self.extra_env)
        return env

    def spawn(self, name: str, *args: str) -> Process:
        log = self.workdir / f"{name}.log"
        n = sum(1 for p in self.processes if p.name.split("#")[0] == name)
        if n:
            name = f"{name}#{n}"
            log = self.workdir / f"{name}.log"
        with log.open("ab") as out:
            popen = subprocess.Popen([sys.executable, *args], cwd=ROOT, env=self.env(),
                                     stdout=out, stderr=subprocess.STDOUT,
                                     start_new_session=True)  # fmt: skip
        process = Process(name, popen, log)
        self.processes.append(process)
        return process

    def start_worker(self) -> Process:
        return self.spawn("worker", "manage.py", "rqworker", "default", "--with-scheduler")

    @property
    def workers(self) -> list[Process]:
        return [p for p in self.processes if p.name.startswith("worker") and p.alive()]

    def wait_until_serving(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if request(self.web_port, "GET", "/healthz", host=APP_HOST, timeout=2).status == 200:
                return
            time.sleep(0.1)
        raise TimeoutError(f"gunicorn did not serve /healthz in {timeout}s; see {self.workdir}")

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.stop()
        self.sink.stop()
        self.postgres.close()
        self.redis.close()
        self._wait_for_sessions_to_end()

    def _wait_for_sessions_to_end(self, timeout: float = 10.0) -> None:
        """The backends of the processes' connections outlive them for a moment; the test
        database is flushed (and at the end dropped) only once they are gone."""
        from django.db import connection

        deadline = time.monotonic() + timeout
        sessions = []
        while time.monotonic() < deadline:
            with connection.cursor() as cursor:
                cursor.execute(OTHER_SESSIONS)
                sessions = cursor.fetchall()
            if not sessions:
                return
            time.sleep(0.1)
        print(f"{len(sessions)} sessions outlived the stack: {sessions[:5]}", file=sys.stderr)

    # --- what the operator and the monitoring tools do, through HTTP -----------------------

    def api(self, method: str, path: str, key: str, payload: dict | None = None) -> Answer:
        body = json.dumps(payload).encode() if payload is not None else None
        return request(self.web_port, method, f"/api/v1{path}", host=APP_HOST, body=body,
                       headers={"Authorization": f"OAuth {key}",
                                "Content-Type": "application/json"})  # fmt: skip

    def public(self, slug: str, path: str) -> Answer:
        return request(self.web_port, "GET", path, host=f"{slug}.{BASE_DOMAIN}")

    def reader(self, slug: str, paths: list[str]) -> Reader:
        return Reader(self.web_port, f"{slug}.{BASE_DOMAIN}", paths, self.scale.reader_threads)

    def log_tail(self, lines: int = 6) -> str:
        parts = []
        for process in self.processes:
            text = process.log.read_text(errors="replace").splitlines()
            errors = [line for line in text if "Error:" in line]
            parts.append(f"--- {process.name} ({process.log}): {len(errors)} error lines")
            parts.extend(list(dict.fromkeys(errors))[-lines:])  # the distinct ones, latest
        return "\n".join(parts)
