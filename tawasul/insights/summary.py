"""Writing the dashboards' summary: `DailySummary`, one row a local day and entity, and
`MonthlySummary`, the same added up by month (what quarters and years read).

`insights_summarise(first=…, last=…)` rewrites the rows of those days from the request
table in one transaction: two aggregate queries (submissions by day, entity, kind,
channel and category; answers by day and entity with their SLA outcomes), the old rows
deleted, the new ones inserted. A request counts on the day it was submitted and, once
answered, on the day of its answer, under the entity and category it has *now*.

Keeping it current (`tawasul.insights.tasks`): every five minutes for today and
yesterday, every night for the last 35 days — a request forwarded to another entity,
recategorised or answered late moves between rows then. `tawasul insights_summarise
--all` rebuilds everything (after an import, or to pick up older changes).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from tawasul.cases.models import Category, Event, EventKind, Request, SlaState
from tawasul.insights.models import DailySummary, MonthlySummary
from tawasul.insights.periods import local_midnight
from tawasul.sla.business_time import WorkingCalendar, business_minutes_between
from tawasul.sla.calendars import working_calendar_for_entity
from tawasul.sla.selectors import working_day_minutes

ONE_DAY = dt.timedelta(days=1)
RECENT_DAYS = 35  # the nightly run's window


def insights_summarise(*, first: dt.date, last: dt.date) -> int:
    """(Re)write the summary rows of the local days `first` to `last`; the rows written."""
    if last < first:
        return 0
    rows: dict[tuple[dt.date, int], DailySummary] = {}
    now = timezone.now()

    def row(day: dt.date, entity_id: int) -> DailySummary:
        key = (day, entity_id)
        if key not in rows:
            rows[key] = DailySummary(
                day=day,
                entity_id=entity_id,
                submitted_by={"kind": {}, "channel": {}, "category": {}},
                summarised_at=now,
            )
        return rows[key]

    tops = _top_categories()
    start, end = local_midnight(first), local_midnight(last + ONE_DAY)
    zone = timezone.get_current_timezone()
    submitted = (
        Request.objects.filter(created_at__gte=start, created_at__lt=end)
        .annotate(day=TruncDate("created_at", tzinfo=zone))
        .values("day", "entity_id", "kind", "channel", "category_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for group in submitted.iterator(chunk_size=5000):
        summary = row(group["day"], group["entity_id"])
        summary.submitted += group["n"]
        by = summary.submitted_by
        _add(by["kind"], group["kind"], group["n"])
        _add(by["channel"], group["channel"], group["n"])
        _add(by["category"], str(tops.get(group["category_id"], group["category_id"])), group["n"])
    answered = (
        Request.objects.filter(answered_at__gte=start, answered_at__lt=end)
        .annotate(day=TruncDate("answered_at", tzinfo=zone))
        .values("day", "entity_id")
        .annotate(
            n=Count("pk"),
            met=Count("pk", filter=Q(sla_resolution_state=SlaState.MET)),
            breached=Count("pk", filter=Q(sla_resolution_state=SlaState.BREACHED)),
            fr_met=Count("pk", filter=Q(sla_first_response_state=SlaState.MET)),
            fr_breached=Count("pk", filter=Q(sla_first_response_state=SlaState.BREACHED)),
            transferred=Count("pk", filter=Q(transfer_count__gt=0)),
            first_contact=Count("pk", filter=Q(transfer_count=0) & ~Exists(_follow_ups)),
        )
        .order_by()
    )
    for group in answered.iterator(chunk_size=5000):
        summary = row(group["day"], group["entity_id"])
        summary.answered = group["n"]
        summary.resolution_met = group["met"]
        summary.resolution_breached = group["breached"]
        summary.first_response_met = group["fr_met"]
        summary.first_response_breached = group["fr_breached"]
        summary.answered_transferred = group["transferred"]
        summary.answered_first_contact = group["first_contact"]
    _transfers(rows, start, end, row)
    _answerers(rows, start, end, row)
    _answer_days(rows, start, end, row)
    with transaction.atomic():
        DailySummary.objects.filter(day__gte=first, day__lte=last).delete()
        DailySummary.objects.bulk_create(rows.values(), batch_size=2000)
        _months_rewrite(first, last, now=now)
    return len(rows)


_MEASURES = (
    "submitted",
    "answered",
    "answered_transferred",
    "answered_first_contact",
    "forwarded",
    "misrouted",
    "resolution_met",
    "resolution_breached",
    "first_response_met",
    "first_response_breached",
)


def _months_rewrite(first: dt.date, last: dt.date, *, now: dt.datetime) -> None:
    """Add up the daily rows of every month touching `first`…`last` into its monthly rows."""
    month_first = first.replace(day=1)
    month_end = (last.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    months: dict[tuple[dt.date, int], MonthlySummary] = {}
    daily = DailySummary.objects.filter(day__gte=month_first, day__lt=month_end).order_by()
    for day in daily.iterator(chunk_size=5000):
        key = (day.day.replace(day=1), day.entity_id)
        month = months.get(key)
        if month is None:
            month = months[key] = MonthlySummary(
                day=key[0],
                entity_id=key[1],
                submitted_by={"kind": {}, "channel": {}, "category": {}},
                summarised_at=now,
            )
        for measure in _MEASURES:
            setattr(month, measure, getattr(month, measure) + getattr(day, measure))
        for dimension, counts in day.submitted_by.items():
            into = month.submitted_by.setdefault(dimension, {})
            for key_, n in counts.items():
                into[key_] = into.get(key_, 0) + n
        for field in ("answer_days", "answered_by"):
            into, counts = getattr(month, field), getattr(day, field)
            for key_, n in counts.items():
                into[key_] = into.get(key_, 0) + n
    MonthlySummary.objects.filter(day__gte=month_first, day__lt=month_end).delete()
    MonthlySummary.objects.bulk_create(months.values(), batch_size=2000)


def insights_summarise_recent(*, days: int = 2, now: dt.datetime | None = None) -> int:
    """Rewrite the last `days` local days, today included."""
    today = timezone.localdate(now or timezone.now())
    return insights_summarise(first=today - (days - 1) * ONE_DAY, last=today)


def insights_summarise_all(*, step_days: int = 31) -> int:
    """Rewrite every day from the first request to today, a month at a time."""
    oldest = Request.objects.order_by("created_at").values_list("created_at", flat=True).first()
    if oldest is None:
        DailySummary.objects.all().delete()
        MonthlySummary.objects.all().delete()
        return 0
    day, today, written = timezone.localdate(oldest), timezone.localdate(), 0
    DailySummary.objects.filter(day__lt=day).delete()
    MonthlySummary.objects.filter(day__lt=day.replace(day=1)).delete()
    while day <= today:
        last = min(day + (step_days - 1) * ONE_DAY, today)
        written += insights_summarise(first=day, last=last)
        day = last + ONE_DAY
    return written


# Working days from submission to answer, counted in the owning centre's calendar: the
# upper bounds of the buckets (1 = within one working day, … "more" = over ten).
ANSWER_DAYS = ("1", "3", "5", "10", "more")


def answer_days_bucket(working_days: float) -> str:
    for bound in ANSWER_DAYS[:-1]:
        if working_days <= int(bound):
            return bound
    return ANSWER_DAYS[-1]


def _answer_days(
    rows: dict[tuple[dt.date, int], DailySummary],
    start: dt.datetime,
    end: dt.datetime,
    row: Any,
) -> None:
    """Each answer of the days, bucketed by the working days it took (business minutes in
    the owning entity's calendar, a working day being that calendar's open minutes)."""
    answered = (
        Request.objects.filter(answered_at__gte=start, answered_at__lt=end)
        .select_related("entity")
        .only("entity", "created_at", "answered_at")
        .order_by()
    )
    calendars: dict[int, tuple[WorkingCalendar, int]] = {}
    for request in answered.iterator(chunk_size=2000):
        if request.entity_id not in calendars:
            calendar = working_calendar_for_entity(request.entity)
            calendars[request.entity_id] = (calendar, max(working_day_minutes(calendar), 1))
        calendar, day_minutes = calendars[request.entity_id]
        answered_at = request.answered_at
        if answered_at is None:  # excluded by the filter; keeps the type checker honest
            continue
        minutes = business_minutes_between(calendar, request.created_at, answered_at)
        summary = row(timezone.localdate(answered_at), request.entity_id)
        _add(summary.answer_days, answer_days_bucket(minutes / day_minutes), 1)


# What takes an answer out of first-contact resolution besides a transfer: information
# asked of the beneficiary, a reopening, an objection (whenever it came).
_follow_ups = Event.objects.filter(
    request=OuterRef("pk"),
    kind__in=[EventKind.INFO_REQUESTED, EventKind.REOPENED, EventKind.OBJECTED],
)


def _transfers(
    rows: dict[tuple[dt.date, int], DailySummary],
    start: dt.datetime,
    end: dt.datetime,
    row: Any,
) -> None:
    """The forwards each entity made in the days (`forwarded`, under the entity it sent
    the request from) and the forwards returned to it as misrouted (`misrouted`, under
    the entity that had sent it, on the day it came back): one pass over the day's
    forward and return events (a partial index, `event_insights`)."""
    zone = timezone.get_current_timezone()
    events = (
        Event.objects.filter(
            kind__in=[EventKind.FORWARDED, EventKind.RETURNED],
            created_at__gte=start,
            created_at__lt=end,
        )
        .values_list("kind", "created_at", "data")
        .order_by()
    )
    for kind, at, data in events.iterator(chunk_size=5000):
        day = at.astimezone(zone).date()
        if kind == EventKind.FORWARDED and data.get("from_entity"):
            row(day, data["from_entity"]).forwarded += 1
        elif kind == EventKind.RETURNED and data.get("to_entity"):
            row(day, data["to_entity"]).misrouted += 1


def _answerers(
    rows: dict[tuple[dt.date, int], DailySummary],
    start: dt.datetime,
    end: dt.datetime,
    row: Any,
) -> None:
    """Who gave the days' answers (`answered_by`), under the entity holding the request
    now, on the day of the answer event: the staff workload's answers in a period."""
    zone = timezone.get_current_timezone()
    answers = (
        Event.objects.filter(
            kind=EventKind.ANSWERED,
            created_at__gte=start,
            created_at__lt=end,
            actor_user__isnull=False,
        )
        .values_list("request__entity_id", "actor_user_id", "created_at")
        .order_by()
    )
    for entity_id, actor, at in answers.iterator(chunk_size=5000):
        _add(row(at.astimezone(zone).date(), entity_id).answered_by, actor, 1)


def _add(counts: dict[str, int], key: Any, n: int) -> None:
    counts[str(key)] = counts.get(str(key), 0) + n


def _top_categories() -> dict[int, int]:
    """Each category's top-level category."""
    paths = dict(Category.objects.values_list("pk", "path"))
    top_of_path = {path: pk for pk, path in paths.items() if len(path) == Category.steplen}
    return {pk: top_of_path.get(path[: Category.steplen], pk) for pk, path in paths.items()}


__all__ = [
    "RECENT_DAYS",
    "insights_summarise",
    "insights_summarise_all",
    "insights_summarise_recent",
]
