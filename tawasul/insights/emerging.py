"""Top and emerging issues (issue 12; docs/decisions/0014-emerging-issues.md).

Which top-level categories and entities carry the most requests in a period, which rose
most against their own history, and which rose so far above what their history *and
their season* predict that the central centre is told.

**The spike test** (`spike_test`, pure). For one key (a category or an entity) and a
period: the baseline is the median of its counts in the `HISTORY_PERIODS` periods of the
same grain before it (for a day, the same weekday of the eight weeks before, since
weekends are quiet), each scaled to the period's length. The seasonal factor is last
year's count at the same time over last year's baseline, shrunk toward 1 by adding
`SEASON_PSEUDOCOUNT` requests to both (300 against 50 counts as 5.5, 3 against 1 as
1.33), never below 1: results days and admission periods recur each year, and what
recurs is expected. `expected = baseline × season`, and the score is a Poisson-style z,
widened when the key's own history is noisier than Poisson and for the uncertainty of a
median of k periods:

    variance = max(expected, (season × 1.4826 × MAD(history))²) × (1 + π / 2k)
    score = (observed − expected) / sqrt(variance + 1)

An issue is *emerging* when score ≥ `TAWASUL_EMERGING_SCORE`, observed ≥
`EMERGING_MINIMUM` and observed ≥ (1 + `EMERGING_RISE`) × expected. The last two keep a
small blip (1 → 6) and a small relative drift of a large key (5,000 → 5,250, z ≈ 3.2) out.

**Reading** (`issue_scores`): the counts of every key and every period the test needs —
the period, its history, last year's and theirs — come from the summary tables in two
queries (entities from `submitted`, categories from `submitted_by["category"]` summed in
the database), scoped by the access layer like the rest of the dashboard. Periods before
the first summarised day are unknown, not zero.

**Clusters** (`tawasul.insights.emerging_clusters`): what the newest requests of one
category in the period are about — TF-IDF over normalised words and KMeans — each cluster
with its top terms, size and example tracking numbers.

**The alert** (`emerging_issues_detect`, `emerging_issues_announce`): once a day, the
previous day and the week and month so far are tested at the ministry's scope; each new
emerging issue becomes one `EmergingIssue` row (unique per dimension, key, grain and first
day) and the central centre's supervisors and managers get one e-mail with a link to the
dashboard — no figure, no personal data.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from statistics import median
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import IntegrityError, connections, transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone, translation

from tawasul.cases.models import Category
from tawasul.channels.models import OutboxChannel
from tawasul.channels.outbox import notify_address
from tawasul.directory.models import CareCentre, Entity, Role, StaffGrant
from tawasul.insights.emerging_clusters import IssueCluster, cluster_as_json, issue_clusters
from tawasul.insights.models import DailySummary, EmergingIssue, IssueDimension
from tawasul.insights.periods import Grain, ReportPeriod, period_containing
from tawasul.insights.selectors import summary_rows  # the access layer's scoping of the rows

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

    User = AbstractBaseUser | AnonymousUser


# --- the spike test ------------------------------------------------------------------------

HISTORY_PERIODS = {
    Grain.DAY: 8,  # the same weekday of the eight weeks before
    Grain.WEEK: 8,
    Grain.MONTH: 6,
    Grain.QUARTER: 4,
    Grain.YEAR: 3,
    Grain.HIJRI_MONTH: 6,
    Grain.HIJRI_YEAR: 3,
}
HISTORY_MINIMUM = 3  # known periods of history below which nothing is judged
# "The same time last year", in periods of the grain back. A day looks at the same weekday
# (364 days) and the same date (365, 366 over a 29 February), a week at the weeks 52 and
# 53 back; the busiest of them sets the season, as a recurring date moves against weekdays.
YEAR_AGO: dict[Grain, tuple[int, ...]] = {
    Grain.DAY: (364, 365, 366),
    Grain.WEEK: (52, 53),
    Grain.MONTH: (12,),
    Grain.QUARTER: (4,),
    Grain.HIJRI_MONTH: (12,),
}
SEASON_PSEUDOCOUNT = 5.0
ROBUST_SCALE = 1.4826  # the median absolute deviation of a normal sample × this ≈ its σ
EMERGING_MINIMUM = 10
EMERGING_RISE = 0.5


@dataclass(frozen=True)
class Spike:
    """A key's requests in a period against what its history and season predict."""

    observed: int
    baseline: float | None  # None: too little history to judge
    season: float
    expected: float | None
    score: float | None
    emerging: bool

    @property
    def rise_percent(self) -> float | None:
        """The rise over the expected count, in percent."""
        if self.expected is None:
            return None
        return round(100 * (self.observed - self.expected) / max(self.expected, 1.0), 1)


