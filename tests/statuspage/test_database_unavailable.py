"""The console, the API and alert intake with the database unreachable: a plain 503 that says
so, never a stack trace (tests/reliability/ does the same against a PostgreSQL that is cut)."""

import contextlib

import pytest
from django.db import connection
from django.db.utils import OperationalError
from django.test import Client

pytestmark = pytest.mark.django_db(transaction=True)

MESSAGE = "Database unavailable: your changes were not saved. Try again in a minute."


@contextlib.contextmanager
def database_down():
    def refuse(execute, sql, params, many, context):
        raise OperationalError("connection to server at 127.0.0.1 failed: Connection refused")

    with connection.execute_wrapper(refuse):
        yield


@pytest.fixture
def client(member):
    client = Client(raise_request_exception=False)
    client.force_login(member.user)
    return client


def test_the_console_shows_a_plain_database_unavailable_page(client):
    with database_down():
        response = client.get("/console/acme/incidents/")
        post = client.post("/console/acme/incidents/new/", {"name": "x"})
    for answer in (response, post):
        html = answer.content.decode()
        assert (answer.status_code, answer["Retry-After"]) == (503, "60")
        assert answer["Cache-Control"] == "no-store"
        assert "<h1>Database unavailable</h1>" in html and MESSAGE in html
        assert "Traceback" not in html and "OperationalError" not in html


def test_the_login_page_too(db):
    with database_down():
        response = Client(raise_request_exception=False).post(
            "/accounts/login/", {"username": "a@b.test", "password": "x"}
        )
    assert response.status_code == 503 and MESSAGE in response.content.decode()


def test_the_api_and_intake_answer_json(db):
    client = Client(raise_request_exception=False)
    with database_down():
        api = client.get("/api/v1/pages", HTTP_AUTHORIZATION="OAuth sp_abcdef_0123456789")
        intake = client.post("/integrations/generic/abc", "{}", content_type="application/json")
    for answer in (api, intake):
        assert (answer.status_code, answer.json()) == (503, {"error": MESSAGE})


def test_other_errors_are_still_the_plain_500(db):
    from django.test import RequestFactory

    from statuspage.views import errors

    request = RequestFactory().get("/console/")
    try:
        raise ValueError("a bug")
    except ValueError:
        response = errors.server_error(request)
    assert response.status_code == 500 and b"Something went wrong" in response.content


def test_an_outage_is_logged_once_a_minute_not_a_traceback_per_request(client, caplog):
    from statuspage import outage

    outage._last_logged[0] = 0.0
    with database_down(), caplog.at_level("WARNING"):
        for _ in range(3):
            assert client.get("/console/acme/incidents/").status_code == 503
    logged = [(r.name, r.levelname, r.getMessage()[:22]) for r in caplog.records]
    assert logged == [("statuspage.outage", "WARNING", "database unavailable (")]
