"""A real local HTTP(S) endpoint that records what is POSTed to it, for webhook tests."""

from __future__ import annotations

import contextlib
import ssl
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
    paths: list[str] = field(default_factory=list)  # each request's target, as received


class _TLSServer(ThreadingHTTPServer):
    """Does the TLS handshake in the request's own thread, so a client that rejects our
    certificate leaves the server serving (and quiet)."""

    def __init__(self, address, handler, context: ssl.SSLContext):
        super().__init__(address, handler)
        self.context = context

    def finish_request(self, request, client_address):
        try:
            tls_request = self.context.wrap_socket(request, server_side=True)
        except OSError:  # ssl.SSLError included: the handshake failed
            return
        try:
            super().finish_request(tls_request, client_address)
        finally:
            tls_request.close()


@contextlib.contextmanager
def http_receiver(tls: ssl.SSLContext | None = None):
    """Listens on 127.0.0.1; with a server-side `tls` context it speaks HTTPS."""
    receiver = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            receiver.received.append((dict(self.headers), body))
            receiver.paths.append(self.path)
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

    if tls is None:
        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    else:
        server = _TLSServer(("127.0.0.1", 0), Handler, tls)
    # A short poll so leaving the `with` block (shutdown) takes milliseconds, not half a second.
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    scheme = "https" if tls else "http"
    receiver.url = f"{scheme}://127.0.0.1:{server.server_port}/hook"
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
