"""The figures of the insights dashboards, for one period against the one before it.

Every selector is scoped by the access layer (`access.entities_for` / `requests_for`,
VIEW): a department sees itself and its subtree, the central centre and the minister's
office everything; `user=None` is every request, for published aggregates only. Counts
of submissions and answers come from the daily summary (`DailySummary`, kept by
`tawasul.insights.summary`: as fresh as its last run, five minutes at most for today);
the backlog, its ageing, ratings and objections are read live (small, indexed sets).
Each selector is a few aggregate queries, never one per row, so the same code serves
the console, the reports and the open statistics.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from django.db import connections
from django.db.models import Avg, Count, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from tawasul.api.open311.places import REGIONS
from tawasul.cases.models import Category, Channel, Kind, Request
from tawasul.cases.oversight import AgentLoad, team_workload
from tawasul.cases.queues import IN_HAND
from tawasul.directory import access
from tawasul.directory.access import Permission
from tawasul.directory.models import Entity
from tawasul.feedback.models import Objection, SatisfactionResponse
from tawasul.insights.models import DailySummary, MonthlySummary
from tawasul.insights.periods import Grain, ReportPeriod, local_midnight

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
    # % of the answers given in the period to requests forwarded or returned at least once
    transferred_rate: Change = Change(None, None)
    ratings: Change = Change(None, None)  # how many ratings `csat` and `resolved_rate` rest on
    # % of the answers given in the period that settled the matter at the first contact
    # (never transferred, no information asked, never reopened or objected to)
    first_contact_rate: Change = Change(None, None)
    forwarded: Change = Change(None, None)  # forwards to another entity made in the period
    # % of those forwards returned in the period as misrouted
    misrouted_rate: Change = Change(None, None)


def _scope(user: User | None, entity: Entity | None = None) -> QuerySet[Request]:
    """The requests the user may view (None: every request, for aggregates published
    without a viewer — the open statistics, the minister's reports — never a staff
    page), narrowed to `entity`'s subtree when given."""
    requests = Request.objects.all() if user is None else access.requests_for(user, Permission.VIEW)
    if entity is not None:
        requests = requests.filter(entity__path__startswith=entity.path)
    return requests.order_by()


def summary_rows(
    user: User | None, entity: Entity | None = None, *, period: ReportPeriod | None = None
) -> QuerySet[Any]:
    """The summary rows of the entities the user may view (narrowed to `entity`): monthly
    rows when `period` (and so the one before it) is made of whole Gregorian months."""
    monthly = period is not None and period.grain in _WHOLE_MONTHS
    rows = (MonthlySummary if monthly else DailySummary).objects.order_by()
    if user is not None:
        scope = access.staff_scope(user).prefixes(Permission.VIEW)
        if "" not in scope:
            rows = rows.filter(entity__in=access.entities_for(user, Permission.VIEW).values("pk"))
    if entity is not None:
        rows = rows.filter(entity__path__startswith=entity.path)
    return rows


_WHOLE_MONTHS = (Grain.MONTH, Grain.QUARTER, Grain.YEAR)


