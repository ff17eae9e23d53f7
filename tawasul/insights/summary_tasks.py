"""Background jobs keeping the daily summary current (imported by `InsightsConfig.ready`).

Every five minutes today and yesterday are rewritten; every night at 01:30 (Riyadh) the
last 35 days, so forwarded, recategorised and late-answered requests settle in the right
rows. Each run rewrites whole days in one transaction: two runs at once only repeat work.
"""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from tawasul.insights.summary import RECENT_DAYS, insights_summarise_recent


@db_periodic_task(crontab(minute="*/5"))
def insights_summary_recent_task() -> int:
    return insights_summarise_recent(days=2)


@db_periodic_task(crontab(hour="1", minute="30"))
def insights_summary_nightly_task() -> int:
    return insights_summarise_recent(days=RECENT_DAYS)
