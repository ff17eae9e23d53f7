"""The figures of the insights dashboards, for one period against the one before it.

Every selector starts from `access.requests_for(user, VIEW)`: a department sees itself
and its subtree, the central centre and the minister's office everything. Each is one
or two aggregate queries (conditional counts over the two periods at once), never a
query per row, so the same code serves the console, the reports and the open statistics.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import Avg, Count, Q, QuerySet
from django.db.models.functions import TruncDay
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tawasul.cases.models import Category, Channel, Kind, Request, SlaState
from tawasul.cases.queues import IN_HAND
from tawasul.directory import access
from tawasul.directory.access import Permission
from tawasul.directory.models import Entity
from tawasul.feedback.models import Objection, SatisfactionResponse
from tawasul.insights.periods import ReportPeriod

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

    User = AbstractBaseUser | AnonymousUser


@dataclass(frozen=True)
class Change:
    """A figure in the period and in the one before it."""

    current: float | None
    previous: float | None

    @property
    def delta_percent(self) -> float | None:
        """The change in percent of the previous figure (None when there is nothing to
        compare with)."""
        if self.current is None or not self.previous:
            return None
        return round(100 * (self.current - self.previous) / self.previous, 1)


@dataclass(frozen=True)
class Headline:
    submitted: Change
    answered: Change
    resolution_compliance: Change  # % of the answers given in the period that met the target
    first_response_compliance: Change
    csat: Change  # average score 1–5 of the ratings given in the period
    resolved_rate: Change  # % of those ratings saying the matter was resolved
    objection_rate: Change  # objections filed per 100 answers given in the period
    backlog: int  # in hand now (not yet answered)


def _scope(user: User | None, entity: Entity | None = None) -> QuerySet[Request]:
    """The requests the user may view (None: every request, for aggregates published
    without a viewer — the open statistics, the minister's reports — never a staff
    page), narrowed to `entity`'s subtree when given."""
    requests = Request.objects.all() if user is None else access.requests_for(user, Permission.VIEW)
    if entity is not None:
        requests = requests.filter(entity__path__startswith=entity.path)
    return requests.order_by()


def _split(field: str, period: ReportPeriod) -> tuple[Q, Q, Q]:
    """Both periods, the current one, the previous one, on a date-time field."""
    before = period.previous()
    both = Q(**{f"{field}__gte": before.start, f"{field}__lt": period.end})
    return both, Q(**{f"{field}__gte": period.start}), Q(**{f"{field}__lt": period.start})


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def insights_headline(
    *, user: User | None, period: ReportPeriod, entity: Entity | None = None
) -> Headline:
    """The key figures of the period against the previous one (five queries)."""
    requests = _scope(user, entity)
    both, now, before = _split("created_at", period)
    submitted = requests.filter(both).aggregate(
        current=Count("pk", filter=now), previous=Count("pk", filter=before)
    )
    both, now, before = _split("answered_at", period)
    met, breached = Q(sla_resolution_state=SlaState.MET), Q(sla_resolution_state=SlaState.BREACHED)
    fr_met = Q(sla_first_response_state=SlaState.MET)
    fr_breached = Q(sla_first_response_state=SlaState.BREACHED)
    answered = requests.filter(both).aggregate(
        current=Count("pk", filter=now),
        previous=Count("pk", filter=before),
        met=Count("pk", filter=now & met),
        breached=Count("pk", filter=now & breached),
        met_before=Count("pk", filter=before & met),
        breached_before=Count("pk", filter=before & breached),
        fr_met=Count("pk", filter=now & fr_met),
        fr_breached=Count("pk", filter=now & fr_breached),
        fr_met_before=Count("pk", filter=before & fr_met),
        fr_breached_before=Count("pk", filter=before & fr_breached),
    )
    both, now, before = _split("created_at", period)
    ratings = SatisfactionResponse.objects.filter(
        both, request__in=requests.values("pk")
    ).aggregate(
        csat=Avg("score", filter=now),
        csat_before=Avg("score", filter=before),
        count=Count("pk", filter=now),
        count_before=Count("pk", filter=before),
        resolved_now=Count("pk", filter=now & Q(resolved=True)),
        resolved_before=Count("pk", filter=before & Q(resolved=True)),
    )
    objections = Objection.objects.filter(both, request__in=requests.values("pk")).aggregate(
        current=Count("pk", filter=now), previous=Count("pk", filter=before)
    )
    backlog = requests.filter(status__in=IN_HAND).count()

    def rate(part: int, whole: int) -> float | None:
        return _percent(part, whole)

    return Headline(
        submitted=Change(submitted["current"], submitted["previous"]),
        answered=Change(answered["current"], answered["previous"]),
        resolution_compliance=Change(
            rate(answered["met"], answered["met"] + answered["breached"]),
            rate(answered["met_before"], answered["met_before"] + answered["breached_before"]),
        ),
        first_response_compliance=Change(
            rate(answered["fr_met"], answered["fr_met"] + answered["fr_breached"]),
            rate(
                answered["fr_met_before"],
                answered["fr_met_before"] + answered["fr_breached_before"],
            ),
        ),
        csat=Change(_rounded(ratings["csat"]), _rounded(ratings["csat_before"])),
        resolved_rate=Change(
            rate(ratings["resolved_now"], ratings["count"]),
            rate(ratings["resolved_before"], ratings["count_before"]),
        ),
        objection_rate=Change(
            rate(objections["current"], answered["current"]),
            rate(objections["previous"], answered["previous"]),
        ),
        backlog=backlog,
    )


