"""A real SMTP sink (aiosmtpd) that tests can make refuse, defer or stall; a real HTTP
receiver for webhooks; webhook subscribers as the operator or the challenge confirms them."""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass, field
from email import message_from_bytes

import pytest
from aiosmtpd.controller import Controller
from django_scopes import scope

from statuspage.actors import Actor
from tests.http_receiver import http_receiver

ACTOR = Actor.system("tests")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class SinkHandler:
    messages: list = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)  # 550 for these recipients
    defer_first: int = 0  # 451 for the first N messages
    stall_seconds: float = 0.0
    stall_first: int = 0  # stall only the first N messages (0: every one)
    seen: int = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 No such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.seen += 1
        if self.stall_seconds and (not self.stall_first or self.seen <= self.stall_first):
            time.sleep(self.stall_seconds)
        if self.seen <= self.defer_first:
            return "451 4.3.0 Try again later"
        message = message_from_bytes(envelope.content)
        self.messages.append((list(envelope.rcpt_tos), message))
        return "250 Message accepted"

    def recipients(self) -> list[str]:
        return sorted(r for rcpts, _ in self.messages for r in rcpts)


@pytest.fixture
def smtp_sink(settings):
    """A sink that does not offer SMTPUTF8 (aiosmtpd's Controller does by default)."""
    yield from _sink(settings, enable_SMTPUTF8=False)


@pytest.fixture
def smtp_sink_utf8(settings):
    """A sink that offers SMTPUTF8 (RFC 6531): non-ASCII local parts go through."""
    yield from _sink(settings, enable_SMTPUTF8=True)


def _sink(settings, **server_options):
    handler = SinkHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, **server_options)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 2
    yield handler
    controller.stop()


@pytest.fixture
def receiver():
    """A webhook endpoint on loopback: set `.status`, `.headers`, `.answer` or `.answer_for`."""
    with http_receiver() as endpoint:
        yield endpoint


def add_webhook(page, url, components=(), *, skip_confirmation=True):
    """A webhook subscriber; confirmed by the operator unless told to take the challenge."""
    from subscribers import services

    with scope(organization=page.organization_id):
        return services.add_webhook_subscriber(page, actor=ACTOR, endpoint=url,
                                               components=components,
                                               skip_confirmation=skip_confirmation)  # fmt: skip