def _day_split(period: ReportPeriod) -> tuple[Q, Q, Q]:
    """Both periods, the current one, the previous one, on the summary's day."""
    before = period.previous()
    return (
        Q(day__gte=before.first, day__lte=period.last),
        Q(day__gte=period.first),
        Q(day__lt=period.first),
    )


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
    both, now, before = _day_split(period)

    def total(field: str, when: Q) -> Sum:
        return Sum(field, filter=when, default=0)

    sums = (
        summary_rows(user, entity, period=period)
        .filter(both)
        .aggregate(
            n_submitted=total("submitted", now),
            submitted_before=total("submitted", before),
            n_answered=total("answered", now),
            answered_before=total("answered", before),
            met=total("resolution_met", now),
            breached=total("resolution_breached", now),
            met_before=total("resolution_met", before),
            breached_before=total("resolution_breached", before),
            fr_met=total("first_response_met", now),
            fr_breached=total("first_response_breached", now),
            fr_met_before=total("first_response_met", before),
            fr_breached_before=total("first_response_breached", before),
            transferred=total("answered_transferred", now),
            transferred_before=total("answered_transferred", before),
            first_contact=total("answered_first_contact", now),
            first_contact_before=total("answered_first_contact", before),
            n_forwarded=total("forwarded", now),
            forwarded_before=total("forwarded", before),
            n_misrouted=total("misrouted", now),
            misrouted_before=total("misrouted", before),
        )
    )
    submitted = {"current": sums["n_submitted"], "previous": sums["submitted_before"]}
    answered = {
        "current": sums["n_answered"],
        "previous": sums["answered_before"],
        **{key: sums[key] for key in sums if key.startswith(("met", "breached", "fr_"))},
    }
    both, now, before = _split("created_at", period)
    ratings = _of_requests(SatisfactionResponse.objects.filter(both), user, entity).aggregate(
        csat=Avg("score", filter=now),
        csat_before=Avg("score", filter=before),
        count=Count("pk", filter=now),
        count_before=Count("pk", filter=before),
        resolved_now=Count("pk", filter=now & Q(resolved=True)),
        resolved_before=Count("pk", filter=before & Q(resolved=True)),
    )
    objections = _of_requests(Objection.objects.filter(both), user, entity).aggregate(
        current=Count("pk", filter=now), previous=Count("pk", filter=before)
    )
    backlog = requests.filter(status__in=IN_HAND).count()

    return Headline(
        submitted=Change(submitted["current"], submitted["previous"]),
        answered=Change(answered["current"], answered["previous"]),
        resolution_compliance=Change(
            _percent(answered["met"], answered["met"] + answered["breached"]),
            _percent(answered["met_before"], answered["met_before"] + answered["breached_before"]),
        ),
        first_response_compliance=Change(
            _percent(answered["fr_met"], answered["fr_met"] + answered["fr_breached"]),
            _percent(
                answered["fr_met_before"],
                answered["fr_met_before"] + answered["fr_breached_before"],
            ),
        ),
        csat=Change(_rounded(ratings["csat"]), _rounded(ratings["csat_before"])),
        resolved_rate=Change(
            _percent(ratings["resolved_now"], ratings["count"]),
            _percent(ratings["resolved_before"], ratings["count_before"]),
        ),
        objection_rate=Change(
            _percent(objections["current"], answered["current"]),
            _percent(objections["previous"], answered["previous"]),
        ),
        backlog=backlog,
        ratings=Change(ratings["count"], ratings["count_before"]),
        transferred_rate=Change(
            _percent(sums["transferred"], sums["n_answered"]),
            _percent(sums["transferred_before"], sums["answered_before"]),
        ),
        first_contact_rate=Change(
            _percent(sums["first_contact"], sums["n_answered"]),
            _percent(sums["first_contact_before"], sums["answered_before"]),
        ),
        forwarded=Change(sums["n_forwarded"], sums["forwarded_before"]),
        misrouted_rate=Change(
            _percent(sums["n_misrouted"], sums["n_forwarded"]),
            _percent(sums["misrouted_before"], sums["forwarded_before"]),
        ),
    )


def _of_requests(rows: QuerySet[Any], user: User | None, entity: Entity | None) -> QuerySet[Any]:
    """Rows of a model with a `request` key, narrowed to the requests in scope."""
    if user is not None and "" not in access.staff_scope(user).prefixes(Permission.VIEW):
        rows = rows.filter(request__entity__in=access.entities_for(user, Permission.VIEW))
    if entity is not None:
        rows = rows.filter(request__entity__path__startswith=entity.path)
    return rows


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
    region, with the previous period's count; largest first (one query over the summary,
    plus labels)."""
    volumes = insights_volumes(user=user, period=period, dimensions=[dimension], entity=entity)
    return volumes[dimension]


def insights_volumes(
    *,
    user: User | None,
    period: ReportPeriod,
    dimensions: Sequence[str] = tuple(DIMENSIONS),
    entity: Entity | None = None,
) -> dict[str, list[VolumeRow]]:
    """`insights_volume` for several dimensions at once: kind, channel and category from
    one pass over the summary's JSON counts, entity and region from one query each."""
    if set(dimensions) - set(DIMENSIONS):
        raise ValueError(f"dimension must be one of {sorted(DIMENSIONS)}")
    summaries = summary_rows(user, entity, period=period)
    both, now, before = _day_split(period)
    in_json = [dimension for dimension in dimensions if dimension in _JSON_DIMENSIONS]
    from_json = _json_sums(summaries.filter(both), in_json, period.first) if in_json else {}
    by_entity = (
        _entity_counts(summaries.filter(both), now, before)
        if {"entity", "region"} & set(dimensions)
        else {}
    )
    volumes = {}
    for dimension in dimensions:
        if dimension in _JSON_DIMENSIONS:
            counts = from_json.get(dimension, {})
        else:
            counts = _by_region(by_entity) if dimension == "region" else _by_key(by_entity)
        labels = _labels(dimension, counts.keys())
        rows = [
            VolumeRow(
                key=key,
                label=labels.get(key, key) or str(_("Not set")),
                current=current,
                previous=previous,
                queue_filter=_queue_filter(dimension, key),
            )
            for key, (current, previous) in counts.items()
            if current or previous
        ]
        rows.sort(key=lambda row: (-row.current, -row.previous, row.label))
        volumes[dimension] = rows
    return volumes


