"""Every write on a meeting request except scheduling (see `scheduling.py`).

Each service is keyword-only, atomic, checks the actor (the beneficiary's own request,
or a staff role from `permissions`), asks `workflow.meeting_next_status` before a status
changes, and writes its timeline event and any notice in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from tawasul.beneficiaries.models import Beneficiary
from tawasul.cases.models import Category, Channel, Kind, Request
from tawasul.cases.services import request_submit
from tawasul.core.errors import Conflict, InvalidInput
from tawasul.core.ids import tracking_number_new
from tawasul.directory.models import Entity
from tawasul.meetings.eligibility import meeting_eligibility
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
    MeetingAction,
    MeetingEventKind,
    MeetingHost,
    MeetingOutcome,
    MeetingPreference,
    MeetingRequest,
    MeetingStatus,
    MeetingStep,
    PartOfDay,
)
from tawasul.meetings.permissions import meeting_ensure
from tawasul.meetings.scheduling import meeting_booking_release
from tawasul.meetings.workflow import MeetingMove, MeetingRole

User = AbstractBaseUser
M = MeetingMove
K = MeetingEventKind
MAX_FOLLOW_UPS = 5
MAX_PREFERENCES = 3
PREFERENCE_HORIZON_DAYS = 180
PREFERENCE_SPAN_DAYS = 60


class MeetingIneligible(Conflict):
    """One or more eligibility rules refuse; `details["refusals"]` lists them all."""

    code = "not_eligible"


@dataclass(frozen=True)
class PreferredPeriod:
    first_day: dt.date
    last_day: dt.date
    part_of_day: str


# --- asking for a meeting -------------------------------------------------------------------


def meeting_request_submit(
    *,
    beneficiary: Beneficiary,
    subject: str,
    summary: str,
    follow_ups: Sequence[Request | int] = (),
    preferences: Sequence[PreferredPeriod] = (),
) -> MeetingRequest:
    """Record a meeting request if every eligibility rule allows it; start screening."""
    subject = meeting_text(subject, field="subject", minimum=3, maximum=200)
    summary = meeting_text(summary, field="summary", minimum=20, maximum=5000)
    periods = _preferences(preferences)
    with transaction.atomic():
        # One submission per person at a time: the open-request rule then holds under races.
        Beneficiary.objects.select_for_update().filter(pk=beneficiary.pk).first()
        requests = _own_follow_ups(beneficiary, follow_ups)
        refusals = meeting_eligibility(beneficiary=beneficiary, follow_ups=requests)
        if refusals:
            raise MeetingIneligible(
                refusals[0].message,
                details={"refusals": [refusal.as_dict() for refusal in refusals]},
            )
        meeting = _create_with_unique_number(
            beneficiary=beneficiary, subject=subject, summary=summary
        )
        meeting.follow_ups.set(requests)
        MeetingPreference.objects.bulk_create(
            MeetingPreference(meeting=meeting, **period.__dict__) for period in periods
        )
        meeting.save(update_fields=meeting_step_start(meeting, MeetingStep.SCREENING))
        meeting_event(
            meeting,
            K.SUBMITTED,
            by_beneficiary=True,
            data={"follow_ups": [request.tracking_number for request in requests]},
        )
        meeting_notify(meeting, "meeting_received")
    return meeting


def _own_follow_ups(beneficiary: Beneficiary, values: Sequence[Request | int]) -> list[Request]:
    ids = list(dict.fromkeys(value.pk if isinstance(value, Request) else value for value in values))
    if len(ids) > MAX_FOLLOW_UPS or not all(isinstance(pk, int) for pk in ids):
        raise InvalidInput(
            format_lazy(_("Choose at most {count} earlier requests."), count=MAX_FOLLOW_UPS),
            code="follow_ups",
            details={"field": "follow_ups", "max": MAX_FOLLOW_UPS},
        )
    requests = list(Request.objects.filter(pk__in=ids, beneficiary_id=beneficiary.pk))
    if len(requests) != len(ids):
        raise InvalidInput(
            _("A meeting can only follow up your own requests."),
            code="follow_up_unknown",
            details={"field": "follow_ups"},
        )
    return sorted(requests, key=lambda request: ids.index(request.pk))


def _preferences(periods: Sequence[PreferredPeriod]) -> list[PreferredPeriod]:
    if not 1 <= len(periods) <= MAX_PREFERENCES:
        raise InvalidInput(
            format_lazy(_("Give from 1 to {count} periods that suit you."), count=MAX_PREFERENCES),
            code="preferences",
            details={"field": "preferences", "max": MAX_PREFERENCES},
        )
    today = timezone.localdate()
    horizon = today + dt.timedelta(days=PREFERENCE_HORIZON_DAYS)
    for period in periods:
        if (
            period.part_of_day not in PartOfDay.values
            or not today <= period.first_day <= period.last_day <= horizon
            or (period.last_day - period.first_day).days > PREFERENCE_SPAN_DAYS
        ):
            raise InvalidInput(
                format_lazy(
                    _(
                        "Each period runs from a day to a later one, within the next {days} "
                        "days and at most {span} days long, in the morning or the evening."
                    ),
                    days=PREFERENCE_HORIZON_DAYS,
                    span=PREFERENCE_SPAN_DAYS,
                ),
                code="preference_invalid",
                details={"field": "preferences"},
            )
    return list(periods)


def _create_with_unique_number(**fields: object) -> MeetingRequest:
    for _attempt in range(8):
        number = tracking_number_new()
        if Request.objects.filter(tracking_number=number).exists():
            continue  # one number never names both a request and a meeting
        try:
            with transaction.atomic():
                return MeetingRequest.objects.create(tracking_number=number, **fields)
        except IntegrityError:
            continue
    raise Conflict(_("Could not allocate a tracking number; please try again."))


# --- screening by the central care centre ----------------------------------------------------


def meeting_forward(*, meeting: MeetingRequest, by: User, note: str = "") -> MeetingRequest:
    """The care centre sends the request on to the minister's office."""
    note = (note or "").strip()[:2000]
    with transaction.atomic():
        meeting_ensure_move(by, M.FORWARD)
        locked = meeting_lock(meeting)
        fields = meeting_step_start(locked, MeetingStep.DECISION)
        previous = meeting_move(locked, M.FORWARD, fields=fields)
        meeting_event(locked, K.FORWARDED, from_status=previous, by=by)
        if note:
            meeting_event(locked, K.NOTE_ADDED, by=by, is_public=False, data={"note": note})
    return locked


