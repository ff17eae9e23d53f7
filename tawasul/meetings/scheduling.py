"""Slots, offers, bookings and what happens to a booked meeting.

No double booking: a booking takes a numbered seat of its slot (0 … capacity-1) while
the slot's row is locked (`SELECT … FOR UPDATE`), and a unique constraint allows one
active booking per (slot, seat) and per meeting, so even a path that forgot the lock
could not seat two people in one place. Rows are locked meeting first, then slot.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from tawasul.beneficiaries.models import Beneficiary
from tawasul.core.errors import Conflict, InvalidInput
from tawasul.meetings.events import (
    meeting_ensure_move,
    meeting_event,
    meeting_lock,
    meeting_move,
    meeting_notify,
    meeting_own,
    meeting_step_start,
    meeting_text,
)
from tawasul.meetings.models import (
    MeetingBooking,
    MeetingEventKind,
    MeetingHost,
    MeetingOffer,
    MeetingReminder,
    MeetingRequest,
    MeetingSlot,
    MeetingStep,
)
from tawasul.meetings.permissions import meeting_ensure, minister_office
from tawasul.meetings.workflow import MeetingMove, MeetingRole
from tawasul.sla.calendars import working_calendar_for_entity

User = AbstractBaseUser
M = MeetingMove
K = MeetingEventKind
DURATION_MIN, DURATION_MAX = 5, 480
CAPACITY_MAX = 50
MAX_OFFERED = 5
RECURRENCE_MAX_DAYS = 366
RECURRENCE_MAX_SLOTS = 300


@dataclass(frozen=True)
class SlotPlan:
    """What every slot of a batch shares."""

    duration_minutes: int
    capacity: int = 1
    place: str = ""
    video_link: str = ""


# --- slots -----------------------------------------------------------------------------------


def slot_create(
    *, host: MeetingHost, starts_at: dt.datetime, plan: SlotPlan, by: User
) -> MeetingSlot:
    """One availability slot of a host."""
    return slots_create(host=host, starts=[starts_at], plan=plan, by=by)[0]


def slots_create_recurring(
    *,
    host: MeetingHost,
    weekdays: Sequence[int],
    at: dt.time,
    first_day: dt.date,
    last_day: dt.date,
    plan: SlotPlan,
    by: User,
) -> list[MeetingSlot]:
    """Slots on the given ISO weekdays at `at` (office time), from `first_day` to
    `last_day`, skipping the holidays of the minister's office calendar."""
    days = sorted(set(weekdays))
    if not days or not all(isinstance(day, int) and 1 <= day <= 7 for day in days):
        raise InvalidInput(
            _("Choose weekdays from 1 (Monday) to 7 (Sunday)."),
            code="weekdays",
            details={"field": "weekdays"},
        )
    if not first_day <= last_day or (last_day - first_day).days >= RECURRENCE_MAX_DAYS:
        raise InvalidInput(
            format_lazy(
                _("The period must run forwards and last at most {days} days."),
                days=RECURRENCE_MAX_DAYS,
            ),
            code="period",
            details={"field": "last_day"},
        )
    calendar = working_calendar_for_entity(
        minister_office(), around=dt.datetime.combine(first_day, at, tzinfo=dt.UTC)
    )
    starts = [
        dt.datetime.combine(day, at, tzinfo=calendar.tz)
        for day in _days(first_day, last_day)
        if day.isoweekday() in days and day not in calendar.closed_days
    ]
    return slots_create(host=host, starts=starts, plan=plan, by=by)


def _days(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=offset) for offset in range((last - first).days + 1)]


def slots_create(
    *, host: MeetingHost, starts: Sequence[dt.datetime], plan: SlotPlan, by: User
) -> list[MeetingSlot]:
    """Slots at each start (all or none): in the future, not overlapping the host's others."""
    _check_plan(plan)
    if not 1 <= len(starts) <= RECURRENCE_MAX_SLOTS:
        raise InvalidInput(
            format_lazy(_("Create from 1 to {count} slots at a time."), count=RECURRENCE_MAX_SLOTS),
            code="slot_count",
            details={"field": "starts", "max": RECURRENCE_MAX_SLOTS},
        )
    now = timezone.now()
    if any(timezone.is_naive(start) or start <= now for start in starts):
        raise InvalidInput(
            _("A slot must start in the future."), code="slot_past", details={"field": "starts_at"}
        )
    with transaction.atomic():
        meeting_ensure(by, MeetingRole.DECIDE)
        locked_host = MeetingHost.objects.select_for_update().get(pk=host.pk)
        if not locked_host.is_active:
            raise InvalidInput(
                _("This host no longer receives meetings."),
                code="host_inactive",
                details={"field": "host"},
            )
        _ensure_free_time(locked_host, sorted(starts), plan.duration_minutes)
        return [
            MeetingSlot.objects.create(
                host=locked_host,
                starts_at=start,
                duration_minutes=plan.duration_minutes,
                capacity=plan.capacity,
                place=plan.place,
                video_link=plan.video_link,
                created_by_id=by.pk,
            )
            for start in sorted(starts)
        ]


