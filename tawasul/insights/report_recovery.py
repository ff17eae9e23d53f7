"""Recovering the reports a worker left behind, and retrying failed ones.

A sweep every ten minutes (`reports_recover`, `tasks.reports_recover_task`) puts back in
the queue a report left running past `TAWASUL_REPORT_STALL_MINUTES` (or fails it as
stalled after `TAWASUL_REPORT_MAX_ATTEMPTS`), retries a failed weekly or monthly report
made in the last two days (`REPORT_RETRY_WITHIN`) with a doubling back-off, and enqueues
again a report queued for five minutes that no worker took. Staff who may see a failed
report may ask for it to be tried again (`report_retry`). Every row moves by one
conditional UPDATE, so sweeps on several consumers never repeat a move, and preparing
stays claimed by `reports.report_generate`.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tawasul.core.errors import Conflict, NotFound
from tawasul.insights.report_models import (
    PERIODIC_KINDS,
    REPORT_RETRY_WITHIN,
    REPORT_STALLED,
    Report,
    ReportStatus,
)
from tawasul.insights.reports import enqueue_after_commit, report_visible_to

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

    User = AbstractBaseUser | AnonymousUser

logger = logging.getLogger(__name__)

# A queued report no worker took in this time is enqueued again (its message was lost).
LOST_AFTER = dt.timedelta(minutes=5)
# A failed weekly or monthly report waits this long after its first try, doubled after each.
RETRY_BACKOFF = dt.timedelta(minutes=10)


def report_retry_backoff(attempts: int) -> dt.timedelta:
    """How long a failed weekly or monthly report waits after its `attempts`-th try."""
    return RETRY_BACKOFF * 2 ** max(attempts - 1, 0)


def reports_recover(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Requeue the reports a dead worker left running (or fail them as stalled after the
    last attempt), requeue the failed weekly and monthly reports whose back-off has
    passed, and enqueue again the reports queued too long; how many of each. Every row
    moves by one conditional UPDATE, so sweeps on several consumers never repeat a move,
    and preparing stays claimed by `report_generate`."""
    now = now or timezone.now()
    requeued, failed = _reports_stalled_recover(now)
    counts = {
        "stalled_requeued": requeued,
        "stalled_failed": failed,
        "failed_retried": _reports_failed_retry(now),
        "lost_enqueued": _reports_lost_enqueue(now),
    }
    if any(counts.values()):
        logger.info("reports recovered: %s", counts)  # counts only: no names, no figures
    return counts


def _reports_stalled_recover(now: dt.datetime) -> tuple[int, int]:
    stalled_before = now - dt.timedelta(minutes=settings.TAWASUL_REPORT_STALL_MINUTES)
    stalled = Report.objects.filter(status=ReportStatus.RUNNING, started_at__lt=stalled_before)
    requeued = failed = 0
    for report_id, attempts in stalled.order_by("pk").values_list("pk", "attempts"):
        still = {"status": ReportStatus.RUNNING, "attempts": attempts}
        if attempts < settings.TAWASUL_REPORT_MAX_ATTEMPTS:
            requeued += _requeue(report_id, now=now, started_at__lt=stalled_before, **still)
            continue
        if Report.objects.filter(pk=report_id, started_at__lt=stalled_before, **still).update(
            status=ReportStatus.FAILED, error=REPORT_STALLED, finished_at=now
        ):
            logger.warning("report %s stalled on each of its %s attempts", report_id, attempts)
            failed += 1
    return requeued, failed


def _reports_failed_retry(now: dt.datetime) -> int:
    limit = settings.TAWASUL_REPORT_MAX_ATTEMPTS
    due = Q()
    for attempts in range(limit):
        due |= Q(attempts=attempts, finished_at__lt=now - report_retry_backoff(attempts))
    failed = Report.objects.filter(
        due,
        status=ReportStatus.FAILED,
        kind__in=PERIODIC_KINDS,
        attempts__lt=limit,
        created_at__gte=now - REPORT_RETRY_WITHIN,
    )
    retried = 0
    for report_id, attempts in failed.order_by("pk").values_list("pk", "attempts"):
        retried += _requeue(report_id, now=now, status=ReportStatus.FAILED, attempts=attempts)
    return retried


def _reports_lost_enqueue(now: dt.datetime) -> int:
    lost_before = now - LOST_AFTER
    lost = Report.objects.filter(status=ReportStatus.QUEUED, queued_at__lt=lost_before)
    enqueued = 0
    for report_id in lost.order_by("pk").values_list("pk", flat=True):
        taken = Report.objects.filter(
            pk=report_id, status=ReportStatus.QUEUED, queued_at__lt=lost_before
        ).update(queued_at=now)
        if taken:
            enqueue_after_commit(report_id)
            enqueued += 1
    return enqueued


def _requeue(report_id: int, *, now: dt.datetime, **expected: Any) -> bool:
    """Back to `queued` if the row is still as `expected`; the worker is asked after commit."""
    moved = Report.objects.filter(pk=report_id, **expected).update(
        status=ReportStatus.QUEUED, progress=0, queued_at=now, finished_at=None
    )
    if moved:
        enqueue_after_commit(report_id)
    return bool(moved)


def report_retry(*, user: User, report: Report) -> Report:
    """Staff who may see a failed report ask for it to be prepared again: back to the
    queue with its attempts counted afresh; the worker is asked after commit."""
    if not report_visible_to(user, report):
        raise NotFound(_("No such report."))
    with transaction.atomic():
        moved = Report.objects.filter(pk=report.pk, status=ReportStatus.FAILED).update(
            status=ReportStatus.QUEUED,
            progress=0,
            attempts=0,
            error="",
            queued_at=timezone.now(),
            finished_at=None,
        )
        if not moved:
            raise Conflict(
                _("Only a report that could not be prepared can be tried again."),
                code="report_not_failed",
            )
        enqueue_after_commit(report.pk)
    report.refresh_from_db()
    return report