LastYear = tuple[float, Sequence[float]]  # a count last year at the same time, its history


def _baseline(history: Sequence[float]) -> tuple[float, float]:
    """The median of the history, and the square of its robust spread (1.4826 × the
    median absolute deviation): the variance of a history noisier than Poisson."""
    centre = float(median(history))
    spread = ROBUST_SCALE * float(median(abs(value - centre) for value in history))
    return centre, spread**2


def _z(observed: float, expected: float, variance: float, periods: int) -> float:
    """How many standard deviations `observed` stands above `expected`, the variance
    widened by that of a median of `periods` values (π/2 · σ²/n) and by one request."""
    return (observed - expected) / math.sqrt(variance * (1 + math.pi / (2 * periods)) + 1)


def seasonal_factor(last_years: Iterable[LastYear]) -> float:
    """How much busier the same time was last year than its own baseline, shrunk toward 1
    (`SEASON_PSEUDOCOUNT` requests added to both); the busiest candidate, and never below
    1: a season raises what is expected, a quiet time last year does not lower it (that
    would flag ordinary days). 1 without data."""
    return max(
        [1.0]
        + [
            (count + SEASON_PSEUDOCOUNT) / (median(history) + SEASON_PSEUDOCOUNT)
            for count, history in last_years
            if len(history) >= HISTORY_MINIMUM
        ]
    )


def spike_test(
    *,
    observed: int,
    history: Sequence[float],
    last_years: Iterable[LastYear] = (),
    threshold: float | None = None,
    minimum: int = EMERGING_MINIMUM,
    rise: float = EMERGING_RISE,
) -> Spike:
    """The spike test of the module's doc. `history` holds the key's counts in the periods
    before (scaled to this period's length), `last_years` the same time last year."""
    if len(history) < HISTORY_MINIMUM:
        return Spike(observed, None, 1.0, None, None, emerging=False)
    threshold = settings.TAWASUL_EMERGING_SCORE if threshold is None else threshold
    baseline, spread = _baseline(history)
    season = seasonal_factor(last_years)
    expected = baseline * season
    score = _z(observed, expected, max(expected, spread * season**2), len(history))
    emerging = score >= threshold and observed >= minimum and observed >= (1 + rise) * expected
    return Spike(
        observed=observed,
        baseline=round(baseline, 2),
        season=round(season, 3),
        expected=round(expected, 2),
        score=round(score, 2),
        emerging=emerging,
    )


# --- the periods a test reads --------------------------------------------------------------


def _back(period: ReportPeriod, steps: int) -> ReportPeriod:
    """The period of the same grain `steps` periods before (days and weeks by date)."""
    if period.grain in (Grain.DAY, Grain.WEEK):
        days = steps * (7 if period.grain == Grain.WEEK else 1)
        return period_containing(period.grain, period.first - dt.timedelta(days=days))
    for _step in range(steps):
        period = period.previous()
    return period


def history_of(period: ReportPeriod) -> list[ReportPeriod]:
    """The periods whose counts make the baseline of `period`, nearest first."""
    step = 7 if period.grain == Grain.DAY else 1
    return [_back(period, step * n) for n in range(1, HISTORY_PERIODS[period.grain] + 1)]


def year_ago_of(period: ReportPeriod) -> list[ReportPeriod]:
    """The same time last year (none for years: their season is the year itself)."""
    return [_back(period, steps) for steps in YEAR_AGO.get(period.grain, ())]


@dataclass(frozen=True)
class SpikeWindow:
    """What the test of `period` reads: the period (its days up to `through`), its known
    history, and the same time last year with its own history — a period before the first
    summarised day is unknown, not zero."""

    period: ReportPeriod
    through: dt.date
    history: list[ReportPeriod]
    last_years: list[tuple[ReportPeriod, list[ReportPeriod]]]

    @property
    def periods(self) -> list[ReportPeriod]:
        """Every period read, the tested one first."""
        years = [p for year_ago, its in self.last_years for p in (year_ago, *its)]
        return [self.period, *self.history, *years]

    def test(self, counts: Mapping[dt.date, int]) -> Spike:
        """The spike test of a key with `counts[first day of a period]` requests in each
        period read, the reference periods scaled to the days of the tested one so far."""
        days = (self.through - self.period.first).days + 1

        def scaled(period: ReportPeriod) -> float:
            return counts.get(period.first, 0) * days / period.days

        return spike_test(
            observed=counts.get(self.period.first, 0),
            history=[scaled(p) for p in self.history],
            last_years=[
                (scaled(year_ago), [scaled(p) for p in its]) for year_ago, its in self.last_years
            ],
        )


