"""RQ entry points of incidents."""

from incidents.alert_delivery import dispatch, due_alert_ids
from incidents.paging import DISPATCH_JOB
from incidents.responders import raise_overdue_alerts, remind_quiet_incidents
from incidents.services import advance_maintenances
from statuspage.queue import enqueue_now


def advance_maintenance_job() -> None:
    advance_maintenances()


def responder_checks_job() -> None:
    """Every minute: alert on overdue urgent incidents, remind quiet ones, and re-enqueue
    responder alerts still due (raised while Redis was down, or waiting for a retry)."""
    raise_overdue_alerts()
    remind_quiet_incidents()
    for alert_id in due_alert_ids():
        enqueue_now(DISPATCH_JOB, alert_id)


def dispatch_responder_alert_job(alert_id: int) -> None:
    dispatch(alert_id)