def _rounded(value: Any) -> float | None:
    return round(float(value), 2) if value is not None else None


# --- volume by a dimension ---------------------------------------------------------------

DIMENSIONS: dict[str, Any] = {
    "kind": _("Kind"),
    "channel": _("Channel"),
    "category": _("Category"),
    "entity": _("Entity"),
    "region": _("Region"),
}


@dataclass(frozen=True)
class VolumeRow:
    key: str
    label: str
    current: int
    previous: int
    queue_filter: dict[str, str]  # the queue parameters that list these requests

    @property
    def change(self) -> Change:
        return Change(self.current, self.previous)


def insights_volume(
    *, user: User | None, period: ReportPeriod, dimension: str, entity: Entity | None = None
) -> list[VolumeRow]:
    """Requests submitted in the period by kind, channel, top-level category, entity or
    region, with the previous period's count; largest first (one query, plus labels)."""
    if dimension not in DIMENSIONS:
        raise ValueError(f"dimension must be one of {sorted(DIMENSIONS)}")
    field = {"region": "entity__region", "category": "category"}.get(dimension, dimension)
    both, now, before = _split("created_at", period)
    rows = (
        _scope(user, entity)
        .filter(both)
        .values(field)
        .annotate(current=Count("pk", filter=now), previous=Count("pk", filter=before))
    )
    counts = {str(row[field]): (row["current"], row["previous"]) for row in rows}
    if dimension == "category":
        counts = _by_top_category(counts)
    labels = _labels(dimension, counts.keys())
    result = [
        VolumeRow(
            key=key,
            label=labels.get(key, key) or str(_("Not set")),
            current=current,
            previous=previous,
            queue_filter=_queue_filter(dimension, key),
        )
        for key, (current, previous) in counts.items()
    ]
    result.sort(key=lambda row: (-row.current, -row.previous, row.label))
    return result


def _by_top_category(counts: dict[str, tuple[int, int]]) -> dict[str, tuple[int, int]]:
    """Counts per category folded into their top-level category."""
    paths = dict(Category.objects.values_list("pk", "path"))
    tops = {path: pk for pk, path in paths.items() if len(path) == Category.steplen}
    folded: dict[str, tuple[int, int]] = {}
    for key, (current, previous) in counts.items():
        path = paths.get(int(key), "") if key.isdigit() else ""
        top = str(tops.get(path[: Category.steplen], key))
        was = folded.get(top, (0, 0))
        folded[top] = (was[0] + current, was[1] + previous)
    return folded


