"""Reads for the staff console's meeting pages: the queue (oldest due first, with counts by
status), the staff timeline with who acted, and a host's slots with their bookings.
Every read of meeting requests starts from `permissions.meetings_for`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db.models import Count, Exists, F, OuterRef, Prefetch, QuerySet
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from tawasul.meetings.models import (
    MeetingAction,
    MeetingBooking,
    MeetingEvent,
    MeetingEventKind,
    MeetingHost,
    MeetingOffer,
    MeetingOutcome,
    MeetingRequest,
    MeetingSlot,
)
from tawasul.meetings.permissions import meetings_for
from tawasul.meetings.selectors import meeting_when_label

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser


def meetings_due_first(
    user: AbstractBaseUser | AnonymousUser, *, statuses: frozenset[str] | None = None
) -> QuerySet[MeetingRequest]:
    """The meeting requests the user may see in `statuses` (all when None): the running
    step due soonest first, then the oldest."""
    queryset = meetings_for(user).select_related("beneficiary", "host")
    if statuses is not None:
        queryset = queryset.filter(status__in=statuses)
    return queryset.order_by(F("step_due").asc(nulls_last=True), "created_at", "id")


def meeting_status_counts(user: AbstractBaseUser | AnonymousUser) -> dict[str, int]:
    """How many meeting requests the user may see in each status (one query)."""
    rows = meetings_for(user).order_by().values("status").annotate(count=Count("id"))
    return {row["status"]: row["count"] for row in rows}


def meeting_hosts() -> list[MeetingHost]:
    """The hosts who receive meetings now: the minister first."""
    return list(MeetingHost.objects.filter(is_active=True))


@dataclass(frozen=True)
class StaffTimelineEntry:
    kind: str
    label: str | Promise
    at: dt.datetime
    who: str | Promise
    is_public: bool
    when_label: str = ""
    data: dict[str, Any] = field(default_factory=dict)


def _who(event: MeetingEvent) -> str | Promise:
    if event.by_beneficiary:
        return _("The beneficiary")
    user = event.actor_user
    if user is None:
        return _("System")
    return str(user.get_full_name() or user.get_username())


def meeting_staff_timeline(meeting: MeetingRequest) -> list[StaffTimelineEntry]:
    """Every event of the meeting request, internal ones included, with who acted."""
    events = MeetingEvent.objects.filter(meeting_id=meeting.pk).select_related("actor_user")
    return [
        StaffTimelineEntry(
            kind=event.kind,
            label=MeetingEventKind(event.kind).label,
            at=event.created_at,
            who=_who(event),
            is_public=event.is_public,
            when_label=meeting_when_label((event.data or {}).get("starts_at")),
            data=event.data or {},
        )
        for event in events.order_by("created_at", "id")
    ]


def meeting_slots_between(
    *, host: MeetingHost, start: dt.datetime, end: dt.datetime
) -> list[MeetingSlot]:
    """The host's slots starting in [start, end), each with `active_bookings` (and their
    meetings), `ever_booked` and `is_offered` — what the availability page shows."""
    active = MeetingBooking.objects.filter(released_at__isnull=True).select_related("meeting")
    slots = (
        MeetingSlot.objects.filter(host=host, starts_at__gte=start, starts_at__lt=end)
        .annotate(
            ever_booked=Exists(MeetingBooking.objects.filter(slot=OuterRef("pk"))),
            is_offered=Exists(MeetingOffer.objects.filter(slot=OuterRef("pk"), is_active=True)),
        )
        .prefetch_related(Prefetch("bookings", queryset=active, to_attr="active_bookings"))
        .order_by("starts_at", "id")
    )
    return list(slots)


def meeting_outcome_of(meeting: MeetingRequest) -> MeetingOutcome | None:
    """The record of the meeting, if one was written."""
    return (
        MeetingOutcome.objects.filter(meeting_id=meeting.pk).select_related("recorded_by").first()
    )


def meeting_actions_of(meeting: MeetingRequest) -> list[MeetingAction]:
    """The meeting's follow-up actions with their entity and the request each opened."""
    return list(
        MeetingAction.objects.filter(meeting_id=meeting.pk).select_related("entity", "request")
    )
