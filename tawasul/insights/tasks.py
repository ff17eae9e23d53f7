"""Background jobs of the insights app: the weekly and monthly reports, and reports asked
for on demand.

The queue's clock is UTC (Huey's default), so 07:00 in Riyadh (UTC+3 all year) is 04:00
UTC, on the same day. Each periodic job is idempotent: a report of the same kind, period
and scope is made once (unique constraints), and preparing a report is claimed by one
conditional UPDATE, so the job may run on any number of consumers, or twice, and still
make and mail each report once. `now` is for tests and operators re-running a day.

Every ten minutes a recovery sweep requeues what a dead worker or a lost message left
behind and retries failed weekly and monthly reports (`reports_recover`).
"""

from __future__ import annotations

import datetime as dt

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from tawasul.insights.report_models import ReportKind
from tawasul.insights.report_recovery import reports_recover
from tawasul.insights.reports import report_generate, reports_periodic_run

# 07:00 Asia/Riyadh, expressed in the queue's UTC clock.
REPORT_HOUR_UTC = "4"


@db_periodic_task(crontab(minute="0", hour=REPORT_HOUR_UTC, day_of_week="0"))
def report_weekly_task(now: dt.datetime | None = None) -> int:
    """Sunday 07:00 Riyadh: the reports of the Sunday–Saturday week just ended."""
    return reports_periodic_run(kind=ReportKind.WEEKLY, now=now)


@db_periodic_task(crontab(minute="0", hour=REPORT_HOUR_UTC, day="1"))
def report_monthly_task(now: dt.datetime | None = None) -> int:
    """The 1st of each month, 07:00 Riyadh: the reports of the month just ended."""
    return reports_periodic_run(kind=ReportKind.MONTHLY, now=now)


@db_periodic_task(crontab(minute="*/10"))
def reports_recover_task(now: dt.datetime | None = None) -> dict[str, int]:
    """Every ten minutes: requeue stalled reports, retry failed periodic ones after their
    back-off, enqueue again those no worker took; how many of each."""
    return reports_recover(now=now)


@db_task()
def report_generate_task(report_id: int) -> str:
    """Prepare one queued report (on demand, retried or recovered); its status afterwards."""
    report = report_generate(report_id=report_id)
    return report.status if report is not None else ""


# The text understanding's jobs live in their own modules; importing them here registers
# them with the queue (Huey discovers each app's `tasks` module).
from tawasul.insights import classifier_tasks, emerging_tasks  # noqa: E402, F401
