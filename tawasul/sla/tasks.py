"""Background job of the SLA app: the sweep, every minute.

`sla_sweep` locks the rows it steps (skipping those another sweep holds), so the
job may run on any number of consumers on any number of machines at once.
"""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from tawasul.sla.sweep import sla_sweep

SWEEP_BATCH = 500
SWEEP_MAX_BATCHES = 20


@db_periodic_task(crontab(minute="*"))
def sla_sweep_task() -> int:
    """Perform the SLA steps due now, in batches while batches come back full (bounded)."""
    steps = 0
    for _batch in range(SWEEP_MAX_BATCHES):
        counts = sla_sweep(limit=SWEEP_BATCH)
        steps += counts.steps
        if counts.steps < SWEEP_BATCH:
            break
    return steps