_JSON_DIMENSIONS = ("kind", "channel", "category")


def _entity_counts(
    summaries: QuerySet[DailySummary], now: Q, before: Q
) -> dict[tuple[int, str], tuple[int, int]]:
    """Submissions (current, previous) by entity and its region, in one query."""
    rows = summaries.values("entity_id", "entity__region").annotate(
        current=Sum("submitted", filter=now, default=0),
        previous=Sum("submitted", filter=before, default=0),
    )
    return {
        (row["entity_id"], row["entity__region"]): (row["current"], row["previous"]) for row in rows
    }


def _by_key(
    counts: dict[tuple[int, str], tuple[int, int]],
) -> dict[str, tuple[int, int]]:
    return {str(entity_id): pair for (entity_id, _region), pair in counts.items()}


def _by_region(
    counts: dict[tuple[int, str], tuple[int, int]],
) -> dict[str, tuple[int, int]]:
    regions: dict[str, tuple[int, int]] = {}
    for (_entity_id, region), (current, previous) in counts.items():
        was = regions.get(region, (0, 0))
        regions[region] = (was[0] + current, was[1] + previous)
    return regions


def _json_sums(
    summaries: QuerySet[DailySummary], dimensions: list[str], first: dt.date
) -> dict[str, dict[str, tuple[int, int]]]:
    """Sum the `submitted_by[dimension]` counts of the rows for each dimension, split at
    `first` (current, previous), in one pass in the database: `jsonb_each_text` on
    PostgreSQL, `json_each` on SQLite. Decoding every row's JSON in Python cost ~1.5 s
    for a year of a ministry; one query per dimension ~0.2 s each."""
    rows = summaries.values("day", "submitted_by")
    connection = connections[rows.db]  # the replica inside `reads_from_replica()`
    inner, params = rows.query.sql_with_params()
    day = connection.ops.adapt_datefield_value(first)
    names = ", ".join(["(%s)"] * len(dimensions))
    if connection.vendor == "postgresql":
        sql = (
            "SELECT d.name, kv.key, SUM(kv.value::int) FILTER (WHERE s.day >= %s), "  # noqa: S608
            "SUM(kv.value::int) FILTER (WHERE s.day < %s) "
            f"FROM ({inner}) s CROSS JOIN (VALUES {names}) AS d(name) "
            "CROSS JOIN LATERAL jsonb_each_text(s.submitted_by -> d.name) kv "
            "GROUP BY d.name, kv.key"
        )
        arguments = [day, day, *params, *dimensions]
    else:
        sql = (
            "SELECT d.column1, kv.key, SUM(CASE WHEN s.day >= %s THEN kv.value ELSE 0 END), "  # noqa: S608
            "SUM(CASE WHEN s.day < %s THEN kv.value ELSE 0 END) "
            f"FROM ({inner}) s, (VALUES {names}) AS d, "
            "json_each(s.submitted_by, '$.' || d.column1) kv "
            "GROUP BY d.column1, kv.key"
        )
        arguments = [day, day, *params, *dimensions]
    sums: dict[str, dict[str, tuple[int, int]]] = {dimension: {} for dimension in dimensions}
    with connection.cursor() as cursor:
        cursor.execute(sql, arguments)  # the inner query is Django's own, values as parameters
        for name, key, current, previous in cursor.fetchall():
            sums[name][str(key)] = (int(current or 0), int(previous or 0))
    return sums


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
    arabic = (get_language() or "ar").startswith("ar")
    names = {r.code: r.name_ar if arabic else r.name_en for r in REGIONS}
    names[""] = str(_("Central bodies (no region)"))
    return {key: names.get(key, key) for key in keys}


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
    months): one query over the summary's days, summed into the buckets here."""
    per_day = {
        row["day"]: row
        for row in summary_rows(
            user, entity, period=period if period.grain != Grain.MONTH else None
        )
        .filter(day__gte=period.first, day__lte=period.last)
        .values("day")
        .annotate(n_submitted=Sum("submitted"), n_answered=Sum("answered"))
    }
    submitted = {day: row["n_submitted"] for day, row in per_day.items()}
    answered = {day: row["n_answered"] for day, row in per_day.items()}
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
        condition = Q(created_at__lt=local_midnight(newest + dt.timedelta(days=1)))
        if oldest is not None:
            condition &= Q(created_at__gte=local_midnight(oldest))
        conditions[f"b{index}"] = Count("pk", filter=condition)
    counts = _scope(user, entity).filter(status__in=IN_HAND).aggregate(**conditions)
    return [
        AgeBucket(
            label=str(label), count=counts[f"b{index}"], submitted_from=oldest, submitted_to=newest
        )
        for index, (label, oldest, newest) in enumerate(buckets)
    ]