def _check_plan(plan: SlotPlan) -> None:
    if not DURATION_MIN <= plan.duration_minutes <= DURATION_MAX:
        raise InvalidInput(
            format_lazy(
                _("A slot lasts from {min} to {max} minutes."), min=DURATION_MIN, max=DURATION_MAX
            ),
            code="duration",
            details={"field": "duration_minutes"},
        )
    if not 1 <= plan.capacity <= CAPACITY_MAX:
        raise InvalidInput(
            format_lazy(_("A slot receives from 1 to {max} people."), max=CAPACITY_MAX),
            code="capacity",
            details={"field": "capacity"},
        )
    if not plan.place.strip() and not plan.video_link.strip():
        raise InvalidInput(
            _("Give the place of the meeting or its video link."),
            code="place_required",
            details={"field": "place"},
        )
    if len(plan.place) > 200:
        meeting_text(plan.place, field="place", minimum=0, maximum=200)
    if plan.video_link:
        try:
            URLValidator(schemes=["https"])(plan.video_link)
        except ValidationError:
            raise InvalidInput(
                _("Enter the video link as an https:// address."),
                code="video_link",
                details={"field": "video_link"},
            ) from None


def _ensure_free_time(host: MeetingHost, starts: list[dt.datetime], minutes: int) -> None:
    """No slot of the batch overlaps another of the batch or an existing one of the host."""
    length = dt.timedelta(minutes=minutes)
    existing = list(
        MeetingSlot.objects.filter(
            host=host,
            starts_at__lt=starts[-1] + length,
            starts_at__gt=starts[0] - dt.timedelta(minutes=DURATION_MAX),
        ).values_list("starts_at", "duration_minutes")
    )
    busy = [(start, start + dt.timedelta(minutes=duration)) for start, duration in existing]
    for start in starts:
        end = start + length
        if any(start < other_end and other_start < end for other_start, other_end in busy):
            raise Conflict(
                _("The host already has a slot at this time."),
                code="slot_overlap",
                details={"starts_at": start.isoformat()},
            )
        busy.append((start, end))


# --- seats -----------------------------------------------------------------------------------


def _slot_for(meeting: MeetingRequest, slot: MeetingSlot | int) -> MeetingSlot:
    """The slot's row, locked, if it belongs to the meeting's host and lies ahead."""
    slot_id = slot.pk if isinstance(slot, MeetingSlot) else slot
    locked = MeetingSlot.objects.select_for_update().filter(pk=slot_id).first()
    if locked is None or locked.host_id != meeting.host_id:
        raise InvalidInput(
            _("This slot is not one of the host's."), code="slot_unknown", details={"field": "slot"}
        )
    if locked.starts_at <= timezone.now():
        raise Conflict(_("This slot has already begun."), code="slot_past")
    return locked


def _free_seats(slot: MeetingSlot) -> list[int]:
    taken = set(
        MeetingBooking.objects.filter(slot=slot, released_at__isnull=True).values_list(
            "seat", flat=True
        )
    )
    return [seat for seat in range(slot.capacity) if seat not in taken]


def _seat_take(
    meeting: MeetingRequest, slot: MeetingSlot | int, *, by_beneficiary: bool = False
) -> MeetingBooking:
    """Book a free seat of the (locked) slot for the meeting; Conflict when it is full."""
    locked = _slot_for(meeting, slot)
    free = _free_seats(locked)
    if not free:
        raise Conflict(_("This slot is already fully booked."), code="slot_full")
    try:
        with transaction.atomic():
            booking = MeetingBooking.objects.create(
                slot=locked, seat=free[0], meeting=meeting, booked_by_beneficiary=by_beneficiary
            )
    except IntegrityError:  # a seat taken without the lock: the constraint still holds
        raise Conflict(_("This slot is already fully booked."), code="slot_full") from None
    _reminders_plan(booking, locked)
    return booking


