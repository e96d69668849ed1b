"""Alert intake: what monitoring tools send, read into one shape.

Each parser turns a sender's JSON into `Alert`s keyed the way the sender identifies an alert
(Alertmanager/Grafana fingerprint, Uptime Kuma monitor id, healthchecks check uuid), so a
replay or an out-of-order delivery maps onto the same incident.

Nothing a sender gives is trusted: the whole payload is read and checked before anything is
written, and anything we cannot use raises `PayloadError` naming the place
(`alerts[1].labels must be an object`), which the view answers with a 400. What passes is
safe to store: no NUL characters (PostgreSQL text cannot hold them), no other control
characters in titles, lengths that fit the columns.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
import re
import unicodedata
from dataclasses import dataclass

from django.conf import settings
from django.utils.dateparse import parse_datetime

KEY_LENGTH = 255  # AlertLink.alert_key / IncidentAlert.alert_key
TITLE_LENGTH = 255  # Incident.name
DESCRIPTION_LENGTH = 4000  # an incident update's first message
LOGGED_PAYLOAD_CHARS = 20000


def limit(name: str) -> int:
    """One of the INTAKE_* limits (statuspage/settings.py, from the environment)."""
    return int(getattr(settings, name))


class PayloadError(ValueError):
    """The payload is not what this kind of integration sends (400 with the message)."""

    status = 400


class TooLarge(PayloadError):
    """Too big a body or too many alerts in one request (413 with the message)."""

    status = 413


@dataclass(frozen=True)
class Alert:
    key: str
    firing: bool
    title: str
    description: str = ""
    at: datetime.datetime | None = None  # start when firing, end when resolved


FRACTION = re.compile(r"(\.\d{6})\d+")
NO_END = "0001-01-01T00:00:00Z"
# C0 and C1 controls and DEL; a title gets spaces for them, a description keeps \n and \t.
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
CONTROL_BUT_LINES = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def parse_time(value) -> datetime.datetime | None:
    """ISO 8601 with up to nine fractional digits (Alertmanager), or Uptime Kuma's
    `YYYY-MM-DD HH:mm:ss.SSS` (UTC); Alertmanager's zero time means "none"."""
    if not value or value == NO_END:
        return None
    text = FRACTION.sub(r"\1", str(value).strip())
    parsed = parse_datetime(text)
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.UTC)
    return parsed


# --- Reading the body -----------------------------------------------------------------------


def load_json(body: bytes):
    """The body as JSON, checked for depth and NUL characters; PayloadError otherwise."""
    try:
        data = json.loads(body.decode("utf-8") if body else "null")
    except UnicodeDecodeError as error:
        raise PayloadError(f"The body is not UTF-8 (byte {error.start}).") from error
    except RecursionError as error:
        raise PayloadError(_too_deep()) from error
    except ValueError as error:  # JSONDecodeError, or an integer of more than 4,300 digits
        raise PayloadError(f"Malformed JSON: {error}.") from error
    _check_tree(data)
    return data


def _too_deep() -> str:
    return f"The JSON is nested more than {limit('INTAKE_MAX_DEPTH')} levels deep."


def _check_tree(data) -> None:
    """Walk the document without recursion: bounded depth, and no NUL in any key or string."""
    max_depth = limit("INTAKE_MAX_DEPTH")
    stack = [(data, "", 1)]
    while stack:
        value, path, depth = stack.pop()
        if isinstance(value, dict | list) and depth > max_depth:
            raise PayloadError(_too_deep())
        if isinstance(value, dict):
            for key, child in value.items():
                if "\x00" in key:
                    where = path or "the payload"
                    raise PayloadError(f"A key in {where} contains a NUL character.")
                stack.append((child, f"{path}.{key}" if path else key, depth + 1))
        elif isinstance(value, list):
            stack.extend((child, f"{path}[{i}]", depth + 1) for i, child in enumerate(value))
        elif isinstance(value, str) and "\x00" in value:
            raise PayloadError(f"{path or 'The payload'} contains a NUL character.")


