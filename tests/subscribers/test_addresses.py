"""Which addresses we take (form, console, API, CSV) and how each goes on the wire."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_scopes import scopes_disabled

from subscribers.addresses import UndeliverableAddress, WireAddress, wire_address
from subscribers.models import Subscriber
from tests.api.test_api import client_for, key

LITERAL = (
    "We cannot send email to this address: "
    "The address is at an IP address literal, not a domain name."
)
SINGLE_LABEL = (
    "We cannot send email to this address: The domain is not a full domain name (like example.com)."
)


@pytest.mark.parametrize(
    ("email", "wire"),
    [
        ("a@example.com", WireAddress("a@example.com", "a@example.com", False)),
        ("x@bücher.example", WireAddress("x@xn--bcher-kva.example", "x@xn--bcher-kva.example",
                                         False)),
        ("jösé@bücher.example", WireAddress("jösé@xn--bcher-kva.example",
                                            "jösé@xn--bcher-kva.example", True)),
        ("o'neil+tag@sub.example.co.uk", WireAddress("o'neil+tag@sub.example.co.uk",
                                                     "o'neil+tag@sub.example.co.uk", False)),
    ],
)  # fmt: skip
def test_wire_address_of_deliverable_addresses(email, wire):
    assert wire_address(email) == wire


@pytest.mark.parametrize(
    "email",
    [
        "a@[127.0.0.1]", "a@[IPv6:::1]", "a@localhost", "a@1.2.3.4", '"a b"@example.com',
        "a\r\nRCPT TO:<x@evil.example>@example.com", "a b@example.com", "a\u2028b@example.com",
        "a..b@example.com", ".a@example.com", "a@b@example.com", "@example.com", "a@",
        "a@-bad.example", "a@exa_mple.com", "a@" + "x" * 64 + ".example",
        "x" * 65 + "@example.com", "a@" + ".".join(["abcdefgh"] * 30) + ".example",
        "a@bü cher.example", "a@bad..example", "<a@example.com>",
    ],
)  # fmt: skip
def test_wire_address_refuses_what_a_relay_refuses(email):
    with pytest.raises(UndeliverableAddress):
        wire_address(email)


def test_public_form_refuses_an_address_literal_and_takes_an_idn_domain(public_client, page):
    response = public_client.post("/subscribe", {"email": "a@[127.0.0.1]"})
    assert response.status_code == 400
    assert response.context["form"].errors == {"email": [LITERAL]}
    response = public_client.post("/subscribe", {"email": "x@bücher.example"})
    assert response.status_code == 200
    with scopes_disabled():
        assert list(Subscriber.objects.values_list("email", flat=True)) == ["x@bücher.example"]


def test_console_refuses_a_single_label_domain(console_client, page):
    response = console_client.post("/console/acme/subscribers/add/", {"email": "ops@localhost"})
    assert response.status_code == 400
    assert response.context["form"].errors == {"email": [SINGLE_LABEL]}


def test_api_refuses_an_address_literal(org, page):
    client = client_for(key(org)[1])
    made = client.post(f"/api/v1/pages/{page.public_id}/subscribers",
                       {"subscriber": {"email": "a@[127.0.0.1]"}},
                       content_type="application/json")  # fmt: skip
    assert made.status_code in (400, 422)
    assert LITERAL in made.content.decode()
    with scopes_disabled():
        assert Subscriber.objects.count() == 0


def test_import_names_the_reason_of_an_undeliverable_row(console_client, page):
    text = "email\nok@example.test\na@[10.0.0.1]\nnot-an-email\n"
    response = console_client.post(
        "/console/acme/subscribers/import/",
        {"file": SimpleUploadedFile("s.csv", text.encode()), "send_confirmation": "on"},
    )
    assert response.status_code == 400
    assert response.context["form"].errors["file"] == [
        f"Row 3: “a@[10.0.0.1]” {LITERAL} Row 4: “not-an-email” is not an email address."
    ]
