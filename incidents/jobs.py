"""RQ entry points of incidents."""

from incidents.services import advance_maintenances, remind_quiet_incidents


def advance_maintenance_job() -> None:
    advance_maintenances()


def remind_quiet_incidents_job() -> None:
    remind_quiet_incidents()
