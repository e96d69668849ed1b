"""The fault suite's fixtures: the world (a page, its subscribers, an API key), the production
stack against the test database, and the table of figures printed at the end of the run
(also written as JSON to CHAOS_RESULTS when set)."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pytest
from django.db import connection
from django_scopes import scope

from statuspage.actors import Actor
from tests.component_factories import ComponentFactory
from tests.conftest import needs_postgresql
from tests.factories import OrganizationFactory, PageFactory
from tests.reliability.stack import Scale, Stack

SCALE = Scale.from_environment()
ACTOR = Actor.system("chaos")


@dataclass
class Row:
    scenario: str
    answered: int = 0
    server_errors: int = 0
    unanswered: int = 0
    lost: int = 0
    duplicates: int = 0
    max_copies: int = 0
    recover_seconds: float | None = None
    passed: bool = False
    notes: list[str] = field(default_factory=list)


RESULTS: list[Row] = []


def record(row: Row) -> Row:
    RESULTS.append(row)
    path = os.environ.get("CHAOS_RESULTS")
    if path:
        Path(path).write_text(json.dumps([asdict(r) for r in RESULTS], indent=2))
    return row


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not RESULTS:
        return
    write = terminalreporter.write_line
    terminalreporter.section(f"fault suite figures (CHAOS_SCALE={SCALE.name}, "
                             f"{SCALE.subscribers} subscribers)")  # fmt: skip
    header = ("scenario", "requests answered", "5xx", "no answer", "notifications lost",
              "duplicates", "time to recover", "targets")  # fmt: skip
    rows = [header]
    for r in RESULTS:
        recover = f"{r.recover_seconds:.1f} s" if r.recover_seconds is not None else "> 60 s"
        duplicates = f"{r.duplicates} (max {r.max_copies} copies)"
        verdict = "met" if r.passed else "MISSED"
        rows.append((r.scenario, str(r.answered), str(r.server_errors), str(r.unanswered),
                     str(r.lost), duplicates, recover, verdict))  # fmt: skip
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    for n, row in enumerate(rows):
        write("| " + " | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) + " |")
        if n == 0:
            write("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in RESULTS:
        for note in r.notes:
            write(f"  {r.scenario}: {note}")


@pytest.fixture
def postgresql_only(transactional_db):
    needs_postgresql("the fault suite runs the production shape")


@dataclass
class World:
    org: object
    page: object
    api_key: str
    background_incident: object  # an open incident whose page the readers read
    subscribers: list[str] = field(default_factory=list)

    @property
    def paths(self) -> list[str]:
        return ["/", "/api/v2/summary.json", f"/incidents/{self.background_incident.public_id}"]


@pytest.fixture
def world(postgresql_only) -> World:
    """A page with two components, an open incident (before anyone subscribed) and an admin
    API key. Subscribers are added by each scenario (`add_subscribers`)."""
    from incidents.services import open_incident
    from statuspage.services import create_api_key

    org = OrganizationFactory(name="Chaos Org")
    page = PageFactory(organization=org, name="Chaos Cloud", slug="chaos")
    api = ComponentFactory(page=page, name="API")
    ComponentFactory(page=page, name="Web")
    with scope(organization=org.pk):
        incident = open_incident(page, actor=ACTOR, name="Slow dashboards",
                                 impact="minor", component_statuses={api: None})  # fmt: skip
        _, raw = create_api_key(org, actor=ACTOR, name="chaos", access="admin")
    return World(org, page, raw, incident)


def add_subscribers(world: World, emails: list[str]) -> None:
    from subscribers.models import Subscriber

    with scope(organization=world.org.pk):
        Subscriber.objects.bulk_create(
            (Subscriber(organization=world.org, page=world.page, email=email,
                        confirmed_at="2026-01-01T00:00Z") for email in emails),
            batch_size=2000,
        )  # fmt: skip
    world.subscribers.extend(emails)


@pytest.fixture
def stack(world, tmp_path):
    running = Stack(connection.settings_dict, SCALE, tmp_path).start()
    yield running
    running.stop()