def _labels(dimension: str, keys: Any) -> dict[str, str]:
    keys = list(keys)
    if dimension == "kind":
        return {key: str(Kind(key).label) for key in keys if key in Kind.values}
    if dimension == "channel":
        return {key: str(Channel(key).label) for key in keys if key in Channel.values}
    ids = [int(key) for key in keys if key.isdigit()]
    if dimension == "category":
        return {str(c.pk): c.name for c in Category.objects.filter(pk__in=ids)}
    if dimension == "entity":
        return {str(e.pk): e.name for e in Entity.objects.filter(pk__in=ids)}
    return {key: key for key in keys}


def _queue_filter(dimension: str, key: str) -> dict[str, str]:
    if dimension in ("kind", "channel", "category", "entity") and key not in ("", "None"):
        return {dimension: key}
    return {}


# --- trend -------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrendPoint:
    bucket: ReportPeriod
    submitted: int
    answered: int


def insights_trend(
    *, user: User | None, period: ReportPeriod, entity: Entity | None = None
) -> list[TrendPoint]:
    """Submitted and answered requests in each bucket of the period (days, months or Hijri
    months): two queries counting per local day, summed into the buckets here."""
    requests = _scope(user, entity)
    in_period = {"__gte": period.start, "__lt": period.end}
    submitted = _per_day(requests, "created_at", in_period)
    answered = _per_day(requests, "answered_at", in_period)
    points = []
    for bucket in period.buckets():
        days = [bucket.first + dt.timedelta(days=n) for n in range(bucket.days)]
        points.append(
            TrendPoint(
                bucket=bucket,
                submitted=sum(submitted.get(day, 0) for day in days),
                answered=sum(answered.get(day, 0) for day in days),
            )
        )
    return points


def _per_day(requests: QuerySet[Request], field: str, bounds: dict[str, Any]) -> dict[dt.date, int]:
    rows = (
        requests.filter(**{f"{field}{suffix}": value for suffix, value in bounds.items()})
        .annotate(day=TruncDay(field, tzinfo=timezone.get_current_timezone()))
        .values("day")
        .annotate(n=Count("pk"))
    )
    return {_as_date(row["day"]): row["n"] for row in rows}


def _as_date(value: dt.date | dt.datetime) -> dt.date:
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value


# --- backlog ageing ----------------------------------------------------------------------

# Age in whole days (today's requests are 0 days old): [low, high) days.
AGE_BUCKETS: list[tuple[int, int | None, Any]] = [
    (0, 1, _("Today")),
    (1, 3, _("1–2 days")),
    (3, 7, _("3–6 days")),
    (7, 14, _("1–2 weeks")),
    (14, 30, _("2–4 weeks")),
    (30, None, _("30 days or more")),
]


@dataclass(frozen=True)
class AgeBucket:
    label: str
    count: int
    submitted_from: dt.date | None  # the queue's `from` and `to` days that list them
    submitted_to: dt.date


def insights_backlog_ageing(
    *, user: User | None, now: dt.datetime | None = None, entity: Entity | None = None
) -> list[AgeBucket]:
    """Requests in hand now by their age in days since submission (one query)."""
    today = timezone.localdate(now or timezone.now())
    buckets = []
    for low, high, label in AGE_BUCKETS:
        newest = today - dt.timedelta(days=low)
        oldest = today - dt.timedelta(days=high - 1) if high is not None else None
        buckets.append((label, oldest, newest))
    conditions = {}
    for index, (_label, oldest, newest) in enumerate(buckets):
        condition = Q(created_at__lt=_midnight(newest + dt.timedelta(days=1)))
        if oldest is not None:
            condition &= Q(created_at__gte=_midnight(oldest))
        conditions[f"b{index}"] = Count("pk", filter=condition)
    counts = _scope(user, entity).filter(status__in=IN_HAND).aggregate(**conditions)
    return [
        AgeBucket(
            label=str(label), count=counts[f"b{index}"], submitted_from=oldest, submitted_to=newest
        )
        for index, (label, oldest, newest) in enumerate(buckets)
    ]


def _midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))