def spike_window(period: ReportPeriod, *, start: dt.date, through: dt.date) -> SpikeWindow:
    """The window of `period` with data known from `start`, counted up to `through`."""
    return SpikeWindow(
        period=period,
        through=min(period.last, through),
        history=[p for p in history_of(period) if p.first >= start],
        last_years=[
            (year_ago, [p for p in history_of(year_ago) if p.first >= start])
            for year_ago in year_ago_of(period)
            if year_ago.first >= start
        ],
    )


# --- reading the summary -------------------------------------------------------------------


@dataclass(frozen=True)
class IssueRow:
    dimension: str  # IssueDimension
    key: str  # the top-level category's or the entity's id
    label: str
    spike: Spike


@dataclass(frozen=True)
class TopIssues:
    period: ReportPeriod
    rows: list[IssueRow]  # every key with requests in the period or its history
    limit: int = 10
    by_volume: dict[str, list[IssueRow]] = field(default_factory=dict)
    by_rise: dict[str, list[IssueRow]] = field(default_factory=dict)

    @property
    def emerging(self) -> list[IssueRow]:
        rows = [row for row in self.rows if row.spike.emerging]
        return sorted(rows, key=lambda row: (-(row.spike.score or 0.0), row.label))


Counts = dict[str, dict[str, dict[dt.date, int]]]  # dimension → key → day → requests


def issue_scores(
    *,
    user: User | None,
    period: ReportPeriod,
    entity: Entity | None = None,
    through: dt.date | None = None,
) -> list[IssueRow]:
    """The spike test of every top-level category and every entity with requests in the
    period or its history, in the user's scope (None: every request), counting the days
    up to `through` (default today) of a period still running and scaling the history to
    them. Categories are summed within the scope. One query for the first summarised day,
    two for the counts (four for a month, quarter or year still running: the months before
    from the monthly rows, the days so far from the daily ones), two for the names."""
    through = min(period.last, through or timezone.localdate())
    start = DailySummary.objects.order_by("day").values_list("day", flat=True).first()
    if through < period.first or start is None:
        return []
    window = spike_window(period, start=start, through=through)
    periods = window.periods
    if period.grain not in (Grain.MONTH, Grain.QUARTER, Grain.YEAR):
        counts = _counts(summary_rows(user, entity), periods, through)
    else:  # whole months: the monthly rows, a period still running from its days
        running = through < period.last
        counts = _counts(summary_rows(user, entity, period=period), periods[running:], through)
        if running:
            _counts(summary_rows(user, entity), [period], through, into=counts)
    scores: list[IssueRow] = []
    for dimension, by_key in counts.items():
        labels = _labels(dimension, by_key)
        for key, sums in by_key.items():
            if key in labels:  # not: no category, or a category since deleted
                scores.append(IssueRow(dimension, key, labels[key], window.test(sums)))
    return scores


def issues_top(
    *,
    user: User | None,
    period: ReportPeriod,
    entity: Entity | None = None,
    through: dt.date | None = None,
    limit: int = 10,
) -> TopIssues:
    """The largest categories and entities of the period by volume and by rise (score)."""
    rows = issue_scores(user=user, period=period, entity=entity, through=through)
    by_volume, by_rise = {}, {}
    for dimension in IssueDimension.values:
        mine = [row for row in rows if row.dimension == dimension]
        by_volume[dimension] = sorted(
            (row for row in mine if row.spike.observed),
            key=lambda row: (-row.spike.observed, row.label),
        )[:limit]
        by_rise[dimension] = sorted(
            (row for row in mine if (row.spike.score or 0) > 0),
            key=lambda row: (-(row.spike.score or 0.0), row.label),
        )[:limit]
    return TopIssues(period, rows, limit, by_volume, by_rise)


REPORT_CLUSTERED = 3  # categories whose sub-issues a report shows


@dataclass(frozen=True)
class ReportIssues:
    """The top and emerging issues of a report, with the clusters of its emerging
    categories (or, when none emerged, of its largest category)."""

    top: TopIssues
    clusters: list[tuple[IssueRow, list[IssueCluster]]]


