import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_scopes import scope, scopes_disabled

from statuspage.enums import Role
from subscribers.models import Delivery, Subscriber
from tests.component_factories import ComponentFactory
from tests.conftest import login_client, member_with_role
from tests.incident_factories import open_incident

pytestmark = pytest.mark.django_db


def emails(page):
    with scopes_disabled():
        return sorted(Subscriber.objects.filter(page=page).values_list("email", flat=True))


def test_add_list_filter_and_remove(console_client, page):
    response = console_client.post(
        "/console/acme/subscribers/add/", {"email": "A@Example.test", "skip_confirmation": "on"}
    )
    assert response.status_code == 302
    console_client.post("/console/acme/subscribers/add/", {"email": "b@example.test"})
    listing = console_client.get("/console/acme/subscribers/?state=confirmed")
    assert [s.email for s in listing.context["subscribers"]] == ["a@example.test"]
    assert {v: n for v, _, n in listing.context["states"]} == {
        "pending": 1, "confirmed": 1, "unsubscribed": 0, "quarantined": 0,
    }  # fmt: skip
    with scopes_disabled():
        b = Subscriber.objects.get(email="b@example.test")
    console_client.post(f"/console/acme/subscribers/{b.public_id}/remove/")
    assert emails(page) == ["a@example.test"]


def test_add_duplicate_is_a_form_error(console_client, page):
    console_client.post("/console/acme/subscribers/add/", {"email": "a@example.test"})
    response = console_client.post("/console/acme/subscribers/add/", {"email": "a@example.test"})
    assert response.status_code == 400
    assert response.context["form"].errors == {"email": ["a@example.test is already a subscriber."]}


def test_import_is_all_or_nothing(console_client, page):
    ComponentFactory(page=page, name="API")
    bad = (
        "email,components\nok@example.test,API\nnot-an-email,\nx@example.test,Nope\n"
        "ok@example.test,\n"
    )
    response = console_client.post(
        "/console/acme/subscribers/import/",
        {"file": SimpleUploadedFile("s.csv", bad.encode()), "send_confirmation": "on"},
    )
    assert response.status_code == 400
    assert response.context["form"].errors["file"] == [
        "Row 3: “not-an-email” is not an email address. Row 4: no component named Nope. "
        "Row 5: ok@example.test appears twice in the file."
    ]
    assert emails(page) == []
    good = "email,components\nok@example.test,API\nother@example.test,\n"
    response = console_client.post(
        "/console/acme/subscribers/import/", {"file": SimpleUploadedFile("s.csv", good.encode())}
    )
    assert response.status_code == 302
    assert emails(page) == ["ok@example.test", "other@example.test"]
    export = console_client.get("/console/acme/subscribers/export.csv")
    assert export["Content-Type"] == "text/csv; charset=utf-8"
    lines = export.content.decode().splitlines()
    assert lines[0] == "email,state,components,created_at,confirmed_at"
    assert sorted(line.split(",")[0:3] for line in lines[1:]) == [
        ["ok@example.test", "confirmed", "API"],
        ["other@example.test", "confirmed", ""],
    ]


def test_delivery_stats_of_an_update(console_client, page):
    with scope(organization=page.organization_id):
        Subscriber.objects.create(
            organization=page.organization, page=page, email="a@example.test",
            confirmed_at="2026-01-01T00:00Z",
        )  # fmt: skip
    incident = open_incident(page)
    with scope(organization=page.organization_id):
        update = incident.updates.get()
        from subscribers.services import fan_out_update

        fan_out_update(update)
        assert Delivery.objects.filter(update=update, status="sent").count() == 1
    response = console_client.get(
        f"/console/acme/subscribers/deliveries/{incident.public_id}/{update.public_id}/"
    )
    assert response.context["stats"] == {"queued": 0, "sent": 1, "failed": 0, "withdrawn": 0}


@pytest.mark.parametrize(("role", "expected"), [(Role.RESPONDER, 403), (Role.ADMIN, 200)])
def test_subscribers_need_the_admin_role(org, page, role, expected):
    client = login_client(member_with_role(org, role))
    assert client.get("/console/acme/subscribers/").status_code == expected


def test_export_neutralises_formulas_and_import_takes_them_back(console_client, page):
    with scope(organization=page.organization_id):
        ComponentFactory(page=page, name="=HYPERLINK(1)")
    formula = "email,components\n=2+5@example.com,=HYPERLINK(1)\n"
    response = console_client.post(
        "/console/acme/subscribers/import/",
        {"file": SimpleUploadedFile("s.csv", formula.encode())},
    )
    assert response.status_code == 302
    export = console_client.get("/console/acme/subscribers/export.csv").content.decode()
    assert export.splitlines()[1].split(",")[0:3] == [
        "'=2+5@example.com",
        "confirmed",
        "'=HYPERLINK(1)",
    ]
    with scopes_disabled():
        Subscriber.objects.filter(page=page).delete()
    again = export.replace("email,state,components,created_at,confirmed_at", "email,components")
    again = "\n".join(",".join(line.split(",")[0:3:2]) for line in again.splitlines())
    response = console_client.post(
        "/console/acme/subscribers/import/", {"file": SimpleUploadedFile("s.csv", again.encode())}
    )
    assert response.status_code == 302
    assert emails(page) == ["=2+5@example.com"]
