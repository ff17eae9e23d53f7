"""Reads for the portal, the console and the API: lists, the timeline each side sees,
open slots, the office's agenda. Staff reads go through `permissions`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.utils.dateparse import parse_datetime

from tawasul.cases.models import Request
from tawasul.channels.models import OutboxChannel
from tawasul.channels.outbox import recipient_masked
from tawasul.core.templatetags.tawasul_dates import dual_datetime_label
from tawasul.meetings.eligibility import settled_requests
from tawasul.meetings.models import (
    MeetingBooking,
    MeetingEvent,
    MeetingEventKind,
    MeetingHost,
    MeetingPreference,
    MeetingRequest,
    MeetingSlot,
    MeetingStatus,
)
from tawasul.meetings.permissions import meetings_for
from tawasul.meetings.scheduling import meeting_booking_current

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

    from tawasul.beneficiaries.models import Beneficiary

K = MeetingEventKind
AGENDA_STATUSES = (MeetingStatus.SCHEDULED, MeetingStatus.HELD, MeetingStatus.NO_SHOW)
# What the beneficiary may read of an event's data (the rest is for staff).
PUBLIC_DATA_KEYS = {
    K.DECLINED: ("reason",),
    K.CANCELLED: ("reason",),
    K.CONVERTED: ("tracking_number",),
    K.APPROVED: ("host_name", "host_title"),
    K.DELEGATED: ("host_name", "host_title"),
    K.SCHEDULED: ("starts_at", "place", "video"),
    K.RESCHEDULED: ("starts_at", "place", "video"),
    K.ACTION_REQUEST_OPENED: ("tracking_number",),
}


@dataclass(frozen=True)
class TimelineEntry:
    kind: str
    label: str
    at: dt.datetime
    at_label: str
    by_beneficiary: bool
    is_public: bool
    when_label: str = ""
    data: dict[str, Any] = field(default_factory=dict)


def meetings_for_staff(
    user: AbstractBaseUser | AnonymousUser, *, status: str | None = None
) -> QuerySet[MeetingRequest]:
    """The meeting requests a staff member may see, newest first (none for outsiders)."""
    queryset = meetings_for(user).select_related("beneficiary", "host").order_by("-created_at")
    return queryset.filter(status=status) if status else queryset


def meetings_of_beneficiary(beneficiary: Beneficiary) -> QuerySet[MeetingRequest]:
    return (
        MeetingRequest.objects.filter(beneficiary_id=beneficiary.pk)
        .select_related("host")
        .order_by("-created_at")
    )


def meetings_of_beneficiary_page(
    beneficiary: Beneficiary, *, after: tuple[dt.datetime, int] | None = None, limit: int = 20
) -> list[MeetingRequest]:
    """Up to `limit` of the person's meeting requests, newest first, after the
    (created_at, id) key of the last one already seen: a keyset page."""
    meetings = meetings_of_beneficiary(beneficiary).order_by("-created_at", "-id")
    if after is not None:
        created_at, pk = after
        meetings = meetings.filter(
            Q(created_at__lt=created_at) | Q(created_at=created_at, id__lt=pk)
        )
    return list(meetings[:limit])


def meeting_follow_up_choices(beneficiary: Beneficiary) -> QuerySet[Request]:
    """The person's requests that satisfy the `settled_request` rule, newest first."""
    return settled_requests(beneficiary).distinct().order_by("-created_at")


def meeting_when_label(starts_at: dt.datetime | str | None, language: str | None = None) -> str:
    """A meeting's start as shown everywhere: Gregorian date and time, then Hijri."""
    if isinstance(starts_at, str):
        starts_at = parse_datetime(starts_at)
    return dual_datetime_label(starts_at, language) if starts_at else ""


def meeting_timeline(meeting: MeetingRequest, *, for_staff: bool) -> list[TimelineEntry]:
    """The events in order: all of them for staff; the public ones, with only what the
    beneficiary may read, for the beneficiary."""
    events = MeetingEvent.objects.filter(meeting_id=meeting.pk)
    if not for_staff:
        events = events.filter(is_public=True)
    return [_entry(event, for_staff=for_staff) for event in events.order_by("created_at", "id")]


