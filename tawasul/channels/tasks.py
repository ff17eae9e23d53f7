"""Background jobs of the channels app.

Both jobs only call `outbox_drain`, which claims rows before sending them, so
any number of them may run at once on any number of machines (each consumer's
scheduler enqueues the sweep; the overlap is harmless).
"""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from tawasul.channels.delivery import outbox_drain
from tawasul.channels.webhooks import webhook_drain

SWEEP_BATCH = 100
SWEEP_MAX_BATCHES = 20


@db_task()
def outbox_drain_task() -> int:
    """Deliver what is due now (enqueued after each commit that wrote to the outbox)."""
    return outbox_drain(limit=SWEEP_BATCH)


@db_periodic_task(crontab(minute="*"))
def outbox_sweep_task() -> int:
    """Safety net: every minute, deliver whatever is due (retries, missed wake-ups).

    Drains in batches while batches come back full, up to a bound so one run
    never holds its worker for long.
    """
    sent = 0
    for _batch in range(SWEEP_MAX_BATCHES):
        batch_sent = outbox_drain(limit=SWEEP_BATCH)
        sent += batch_sent
        if batch_sent < SWEEP_BATCH:
            break
    return sent


# --- webhooks to partners ------------------------------------------------------------

WEBHOOK_BATCH = 20
WEBHOOK_MAX_BATCHES = 10


@db_task()
def webhook_drain_task() -> int:
    """POST the webhook deliveries due now (enqueued after each commit that wrote some)."""
    return webhook_drain(limit=WEBHOOK_BATCH)


@db_periodic_task(crontab(minute="*"))
def webhook_sweep_task() -> int:
    """Every minute: deliver due retries and whatever a missed wake-up left, in bounded
    batches (each delivery is claimed first, so overlapping sweeps are harmless)."""
    delivered = 0
    for _batch in range(WEBHOOK_MAX_BATCHES):
        claimed_before = delivered
        delivered += webhook_drain(limit=WEBHOOK_BATCH)
        if delivered - claimed_before < WEBHOOK_BATCH:
            break
    return delivered


# --- channel adapters' jobs (their own modules, registered with the consumer here) ----------

from tawasul.channels import email_tasks  # noqa: E402, F401


@db_periodic_task(crontab(minute="*"))
def calls_wrap_up_task() -> int:
    """Every minute: log on their requests the linked calls whose wrap-up time passed without
    an outcome (a quiet line's last calls would otherwise wait for its next event)."""
    from tawasul.channels.calls import calls_wrap_up_sweep

    return calls_wrap_up_sweep()
