"""RQ entry points of incidents."""

from incidents.services import advance_maintenances


def advance_maintenance_job() -> None:
    advance_maintenances()
