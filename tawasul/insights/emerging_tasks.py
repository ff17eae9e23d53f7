"""Background jobs of the Arabic text understanding (issue 12); imported by `tasks` so the
queue finds them.

Every morning at 06:30 Riyadh (03:30 in the queue's UTC clock), after the nightly summary
(01:30) and with yesterday kept fresh by the five-minute one, the emerging issues of the
previous day and of the week and month so far are detected and the central centre told
of the new ones (`tawasul.insights.emerging`). Idempotent: run twice, or on several
consumers, each issue is recorded and announced once.
"""

from __future__ import annotations

import datetime as dt

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from tawasul.insights.emerging import emerging_issues_announce, emerging_issues_detect

EMERGING_HOUR_UTC = "3"
EMERGING_MINUTE = "30"


@db_periodic_task(crontab(minute=EMERGING_MINUTE, hour=EMERGING_HOUR_UTC))
def emerging_issues_task(now: dt.datetime | None = None) -> int:
    """Detect and announce; the e-mails queued."""
    emerging_issues_detect(now=now)
    return emerging_issues_announce(now=now)
