"""The outbound POST against real local receivers: answers and errors, no redirects, the
private-address guard, one DNS lookup per POST whose checked address is the one connected to,
and TLS verified against the name.

DNS is the edge we replace (socket.getaddrinfo). Where sockets connect is observed through
Python's `socket.connect` audit event, which also serves as the tests' firewall: only loopback
is reachable, so a test that makes us aim at a public address never leaves the machine."""

from __future__ import annotations

import errno
import hashlib
import hmac
import ipaddress
import os
import shutil
import socket
import ssl
import subprocess
import sys
from urllib.parse import urlsplit

import pytest

from statuspage.outbound_http import OutboundError, check_destination, post_signed_json
from tests.http_receiver import http_receiver

BODY = b'{"hello": "world"}'
SECRET = "s3cret"
NAME = "hooks.example.test"

_connects: list | None = None  # socket.connect addresses while a test records them


def _observe(event: str, args: tuple) -> None:
    """Records where sockets connect; while recording, also a firewall: anything but loopback
    is refused (an audit hook may abort the operation it audits), so no test reaches out."""
    if event != "socket.connect" or _connects is None:
        return
    address = args[1]
    _connects.append(address)
    if isinstance(address, tuple) and not ipaddress.ip_address(address[0]).is_loopback:
        raise ConnectionRefusedError(errno.ECONNREFUSED, "Refused by the test's firewall")


sys.addaudithook(_observe)  # hooks cannot be removed: this one acts only while recording


@pytest.fixture
def connects():
    """The addresses this test's sockets connect to, in order (only loopback ones succeed)."""
    global _connects
    _connects = []
    yield _connects
    _connects = None


@pytest.fixture(autouse=True)
def _short_timeout(settings):
    settings.WEBHOOK_TIMEOUT = 2


@pytest.fixture
def production(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False


def _answer(address: str, port: int) -> tuple:
    if ipaddress.ip_address(address).version == 4:
        return (socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port))
    return (socket.AF_INET6, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port, 0, 0))


@pytest.fixture
def dns(monkeypatch):
    """`dns.answers` is a list of answers (each a list of addresses), one per lookup; the last
    one repeats. `dns.lookups` records the names looked up."""

    class FakeDNS:
        def __init__(self):
            self.answers: list[list[str]] = []
            self.lookups: list[str] = []

        def getaddrinfo(self, host, port, family=0, type=0, proto=0, flags=0):
            self.lookups.append(host)
            answer = self.answers[min(len(self.lookups), len(self.answers)) - 1]
            return [_answer(address, port) for address in answer]

    fake = FakeDNS()
    monkeypatch.setattr(socket, "getaddrinfo", fake.getaddrinfo)
    return fake


def port_of(receiver) -> int:
    return urlsplit(receiver.url).port


def post(url: str, **headers) -> bytes:
    return post_signed_json(url, BODY, secret=SECRET, headers=headers or None)


# --- Answers --------------------------------------------------------------------------------


def test_post_sends_signed_json_and_returns_the_first_kb_of_the_answer():
    with http_receiver() as receiver:
        receiver.answer = b"a" * 1000 + b"b" * 2000
        answer = post(receiver.url + "?page=1", **{"X-Status-Event": "incident.triggered"})
    assert answer == b"a" * 1000 + b"b" * 24
    [(headers, body)] = receiver.received
    assert (receiver.paths, body) == (["/hook?page=1"], BODY)
    expected = "sha256=" + hmac.new(SECRET.encode(), BODY, hashlib.sha256).hexdigest()
    assert (headers["X-Status-Signature"], headers["X-Status-Event"]) == (
        expected,
        "incident.triggered",
    )
    assert (headers["Content-Type"], headers["User-Agent"]) == (
        "application/json",
        "StatusPage-Webhook/1.0",
    )
    assert headers["Host"] == f"127.0.0.1:{port_of(receiver)}"


@pytest.mark.parametrize(
    ("status", "permanent"),
    [(400, True), (404, True), (410, True), (408, False), (429, False), (500, False),
     (503, False)],
)  # fmt: skip
def test_error_statuses_say_whether_a_retry_could_help(status, permanent):
    with http_receiver() as receiver:
        receiver.status = status
        with pytest.raises(OutboundError) as error:
            post(receiver.url)
    assert (str(error.value), error.value.permanent, error.value.retry_after) == (
        f"HTTP {status}",
        permanent,
        None,
    )