def _entry(event: MeetingEvent, *, for_staff: bool) -> TimelineEntry:
    data = event.data or {}
    if not for_staff:
        keys = PUBLIC_DATA_KEYS.get(MeetingEventKind(event.kind), ())
        data = {key: data[key] for key in keys if key in data}
    return TimelineEntry(
        kind=event.kind,
        label=str(event.get_kind_display()),
        at=event.created_at,
        at_label=dual_datetime_label(event.created_at),
        by_beneficiary=event.by_beneficiary,
        is_public=event.is_public,
        when_label=meeting_when_label(data.get("starts_at")),
        data=data,
    )


@dataclass(frozen=True)
class MeetingPublicDetail:
    """A meeting request as its beneficiary sees it, in the portal and in the app alike."""

    meeting: MeetingRequest
    timeline: list[TimelineEntry]
    follow_ups: list[Request]
    preferences: list[MeetingPreference]
    offered: list[MeetingSlot]
    booking: MeetingBooking | None

    @property
    def can_pick(self) -> bool:
        return self.meeting.status == MeetingStatus.OFFERED and bool(self.offered)

    @property
    def can_withdraw(self) -> bool:
        return self.meeting.is_open


def meeting_public_detail(meeting: MeetingRequest) -> MeetingPublicDetail:
    """The beneficiary's view of their meeting request: public timeline, the requests it
    follows up, the periods asked for, the slots on offer and the booking."""
    offering = meeting.status == MeetingStatus.OFFERED
    return MeetingPublicDetail(
        meeting=meeting,
        timeline=meeting_timeline(meeting, for_staff=False),
        follow_ups=list(meeting.follow_ups.order_by("-created_at", "-id")),
        preferences=list(meeting.preferences.all()),
        offered=meeting_offered_slots(meeting) if offering else [],
        booking=meeting_booking_current(meeting) if meeting.status in AGENDA_STATUSES else None,
    )


def meeting_contact_masked(meeting: MeetingRequest) -> dict[str, str]:
    """The beneficiary's mobile and e-mail as staff screens show them (masked)."""
    beneficiary = meeting.beneficiary
    return {
        "mobile": beneficiary.masked_mobile,
        "email": recipient_masked(channel=OutboxChannel.EMAIL, recipient=beneficiary.email)
        if beneficiary.email
        else "",
    }


@dataclass(frozen=True)
class SlotAvailability:
    slot: MeetingSlot
    free_seats: int


def meeting_slots_open(
    *, host: MeetingHost, start: dt.datetime, end: dt.datetime
) -> list[SlotAvailability]:
    """The host's slots starting in [start, end) that still have a free seat."""
    slots = (
        MeetingSlot.objects.filter(host=host, starts_at__gte=start, starts_at__lt=end)
        .annotate(taken=Count("bookings", filter=Q(bookings__released_at__isnull=True)))
        .order_by("starts_at", "id")
    )
    return [
        SlotAvailability(slot=slot, free_seats=slot.capacity - slot.taken)
        for slot in slots
        if slot.capacity > slot.taken
    ]


def meeting_offered_slots(meeting: MeetingRequest) -> list[MeetingSlot]:
    """The slots currently offered to the beneficiary to pick from."""
    return list(
        MeetingSlot.objects.filter(offers__meeting=meeting, offers__is_active=True)
        .select_related("host")
        .order_by("starts_at", "id")
    )


def meeting_bookings_between(
    *, start: dt.datetime, end: dt.datetime, host: MeetingHost | None = None
) -> list[MeetingBooking]:
    """Active bookings of meetings on the agenda whose slot starts in [start, end)."""
    bookings = MeetingBooking.objects.filter(
        released_at__isnull=True,
        meeting__status__in=AGENDA_STATUSES,
        slot__starts_at__gte=start,
        slot__starts_at__lt=end,
    )
    if host is not None:
        bookings = bookings.filter(slot__host=host)
    return list(
        bookings.select_related("slot", "slot__host", "meeting", "meeting__beneficiary").order_by(
            "slot__starts_at", "slot__host_id", "seat"
        )
    )


def meeting_agenda(day: dt.date, *, host: MeetingHost | None = None) -> list[MeetingBooking]:
    """The office's meetings of one local day (in the site's time zone), in time order."""
    tz = ZoneInfo(settings.TIME_ZONE)
    start = dt.datetime.combine(day, dt.time.min, tzinfo=tz)
    return meeting_bookings_between(start=start, end=start + dt.timedelta(days=1), host=host)
