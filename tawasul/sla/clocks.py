"""The SLA clocks of a request, kept as columns on the row.

Each function is called by a `cases.services` service *inside* its transaction,
on the request row it has locked, and saves only the SLA columns it changes.
All arithmetic is in business minutes of the calendar of the centre that owns
the request now (`working_calendar_for_entity`). `now` defaults to the current
instant; tests pass it to freeze time.

Resolution clock, step by step (`sla_stage`, advanced by `sla.sweep`):
none --(warning % of the target has passed)--> warned --(due)--> breached
--(escalation delay)--> escalated. `sla_next_at` is the instant of the next step,
None when no step is ahead (paused, answered, closed, or escalated).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.utils import timezone

from tawasul.cases.models import Event, EventKind, Request, SlaStage, SlaState
from tawasul.sla.business_time import (
    WorkingCalendar,
    business_minutes_add,
    business_minutes_between,
)
from tawasul.sla.calendars import working_calendar_for_entity
from tawasul.sla.policies import SlaTargets, sla_policy_for_request, sla_targets_of

_RESOLUTION_FIELDS = [
    "sla_resolution_minutes",
    "resolution_due",
    "sla_resolution_state",
    "sla_stage",
    "sla_paused_at",
    "sla_remaining_minutes",
    "sla_next_at",
]


# --- arithmetic on a request -------------------------------------------------------


def request_calendar(request: Request, *, around: datetime | None = None) -> WorkingCalendar:
    """The working calendar of the centre that owns the request."""
    return working_calendar_for_entity(request.entity, around=around)


def request_targets(request: Request) -> SlaTargets:
    """The targets of the request's policy (the built-in defaults when it has none)."""
    return sla_targets_of(request.sla_policy)


def business_minutes_signed(calendar: WorkingCalendar, start: datetime, end: datetime) -> int:
    """Business minutes from `start` to `end`; negative when `end` is earlier."""
    if end >= start:
        return business_minutes_between(calendar, start, end)
    return -business_minutes_between(calendar, end, start)


def warning_lead_minutes(targets: SlaTargets, resolution_minutes: int) -> int:
    """Business minutes still left when the warning is due."""
    elapsed = resolution_minutes * targets.warning_percent // 100
    return resolution_minutes - elapsed


def sla_step_after(
    request: Request,
    *,
    calendar: WorkingCalendar,
    targets: SlaTargets,
    now: datetime,
) -> datetime | None:
    """When the step after the request's current `sla_stage` is due (None: no step ahead).

    Used once the stage has moved (by the sweep) and after the clock restarts.
    """
    due = request.resolution_due
    if request.sla_resolution_state not in (SlaState.RUNNING, SlaState.BREACHED) or due is None:
        return None
    if request.sla_stage == SlaStage.NONE:
        left = business_minutes_signed(calendar, now, due)
        lead = warning_lead_minutes(targets, request.sla_resolution_minutes or 0)
        return business_minutes_add(calendar, now, left - lead) if left > lead else now
    if request.sla_stage == SlaStage.WARNED:
        return due
    if request.sla_stage == SlaStage.BREACHED:
        return business_minutes_add(calendar, due, targets.escalation_minutes)
    return None


# --- hooks called by the services -----------------------------------------------------


def sla_clock_start(request: Request, *, now: datetime | None = None) -> None:
    """On submission: match the policy and set both due instants and the first step."""
    sla_clock_prepare(request, now=now)
    request.save(
        update_fields=[
            "sla_policy",
            "first_response_due",
            "sla_first_response_state",
            *_RESOLUTION_FIELDS,
        ]
    )


def sla_clock_prepare(request: Request, *, now: datetime | None = None) -> None:
    """`sla_clock_start` without the save: for a request about to be inserted, so the
    clocks go in with the INSERT instead of an UPDATE after it."""
    now = now or timezone.now()
    policy = sla_policy_for_request(request)
    request.sla_policy = policy
    targets = sla_targets_of(policy)
    calendar = request_calendar(request, around=now)
    _first_response_start(request, calendar=calendar, targets=targets, now=now)
    _resolution_start(request, calendar=calendar, targets=targets, now=now)


def sla_clock_first_response(request: Request) -> None:
    """After a reply, a question or an answer: the first-response clock is met or breached."""
    if _first_response_settle(request):
        request.save(update_fields=["sla_first_response_state"])


def sla_clock_pause(request: Request, *, now: datetime | None = None) -> None:
    """Awaiting the beneficiary: stop the resolution clock and keep the time left."""
    sla_clock_first_response(request)
    running = request.sla_resolution_state in (SlaState.RUNNING, SlaState.BREACHED)
    if not running or request.sla_stage == SlaStage.ESCALATED or request.resolution_due is None:
        return
    now = now or timezone.now()
    calendar = request_calendar(request, around=now)
    request.sla_remaining_minutes = business_minutes_signed(calendar, now, request.resolution_due)
    request.sla_paused_at, request.sla_next_at = now, None
    request.sla_resolution_state = SlaState.PAUSED
    request.save(update_fields=_RESOLUTION_FIELDS)
    _clock_event(
        request, EventKind.SLA_PAUSED, is_public=False, remaining=request.sla_remaining_minutes
    )


def sla_clock_resume(request: Request, *, now: datetime | None = None) -> None:
    """The beneficiary replied: the resolution clock runs again with the time it had left."""
    if request.sla_resolution_state != SlaState.PAUSED or request.resolution_due is None:
        return
    now = now or timezone.now()
    calendar = request_calendar(request, around=now)
    remaining = request.sla_remaining_minutes or 0
    if remaining > 0:
        request.resolution_due = business_minutes_add(calendar, now, remaining)
    request.sla_resolution_state = _running_or_breached(request)
    request.sla_paused_at, request.sla_remaining_minutes = None, None
    request.sla_next_at = _next_after_resume(
        request, calendar=calendar, targets=request_targets(request), now=now, remaining=remaining
    )
    request.save(update_fields=_RESOLUTION_FIELDS)
    _clock_event(request, EventKind.SLA_RESUMED, is_public=True, remaining=remaining)


