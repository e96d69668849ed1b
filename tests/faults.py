"""Fault injection for tests that must see a dependency fail: a private Redis server the test may
kill, and a TCP proxy in front of any server (PostgreSQL, Redis, SMTP) that the test may cut.

Faults are always injected into something the test started itself, never into the PostgreSQL or
Redis the rest of the suite (or another test run on the same machine) is using.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, *, timeout: float = 10.0, up: bool = True) -> None:
    """Wait until something accepts connections on `port` (or, with up=False, nothing does)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                if up:
                    return
        except OSError:
            if not up:
                return
        time.sleep(0.05)
    state = "accepting" if up else "refusing"
    raise TimeoutError(f"port {port} is not {state} connections after {timeout}s")


class PrivateRedis:
    """A throwaway redis-server on a free port, keeping nothing on disk.

    `stop()` kills it (SIGKILL: what a crashed host looks like), `start()` brings a fresh, empty
    one back on the same port, `pause()`/`resume()` freeze it (connections hang, nothing refuses).
    """

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.process: subprocess.Popen | None = None
        self._dir = tempfile.mkdtemp(prefix="private-redis-")

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> PrivateRedis:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", self._dir, "--loglevel", "warning"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_for_port(self.port)
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)  # a paused server must die too
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None
        wait_for_port(self.port, up=False)

    def pause(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    @property
    def is_running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self._dir, ignore_errors=True)


@contextlib.contextmanager
def private_redis() -> Iterator[PrivateRedis]:
    server = PrivateRedis().start()
    try:
        yield server
    finally:
        server.close()


class TcpProxy:
    """Forwards 127.0.0.1:`port` to `target_host`:`target_port`, until told otherwise.

    - `cut()`: every open connection is reset and new ones are refused (the server is gone);
    - `blackhole()`: connections are accepted but nothing is forwarded either way (a network
      that drops packets: clients hang until their own timeout);
    - `restore()`: forwarding again, on the same port.
    """

    def __init__(self, target_port: int, target_host: str = "127.0.0.1", port: int | None = None):
        self.target = (target_host, target_port)
        self.port = port or free_port()
        self.mode = "forward"
        self._lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self._accepting: threading.Thread | None = None

    def start(self) -> TcpProxy:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(128)
        self._listener = listener
        self._accepting = threading.Thread(target=self._accept, args=(listener,), daemon=True)
        self._accepting.start()
        return self

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # the listener was closed by cut() or close()
            if self.mode == "blackhole":
                self._track(client)
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            self._track(client)
            self._track(upstream)
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _track(self, sock: socket.socket) -> None:
        with self._lock:
            self._connections.add(sock)

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                while self.mode == "blackhole":
                    time.sleep(0.05)  # hold the bytes back: the peer waits, as on a dead link
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                self._drop(sock)

    def _drop(self, sock: socket.socket) -> None:
        with self._lock:
            self._connections.discard(sock)
        with contextlib.suppress(OSError):
            # Linger 0: close with a reset, as a crashed peer's kernel would.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        # close() alone does not release a socket another thread is blocked in recv() on, so
        # an idle client's connection would stay open through the "outage": shutdown() wakes
        # that recv first, and the close with linger 0 then sends the reset.
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            sock.close()

    def _drop_all(self) -> None:
        with self._lock:
            connections = list(self._connections)
        for sock in connections:
            self._drop(sock)

    def cut(self) -> None:
        self.mode = "cut"
        if self._listener is not None:
            with contextlib.suppress(OSError):
                self._listener.close()
            self._listener = None
        self._drop_all()
        wait_for_port(self.port, up=False)

    def blackhole(self) -> None:
        self.mode = "blackhole"

    def restore(self) -> None:
        if self.mode == "blackhole":
            self._drop_all()  # their sessions are out of step now; clients reconnect
        self.mode = "forward"
        if self._listener is None:
            self.start()

    def close(self) -> None:
        self.cut()


@contextlib.contextmanager
def tcp_proxy(target_port: int, target_host: str = "127.0.0.1") -> Iterator[TcpProxy]:
    proxy = TcpProxy(target_port, target_host).start()
    try:
        yield proxy
    finally:
        proxy.close()


def postgres_port() -> int:
    """The port of the PostgreSQL the tests use (DATABASE_URL), for a proxy in front of it."""
    from urllib.parse import urlsplit

    return urlsplit(os.environ.get("DATABASE_URL", "")).port or 5432