def loggable(text: str) -> str:
    """What we keep of a payload in the event log: bounded, and storable (no NUL)."""
    return text[:LOGGED_PAYLOAD_CHARS].replace("\x00", "\\u0000")


# --- Checking fields ------------------------------------------------------------------------


def _object(value, path: str, *, optional: bool = False) -> dict:
    if value is None and optional:
        return {}
    if not isinstance(value, dict):
        raise PayloadError(f"{path} must be an object.")
    return value


def _list(value, path: str) -> list:
    if not isinstance(value, list):
        raise PayloadError(f"{path} must be a list.")
    count, cap = len(value), limit("INTAKE_MAX_ALERTS")
    if count > cap:
        raise TooLarge(
            f"{path} has {count} alerts; at most {cap} are accepted per request "
            "(Alertmanager: set max_alerts in the webhook_config)."
        )
    return value


def _where(path: str, field: str) -> str:
    return f"{path}.{field}" if path else field


def _string(data: dict, field: str, path: str, default: str = "") -> str:
    value = data.get(field)
    if value is None:
        return default
    if not isinstance(value, str):
        raise PayloadError(f"{_where(path, field)} must be a string.")
    return value


def _identifier(data: dict, field: str, path: str):
    """A sender's id of an alert: a string or an integer (never a bool, float or object)."""
    value = data.get(field)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise PayloadError(f"{_where(path, field)} must be a string or an integer.")
    return str(value)


def _time(data: dict, field: str, path: str) -> datetime.datetime | None:
    text = _string(data, field, path)
    where = _where(path, field)
    try:
        parsed = parse_time(text)
    except ValueError as error:  # well formed but impossible, e.g. month 13
        raise PayloadError(f"{where} is not a valid date-time.") from error
    if text and text != NO_END and parsed is None:
        raise PayloadError(f"{where} is not a date-time.")
    return parsed


def alert_key(raw: str) -> str:
    """The sender's key, hashed when it is longer than the column: a long key (many labels)
    is legitimate, and the same key always hashes the same, so replays still match."""
    if len(raw) <= KEY_LENGTH:
        return raw
    return "sha256:" + hashlib.sha256(raw.encode()).hexdigest()


def title(text: str, default: str = "Alert") -> str:
    """One line, no control characters, truncated to fit an incident's name."""
    text = " ".join(CONTROL.sub(" ", unicodedata.normalize("NFC", text)).split())
    return truncate(text, TITLE_LENGTH) or default


def description(text: str) -> str:
    return truncate(CONTROL_BUT_LINES.sub("", text).strip(), DESCRIPTION_LENGTH)


def truncate(text: str, length: int) -> str:
    return text if len(text) <= length else text[: length - 1].rstrip() + "…"


# --- One parser per sender ------------------------------------------------------------------


def _alertmanager(data: dict) -> list[Alert]:
    if "alerts" not in data:
        raise PayloadError("Expected an Alertmanager/Grafana payload with an `alerts` list.")
    group_status = _string(data, "status", "")
    parsed = []
    for i, item in enumerate(_list(data["alerts"], "alerts")):
        path = f"alerts[{i}]"
        item = _object(item, path)
        labels = _strings(item.get("labels"), f"{path}.labels")
        annotations = _strings(item.get("annotations"), f"{path}.annotations")
        raw_key = _string(item, "fingerprint", path) or "|".join(
            f"{k}={v}" for k, v in sorted(labels.items())
        )
        if not raw_key:
            raise PayloadError(f"{path} has neither a fingerprint nor labels.")
        status = _string(item, "status", path) or group_status
        if status not in ("firing", "resolved"):
            raise PayloadError(f"{path}.status must be “firing” or “resolved”.")
        firing = status == "firing"
        name = title(annotations.get("summary") or labels.get("alertname") or "")
        text = description(annotations.get("description", ""))
        at = _time(item, "startsAt" if firing else "endsAt", path)
        parsed.append(Alert(alert_key(raw_key), firing, name, text, at))
    return parsed