def test_a_503_reports_its_retry_after():
    with http_receiver() as receiver:
        receiver.status, receiver.headers = 503, {"Retry-After": "120"}
        with pytest.raises(OutboundError) as error:
            post(receiver.url)
    assert (str(error.value), error.value.permanent, error.value.retry_after) == (
        "HTTP 503",
        False,
        120.0,
    )


def test_a_refused_connection_may_succeed_on_a_retry():
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]  # nothing listens here once it is closed
    with pytest.raises(OutboundError) as error:
        post(f"http://127.0.0.1:{port}/hook")
    assert (str(error.value), error.value.permanent) == (
        "ConnectionRefusedError: [Errno 111] Connection refused",
        False,
    )


def test_a_timeout_may_succeed_on_a_retry(settings):
    settings.WEBHOOK_TIMEOUT = 0.3
    with http_receiver() as receiver:
        receiver.delay_seconds = 1
        with pytest.raises(OutboundError) as error:
            post(receiver.url)
    assert (str(error.value), error.value.permanent) == ("TimeoutError: timed out", False)


@pytest.mark.parametrize(
    "url", ["ftp://example.com/hook", "http:///hook", "mailto:ops@example.com"]
)
def test_only_http_urls_are_accepted(url, connects):
    for attempt in (check_destination, post):
        with pytest.raises(OutboundError) as error:
            attempt(url)
        assert (str(error.value), error.value.permanent) == (
            "The endpoint must be an http(s) URL.",
            True,
        )
    assert connects == []


# --- Redirects ------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_is_a_permanent_failure_and_never_followed(status):
    with http_receiver() as target, http_receiver() as redirecting:
        redirecting.status, redirecting.headers = status, {"Location": target.url}
        with pytest.raises(OutboundError) as error:
            post(redirecting.url)
    assert (str(error.value), error.value.permanent) == (
        f"HTTP {status}: webhooks do not follow redirects",
        True,
    )
    assert len(redirecting.received) == 1
    assert target.received == []


# --- The private-address guard --------------------------------------------------------------

REFUSED = [
    "127.0.0.1",  # loopback
    "10.1.2.3",  # private
    "172.16.0.1",
    "192.168.1.1",
    "169.254.169.254",  # link-local: cloud metadata
    "0.0.0.0",  # unspecified
    "100.64.0.1",  # shared address space (carrier-grade NAT)
    "224.0.0.1",  # multicast
    "255.255.255.255",  # broadcast
    "240.0.0.1",  # reserved
    "192.0.2.1",  # documentation
    "::1",
    "::",
    "::ffff:127.0.0.1",  # IPv4-mapped
    "::ffff:169.254.169.254",
    "::127.0.0.1",  # IPv4-compatible (deprecated)
    "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
    "2002:7f00:1::",  # 6to4 around 127.0.0.1
    "2002:a9fe:a9fe::1",  # 6to4 around 169.254.169.254
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
    "fe80::1",  # link-local
    "fec0::1",  # site-local (deprecated)
    "fc00::1",  # unique local
    "ff02::1",  # multicast
    "ff0e::1",  # global-scope multicast
]


@pytest.mark.parametrize("address", REFUSED)
def test_non_public_addresses_are_refused_before_any_connection(production, dns, connects, address):
    dns.answers = [[address]]
    for attempt in (check_destination, post):
        with pytest.raises(OutboundError) as error:
            attempt(f"http://{NAME}:8080/hook")
        assert (str(error.value), error.value.permanent) == (
            f"{NAME} resolves to a private address.",
            True,
        )
    assert dns.lookups == [NAME, NAME]  # one lookup each
    assert connects == []


def test_every_address_a_name_resolves_to_is_checked(production, dns, connects):
    dns.answers = [["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c", "10.0.0.7"]]
    with pytest.raises(OutboundError) as error:
        post(f"https://{NAME}/hook")
    assert str(error.value) == f"{NAME} resolves to a private address."
    assert connects == []


@pytest.mark.parametrize(
    "address", ["93.184.215.14", "2606:4700::1111", "::ffff:93.184.215.14", "2002:5db8:d70e::1"]
)
def test_public_addresses_pass_the_check(production, dns, address):
    dns.answers = [[address]]
    assert check_destination(f"https://{NAME}/hook") is None
    assert dns.lookups == [NAME]


@pytest.mark.parametrize("host", ["127.0.0.1", "[::1]", "[::ffff:127.0.0.1]"])
def test_loopback_literals_are_refused_with_a_receiver_listening(production, connects, host):
    with http_receiver() as receiver:
        url = f"http://{host}:{port_of(receiver)}/hook"
        with pytest.raises(OutboundError) as error:
            post(url)
    assert str(error.value) == f"{urlsplit(url).hostname} resolves to a private address."
    assert (receiver.received, connects) == ([], [])


