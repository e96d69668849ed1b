"""What a request gets while PostgreSQL is unreachable: never a stack trace.

- A public page is answered from its last good copy (statuspage.public_cache); with no copy,
  a plain 503 that touches neither the database nor the page.
- The console gets a plain "database unavailable" page, the API and alert intake a JSON 503.
  Every write is one transaction per intent, so a request cut short wrote nothing.

Nothing here reads the database, the session or the user: the responses are rendered without
a request, so no context processor runs.
"""

from __future__ import annotations

import logging
import time

from django.db.utils import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)

DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 60
CONSOLE_MESSAGE = "Database unavailable: your changes were not saved. Try again in a minute."
PUBLIC_MESSAGE = "This status page is temporarily unavailable. Try again in a minute."
JSON_PATHS = ("/api/", "/integrations/")
LOG_EVERY_SECONDS = 60
_last_logged = [0.0]


def is_database_unavailable(exception: BaseException | None) -> bool:
    """The database could not be reached (refused, reset, gone away), directly or as the
    cause of what was raised; SQLite's "database is locked" counts too."""
    for _ in range(4):
        if exception is None:
            return False
        if isinstance(exception, DATABASE_UNAVAILABLE):
            return True
        exception = exception.__cause__ or exception.__context__
    return False


def log_outage(exception: BaseException, what: str) -> None:
    """One warning a minute per process, not a traceback per request."""
    now = time.monotonic()
    if now - _last_logged[0] >= LOG_EVERY_SECONDS:
        _last_logged[0] = now
        logger.warning("database unavailable (%s): %s", what, exception)


class OutageLogFilter(logging.Filter):
    """On `django.request`: a request that failed only because the database is unreachable
    counts towards `log_outage`'s one line a minute instead of logging its own traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        exception = record.exc_info[1] if record.exc_info else None
        if exception is not None and is_database_unavailable(exception):
            log_outage(exception, "request")
            return False
        return True


def _unavailable(response: HttpResponse) -> HttpResponse:
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


def console_unavailable_response(path: str) -> HttpResponse:
    """The console's page, or JSON for the API and alert intake."""
    if path.startswith(JSON_PATHS):
        return _unavailable(JsonResponse({"error": CONSOLE_MESSAGE}, status=503))
    html = render_to_string("database_unavailable.html", {"message": CONSOLE_MESSAGE})
    return _unavailable(HttpResponse(html, status=503))


def public_unavailable_response(path: str) -> HttpResponse:
    """A public page with no last good copy to show."""
    if path.endswith(".json"):
        return _unavailable(JsonResponse({"error": PUBLIC_MESSAGE}, status=503))
    html = render_to_string("public/unavailable.html", {"message": PUBLIC_MESSAGE})
    return _unavailable(HttpResponse(html, status=503))