def issues_for_report(*, period: ReportPeriod, entity: Entity | None) -> ReportIssues:
    """Every request of the scope (a report has no viewer), the period taken as complete."""
    top = issues_top(user=None, period=period, entity=entity, through=period.last)
    categories = [row for row in top.emerging if row.dimension == IssueDimension.CATEGORY]
    categories = categories or top.by_volume[IssueDimension.CATEGORY][:1]
    found = Category.objects.in_bulk([int(row.key) for row in categories[:REPORT_CLUSTERED]])
    clusters = [
        (row, issue_clusters(category=found[int(row.key)], period=period, entity=entity))
        for row in categories[:REPORT_CLUSTERED]
        if int(row.key) in found
    ]
    return ReportIssues(top=top, clusters=clusters)


def _counts(
    rows: QuerySet[Any], periods: list[ReportPeriod], through: dt.date, into: Counts | None = None
) -> Counts:
    """Requests by dimension, key and period (keyed by its first day) over `periods`,
    counted up to `through`, added `into` counts already read: one query for the
    entities, one for the categories."""
    bucket: dict[dt.date, dt.date] = {}
    for period in periods:
        last = min(period.last, through)
        for n in range((last - period.first).days + 1):
            bucket.setdefault(period.first + dt.timedelta(days=n), period.first)
    rows = rows.filter(_day_ranges(sorted(bucket)))
    counts: Counts = into or {IssueDimension.CATEGORY: {}, IssueDimension.ENTITY: {}}

    def add(dimension: str, key: str, day: Any, n: int) -> None:
        day = dt.date.fromisoformat(day) if isinstance(day, str) else day
        first = bucket.get(day)
        if first is not None and n:
            sums = counts[dimension].setdefault(key, {})
            sums[first] = sums.get(first, 0) + n

    for day, entity_id, n in rows.values_list("day", "entity_id", "submitted"):
        add(IssueDimension.ENTITY, str(entity_id), day, n)
    for day, key, n in _category_sums(rows):
        add(IssueDimension.CATEGORY, key, day, n)
    return counts


def _day_ranges(days: list[dt.date]) -> Q:
    """The days as a few ranges of consecutive days."""
    condition, first = Q(pk__in=[]), None
    for index, day in enumerate(days):
        first = first or day
        if index + 1 == len(days) or days[index + 1] != day + dt.timedelta(days=1):
            condition |= Q(day__gte=first, day__lte=day)
            first = None
    return condition


def _category_sums(rows: QuerySet[Any]) -> list[tuple[Any, str, int]]:
    """(day, top-level category id, requests) of the rows' `submitted_by["category"]`,
    summed in the database (`jsonb_each_text` on PostgreSQL, `json_each` on SQLite)."""
    query = rows.values("day", "submitted_by")
    connection = connections[query.db]  # the replica inside `reads_from_replica()`
    try:
        inner, params = query.query.sql_with_params()
    except EmptyResultSet:  # no day to read, or no entity in scope
        return []
    if connection.vendor == "postgresql":
        sql = (
            "SELECT s.day, kv.key, SUM(kv.value::int) "  # noqa: S608 (Django's own inner query)
            f"FROM ({inner}) s CROSS JOIN LATERAL jsonb_each_text(s.submitted_by -> 'category') kv "
            "GROUP BY s.day, kv.key"
        )
    else:
        sql = (
            "SELECT s.day, kv.key, SUM(kv.value) "  # noqa: S608 (Django's own inner query)
            f"FROM ({inner}) s, json_each(s.submitted_by, '$.category') kv "
            "GROUP BY s.day, kv.key"
        )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [(day, str(key), int(n or 0)) for day, key, n in cursor.fetchall()]


def _labels(dimension: str, keys: Iterable[str]) -> dict[str, str]:
    ids = [int(key) for key in keys if key.isdigit()]
    model: Any = Category if dimension == IssueDimension.CATEGORY else Entity
    return {str(row.pk): row.name for row in model.objects.filter(pk__in=ids)}


# --- the daily alert -----------------------------------------------------------------------

NOTIFICATION = "emerging_issues"
DETECTED_GRAINS = (Grain.DAY, Grain.WEEK, Grain.MONTH)
ALERT_ROLES = (Role.SUPERVISOR, Role.CENTRE_MANAGER)