def _reminders_plan(booking: MeetingBooking, slot: MeetingSlot) -> None:
    now = timezone.now()
    for minutes in sorted(set(settings.TAWASUL_MEETING_REMINDER_MINUTES)):
        due = slot.starts_at - dt.timedelta(minutes=minutes)
        if due > now:
            MeetingReminder.objects.create(booking=booking, minutes_before=minutes, due_at=due)


def meeting_booking_release(meeting: MeetingRequest) -> MeetingBooking | None:
    """Free the meeting's seat (its unsent reminders lapse with it) and close its offers."""
    MeetingOffer.objects.filter(meeting=meeting, is_active=True).update(is_active=False)
    booking = MeetingBooking.objects.filter(meeting=meeting, released_at__isnull=True).first()
    if booking is not None:
        booking.released_at = timezone.now()
        booking.save(update_fields=["released_at"])
    return booking


def meeting_booking_current(meeting: MeetingRequest) -> MeetingBooking | None:
    return (
        MeetingBooking.objects.filter(meeting=meeting, released_at__isnull=True)
        .select_related("slot", "slot__host")
        .first()
    )


def _booked_data(booking: MeetingBooking) -> dict[str, object]:
    slot = booking.slot
    return {
        "slot": slot.pk,
        "starts_at": slot.starts_at.isoformat(),
        "duration_minutes": slot.duration_minutes,
        "place": slot.place,
        "video": bool(slot.video_link),
    }


# --- offering, booking, picking ---------------------------------------------------------------


def meeting_offer(
    *, meeting: MeetingRequest, slots: Sequence[MeetingSlot | int], by: User
) -> list[MeetingOffer]:
    """Offer the beneficiary some of the host's slots to pick from (replaces earlier offers)."""
    ids = list(dict.fromkeys(slot.pk if isinstance(slot, MeetingSlot) else slot for slot in slots))
    if not 1 <= len(ids) <= MAX_OFFERED:
        raise InvalidInput(
            format_lazy(_("Offer from 1 to {count} slots."), count=MAX_OFFERED),
            code="offer_count",
            details={"field": "slots", "max": MAX_OFFERED},
        )
    with transaction.atomic():
        meeting_ensure_move(by, M.OFFER)
        locked = meeting_lock(meeting)
        previous = meeting_move(locked, M.OFFER)
        chosen = [_slot_for(locked, slot_id) for slot_id in sorted(ids)]
        if any(not _free_seats(slot) for slot in chosen):
            raise Conflict(_("This slot is already fully booked."), code="slot_full")
        MeetingOffer.objects.filter(meeting=locked, is_active=True).update(is_active=False)
        offers = [MeetingOffer.objects.create(meeting=locked, slot=slot) for slot in chosen]
        meeting_event(
            locked,
            K.OFFERED,
            from_status=previous,
            by=by,
            data={"slots": [slot.pk for slot in chosen]},
        )
        meeting_notify(locked, "meeting_offered")
    return offers


def meeting_book(*, meeting: MeetingRequest, slot: MeetingSlot | int, by: User) -> MeetingBooking:
    """The office books a slot of the host for the meeting."""
    with transaction.atomic():
        meeting_ensure_move(by, M.BOOK)
        locked = meeting_lock(meeting)
        fields = meeting_step_start(locked, MeetingStep.NONE)
        previous = meeting_move(locked, M.BOOK, fields=fields)
        booking = _seat_take(locked, slot)
        MeetingOffer.objects.filter(meeting=locked, is_active=True).update(is_active=False)
        meeting_event(locked, K.SCHEDULED, from_status=previous, by=by, data=_booked_data(booking))
        meeting_notify(locked, "meeting_scheduled")
    return booking


def meeting_pick(
    *, meeting: MeetingRequest, beneficiary: Beneficiary, slot: MeetingSlot | int
) -> MeetingBooking:
    """The beneficiary picks one of the slots offered to them."""
    slot_id = slot.pk if isinstance(slot, MeetingSlot) else slot
    with transaction.atomic():
        locked = meeting_lock(meeting)
        meeting_own(locked, beneficiary)
        fields = meeting_step_start(locked, MeetingStep.NONE)
        previous = meeting_move(locked, M.PICK, fields=fields)
        if not MeetingOffer.objects.filter(
            meeting=locked, slot_id=slot_id, is_active=True
        ).exists():
            raise InvalidInput(
                _("Pick one of the dates offered to you."),
                code="slot_not_offered",
                details={"field": "slot"},
            )
        booking = _seat_take(locked, slot_id, by_beneficiary=True)
        MeetingOffer.objects.filter(meeting=locked, is_active=True).update(is_active=False)
        meeting_event(
            locked,
            K.SCHEDULED,
            from_status=previous,
            by_beneficiary=True,
            data=_booked_data(booking),
        )
        meeting_notify(locked, "meeting_scheduled")
    return booking


