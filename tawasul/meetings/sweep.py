"""The meeting sweeps: reminders before booked meetings, and overdue steps.

Both are idempotent and safe on many machines at once: each row is claimed with a
conditional UPDATE (`sent_at` / `step_overdue_at` still empty), and only the sweep
whose update changed the row writes the notice or the event.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction
from django.utils import timezone

from tawasul.meetings.events import meeting_event, meeting_notify
from tawasul.meetings.models import (
    MeetingEventKind,
    MeetingReminder,
    MeetingRequest,
    MeetingStatus,
)

logger = logging.getLogger(__name__)


def meeting_reminders_send(*, now: dt.datetime | None = None, limit: int = 500) -> int:
    """Queue each due reminder of a still-booked meeting that has not begun, exactly once."""
    now = now or timezone.now()
    due = list(
        MeetingReminder.objects.filter(
            sent_at__isnull=True,
            due_at__lte=now,
            booking__released_at__isnull=True,
            booking__slot__starts_at__gt=now,
            booking__meeting__status=MeetingStatus.SCHEDULED,
        )
        .select_related("booking__meeting__beneficiary")
        .order_by("due_at", "id")[:limit]
    )
    sent = 0
    for reminder in due:
        with transaction.atomic():
            claimed = MeetingReminder.objects.filter(pk=reminder.pk, sent_at__isnull=True).update(
                sent_at=now
            )
            if not claimed:
                continue
            meeting_notify(reminder.booking.meeting, "meeting_reminder")
            sent += 1
    if sent:
        logger.info("Meeting reminders: %s queued", sent)
    return sent


def meeting_steps_flag_overdue(*, now: dt.datetime | None = None, limit: int = 500) -> int:
    """Flag, once, each meeting request whose running step is past its target (an internal
    event on the staff timeline)."""
    now = now or timezone.now()
    overdue = list(
        MeetingRequest.objects.filter(
            step_due__isnull=False, step_due__lte=now, step_overdue_at__isnull=True
        ).order_by("step_due", "id")[:limit]
    )
    flagged = 0
    for meeting in overdue:
        with transaction.atomic():
            claimed = MeetingRequest.objects.filter(
                pk=meeting.pk,
                step=meeting.step,
                step_due=meeting.step_due,
                step_overdue_at__isnull=True,
            ).update(step_overdue_at=now)
            if not claimed:
                continue
            meeting_event(
                meeting,
                MeetingEventKind.STEP_OVERDUE,
                is_public=False,
                data={"step": meeting.step, "due": meeting.step_due.isoformat()},  # type: ignore[union-attr]
            )
            flagged += 1
    if flagged:
        logger.info("Meeting steps overdue: %s flagged", flagged)
    return flagged
