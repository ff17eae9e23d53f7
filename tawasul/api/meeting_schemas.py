"""What the app sends and receives about minister meetings.

Out of a meeting request the app sees what the portal shows: the public timeline with
only the data meant for the beneficiary, the slots offered, the booking (date, place or
video link, host); never a staff member's name, an internal note or a national ID.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, Literal

from django.utils import timezone
from ninja import Schema
from pydantic import Field

from tawasul.api.beneficiary_schemas import PAGE_MAX, DbId, LongText, ShortText, bilingual
from tawasul.api.schemas import Bilingual
from tawasul.meetings.eligibility import RuleCheck
from tawasul.meetings.models import (
    MeetingBooking,
    MeetingEventKind,
    MeetingHost,
    MeetingPreference,
    MeetingRequest,
    MeetingSlot,
    MeetingStatus,
    PartOfDay,
)
from tawasul.meetings.selectors import MeetingPublicDetail, TimelineEntry
from tawasul.meetings.services import MAX_FOLLOW_UPS, MAX_PREFERENCES

# --- input ----------------------------------------------------------------------------------


class PeriodIn(Schema):
    first_day: date
    last_day: date
    part_of_day: Literal["morning", "evening"]


class MeetingIn(Schema):
    subject: LongText
    summary: LongText
    follow_ups: list[ShortText] = Field(
        default_factory=list,
        max_length=MAX_FOLLOW_UPS,
        description="Tracking numbers of my earlier requests this meeting follows up.",
    )
    preferences: list[PeriodIn] = Field(
        max_length=MAX_PREFERENCES, description="From 1 to 3 periods that suit me."
    )


class PickIn(Schema):
    slot_id: DbId


class WithdrawIn(Schema):
    reason: LongText = ""


class MeetingListQuery(Schema):
    cursor: str | None = Field(None, max_length=200)
    limit: int = Field(20, ge=1, le=PAGE_MAX)


class NoQuery(Schema):
    """An operation that takes no query parameter."""


# --- output ---------------------------------------------------------------------------------


class RuleOut(Schema):
    code: str = Field(description="The rule: settled_request, one_open or cooling_off.")
    passed: bool
    message: Bilingual = Field(description="What the rule asks, or why it refuses now.")
    refusal_code: str | None = Field(description="The refusal's code when the rule refuses.")
    details: dict[str, Any]


class EligibilityOut(Schema):
    eligible: bool
    rules: list[RuleOut]


class HostOut(Schema):
    name: str
    title: str


class SlotOut(Schema):
    id: int
    starts_at: datetime
    ends_at: datetime
    duration_minutes: int
    place: str
    by_video: bool
    host: HostOut


class BookingOut(Schema):
    slot: SlotOut
    video_link: str = Field(description="The link to join, for a meeting by video.")
    booked_at: datetime


class PeriodOut(Schema):
    first_day: date
    last_day: date
    part_of_day: str
    part_of_day_label: Bilingual


class FollowUpOut(Schema):
    tracking_number: str
    subject: str


class MeetingTimelineOut(Schema):
    kind: str
    label: Bilingual
    at: datetime
    by_beneficiary: bool
    data: dict[str, Any] = Field(
        description="Only what is meant for me: reason, host, date and place, request number."
    )


class MeetingActionsOut(Schema):
    can_pick: bool
    can_withdraw: bool


class MeetingOut(Schema):
    tracking_number: str
    tracking_display: str
    status: str
    status_label: Bilingual
    subject: str
    host: HostOut | None
    created_at: datetime
    updated_at: datetime


class MeetingPage(Schema):
    items: list[MeetingOut]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null at the end."
    )


class MeetingDetailOut(MeetingOut):
    summary: str
    decline_reason: str
    converted_request: str | None = Field(
        description="The tracking number of the request the meeting request became."
    )
    follow_ups: list[FollowUpOut]
    preferences: list[PeriodOut]
    offered_slots: list[SlotOut]
    booking: BookingOut | None
    actions: MeetingActionsOut
    timeline: list[MeetingTimelineOut]


# --- rendering ------------------------------------------------------------------------------


def rule_out(check: RuleCheck) -> RuleOut:
    refusal = check.refusal
    return RuleOut(
        code=check.code,
        passed=check.passed,
        message=bilingual(check.message),
        refusal_code=refusal.code if refusal is not None else None,
        details=refusal.details if refusal is not None else {},
    )


def _host(host: MeetingHost | None) -> HostOut | None:
    return HostOut(name=host.name, title=host.title) if host is not None else None


def slot_out(slot: MeetingSlot) -> SlotOut:
    starts_at = timezone.localtime(slot.starts_at)
    return SlotOut(
        id=slot.pk,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=slot.duration_minutes),
        duration_minutes=slot.duration_minutes,
        place=slot.place,
        by_video=bool(slot.video_link),
        host=HostOut(name=slot.host.name, title=slot.host.title),
    )


def _booking(booking: MeetingBooking) -> BookingOut:
    return BookingOut(
        slot=slot_out(booking.slot),
        video_link=booking.slot.video_link,
        booked_at=timezone.localtime(booking.created_at),
    )


def _period(period: MeetingPreference) -> PeriodOut:
    return PeriodOut(
        first_day=period.first_day,
        last_day=period.last_day,
        part_of_day=period.part_of_day,
        part_of_day_label=bilingual(PartOfDay(period.part_of_day).label),
    )


def _timeline(entry: TimelineEntry) -> MeetingTimelineOut:
    return MeetingTimelineOut(
        kind=entry.kind,
        label=bilingual(MeetingEventKind(entry.kind).label),
        at=timezone.localtime(entry.at),
        by_beneficiary=entry.by_beneficiary,
        data=entry.data,
    )


def _meeting_fields(meeting: MeetingRequest) -> dict[str, Any]:
    return {
        "tracking_number": meeting.tracking_number,
        "tracking_display": meeting.tracking_display,
        "status": meeting.status,
        "status_label": bilingual(MeetingStatus(meeting.status).label),
        "subject": meeting.subject,
        "host": _host(meeting.host),
        "created_at": timezone.localtime(meeting.created_at),
        "updated_at": timezone.localtime(meeting.updated_at),
    }


def meeting_out(meeting: MeetingRequest) -> MeetingOut:
    return MeetingOut(**_meeting_fields(meeting))


def meeting_detail_out(detail: MeetingPublicDetail) -> MeetingDetailOut:
    meeting = detail.meeting
    converted = meeting.converted_request
    return MeetingDetailOut(
        **_meeting_fields(meeting),
        summary=meeting.summary,
        decline_reason=meeting.decline_reason if meeting.status == MeetingStatus.DECLINED else "",
        converted_request=converted.tracking_number if converted is not None else None,
        follow_ups=[
            FollowUpOut(tracking_number=case.tracking_number, subject=case.subject)
            for case in detail.follow_ups
        ],
        preferences=[_period(period) for period in detail.preferences],
        offered_slots=[slot_out(slot) for slot in detail.offered],
        booking=_booking(detail.booking) if detail.booking is not None else None,
        actions=MeetingActionsOut(can_pick=detail.can_pick, can_withdraw=detail.can_withdraw),
        timeline=[_timeline(entry) for entry in detail.timeline],
    )