def meeting_decline(*, meeting: MeetingRequest, by: User, reason: str) -> MeetingRequest:
    """Decline, with the reason the beneficiary will read: the care centre while
    screening, the minister's office once forwarded."""
    reason = meeting_text(reason, field="reason", minimum=10, maximum=2000)
    with transaction.atomic():
        locked = meeting_lock(meeting)
        move = M.SCREEN_DECLINE if locked.status == MeetingStatus.SUBMITTED else M.OFFICE_DECLINE
        meeting_ensure_move(by, move)
        locked.decline_reason = reason
        fields = ["decline_reason", *meeting_step_start(locked, MeetingStep.NONE)]
        previous = meeting_move(locked, move, fields=fields)
        meeting_event(
            locked,
            K.DECLINED,
            from_status=previous,
            by=by,
            data={"reason": reason, "by_office": move == M.OFFICE_DECLINE},
        )
        meeting_notify(locked, "meeting_decided")
    return locked


def meeting_convert(
    *,
    meeting: MeetingRequest,
    by: User,
    entity: Entity | int,
    category: Category | int,
    kind: str = Kind.COMPLAINT,
) -> Request:
    """Turn the meeting request into an ordinary request routed to the competent entity."""
    with transaction.atomic():
        meeting_ensure_move(by, M.CONVERT)
        locked = meeting_lock(meeting)
        fields = meeting_step_start(locked, MeetingStep.NONE)
        previous = meeting_move(locked, M.CONVERT, fields=fields)
        request = request_submit(
            beneficiary=locked.beneficiary,
            kind=kind,
            category=category,
            subject=locked.subject,
            description=locked.summary,
            channel=Channel.PORTAL,
            entity=entity,
            by=by,
        )
        locked.converted_request = request
        locked.save(update_fields=["converted_request"])
        meeting_event(
            locked,
            K.CONVERTED,
            from_status=previous,
            by=by,
            data={"request": request.pk, "tracking_number": request.tracking_number},
        )
    return request


# --- the minister's office decides -----------------------------------------------------------


def meeting_approve(
    *, meeting: MeetingRequest, by: User, host: MeetingHost | None = None
) -> MeetingRequest:
    """Approve a meeting with the minister (or the given host)."""
    chosen = host or MeetingHost.objects.filter(is_minister=True, is_active=True).first()
    if chosen is None:
        raise InvalidInput(
            _("Choose who will receive the beneficiary."),
            code="host_required",
            details={"field": "host"},
        )
    return _decide(meeting, by=by, host=chosen, move=M.APPROVE, kind=K.APPROVED)


def meeting_delegate(*, meeting: MeetingRequest, by: User, host: MeetingHost) -> MeetingRequest:
    """Approve the meeting with a deputy or another official instead of the minister."""
    if host.is_minister:
        raise InvalidInput(
            _("Delegate to a deputy or another official, not to the minister."),
            code="delegate_not_minister",
            details={"field": "host"},
        )
    return _decide(meeting, by=by, host=host, move=M.DELEGATE, kind=K.DELEGATED)


