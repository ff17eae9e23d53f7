"""Background jobs of the feedback app: the objection sweeps, every minute; the weekly
quality sample."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from tawasul.feedback.quality import quality_sample_previous_week
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


# Sundays 06:00 Riyadh (03:00 UTC; Huey's crontab runs in UTC): sample the previous week.
@db_periodic_task(crontab(day_of_week="0", hour="3", minute="0"))
def quality_sample_previous_week_task() -> int:
    """Pick last week's answers for quality review, per centre."""
    return quality_sample_previous_week()
