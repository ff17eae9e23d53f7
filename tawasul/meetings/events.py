"""The pieces every meeting service shares: locking the row, the lifecycle guard with its
role check, the timeline event, the step targets and the beneficiary's notice."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from tawasul.channels.models import OutboxChannel, OutboxMessage
from tawasul.channels.outbox import notify_address
from tawasul.core.errors import InvalidInput, NotFound
from tawasul.meetings.models import MeetingEvent, MeetingEventKind, MeetingRequest, MeetingStep
from tawasul.meetings.permissions import central_centre_entity, meeting_ensure
from tawasul.meetings.workflow import ACTION_ROLE, MeetingMove, meeting_next_status
from tawasul.sla.business_time import business_minutes_add
from tawasul.sla.calendars import working_calendar_for_entity

if TYPE_CHECKING:
    from tawasul.beneficiaries.models import Beneficiary

User = AbstractBaseUser
STEP_SETTINGS = {
    MeetingStep.SCREENING: "TAWASUL_MEETING_SCREENING_MINUTES",
    MeetingStep.DECISION: "TAWASUL_MEETING_DECISION_MINUTES",
    MeetingStep.SCHEDULING: "TAWASUL_MEETING_SCHEDULING_MINUTES",
}
STEP_COLUMNS = {
    MeetingStep.SCREENING: "screening_due",
    MeetingStep.DECISION: "decision_due",
    MeetingStep.SCHEDULING: "scheduling_due",
}


def meeting_text(value: str, *, field: str, minimum: int, maximum: int) -> str:
    """The trimmed text, or InvalidInput naming the field and the bounds."""
    text = (value or "").strip()
    if len(text) < minimum or len(text) > maximum:
        raise InvalidInput(
            format_lazy(
                _("This field must be between {min} and {max} characters."),
                min=minimum,
                max=maximum,
            ),
            code="length",
            details={"field": field, "min": minimum, "max": maximum},
        )
    return text


def meeting_lock(meeting: MeetingRequest) -> MeetingRequest:
    """The meeting request's row, locked until the end of the transaction."""
    return (
        MeetingRequest.objects.select_for_update(of=("self",))
        .select_related("beneficiary", "host")
        .get(pk=meeting.pk)
    )


def meeting_own(meeting: MeetingRequest, beneficiary: Beneficiary) -> None:
    if meeting.beneficiary_id != beneficiary.pk:
        raise NotFound(_("No such meeting request."))


def meeting_ensure_move(by: User | None, move: MeetingMove) -> None:
    """The staff role the move needs (404 for outsiders, 403 for the wrong role)."""
    meeting_ensure(by, ACTION_ROLE[move])


def meeting_move(meeting: MeetingRequest, move: MeetingMove, *, fields: Sequence[str] = ()) -> str:
    """Apply the lifecycle guard and save; return the previous status."""
    previous = meeting.status
    meeting.status = meeting_next_status(move, previous)
    meeting.save(update_fields=["status", "updated_at", *fields])
    return previous


def meeting_event(
    meeting: MeetingRequest,
    kind: MeetingEventKind,
    *,
    from_status: str = "",
    by: User | None = None,
    by_beneficiary: bool = False,
    is_public: bool = True,
    data: dict[str, Any] | None = None,
) -> MeetingEvent:
    return MeetingEvent.objects.create(
        meeting=meeting,
        kind=kind,
        from_status=from_status or meeting.status,
        to_status=meeting.status,
        actor_user_id=by.pk if by is not None else None,
        by_beneficiary=by_beneficiary,
        is_public=is_public,
        data=data or {},
    )


def meeting_step_due(step: MeetingStep, start: dt.datetime) -> dt.datetime:
    """When `step`, started at `start`, is due: its target in the central centre's
    business time."""
    calendar = working_calendar_for_entity(central_centre_entity(), around=start)
    return business_minutes_add(calendar, start, int(getattr(settings, STEP_SETTINGS[step])))


def meeting_step_start(meeting: MeetingRequest, step: MeetingStep) -> list[str]:
    """Start `step`'s clock (NONE stops it); return the fields to save."""
    meeting.step, meeting.step_overdue_at = step, None
    if step == MeetingStep.NONE:
        meeting.step_due = None
        return ["step", "step_due", "step_overdue_at"]
    due = meeting_step_due(step, timezone.now())
    meeting.step_due = due
    setattr(meeting, STEP_COLUMNS[step], due)
    return ["step", "step_due", "step_overdue_at", STEP_COLUMNS[step]]


def meeting_notify(meeting: MeetingRequest, template: str) -> OutboxMessage | None:
    """Queue `template` for the beneficiary on their preferred channel (same transaction).

    The notice carries the meeting's tracking number and the portal link only.
    """
    beneficiary = meeting.beneficiary
    if beneficiary.preferred_contact == OutboxChannel.EMAIL and beneficiary.email:
        channel, recipient = OutboxChannel.EMAIL, beneficiary.email
    elif beneficiary.mobile:
        channel, recipient = OutboxChannel.SMS, beneficiary.mobile
    elif beneficiary.email:
        channel, recipient = OutboxChannel.EMAIL, beneficiary.email
    else:
        return None
    return notify_address(
        channel=channel,
        recipient=recipient,
        template=template,
        language=beneficiary.language,
        context={"tracking_number": meeting.tracking_number},
    )
