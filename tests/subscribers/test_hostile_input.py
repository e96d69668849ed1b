"""One recipient, name or body that cannot be sent never stops its batch: the message fails
alone, with its reason, and every other recipient gets exactly one copy. Internationalised
addresses are sent correctly: IDNA for the domain, SMTPUTF8 for a non-ASCII local part
where the server offers it."""

import itertools
import smtplib
from collections import Counter

import pytest
from django.core.mail.backends.smtp import EmailBackend
from django_scopes import scope, scopes_disabled
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from subscribers import services
from subscribers.addresses import wire_address
from subscribers.models import Delivery, Subscriber
from tests.incident_factories import open_incident

pytestmark = pytest.mark.django_db


def subscribe(page, *emails):
    """Confirmed subscribers as stored rows, whatever the forms would say of the address
    (an older row, or one imported before the address rules)."""
    with scope(organization=page.organization_id):
        for email in emails:
            Subscriber.objects.create(organization=page.organization, page=page, email=email,
                                      confirmed_at="2026-01-01T00:00Z")  # fmt: skip


def notify(page, **incident):
    incident = open_incident(page, **incident)
    with scope(organization=page.organization_id):
        update = incident.updates.get()
        services.fan_out_update(update)
    return update


def outcomes(update) -> dict[str, tuple[str, str]]:
    with scopes_disabled():
        rows = Delivery.objects.filter(update=update)
        return {email: (status, error) for email, status, error in
                rows.values_list("subscriber__email", "status", "error")}  # fmt: skip


def test_an_idn_domain_is_sent_as_idna_and_the_batch_goes_on(page, smtp_sink):
    subscribe(page, "a@example.test", "x@bücher.example", "z@example.test")
    update = notify(page)
    assert sorted(smtp_sink.recipients()) == [
        "a@example.test", "x@xn--bcher-kva.example", "z@example.test",
    ]  # fmt: skip
    assert {e: s for e, (s, _) in outcomes(update).items()} == {
        "a@example.test": "sent", "x@bücher.example": "sent", "z@example.test": "sent",
    }  # fmt: skip
    (message,) = [m for rcpts, m in smtp_sink.messages if rcpts == ["x@xn--bcher-kva.example"]]
    assert message["To"] == "x@xn--bcher-kva.example"


def test_a_non_ascii_local_part_goes_through_smtputf8(page, smtp_sink_utf8):
    subscribe(page, "a@example.test", "jösé@bücher.example", "z@example.test")
    update = notify(page)
    assert sorted(smtp_sink_utf8.recipients()) == [
        "a@example.test", "jösé@xn--bcher-kva.example", "z@example.test",
    ]  # fmt: skip
    assert {s for s, _ in outcomes(update).values()} == {"sent"}
    (message,) = [m for rcpts, m in smtp_sink_utf8.messages if rcpts[0].startswith("jösé")]
    assert "\nTo: jösé@xn--bcher-kva.example\n".encode() in message.as_bytes()  # UTF-8 header


def test_a_non_ascii_local_part_fails_alone_without_smtputf8(page, smtp_sink):
    subscribe(page, "a@example.test", "jösé@example.test", "z@example.test")
    update = notify(page)
    assert smtp_sink.recipients() == ["a@example.test", "z@example.test"]
    status, error = outcomes(update)["jösé@example.test"]
    assert status == "failed"
    assert error == (
        "UndeliverableAddress: The mail server does not offer SMTPUTF8, which this address "
        "needs for the non-ASCII letters before its @."
    )


def test_a_stored_address_literal_fails_alone_with_its_reason(page, smtp_sink):
    subscribe(page, "a@example.test", "b@[127.0.0.1]", "c\r\nRCPT TO:<e@evil.test>@x.test")
    update = notify(page)
    assert smtp_sink.recipients() == ["a@example.test"]
    result = outcomes(update)
    assert result["b@[127.0.0.1]"] == (
        "failed",
        "UndeliverableAddress: The address is at an IP address literal, not a domain name.",
    )
    assert result["c\r\nRCPT TO:<e@evil.test>@x.test"][0] == "failed"


class ExplodingSMTP(smtplib.SMTP):
    """smtplib failing with something that is no SMTP error after MAIL FROM was accepted,
    as it did with UnicodeEncodeError: the session is left inside a transaction."""

    def rcpt(self, recip, options=()):
        if recip.startswith("explode"):
            raise RuntimeError("the library broke")
        return super().rcpt(recip, options)


class ExplodingBackend(EmailBackend):
    @property
    def connection_class(self):
        return ExplodingSMTP