def _map_sums(
    summaries: QuerySet[Any], field: str, period: ReportPeriod, *, previous: bool = True
) -> dict[str, tuple[int, int]]:
    """Sum a JSON map field of the summary rows (`{"key": n, …}`) over the period and the
    one before it (unless `previous` is False: then its sums are 0), key by key, in the
    database (one query): `jsonb_each_text` on PostgreSQL, `json_each` on SQLite."""
    both, now, _before = _day_split(period)
    rows = summaries.filter(both if previous else Q(day__lte=period.last) & now).values(
        "day", field
    )
    connection = connections[rows.db]  # the replica inside `reads_from_replica()`
    inner, params = rows.query.sql_with_params()
    day = connection.ops.adapt_datefield_value(period.first)
    column = connection.ops.quote_name(field)
    if connection.vendor == "postgresql":
        sql = (
            "SELECT kv.key, SUM(kv.value::int) FILTER (WHERE s.day >= %s), "  # noqa: S608
            "SUM(kv.value::int) FILTER (WHERE s.day < %s) "
            f"FROM ({inner}) s CROSS JOIN LATERAL jsonb_each_text(s.{column}) kv "
            "GROUP BY kv.key"
        )
    else:
        sql = (
            "SELECT kv.key, SUM(CASE WHEN s.day >= %s THEN kv.value ELSE 0 END), "  # noqa: S608
            "SUM(CASE WHEN s.day < %s THEN kv.value ELSE 0 END) "
            f"FROM ({inner}) s, json_each(s.{column}) kv GROUP BY kv.key"
        )
    with connection.cursor() as cursor:
        cursor.execute(sql, [day, day, *params])  # Django's own inner query, values bound
        return {str(key): (int(now or 0), int(was or 0)) for key, now, was in cursor.fetchall()}


# --- time to answer --------------------------------------------------------------------

ANSWER_DAY_LABELS: dict[str, Any] = {
    "1": _("Within 1 working day"),
    "3": _("2–3 working days"),
    "5": _("4–5 working days"),
    "10": _("6–10 working days"),
    "more": _("More than 10 working days"),
}


@dataclass(frozen=True)
class AnswerDays:
    key: str
    label: str
    current: int
    previous: int


def insights_answer_days(
    *, user: User | None, period: ReportPeriod, entity: Entity | None = None
) -> list[AnswerDays]:
    """How many working days the period's answers took, from submission to answer, in the
    owning centre's calendar (buckets of `tawasul.insights.summary.ANSWER_DAYS`), with the
    previous period's (one query)."""
    sums = _map_sums(summary_rows(user, entity, period=period), "answer_days", period)
    return [
        AnswerDays(
            key=key,
            label=str(label),
            current=sums.get(key, (0, 0))[0],
            previous=sums.get(key, (0, 0))[1],
        )
        for key, label in ANSWER_DAY_LABELS.items()
    ]


# --- routing: transfers and misrouting by entity -------------------------------------------


@dataclass(frozen=True)
class RoutingRow:
    entity_id: int
    name: str
    submitted: int  # requests submitted to the entity in the period
    forwarded: int  # forwards it made to another entity
    misrouted: int  # of those, returned to it as misrouted
    misrouted_previous: int
    forwarded_previous: int

    @property
    def misrouted_rate(self) -> Change:
        return Change(
            _percent(self.misrouted, self.forwarded),
            _percent(self.misrouted_previous, self.forwarded_previous),
        )


