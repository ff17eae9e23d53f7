"""Reading SLA data: one request's clocks as people see them, and compliance figures."""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from tawasul.cases.models import Category, Kind, Priority, Request, SlaState
from tawasul.directory.models import CareCentre, Entity
from tawasul.sla.business_time import WorkingCalendar, business_minutes_add
from tawasul.sla.calendars import DEFAULT_CALENDAR, working_calendar_for_entity
from tawasul.sla.clocks import business_minutes_signed, request_calendar
from tawasul.sla.policies import sla_policy_for, sla_targets_of

_LIVE = (SlaState.RUNNING, SlaState.BREACHED)


@dataclass(frozen=True)
class SlaView:
    """A request's clocks. Remaining minutes are business minutes, negative when overdue,
    None once the clock is settled (met, breached and answered, stopped) or absent."""

    first_response_due: datetime | None
    first_response_state: str
    first_response_remaining: int | None
    resolution_due: datetime | None
    resolution_state: str
    resolution_remaining: int | None
    stage: str
    working_day_minutes: int

    @property
    def paused(self) -> bool:
        return self.resolution_state == SlaState.PAUSED

    @property
    def overdue(self) -> bool:
        return self.resolution_remaining is not None and self.resolution_remaining < 0


def request_sla_view(request: Request, *, now: datetime | None = None) -> SlaView:
    """The request's due instants, remaining business time and clock states."""
    now = now or timezone.now()
    calendar = request_calendar(request, around=now)
    return SlaView(
        first_response_due=request.first_response_due,
        first_response_state=request.sla_first_response_state,
        first_response_remaining=_remaining(
            calendar, now, request.first_response_due, request.sla_first_response_state
        )
        if request.first_response_at is None
        else None,
        resolution_due=request.resolution_due,
        resolution_state=request.sla_resolution_state,
        resolution_remaining=request.sla_remaining_minutes
        if request.sla_resolution_state == SlaState.PAUSED
        else _remaining(
            calendar,
            now,
            request.resolution_due,
            request.sla_resolution_state if request.answered_at is None else "",
        ),
        stage=request.sla_stage,
        working_day_minutes=working_day_minutes(calendar),
    )


def working_day_minutes(calendar: WorkingCalendar) -> int:
    """The open minutes of one full working day of `calendar` (420 for 08:00–15:00)."""
    return sum(
        (closes.hour * 60 + closes.minute) - (opens.hour * 60 + opens.minute)
        for opens, closes in calendar.shifts
    )


@dataclass(frozen=True)
class SlaPromise:
    """What the portal promises a request sent now: working days and the expected date."""

    working_days: int
    answer_by: datetime


def sla_promise(*, entity: Entity | None = None, now: datetime | None = None) -> SlaPromise:
    """The resolution target for an ordinary request sent now to `entity` (default: the
    central centre), as whole working days and as the instant it falls due."""
    now = now or timezone.now()
    centre = (
        CareCentre.objects.filter(entity=entity).first()
        if entity is not None
        else CareCentre.objects.filter(is_central=True).select_related("entity").first()
    )
    target_entity = entity or (centre.entity if centre is not None else None)
    calendar = (
        working_calendar_for_entity(target_entity, around=now)
        if target_entity is not None
        else DEFAULT_CALENDAR
    )
    targets = sla_targets_of(
        sla_policy_for(centre=centre, kind=Kind.INQUIRY, category=None, priority=Priority.NORMAL)
    )
    per_day = working_day_minutes(calendar) or 1
    return SlaPromise(
        working_days=max(1, math.ceil(targets.resolution_minutes / per_day)),
        answer_by=business_minutes_add(calendar, now, targets.resolution_minutes),
    )


def _remaining(
    calendar: WorkingCalendar, now: datetime, due: datetime | None, state: str
) -> int | None:
    if due is None or state not in _LIVE:
        return None
    return business_minutes_signed(calendar, now, due)


# --- compliance ----------------------------------------------------------------------

GROUPINGS = ("centre", "kind", "category", "month")
_FIELDS = (
    "pk",
    "entity_id",
    "kind",
    "category_id",
    "created_at",
    "first_response_at",
    "answered_at",
    "sla_first_response_state",
    "sla_resolution_state",
)