def test_any_exception_while_sending_fails_that_message_alone(page, smtp_sink, settings):
    settings.EMAIL_BACKEND = f"{__name__}.ExplodingBackend"
    subscribe(page, "a@example.test", "explode@example.test", "z@example.test")
    update = notify(page)
    assert smtp_sink.recipients() == ["a@example.test", "z@example.test"]
    result = outcomes(update)
    assert result["explode@example.test"] == ("pending", "RuntimeError: the library broke")
    with scopes_disabled():
        delivery = Delivery.objects.get(subscriber__email="explode@example.test")
    assert (delivery.attempts, delivery.claimed_at, delivery.next_attempt_at is not None) == (
        1,
        None,
        True,
    )  # retried after its back-off, DELIVERY_MAX_ATTEMPTS times at most


def test_a_webhook_that_cannot_be_requested_fails_alone(page, receiver):
    from tests.subscribers.conftest import add_webhook

    with scope(organization=page.organization_id):
        Subscriber.objects.create(organization=page.organization, page=page, kind="webhook",
                                  endpoint=f"{receiver.url}/ünicode path", secret="s",
                                  confirmed_at="2026-01-01T00:00Z")  # fmt: skip
    add_webhook(page, receiver.url)
    update = notify(page)
    with scopes_disabled():
        rows = dict(Delivery.objects.filter(update=update).values_list("subscriber__endpoint",
                                                                        "status"))  # fmt: skip
    assert rows == {f"{receiver.url}/ünicode path": "failed", receiver.url: "sent"}
    assert len(receiver.received) == 1


# --- The property: hostile addresses, names and bodies among good recipients ----------------

SERIAL = itertools.count()
ANY_TEXT = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=80)
IDN_LETTERS = "äöüéñçøåß漢字カжя"
BROKEN = [
    "b{n}{x}@[127.0.0.1]", "b{n}\r\n{x}@example.test", '"b{n}{x}"@example.test',
    "b{n} {x}@example.test", "b{n}@" + "x" * 70 + ".example", "b{n}@localhost",
    "b{n}{x}@exa_mple.test", "b{n}@\u2028{x}.example",
]  # fmt: skip


@st.composite
def recipients(draw):
    """(email, kind) with kind good, idn, utf8 (a non-ASCII local part) or broken."""
    good = [(f"g{next(SERIAL)}@example.test", "good") for _ in range(3)]
    odd = draw(st.lists(st.one_of(
        st.builds(lambda label: (f"i{next(SERIAL)}@{label}.example", "idn"),
                  st.text(IDN_LETTERS, min_size=1, max_size=8)),
        st.builds(lambda local: (f"{local}{next(SERIAL)}@example.test", "utf8"),
                  st.text(IDN_LETTERS, min_size=1, max_size=8)),
        st.builds(lambda template, filler: (template.format(n=next(SERIAL), x=filler), "broken"),
                  st.sampled_from(BROKEN), ANY_TEXT),
    ), min_size=1, max_size=5))  # fmt: skip
    mixed = draw(st.permutations(good + odd))
    return mixed


def _long_lines(text: str) -> str:
    return f"{text}\n{'x' * 1200}\n{text}"  # over 998: quoted-printable, each built in full


@pytest.fixture(params=["plain", "smtputf8"])
def any_sink(request):
    return request.param, request.getfixturevalue(
        "smtp_sink" if request.param == "plain" else "smtp_sink_utf8"
    )


@hypothesis_settings(max_examples=10, deadline=None, derandomize=True,
                     suppress_health_check=[HealthCheck.function_scoped_fixture,
                                            HealthCheck.too_slow])  # fmt: skip
@given(
    people=recipients(),
    page_name=ANY_TEXT.filter(str.strip),
    incident_name=ANY_TEXT.filter(str.strip),
    body=st.one_of(ANY_TEXT, ANY_TEXT.map(_long_lines)),
)
def test_hostile_input_never_stops_a_batch(page, any_sink, people, page_name, incident_name,
                                           body):  # fmt: skip
    server, sink = any_sink
    sink.messages.clear()
    page.name = page_name[:150]
    page.save(update_fields=["name"])
    subscribe(page, *(email for email, _ in people))
    try:
        update = notify(page, name=incident_name[:255], body=body)
        delivered = {"good", "idn"} | ({"utf8"} if server == "smtputf8" else set())
        expected = Counter(wire_address(e).envelope for e, kind in people if kind in delivered)
        assert Counter(sink.recipients()) == expected
        result = outcomes(update)
        for email, kind in people:
            status, error = result[email]
            if kind in delivered:
                assert (email, status) == (email, "sent")
            else:
                assert (email, status) == (email, "failed") and error
    finally:
        with scopes_disabled():
            Subscriber.objects.filter(page=page).delete()