def test_cloud_metadata_literal_is_refused(production, connects):
    with pytest.raises(OutboundError) as error:
        post("http://169.254.169.254/latest/meta-data/")
    assert (str(error.value), error.value.permanent) == (
        "169.254.169.254 resolves to a private address.",
        True,
    )
    assert connects == []


def test_development_allows_loopback_receivers():
    with http_receiver() as receiver:
        assert check_destination(receiver.url) is None
        assert post(receiver.url) == b""


# --- One lookup, and the connection goes to the address it gave -----------------------------


def test_the_name_is_resolved_once_and_the_answer_is_what_we_connect_to(dns, connects):
    with http_receiver() as receiver:
        port = port_of(receiver)
        # A rebinding DNS server: the first answer is the receiver, any later one elsewhere.
        dns.answers = [["127.0.0.1"], ["10.255.255.1"]]
        assert post(f"http://{NAME}:{port}/hook") == b""
    assert dns.lookups == [NAME]
    assert connects == [("127.0.0.1", port)]
    [(headers, body)] = receiver.received
    assert (headers["Host"], body) == (f"{NAME}:{port}", BODY)


def test_a_rebinding_name_is_connected_to_at_the_address_that_was_checked(
    production, dns, connects
):
    with http_receiver() as receiver:
        port = port_of(receiver)
        # Public when checked, loopback (our receiver) if asked again.
        dns.answers = [["93.184.215.14"], ["127.0.0.1"]]
        with pytest.raises(OutboundError) as error:
            post(f"http://{NAME}:{port}/hook")
    assert (str(error.value), error.value.permanent) == (
        "ConnectionRefusedError: [Errno 111] Refused by the test's firewall",
        False,
    )
    assert dns.lookups == [NAME]
    assert connects == [("93.184.215.14", port)]
    assert receiver.received == []


def test_the_next_checked_address_is_tried_when_one_refuses(dns, connects):
    with http_receiver() as receiver:
        port = port_of(receiver)
        dns.answers = [["127.0.0.2", "127.0.0.1"]]  # nothing listens on 127.0.0.2
        assert post(f"http://{NAME}:{port}/hook") == b""
    assert dns.lookups == [NAME]
    assert connects == [("127.0.0.2", port), ("127.0.0.1", port)]
    assert len(receiver.received) == 1


# --- TLS: connected to the address, verified against the name ------------------------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A self-signed certificate for NAME and its key (made with the openssl command)."""
    if shutil.which("openssl") is None:
        if os.environ.get("REQUIRE_SERVICES"):
            pytest.fail("CI requires the TLS checks but the openssl command is missing")
        pytest.skip("needs the openssl command to make a certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "2", "-subj", f"/CN={NAME}", "-addext", f"subjectAltName=DNS:{NAME}",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.fixture
def tls_receiver(certificate, monkeypatch):
    """An HTTPS receiver on loopback whose certificate (for NAME only) we trust."""
    cert, key = certificate
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # read by ssl.create_default_context()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    with http_receiver(tls=context) as receiver:
        yield receiver


def test_https_connects_to_the_address_and_verifies_the_certificate_against_the_name(
    tls_receiver, dns, connects
):
    port = port_of(tls_receiver)
    dns.answers = [["127.0.0.1"]]
    tls_receiver.answer = b"ok"
    assert post(f"https://{NAME}:{port}/hook") == b"ok"
    assert connects == [("127.0.0.1", port)]
    [(headers, body)] = tls_receiver.received
    assert (headers["Host"], body) == (f"{NAME}:{port}", BODY)


def test_https_refuses_a_certificate_for_another_name(tls_receiver, dns, connects):
    port = port_of(tls_receiver)
    dns.answers = [["127.0.0.1"]]
    with pytest.raises(OutboundError) as error:
        post(f"https://other.example.test:{port}/hook")
    assert error.value.permanent is False
    assert isinstance(error.value.__cause__, ssl.SSLCertVerificationError)
    assert error.value.__cause__.verify_message == (
        "Hostname mismatch, certificate is not valid for 'other.example.test'."
    )
    assert connects == [("127.0.0.1", port)]
    assert tls_receiver.received == []


def test_https_by_address_is_not_verified_as_the_name(tls_receiver, connects):
    with pytest.raises(OutboundError) as error:
        post(tls_receiver.url)  # https://127.0.0.1:<port>/hook: the certificate names NAME
    assert error.value.__cause__.verify_message == (
        "IP address mismatch, certificate is not valid for '127.0.0.1'."
    )
    assert tls_receiver.received == []
