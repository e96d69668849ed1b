"""The production settings, with one change the environment cannot make: the periodic jobs'
intervals (settings.PERIODIC_JOBS is a literal list) scaled to CHAOS_SWEEP_SECONDS, so that a
CI-sized fault run does not spend most of its time waiting for the minute's sweep. `make chaos`
leaves them at the production intervals (CHAOS_SWEEP_SECONDS unset).
"""

import os

from statuspage.settings import *  # noqa: F403 (everything production has, changed as below)
from statuspage.settings import PERIODIC_JOBS as PRODUCTION_PERIODIC_JOBS

_seconds = os.environ.get("CHAOS_SWEEP_SECONDS", "")
if _seconds.strip():
    PERIODIC_JOBS = [(path, min(interval, int(_seconds))) for path, interval in
                     PRODUCTION_PERIODIC_JOBS]  # fmt: skip
