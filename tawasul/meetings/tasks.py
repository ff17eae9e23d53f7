"""Background jobs of the meetings app: reminders and overdue steps, every minute."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from tawasul.meetings.sweep import meeting_reminders_send, meeting_steps_flag_overdue

SWEEP_BATCH = 500


@db_periodic_task(crontab(minute="*"))
def meeting_reminders_send_task() -> int:
    """Queue the reminders due now (each exactly once)."""
    return meeting_reminders_send(limit=SWEEP_BATCH)


@db_periodic_task(crontab(minute="*"))
def meeting_steps_flag_overdue_task() -> int:
    """Flag meeting requests whose screening, decision or scheduling is overdue (once)."""
    return meeting_steps_flag_overdue(limit=SWEEP_BATCH)