def _decide(
    meeting: MeetingRequest,
    *,
    by: User,
    host: MeetingHost,
    move: MeetingMove,
    kind: MeetingEventKind,
) -> MeetingRequest:
    if not host.is_active:
        raise InvalidInput(
            _("This host no longer receives meetings."),
            code="host_inactive",
            details={"field": "host"},
        )
    with transaction.atomic():
        meeting_ensure_move(by, move)
        locked = meeting_lock(meeting)
        locked.host = host
        fields = ["host", *meeting_step_start(locked, MeetingStep.SCHEDULING)]
        previous = meeting_move(locked, move, fields=fields)
        meeting_event(
            locked,
            kind,
            from_status=previous,
            by=by,
            data={"host": host.pk, "host_name": host.name, "host_title": host.title},
        )
        meeting_notify(locked, "meeting_decided")
    return locked


# --- the beneficiary withdraws ------------------------------------------------------------------


def meeting_withdraw(
    *, meeting: MeetingRequest, beneficiary: Beneficiary, reason: str = ""
) -> MeetingRequest:
    """The beneficiary withdraws an open meeting request (a booked seat is released)."""
    reason = (reason or "").strip()[:1000]
    with transaction.atomic():
        locked = meeting_lock(meeting)
        meeting_own(locked, beneficiary)
        released = meeting_booking_release(locked)
        locked.cancel_reason = reason
        fields = ["cancel_reason", *meeting_step_start(locked, MeetingStep.NONE)]
        previous = meeting_move(locked, M.WITHDRAW, fields=fields)
        meeting_event(
            locked,
            K.WITHDRAWN,
            from_status=previous,
            by_beneficiary=True,
            data={"released_slot": released.slot_id if released else None},
        )
    return locked


# --- notes, outcome and follow-up actions ----------------------------------------------------


def meeting_note(*, meeting: MeetingRequest, by: User, body: str) -> MeetingRequest:
    """An internal note on the staff timeline, never shown to the beneficiary."""
    body = meeting_text(body, field="body", minimum=1, maximum=5000)
    with transaction.atomic():
        meeting_ensure(by, MeetingRole.VIEW)
        locked = meeting_lock(meeting)
        meeting_event(locked, K.NOTE_ADDED, by=by, is_public=False, data={"note": body})
    return locked


def meeting_outcome_record(*, meeting: MeetingRequest, by: User, summary: str) -> MeetingOutcome:
    """A short record of a held meeting (once)."""
    summary = meeting_text(summary, field="summary", minimum=10, maximum=5000)
    with transaction.atomic():
        meeting_ensure(by, MeetingRole.DECIDE)
        locked = meeting_lock(meeting)
        _ensure_held(locked)
        if MeetingOutcome.objects.filter(meeting=locked).exists():
            raise Conflict(_("This meeting already has a record."), code="outcome_exists")
        outcome = MeetingOutcome.objects.create(
            meeting=locked, summary=summary, recorded_by_id=by.pk
        )
        meeting_event(locked, K.OUTCOME_RECORDED, by=by, data={"outcome": outcome.pk})
    return outcome


def _ensure_held(meeting: MeetingRequest) -> None:
    if meeting.status != MeetingStatus.HELD:
        raise Conflict(
            _("Only a meeting that was held can have a record and follow-up actions."),
            code="not_held",
            details={"status": meeting.status},
        )


def meeting_action_add(
    *, meeting: MeetingRequest, by: User, description: str, entity: Entity
) -> MeetingAction:
    """A follow-up action of a held meeting, for an entity (internal to staff)."""
    description = meeting_text(description, field="description", minimum=10, maximum=2000)
    with transaction.atomic():
        meeting_ensure(by, MeetingRole.DECIDE)
        locked = meeting_lock(meeting)
        _ensure_held(locked)
        action = MeetingAction.objects.create(
            meeting=locked, description=description, entity=entity, created_by_id=by.pk
        )
        meeting_event(
            locked,
            K.ACTION_ADDED,
            by=by,
            is_public=False,
            data={"action": action.pk, "entity": entity.pk},
        )
    return action


def meeting_action_open_request(
    *,
    action: MeetingAction,
    by: User,
    category: Category | int,
    kind: str = Kind.COMPLAINT,
) -> Request:
    """Open the request that carries a follow-up action to its entity, and link them."""
    with transaction.atomic():
        meeting_ensure(by, MeetingRole.DECIDE)
        locked_action = (
            MeetingAction.objects.select_for_update()
            .select_related("meeting", "entity")
            .get(pk=action.pk)
        )
        if locked_action.request_id is not None:
            raise Conflict(_("This action already has its request."), code="action_request_exists")
        meeting = meeting_lock(locked_action.meeting)
        request = request_submit(
            beneficiary=meeting.beneficiary,
            kind=kind,
            category=category,
            subject=meeting.subject,
            description=locked_action.description,
            channel=Channel.PORTAL,
            entity=locked_action.entity,
            by=by,
        )
        locked_action.request = request
        locked_action.save(update_fields=["request"])
        meeting_event(
            meeting,
            K.ACTION_REQUEST_OPENED,
            by=by,
            data={"action": locked_action.pk, "tracking_number": request.tracking_number},
        )
    return request