# --- after booking ----------------------------------------------------------------------------


def meeting_reschedule(
    *, meeting: MeetingRequest, slot: MeetingSlot | int, by: User, reason: str
) -> MeetingBooking:
    """Move a scheduled meeting to another slot of its host."""
    reason = meeting_text(reason, field="reason", minimum=3, maximum=1000)
    slot_id = slot.pk if isinstance(slot, MeetingSlot) else slot
    with transaction.atomic():
        meeting_ensure_move(by, M.RESCHEDULE)
        locked = meeting_lock(meeting)
        previous = meeting_move(locked, M.RESCHEDULE)
        current = meeting_booking_release(locked)
        if current is not None and current.slot_id == slot_id:
            raise InvalidInput(
                _("The meeting is already in this slot."),
                code="same_slot",
                details={"field": "slot"},
            )
        booking = _seat_take(locked, slot_id)
        meeting_event(
            locked,
            K.RESCHEDULED,
            from_status=previous,
            by=by,
            data={
                **_booked_data(booking),
                "from_slot": current.slot_id if current else None,
                "reason": reason,
            },
        )
        meeting_notify(locked, "meeting_scheduled")
    return booking


def meeting_cancel(*, meeting: MeetingRequest, by: User, reason: str) -> MeetingRequest:
    """The office cancels an approved or scheduled meeting (its seat is released)."""
    reason = meeting_text(reason, field="reason", minimum=10, maximum=1000)
    with transaction.atomic():
        meeting_ensure_move(by, M.CANCEL)
        locked = meeting_lock(meeting)
        released = meeting_booking_release(locked)
        locked.cancel_reason = reason
        fields = ["cancel_reason", *meeting_step_start(locked, MeetingStep.NONE)]
        previous = meeting_move(locked, M.CANCEL, fields=fields)
        meeting_event(
            locked,
            K.CANCELLED,
            from_status=previous,
            by=by,
            data={"reason": reason, "released_slot": released.slot_id if released else None},
        )
        meeting_notify(locked, "meeting_cancelled")
    return locked


def meeting_mark_held(*, meeting: MeetingRequest, by: User) -> MeetingRequest:
    """The meeting took place (from its start time on)."""
    return _after_start(meeting, by=by, move=M.HOLD, kind=K.HELD)


def meeting_mark_no_show(*, meeting: MeetingRequest, by: User) -> MeetingRequest:
    """The beneficiary did not come (from the meeting's start time on)."""
    return _after_start(meeting, by=by, move=M.NO_SHOW, kind=K.NO_SHOW)


def _after_start(
    meeting: MeetingRequest, *, by: User, move: MeetingMove, kind: MeetingEventKind
) -> MeetingRequest:
    with transaction.atomic():
        meeting_ensure_move(by, move)
        locked = meeting_lock(meeting)
        booking = meeting_booking_current(locked)
        if booking is not None and booking.slot.starts_at > timezone.now():
            raise Conflict(_("The meeting has not started yet."), code="not_started")
        fields: list[str] = []
        if move == M.HOLD and booking is not None:
            locked.held_at = booking.slot.starts_at
            fields.append("held_at")
        previous = meeting_move(locked, move, fields=fields)
        meeting_event(locked, kind, from_status=previous, by=by)
    return locked


# --- removing availability --------------------------------------------------------------------


def slot_delete(*, slot: MeetingSlot | int, by: User) -> None:
    """Delete a slot nobody was ever booked into and that is not on offer."""
    slot_id = slot.pk if isinstance(slot, MeetingSlot) else slot
    with transaction.atomic():
        meeting_ensure(by, MeetingRole.DECIDE)
        locked = MeetingSlot.objects.select_for_update().filter(pk=slot_id).first()
        if locked is None:
            raise InvalidInput(_("No such slot."), code="slot_unknown", details={"field": "slot"})
        if MeetingBooking.objects.filter(slot=locked).exists():
            raise Conflict(
                _("A slot that has or had a booking cannot be deleted."), code="slot_booked"
            )
        if MeetingOffer.objects.filter(slot=locked, is_active=True).exists():
            raise Conflict(
                _("This slot is offered to a beneficiary; offer other dates first."),
                code="slot_offered",
            )
        locked.delete()
