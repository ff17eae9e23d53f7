"""Housekeeping of the API: forget idempotency records past their replay window."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from tawasul.api.idempotency import idempotency_purge


@db_periodic_task(crontab(minute="17"))
def idempotency_purge_hourly() -> int:
    return idempotency_purge()