def _strings(value, path: str) -> dict[str, str]:
    """Alertmanager's labels and annotations: an object of strings."""
    value = _object(value, path, optional=True)
    for name, text in value.items():
        if not isinstance(text, str):
            raise PayloadError(f"{path}.{name} must be a string.")
    return value


UPTIME_KUMA_DOWN, UPTIME_KUMA_UP = 0, 1
UPTIME_KUMA_STATUSES = {0, 1, 2, 3}  # down, up, pending, maintenance


def _uptime_kuma(data: dict) -> list[Alert]:
    if data.get("heartbeat") is None:
        return []  # Uptime Kuma's "test notification" carries no heartbeat
    heartbeat = _object(data["heartbeat"], "heartbeat")
    monitor = _object(data.get("monitor"), "monitor", optional=True)
    monitor_id = _identifier(heartbeat, "monitorID", "heartbeat") or _identifier(
        monitor, "id", "monitor"
    )
    if monitor_id is None:
        raise PayloadError("The heartbeat names no monitor (heartbeat.monitorID).")
    status = heartbeat.get("status")
    if isinstance(status, bool) or status not in UPTIME_KUMA_STATUSES:
        raise PayloadError("heartbeat.status must be 0 (down), 1 (up), 2 (pending) or 3.")
    if status not in (UPTIME_KUMA_DOWN, UPTIME_KUMA_UP):
        return []  # pending (retrying) and maintenance say neither down nor up
    firing = status == UPTIME_KUMA_DOWN
    name = title(_string(monitor, "name", "monitor"), f"Monitor {monitor_id}")
    return [
        Alert(alert_key(monitor_id), firing, title(f"{name} is {'down' if firing else 'up'}"),
              description(_string(heartbeat, "msg", "heartbeat")),
              _time(heartbeat, "time", "heartbeat"))
    ]  # fmt: skip


def _healthchecks(data: dict) -> list[Alert]:
    key = next(filter(None, (_identifier(data, f, "") for f in ("check_id", "uuid", "code"))), None)
    status = _string(data, "status", "").lower()
    if not key or status not in ("down", "up"):
        raise PayloadError("Expected `check_id` (or `uuid`) and `status` down/up.")
    name = title(_string(data, "name", ""), "Check")
    return [Alert(alert_key(key), status == "down", title(f"{name} is {status}"),
                  description(_string(data, "desc", "")), _time(data, "now", ""))]  # fmt: skip


def _generic(data: dict) -> list[Alert]:
    if "alerts" in data:
        items, prefix = _list(data["alerts"], "alerts"), "alerts"
    else:
        items, prefix = [data], ""
    alerts = []
    for i, item in enumerate(items):
        path = f"{prefix}[{i}]" if prefix else ""
        item = _object(item, path or "The payload")
        key = _identifier(item, "key", path)
        status = item.get("status")
        if not key or status not in ("firing", "resolved"):
            where = f"{path}: each" if path else "Each"
            raise PayloadError(f"{where} alert needs `key` and `status` firing/resolved.")
        alerts.append(Alert(alert_key(key), status == "firing", title(_string(item, "title", path)),
                            description(_string(item, "description", path)),
                            _time(item, "at", path)))  # fmt: skip
    return alerts


PARSERS = {
    "alertmanager": _alertmanager,
    "grafana": _alertmanager,  # Grafana's webhook contact point sends the same shape
    "uptime-kuma": _uptime_kuma,
    "healthchecks": _healthchecks,
    "generic": _generic,
}


def parse(kind: str, data) -> list[Alert]:
    """Every alert of the payload, or PayloadError for the first thing wrong with it."""
    if not isinstance(data, dict):
        raise PayloadError("Expected a JSON object.")
    return PARSERS[kind](data)


def signature_matches(secret: str, body: bytes, header: str) -> bool:
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest().encode()
    # As bytes: compare_digest refuses a str with non-ASCII characters (a forged header).
    given = header.strip().removeprefix("sha256=").encode(errors="replace")
    return hmac.compare_digest(expected, given)