def emerging_issues_detect(*, now: dt.datetime | None = None) -> list[EmergingIssue]:
    """Test the previous day and the week and month so far (through the previous day) at
    the ministry's scope; record each emerging issue not recorded yet, with the clusters
    of a category's requests; the new rows. Safe on several workers: a row is made once
    (`emerging_once`), and only the worker that made it computes its clusters."""
    yesterday = timezone.localdate(now or timezone.now()) - dt.timedelta(days=1)
    created = []
    for grain in DETECTED_GRAINS:
        period = period_containing(grain, yesterday)
        for row in issue_scores(user=None, period=period, through=yesterday):
            if row.spike.emerging:
                issue = _issue_record(row, period, yesterday)
                if issue is not None:
                    created.append(issue)
    for issue in created:
        if issue.dimension == IssueDimension.CATEGORY:
            _issue_detail(issue)
    return created


def _issue_record(row: IssueRow, period: ReportPeriod, through: dt.date) -> EmergingIssue | None:
    try:
        with transaction.atomic():
            return EmergingIssue.objects.create(
                dimension=row.dimension,
                key=row.key,
                grain=period.grain.value,
                first=period.first,
                last=min(period.last, through),
                observed=row.spike.observed,
                expected=row.spike.expected or 0.0,
                score=row.spike.score or 0.0,
                detail={"label": row.label, "season": row.spike.season},
            )
    except IntegrityError:  # recorded already (by an earlier run or another worker)
        return None


def _issue_detail(issue: EmergingIssue) -> None:
    """Add the clusters of a category issue's requests (ids and tracking numbers only)."""
    category = Category.objects.filter(pk=int(issue.key)).first()
    if category is None:
        return
    period = ReportPeriod(Grain(issue.grain), issue.first, issue.last)
    clusters = issue_clusters(category=category, period=period)
    issue.detail = {**issue.detail, "clusters": [cluster_as_json(c) for c in clusters]}
    issue.save(update_fields=["detail"])


def emerging_issues_announce(*, now: dt.datetime | None = None) -> int:
    """Tell the central centre of the issues not announced yet: claim them (a conditional
    UPDATE each, in id order) and queue one e-mail to each of its supervisors and centre
    managers, in the same transaction; the e-mails queued. Run twice, or on two workers,
    it announces each issue once."""
    now = now or timezone.now()
    with transaction.atomic():
        pending = EmergingIssue.objects.filter(announced_at__isnull=True).order_by("pk")
        claimed = [
            issue
            for issue in pending
            if EmergingIssue.objects.filter(pk=issue.pk, announced_at__isnull=True).update(
                announced_at=now
            )
        ]
        if not claimed:
            return 0
        # the link opens the finest period: yesterday's issues before the week's or month's
        finest = {grain.value: index for index, grain in enumerate(DETECTED_GRAINS)}
        top = min(claimed, key=lambda i: (finest.get(i.grain, len(finest)), -i.score, i.pk))
        link = _dashboard_url(Grain(top.grain), top.first)
        emails = alert_recipients()
        for email in emails:
            notify_address(
                channel=OutboxChannel.EMAIL,
                recipient=email,
                template=NOTIFICATION,
                language=settings.LANGUAGE_CODE,
                context={"dashboard_url": link},
            )
    return len(emails)


def alert_recipients() -> list[str]:
    """The e-mail addresses of the active supervisors and centre managers of the central
    centre (the root entity's when none is marked central), each once."""
    centre = CareCentre.objects.filter(is_central=True, is_active=True).first()
    root = Entity.objects.get_first_root_node() if centre is None else None
    if centre is None and root is None:
        return []  # no directory yet: nobody to tell
    entity_id = centre.entity_id if centre is not None else root.pk  # type: ignore[union-attr]
    grants = StaffGrant.objects.filter(
        entity_id=entity_id, role__in=ALERT_ROLES, user__is_active=True
    ).order_by("user_id")
    seen: dict[str, str] = {}
    for address in grants.values_list("user__email", flat=True):
        email = (address or "").strip()
        if email:
            seen.setdefault(email.lower(), email)
    return list(seen.values())


def _dashboard_url(grain: Grain, first: dt.date) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        path = reverse("console:insights")
    query = f"?grain={grain.value}&on={first.isoformat()}#issues"
    return settings.TAWASUL_PORTAL_URL.rstrip("/") + path + query


__all__ = [
    "IssueCluster",
    "IssueRow",
    "ReportIssues",
    "Spike",
    "SpikeWindow",
    "TopIssues",
    "alert_recipients",
    "emerging_issues_announce",
    "emerging_issues_detect",
    "issue_clusters",
    "issue_scores",
    "issues_for_report",
    "issues_top",
    "seasonal_factor",
    "spike_test",
    "spike_window",
]
