"""Alert intake: what monitoring tools send, read into one shape.

Each parser turns a sender's JSON into `Alert`s keyed the way the sender identifies an alert
(Alertmanager/Grafana fingerprint, Uptime Kuma monitor id, healthchecks check uuid), so a
replay or an out-of-order delivery maps onto the same incident.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import re
from dataclasses import dataclass

from django.utils.dateparse import parse_datetime


class PayloadError(ValueError):
    """The payload is not what this kind of integration sends (400 with the message)."""


@dataclass(frozen=True)
class Alert:
    key: str
    firing: bool
    title: str
    description: str = ""
    at: datetime.datetime | None = None  # start when firing, end when resolved


FRACTION = re.compile(r"(\.\d{6})\d+")
NO_END = "0001-01-01T00:00:00Z"


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


def _alertmanager(data) -> list[Alert]:
    alerts = data.get("alerts")
    if not isinstance(alerts, list):
        raise PayloadError("Expected an Alertmanager/Grafana payload with an `alerts` list.")
    parsed = []
    for alert in alerts:
        labels = alert.get("labels") or {}
        annotations = alert.get("annotations") or {}
        key = alert.get("fingerprint") or "|".join(f"{k}={v}" for k, v in sorted(labels.items()))
        if not key:
            raise PayloadError("An alert has neither a fingerprint nor labels.")
        firing = alert.get("status", data.get("status")) == "firing"
        title = annotations.get("summary") or labels.get("alertname") or "Alert"
        at = parse_time(alert.get("startsAt") if firing else alert.get("endsAt"))
        parsed.append(Alert(key, firing, title, annotations.get("description", ""), at))
    return parsed


def _uptime_kuma(data) -> list[Alert]:
    heartbeat = data.get("heartbeat")
    monitor = data.get("monitor") or {}
    if not isinstance(heartbeat, dict):
        return []  # Uptime Kuma's "test notification" carries no heartbeat
    monitor_id = heartbeat.get("monitorID", monitor.get("id"))
    if monitor_id is None:
        raise PayloadError("The heartbeat names no monitor.")
    firing = heartbeat.get("status") == 0
    name = monitor.get("name") or f"Monitor {monitor_id}"
    title = f"{name} is down" if firing else f"{name} is up"
    return [Alert(str(monitor_id), firing, title, heartbeat.get("msg", ""),
                  parse_time(heartbeat.get("time")))]  # fmt: skip


def _healthchecks(data) -> list[Alert]:
    key = data.get("check_id") or data.get("uuid") or data.get("code")
    status = str(data.get("status", "")).lower()
    if not key or status not in ("down", "up"):
        raise PayloadError("Expected `check_id` (or `uuid`) and `status` down/up.")
    name = data.get("name") or "Check"
    return [Alert(str(key), status == "down", f"{name} is {status}", data.get("desc", ""),
                  parse_time(data.get("now")))]  # fmt: skip


def _generic(data) -> list[Alert]:
    items = data.get("alerts") if isinstance(data.get("alerts"), list) else [data]
    alerts = []
    for item in items:
        if not item.get("key") or item.get("status") not in ("firing", "resolved"):
            raise PayloadError("Each alert needs `key` and `status` firing/resolved.")
        alerts.append(Alert(str(item["key"]), item["status"] == "firing",
                            item.get("title") or "Alert", item.get("description", ""),
                            parse_time(item.get("at"))))  # fmt: skip
    return alerts


PARSERS = {
    "alertmanager": _alertmanager,
    "grafana": _alertmanager,  # Grafana's webhook contact point sends the same shape
    "uptime-kuma": _uptime_kuma,
    "healthchecks": _healthchecks,
    "generic": _generic,
}


def parse(kind: str, data) -> list[Alert]:
    if not isinstance(data, dict):
        raise PayloadError("Expected a JSON object.")
    return PARSERS[kind](data)


def signature_matches(secret: str, body: bytes, header: str) -> bool:
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header.strip().removeprefix("sha256="))
