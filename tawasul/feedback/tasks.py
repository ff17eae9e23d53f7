"""Background jobs of the feedback app: the objection sweeps, every minute."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from tawasul.feedback.sweep import objection_close_expired, objection_notify_overdue

SWEEP_BATCH = 500


@db_periodic_task(crontab(minute="*"))
def objection_close_expired_task() -> int:
    """Close answered requests whose objection window has ended."""
    return objection_close_expired(limit=SWEEP_BATCH).closed


@db_periodic_task(crontab(minute="*"))
def objection_notify_overdue_task() -> int:
    """Notify reviewers about objections past their review due date (once each)."""
    return objection_notify_overdue(limit=SWEEP_BATCH)
