"""A real local HTTP endpoint that records what is POSTed to it, for webhook tests."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Receiver:
    url: str
    received: list[tuple[dict, bytes]] = field(default_factory=list)
    status: int = 200
    answer: bytes = b""
    # Optional: the answer computed from the request body (e.g. echoing a challenge).
    answer_for: Callable[[bytes], bytes] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay_seconds: float = 0.0


@contextlib.contextmanager
def http_receiver():
    receiver = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            receiver.received.append((dict(self.headers), body))
            if receiver.delay_seconds:
                time.sleep(receiver.delay_seconds)
            answer = receiver.answer_for(body) if receiver.answer_for else receiver.answer
            self.send_response(receiver.status)
            for name, value in receiver.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    receiver.url = f"http://127.0.0.1:{server.server_port}/hook"
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