@dataclass(frozen=True)
class ComplianceRow:
    """SLA compliance of one group; percentages None when nothing was settled yet."""

    key: str
    label: str
    requests: int
    first_response_met: int
    first_response_breached: int
    resolution_met: int
    resolution_breached: int
    first_response_compliance: float | None
    resolution_compliance: float | None
    first_response_median_minutes: float | None
    first_response_p90_minutes: float | None
    answer_median_minutes: float | None
    answer_p90_minutes: float | None


def sla_compliance(*, requests: QuerySet[Request], group_by: str) -> list[ComplianceRow]:
    """Met and breached counts, compliance % and median/p90 business minutes to first
    response and to answer, per centre, kind, category or month (of submission).

    Two queries for the requests and the labels, plus the calendar of each distinct
    entity (memoised): never a query per request.
    """
    if group_by not in GROUPINGS:
        raise ValueError(f"group_by must be one of {GROUPINGS}, got {group_by!r}")
    rows = list(requests.order_by().values(*_FIELDS))
    key_of = _key_function(group_by)
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[key_of(row)].append(row)
    labels = _labels(group_by, groups.keys())
    calendars = _calendars({row["entity_id"] for row in rows})
    return [
        _compliance_row(key, labels.get(key, key), members, calendars)
        for key, members in sorted(groups.items())
    ]


def _key_function(group_by: str) -> Callable[[dict[str, Any]], str]:
    if group_by == "month":
        return lambda row: timezone.localtime(row["created_at"]).strftime("%Y-%m")
    field = {"centre": "entity_id", "kind": "kind", "category": "category_id"}[group_by]
    return lambda row: str(row[field])


def _labels(group_by: str, keys: Iterable[str]) -> dict[str, str]:
    keys = list(keys)
    if group_by == "kind":
        return {key: str(Kind(key).label) for key in keys if key in Kind.values}
    if group_by == "category":
        return {str(c.pk): c.name for c in Category.objects.filter(pk__in=keys)}
    if group_by == "centre":
        centres = CareCentre.objects.filter(entity_id__in=keys).select_related("entity")
        return {str(c.entity_id): c.name for c in centres}
    return {}


def _calendars(entity_ids: set[int]) -> dict[int, WorkingCalendar]:
    entities = Entity.objects.in_bulk(entity_ids)
    return {pk: working_calendar_for_entity(entity) for pk, entity in entities.items()}


def _compliance_row(
    key: str, label: str, members: list[dict[str, Any]], calendars: dict[int, WorkingCalendar]
) -> ComplianceRow:
    def count(field: str, state: str) -> int:
        return sum(1 for row in members if row[field] == state)

    fr_met, fr_breached = (
        count("sla_first_response_state", SlaState.MET),
        count("sla_first_response_state", SlaState.BREACHED),
    )
    res_met = count("sla_resolution_state", SlaState.MET)
    res_breached = count("sla_resolution_state", SlaState.BREACHED)
    to_first = _durations(members, "first_response_at", calendars)
    to_answer = _durations(members, "answered_at", calendars)
    return ComplianceRow(
        key=key,
        label=label,
        requests=len(members),
        first_response_met=fr_met,
        first_response_breached=fr_breached,
        resolution_met=res_met,
        resolution_breached=res_breached,
        first_response_compliance=_percent(fr_met, fr_met + fr_breached),
        resolution_compliance=_percent(res_met, res_met + res_breached),
        first_response_median_minutes=_median(to_first),
        first_response_p90_minutes=percentile(to_first, 90),
        answer_median_minutes=_median(to_answer),
        answer_p90_minutes=percentile(to_answer, 90),
    )


def _durations(
    members: list[dict[str, Any]], field: str, calendars: dict[int, WorkingCalendar]
) -> list[int]:
    """Business minutes from submission to `field`, for the rows where it is set."""
    return [
        business_minutes_signed(calendars[row["entity_id"]], row["created_at"], row[field])
        for row in members
        if row[field] is not None and row["entity_id"] in calendars
    ]


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _median(values: list[int]) -> float | None:
    return float(statistics.median(values)) if values else None


def percentile(values: list[int], pct: int) -> float | None:
    """The nearest-rank percentile (p90 of 10 values is the 9th smallest)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(math.ceil(pct / 100 * len(ordered)), 1)
    return float(ordered[rank - 1])
