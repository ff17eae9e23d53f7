"""Background jobs of the channels app."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task, lock_task

from tawasul.channels.delivery import outbox_drain


@db_task()
def outbox_drain_task() -> int:
    """Deliver what is due now (enqueued after each commit that wrote to the outbox)."""
    return outbox_drain()


@db_periodic_task(crontab(minute="*"))
@lock_task("outbox-sweep")
def outbox_sweep_task() -> int:
    """Safety net: every minute, deliver whatever is due (retries, missed wake-ups)."""
    return outbox_drain()
