"""Subscriber CSV import and export. An import is validated row by row and then applied all at
once: one bad row means nothing is imported, and every bad row is reported."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError

from components.models import Component
from statuspage.csv_export import restore, to_csv
from statuspage.models import Page
from subscribers.addresses import validate_subscriber_email
from subscribers.models import Subscriber

EXPORT_COLUMNS = ["email", "state", "components", "created_at", "confirmed_at"]
MAX_ROWS = 50_000


@dataclass
class ImportPlan:
    rows: list[tuple[str, list[Component]]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def export_csv(subscribers) -> str:
    """Addresses and component names are other people's text: `=2+5@example.com` is a valid
    address and a formula (statuspage.csv_export neutralises it)."""
    return to_csv(EXPORT_COLUMNS, (
        [s.email, s.state.value, ";".join(c.name for c in s.components.all()),
         s.created_at.isoformat(), s.confirmed_at.isoformat() if s.confirmed_at else ""]
        for s in subscribers
    ))  # fmt: skip


def plan_import(page: Page, text: str) -> ImportPlan:
    """Rows: `email[,components]` where components are names separated by `;`. A header
    row starting with `email` is skipped."""
    plan = ImportPlan()
    by_name = {c.name.lower(): c for c in Component.objects.filter(page=page)}
    existing = set(Subscriber.objects.filter(page=page).values_list("email", flat=True))
    seen: set[str] = set()
    rows = list(csv.reader(io.StringIO(text)))
    if len(rows) > MAX_ROWS:
        plan.errors.append(f"At most {MAX_ROWS} rows per import.")
        return plan
    for number, row in enumerate(rows, start=1):
        if not row or not "".join(row).strip():
            continue
        row = [restore(cell) for cell in row]  # our own export, imported again
        email = row[0].strip().lower()
        if number == 1 and email == "email":
            continue
        try:
            validate_subscriber_email(email)
        except ValidationError as error:
            reason = "is not an email address." if error.code == "invalid" else error.messages[0]
            plan.errors.append(f"Row {number}: “{row[0]}” {reason}")
            continue
        if email in seen:
            plan.errors.append(f"Row {number}: {email} appears twice in the file.")
            continue
        seen.add(email)
        if email in existing:
            plan.errors.append(f"Row {number}: {email} is already a subscriber.")
            continue
        names = [n.strip() for n in (row[1] if len(row) > 1 else "").split(";") if n.strip()]
        unknown = [n for n in names if n.lower() not in by_name]
        if unknown:
            plan.errors.append(f"Row {number}: no component named {', '.join(unknown)}.")
            continue
        plan.rows.append((email, [by_name[n.lower()] for n in names]))
    if not plan.rows and not plan.errors:
        plan.errors.append("The file has no rows.")
    return plan