def sla_clock_transferred(request: Request, *, returned: bool, now: datetime | None = None) -> None:
    """Forwarded or returned: the clock continues (resuming it if it was paused), or, for a
    returned misrouted request with `TAWASUL_SLA_RESTART_ON_RETURN`, starts again."""
    if returned and settings.TAWASUL_SLA_RESTART_ON_RETURN:
        _restart(request, now=now or timezone.now())
    else:
        sla_clock_resume(request, now=now)


def sla_clock_answered(request: Request) -> None:
    """The answer is given: both clocks are settled and no step is left."""
    sla_clock_first_response(request)
    if request.sla_resolution_state == SlaState.RUNNING:
        on_time = (
            request.resolution_due is not None
            and request.answered_at is not None
            and request.answered_at <= request.resolution_due
        )
        request.sla_resolution_state = SlaState.MET if on_time else SlaState.BREACHED
    request.sla_next_at = None
    request.save(update_fields=["sla_resolution_state", "sla_next_at"])


def sla_clock_stop(request: Request) -> None:
    """Cancelled or closed: clocks still running stop, and the sweep forgets the request."""
    for field in ("sla_first_response_state", "sla_resolution_state"):
        if getattr(request, field) in (SlaState.RUNNING, SlaState.PAUSED):
            setattr(request, field, SlaState.STOPPED)
    request.sla_next_at = None
    request.save(update_fields=["sla_first_response_state", "sla_resolution_state", "sla_next_at"])


def sla_clock_reopen(request: Request, *, now: datetime | None = None) -> None:
    """Reopened after an upheld objection: a new resolution target from now."""
    now = now or timezone.now()
    targets = request_targets(request)
    calendar = request_calendar(request, around=now)
    _resolution_start(request, calendar=calendar, targets=targets, now=now)
    request.save(update_fields=_RESOLUTION_FIELDS)
    _clock_event(request, EventKind.SLA_RESTARTED, is_public=True)


# --- pieces ---------------------------------------------------------------------------


def _first_response_start(
    request: Request, *, calendar: WorkingCalendar, targets: SlaTargets, now: datetime
) -> None:
    request.first_response_due = business_minutes_add(calendar, now, targets.first_response_minutes)
    request.sla_first_response_state = SlaState.RUNNING
    _first_response_settle(request)


def _first_response_settle(request: Request) -> bool:
    """Settle a running first-response clock once the first response exists."""
    if request.sla_first_response_state != SlaState.RUNNING or request.first_response_at is None:
        return False
    due = request.first_response_due
    on_time = due is not None and request.first_response_at <= due
    request.sla_first_response_state = SlaState.MET if on_time else SlaState.BREACHED
    return True


def _resolution_start(
    request: Request, *, calendar: WorkingCalendar, targets: SlaTargets, now: datetime
) -> None:
    minutes = targets.resolution_minutes
    request.sla_resolution_minutes = minutes
    request.resolution_due = business_minutes_add(calendar, now, minutes)
    request.sla_resolution_state = SlaState.RUNNING
    request.sla_stage = SlaStage.NONE
    request.sla_paused_at, request.sla_remaining_minutes = None, None
    lead = warning_lead_minutes(targets, minutes)
    request.sla_next_at = business_minutes_add(calendar, now, minutes - lead)


def _restart(request: Request, *, now: datetime) -> None:
    """A new clock from now under the policy of the request's current centre."""
    policy = sla_policy_for_request(request)
    request.sla_policy = policy
    targets = sla_targets_of(policy)
    calendar = request_calendar(request, around=now)
    fields = ["sla_policy", *_RESOLUTION_FIELDS]
    if request.sla_first_response_state == SlaState.RUNNING:
        _first_response_start(request, calendar=calendar, targets=targets, now=now)
        fields += ["first_response_due", "sla_first_response_state"]
    _resolution_start(request, calendar=calendar, targets=targets, now=now)
    request.save(update_fields=fields)
    _clock_event(request, EventKind.SLA_RESTARTED, is_public=True)


def _running_or_breached(request: Request) -> str:
    breached = request.sla_stage in (SlaStage.BREACHED, SlaStage.ESCALATED)
    return SlaState.BREACHED if breached else SlaState.RUNNING


def _next_after_resume(
    request: Request,
    *,
    calendar: WorkingCalendar,
    targets: SlaTargets,
    now: datetime,
    remaining: int,
) -> datetime | None:
    """The next step once the clock runs again with `remaining` minutes (negative: overdue)."""
    if request.sla_stage == SlaStage.BREACHED:
        return business_minutes_add(calendar, now, max(targets.escalation_minutes + remaining, 0))
    if remaining <= 0:
        return now if request.sla_stage != SlaStage.ESCALATED else None
    return sla_step_after(request, calendar=calendar, targets=targets, now=now)


def _clock_event(request: Request, kind: EventKind, *, is_public: bool, **data: Any) -> Event:
    payload: dict[str, Any] = {
        "resolution_due": _iso(request.resolution_due),
        "first_response_due": _iso(request.first_response_due),
        **data,
    }
    return Event.objects.create(
        request=request,
        kind=kind,
        from_status=request.status,
        to_status=request.status,
        is_public=is_public,
        data=payload,
    )


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
