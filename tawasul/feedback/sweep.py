"""The objection sweeps: close answered requests whose objection window has ended,
and tell the reviewing centre's supervisors once about an objection overdue for review.

Both are idempotent and safe on many machines at once. Auto-close claims a request
by locking its row and re-checking that it is still answered with the same answer
instant before calling `request_close_on_expiry`; the overdue notice claims an
objection with a conditional UPDATE of `overdue_notified_at` (only the sweep that
changes the row sends the e-mails).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from tawasul.cases.models import Request, Status
from tawasul.cases.services import request_close_on_expiry
from tawasul.channels.outbox import notify_staff
from tawasul.core.errors import DomainError
from tawasul.feedback.models import Objection, ObjectionOutcome
from tawasul.feedback.objections import objection_window_end, objection_window_prefilter
from tawasul.sla.sweep import centre_supervisors

logger = logging.getLogger(__name__)


@dataclass
class CloseCounts:
    closed: int = 0
    lost: int = 0


def objection_expired_candidates(*, now: datetime, limit: int) -> list[Request]:
    """Answered requests whose window *may* have ended (cheap wall-clock pre-filter)."""
    return list(
        Request.objects.filter(
            status=Status.ANSWERED, answered_at__lte=objection_window_prefilter(now)
        )
        .select_related("entity")
        .order_by("answered_at", "id")[:limit]
    )


def objection_close_expired(*, now: datetime | None = None, limit: int = 500) -> CloseCounts:
    """Close every answered request whose objection window (business time) has ended."""
    now = now or timezone.now()
    counts = CloseCounts()
    for request in objection_expired_candidates(now=now, limit=limit):
        end = objection_window_end(request)
        if end is None or end > now:
            continue
        if _close_claimed(request):
            counts.closed += 1
        else:
            counts.lost += 1
    if counts.closed or counts.lost:
        logger.info("Objection windows: %s closed, %s lost", counts.closed, counts.lost)
    return counts


def _close_claimed(request: Request) -> bool:
    try:
        with transaction.atomic():
            claimed = (
                Request.objects.select_for_update()
                .filter(pk=request.pk, status=Status.ANSWERED, answered_at=request.answered_at)
                .exists()
            )
            if not claimed:
                return False
            request_close_on_expiry(request=request)
    except DomainError:  # closed or objected by someone else meanwhile
        return False
    return True


def objection_notify_overdue(*, now: datetime | None = None, limit: int = 500) -> int:
    """Tell the reviewing centre's supervisors, once, about each objection past its due date."""
    now = now or timezone.now()
    overdue = list(
        Objection.objects.filter(
            outcome=ObjectionOutcome.PENDING,
            review_due__lte=now,
            overdue_notified_at__isnull=True,
        )
        .select_related("request", "reviewer_entity")
        .order_by("review_due", "id")[:limit]
    )
    notified = 0
    for objection in overdue:
        with transaction.atomic():
            claimed = Objection.objects.filter(
                pk=objection.pk,
                outcome=ObjectionOutcome.PENDING,
                overdue_notified_at__isnull=True,
            ).update(overdue_notified_at=now)
            if not claimed:
                continue
            notify_staff(
                request=objection.request,
                users=centre_supervisors(objection.reviewer_entity),
                template="objection_overdue",
            )
            notified += 1
    if notified:
        logger.info("Objections overdue for review: %s notices", notified)
    return notified