def insights_routing(
    *, user: User | None, period: ReportPeriod, entity: Entity | None = None
) -> list[RoutingRow]:
    """The entities that forwarded requests in the period, with how many of those came back
    as misrouted, most forwards first (one query over the summary, plus names). A return
    counts against the entity that sent the request, on the day it came back."""
    both, now, before = _day_split(period)
    rows = [
        row
        for row in summary_rows(user, entity, period=period)
        .filter(both)
        .values("entity_id")
        .annotate(
            n_submitted=Sum("submitted", filter=now, default=0),
            n_forwarded=Sum("forwarded", filter=now, default=0),
            n_misrouted=Sum("misrouted", filter=now, default=0),
            forwarded_before=Sum("forwarded", filter=before, default=0),
            misrouted_before=Sum("misrouted", filter=before, default=0),
        )
        if row["n_forwarded"] or row["n_misrouted"] or row["forwarded_before"]
    ]
    names = {e.pk: e.name for e in Entity.objects.filter(pk__in=[row["entity_id"] for row in rows])}
    routing = [
        RoutingRow(
            entity_id=row["entity_id"],
            name=names.get(row["entity_id"], str(row["entity_id"])),
            submitted=row["n_submitted"],
            forwarded=row["n_forwarded"],
            misrouted=row["n_misrouted"],
            forwarded_previous=row["forwarded_before"],
            misrouted_previous=row["misrouted_before"],
        )
        for row in rows
    ]
    return sorted(routing, key=lambda row: (-row.forwarded, -row.misrouted, row.name))


# --- staff workload ----------------------------------------------------------------------


def insights_workload(
    *, user: User, period: ReportPeriod, now: dt.datetime | None = None
) -> list[AgentLoad]:
    """Per member of the teams the user supervises (ASSIGN reach): requests in hand and
    overdue now, and the answers they gave in the period, wherever the request is now —
    the oversight page's workload over the dashboard's period, the answers counted from
    the summary (`answered_by`, so a year costs what a day does). Empty for a user who
    supervises no team: a viewer of figures does not see named staff."""
    answered = _map_sums(summary_rows(None, period=period), "answered_by", period, previous=False)
    counts = {int(key): current for key, (current, _previous) in answered.items() if key.isdigit()}
    return team_workload(user=user, now=now, answered_counts=counts)


# --- league table ------------------------------------------------------------------------

LEAGUE_MINIMUM = 20  # answers settled in the period before an entity is ranked
Z_95 = 1.959964


@dataclass(frozen=True)
class LeagueRow:
    entity_id: int
    name: str
    answered: int
    settled: int  # answers whose resolution clock met or breached its target
    compliance: float | None  # % met of the settled
    low: float | None  # the 95 % Wilson interval of that share, in %
    high: float | None
    rank: int | None  # None: too few settled answers to rank


def wilson_interval(successes: int, trials: int, z: float = Z_95) -> tuple[float, float] | None:
    """The Wilson score interval of a proportion, in % (None for no trials): unlike the
    plain ± interval it stays within 0–100 and is honest for small counts."""
    if trials <= 0:
        return None
    share = successes / trials
    denominator = 1 + z * z / trials
    centre = (share + z * z / (2 * trials)) / denominator
    margin = z * ((share * (1 - share) / trials + z * z / (4 * trials * trials)) ** 0.5)
    margin /= denominator
    return round(100 * max(centre - margin, 0.0), 1), round(100 * min(centre + margin, 1.0), 1)


def insights_league(
    *, user: User | None, period: ReportPeriod, entity: Entity | None = None
) -> list[LeagueRow]:
    """Entities ranked by how surely they answer within the resolution target: by the lower
    bound of the 95 % Wilson interval of their compliance, so a small entity with 3 of 3 on
    time does not outrank a large one with 950 of 1,000; entities with fewer than
    `LEAGUE_MINIMUM` settled answers are listed after, unranked (one query)."""
    rows = (
        summary_rows(user, entity, period=period)
        .filter(day__gte=period.first, day__lte=period.last)
        .values("entity_id")
        .annotate(
            n_answered=Sum("answered"),
            met=Sum("resolution_met"),
            breached=Sum("resolution_breached"),
        )
    )
    names = {e.pk: e.name for e in Entity.objects.filter(pk__in=[row["entity_id"] for row in rows])}
    league = []
    for row in rows:
        settled = row["met"] + row["breached"]
        if not row["n_answered"] and not settled:
            continue  # submissions only: nothing to rank
        interval = wilson_interval(row["met"], settled)
        league.append(
            LeagueRow(
                entity_id=row["entity_id"],
                name=names.get(row["entity_id"], str(row["entity_id"])),
                answered=row["n_answered"],
                settled=settled,
                compliance=_percent(row["met"], settled),
                low=interval[0] if interval else None,
                high=interval[1] if interval else None,
                rank=None,
            )
        )
    ranked = sorted(
        (row for row in league if row.settled >= LEAGUE_MINIMUM),
        key=lambda row: (-(row.low or 0.0), -row.settled, row.name),
    )
    unranked = sorted(
        (row for row in league if row.settled < LEAGUE_MINIMUM), key=lambda row: row.name
    )
    return [replace(row, rank=index + 1) for index, row in enumerate(ranked)] + unranked
