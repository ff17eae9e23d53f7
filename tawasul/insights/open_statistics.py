"""Open statistics: the figures the ministry publishes for anyone, with small cells hidden.

What is published
-----------------
For one period — a Gregorian month, quarter or year, or a Hijri month or year; days and
weeks are too small to publish — against the period before it:

* requests submitted and answered; the share of answers given within the resolution
  target and of first responses within theirs; the average satisfaction score (1–5) and
  the share of ratings saying the matter was resolved;
* requests submitted by kind, by channel, by top-level category and by region;
* the trend: requests submitted and answered in each part of the period (the days of a
  month, the months of a quarter or a year, the Hijri months of a Hijri year).

Entities are published by **region only** (the thirteen administrative regions, plus
"central bodies" for the ministry's own units, which have no region). Below a region the
entity tree — education offices, universities, deputyships — splits a month's requests
into many cells of a handful each, most of which would have to be hidden, and a named
small office is where a count comes closest to pointing at people. Every label comes
from reference data: kinds and channels (the code's choices), category names, region
names (`REGIONS`); no field of a request, a beneficiary or a staff member is read here.
The objection rate and the backlog in hand stay on the staff dashboard.

The figures come from the insights selectors with `user=None` (every request), the
number of ratings behind the satisfaction figures included (`Headline.ratings`).

Rules of disclosure control
---------------------------
1. **Small cells.** A count from 1 to 4 is hidden: "<5" on the page and in the CSV,
   `null` with `"suppressed": true` in the JSON. Zero is published as 0.
2. **Complementary cells.** Every column adds up to a published figure (the volume tables
   to the requests submitted, the trend to the requests submitted and answered), so one
   hidden cell could be found by subtraction. In each column, while a hidden small count
   could still be worked out exactly — from the column's total, the published cells and
   what is known of the hidden ones (a small count is 1–4; a cell hidden to protect it is
   at least 5 and at most the smallest count still published) — the smallest non-zero
   count still published is hidden as well (ties broken by key). With one small cell this
   is the usual rule, the next smallest cell is hidden with it; it also catches two hidden
   cells whose sum gives them away (1 + 1, 4 + 4, a 1 hidden with a 5), as long as a
   non-zero cell is left to hide (zero stays published). All hidden cells
   carry the same mark, so nothing tells which of them holds the small count: on the page
   "<5" reads "fewer than five, or hidden with such a cell" (`hidden_cells`).
3. **Rates and averages.** The two compliance shares rest on the answers given in the
   period (every answer settles both SLA clocks, met or breached, so the answers are
   their cases); the satisfaction average and the resolved share on the ratings given in
   the period. A figure resting on fewer than 5 cases is hidden ("n<5" in the CSV, `null`
   with `"suppressed": true` in the JSON); on none it is empty (`null`, not suppressed).
4. **The previous period** follows the same rules, column by column.
5. **Nothing betrays a hidden cell's size**: rows come in a fixed order (the choices'
   order, the category tree, the regions' list), never by size; the chart draws a hidden
   cell as a thin mark, never at its height, and is scaled on published cells only.

Known limit: the rules hold within each published table. Periods that overlap can be set
against each other (a quarter minus its three months, a Hijri month against the Gregorian
months it straddles) to narrow a hidden cell down. The counts are of requests, not of
people, and nothing else about a request is published; that residue is accepted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import get_language, override
from django.utils.translation import gettext_lazy as _

from tawasul.api.open311.places import REGIONS
from tawasul.cases.models import Category, Channel, Kind
from tawasul.core.errors import InvalidInput
from tawasul.core.replica import reads_from_replica
from tawasul.insights.periods import Grain, ReportPeriod, period_containing, period_parse
from tawasul.insights.selectors import (
    Change,
    Headline,
    VolumeRow,
    insights_headline,
    insights_trend,
    insights_volumes,
)

SMALL_CELL = 5  # a count from 1 to SMALL_CELL - 1 is hidden
MIN_CASES = 5  # a rate or an average on fewer cases is hidden
COUNT_MARK = "<5"  # a hidden count (page and CSV)
RATE_MARK = "n<5"  # a hidden rate or average (CSV)

PUBLISHED_GRAINS = (Grain.MONTH, Grain.QUARTER, Grain.YEAR, Grain.HIJRI_MONTH, Grain.HIJRI_YEAR)
# Days with a Hijri date beside them (hijridate covers 1343–1500 AH) and sane instants.
FIRST_DAY, LAST_DAY = dt.date(1925, 1, 1), dt.date(2076, 12, 31)

TABLES: dict[str, Any] = {
    "kind": _("Kind"),
    "channel": _("Channel"),
    "category": _("Category"),
    "region": _("Region"),
}
CENTRAL = "central"  # the region key of entities without a region
OTHER = "other"  # anything the reference data does not name


# --- values ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bilingual:
    """A label in Arabic and in English; shown in the active language."""

    ar: str
    en: str

    def __str__(self) -> str:
        return self.en if (get_language() or "ar").startswith("en") else self.ar


def bilingual(text: Any) -> Bilingual:
    """A lazy translation (or anything whose str() follows the language) in both languages."""
    return Bilingual(ar=_in_language("ar", text), en=_in_language("en", text))


def _in_language(language: str, text: Any) -> str:
    with override(language):
        return str(text() if callable(text) else text)


@dataclass(frozen=True)
class Cell:
    """One published figure: its value, or None when hidden (`suppressed`) or when there
    is nothing to compute it on; `unit` is count, percent or average."""

    value: float | None
    suppressed: bool = False
    unit: str = "count"

    def __str__(self) -> str:
        if self.suppressed:
            return COUNT_MARK if self.unit == "count" else str(_("fewer than 5 cases"))
        if self.value is None:
            return "—"
        if self.unit == "count":
            return number_format(int(self.value))
        if self.unit == "percent":
            return f"{number_format(self.value, 1)}%"
        return number_format(self.value, 2)


@dataclass(frozen=True)
class Figure:
    key: str
    label: Bilingual
    current: Cell
    previous: Cell


@dataclass(frozen=True)
class Row:
    key: str
    label: Bilingual
    current: Cell
    previous: Cell


@dataclass(frozen=True)
class Table:
    key: str  # kind, channel, category or region
    label: Bilingual
    rows: list[Row]
    total: Figure  # the requests submitted (the headline's figure)


@dataclass(frozen=True)
class TrendRow:
    bucket: ReportPeriod
    label: Bilingual
    submitted: Cell
    answered: Cell


@dataclass(frozen=True)
class OpenStatistics:
    period: ReportPeriod
    previous: ReportPeriod
    provisional: bool  # the period is not over yet
    headline: list[Figure]
    tables: list[Table]
    trend: list[TrendRow]


# --- the rules -----------------------------------------------------------------------------


def count_cell(value: float | None, *, hidden: bool = False) -> Cell:
    """A count as published: hidden when from 1 to 4 (or when `hidden`), zero kept."""
    count = int(value or 0)
    if hidden or 0 < count < SMALL_CELL:
        return Cell(None, suppressed=True)
    return Cell(count)


def rate_cell(value: float | None, *, cases: int, unit: str) -> Cell:
    """A rate or an average as published: hidden on fewer than 5 cases, empty on none."""
    if not cases or value is None:
        return Cell(None, unit=unit)
    if cases < MIN_CASES:
        return Cell(None, suppressed=True, unit=unit)
    return Cell(value, unit=unit)


def hidden_cells(counts: Mapping[str, int]) -> set[str]:
    """The keys of one column's cells to hide: every count from 1 to 4, then — while one
    of them could be worked out from the column's total — the smallest count still
    published, one at a time (rule 2 of the module's docstring)."""
    small = {key for key, n in counts.items() if 0 < n < SMALL_CELL}
    hidden = set(small)
    while small and _recoverable(counts, hidden, small):
        published = sorted((n, key) for key, n in counts.items() if n and key not in hidden)
        if not published:
            break
        hidden.add(published[0][1])
    return hidden


def _recoverable(counts: Mapping[str, int], hidden: set[str], small: set[str]) -> bool:
    """Whether the hidden cells' sum (the total less the published cells) and the bounds
    of each hidden cell leave a small count only one possible value."""
    rest = [n for key, n in counts.items() if n and key not in hidden]
    hidden_sum = sum(counts[key] for key in hidden)
    ceiling = min(rest) if rest else hidden_sum
    bounds = {key: (1, SMALL_CELL - 1) if key in small else (SMALL_CELL, ceiling) for key in hidden}
    lows = sum(low for low, _high in bounds.values())
    highs = sum(high for _low, high in bounds.values())
    for key in small:
        low, high = bounds[key]
        least = max(low, hidden_sum - (highs - high))
        most = min(high, hidden_sum - (lows - low))
        if least >= most:
            return True
    return False


# --- the period ----------------------------------------------------------------------------


def statistics_period(*, grain: str, on: str, today: dt.date | None = None) -> ReportPeriod:
    """The period of `?grain=…&on=…`: by default the last complete Gregorian month; a
    grain without a day gives the last complete period of that grain. InvalidInput (with
    its code) for a day or a week, an unknown grain, a bad or an out-of-range date."""
    grain = grain or Grain.MONTH.value
    if grain in (Grain.DAY, Grain.WEEK):
        raise InvalidInput(
            _("Statistics are published by month, quarter or year (Gregorian or Hijri)."),
            code="period_too_short",
            details={"field": "grain"},
        )
    if grain not in PUBLISHED_GRAINS:
        raise InvalidInput(_("Unknown period."), code="period_unknown", details={"field": "grain"})
    today = today or timezone.localdate()
    try:
        period = period_parse(grain, on) if on else period_containing(grain, today).previous()
        in_range = period.previous().first >= FIRST_DAY and period.last <= LAST_DAY
    except InvalidInput:
        if not _iso_date(on):
            raise  # not a date at all
        in_range = False  # a date, but at the calendars' ends
    except (ValueError, OverflowError):
        in_range = False
    if not in_range:
        raise InvalidInput(
            _("Statistics cover 1925 to 2076: enter a date in those years."),
            code="date_out_of_range",
            details={"field": "on"},
        )
    return period


def _iso_date(text: str) -> bool:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


# --- the figures ---------------------------------------------------------------------------


@reads_from_replica()
def open_statistics(*, period: ReportPeriod, today: dt.date | None = None) -> OpenStatistics:
    """Every published figure of the period, small cells hidden (about a dozen queries)."""
    headline = insights_headline(user=None, period=period)
    ratings = (int(headline.ratings.current or 0), int(headline.ratings.previous or 0))
    figures = _headline_figures(headline, ratings=ratings)
    total = figures[0]
    volumes = insights_volumes(user=None, period=period, dimensions=list(TABLES))
    return OpenStatistics(
        period=period,
        previous=period.previous(),
        provisional=period.last >= (today or timezone.localdate()),
        headline=figures,
        tables=[_volume_table(volumes[key], key, label, total) for key, label in TABLES.items()],
        trend=_trend(period),
    )


_FIGURES: list[tuple[str, Any, str]] = [
    ("submitted", _("Requests submitted"), "count"),
    ("answered", _("Requests answered"), "count"),
    ("resolution_compliance", _("Answers within the resolution target (%)"), "percent"),
    ("first_response_compliance", _("First responses within target (%)"), "percent"),
    ("csat", _("Satisfaction (average of 5)"), "average"),
    ("resolved_rate", _("Rated as resolved (%)"), "percent"),
]


def _headline_figures(headline: Headline, *, ratings: tuple[int, int]) -> list[Figure]:
    answers = (int(headline.answered.current or 0), int(headline.answered.previous or 0))
    cases = {
        "resolution_compliance": answers,
        "first_response_compliance": answers,
        "csat": ratings,
        "resolved_rate": ratings,
    }
    figures = []
    for key, label, unit in _FIGURES:
        change: Change = getattr(headline, key)
        if unit == "count":
            current, previous = count_cell(change.current), count_cell(change.previous)
        else:
            current = rate_cell(change.current, cases=cases[key][0], unit=unit)
            previous = rate_cell(change.previous, cases=cases[key][1], unit=unit)
        figures.append(Figure(key, bilingual(label), current, previous))
    return figures


def _volume_table(volume: list[VolumeRow], key: str, label: Any, total: Figure) -> Table:
    reference, optional, published_key = _reference(key)
    counts: dict[str, list[int]] = {row_key: [0, 0] for row_key, _label in reference}
    for row in volume:
        pair = counts.setdefault(published_key(row.key), [0, 0])
        pair[0] += row.current
        pair[1] += row.previous
    counts = {
        row_key: pair
        for row_key, pair in counts.items()
        if any(pair) or row_key not in optional  # retired categories only when counted
    }
    labels = dict(reference)
    if OTHER in counts and OTHER not in labels:
        labels[OTHER] = bilingual(_("Other"))
    current = hidden_cells({row_key: pair[0] for row_key, pair in counts.items()})
    previous = hidden_cells({row_key: pair[1] for row_key, pair in counts.items()})
    rows = [
        Row(
            key=row_key,
            label=labels[row_key],
            current=count_cell(pair[0], hidden=row_key in current),
            previous=count_cell(pair[1], hidden=row_key in previous),
        )
        for row_key, pair in counts.items()  # the reference's order, then "other"
    ]
    return Table(key=key, label=bilingual(label), rows=rows, total=total)


Reference = tuple[list[tuple[str, Bilingual]], set[str], Callable[[str], str]]


def _reference(table: str) -> Reference:
    """A table's rows in their fixed order with their labels; the rows shown only when
    counted (inactive categories); and the function giving the published key of a
    selector's key (OTHER for anything the reference does not name)."""
    if table in ("kind", "channel"):
        choices = Kind if table == "kind" else Channel
        rows = [(value, bilingual(label)) for value, label in choices.choices]
        return rows, set(), _known_or_other({value for value, _label in rows})
    if table == "category":
        tops = list(Category.objects.filter(depth=1).order_by("path"))
        by_pk = {str(top.pk): top.code for top in tops}
        rows = [(top.code, Bilingual(top.name_ar, top.name_en)) for top in tops]
        retired = {top.code for top in tops if not top.is_active}
        return rows, retired, lambda key: by_pk.get(key, OTHER)
    rows = [(region.code, Bilingual(region.name_ar, region.name_en)) for region in REGIONS]
    rows.append((CENTRAL, bilingual(_("Central bodies (no region)"))))
    known = _known_or_other({code for code, _label in rows})
    return rows, set(), lambda key: CENTRAL if key in ("", "None") else known(key)


def _known_or_other(known: Iterable[str]) -> Callable[[str], str]:
    names = set(known)
    return lambda key: key if key in names else OTHER


def _trend(period: ReportPeriod) -> list[TrendRow]:
    points = insights_trend(user=None, period=period)
    keys = [point.bucket.first.isoformat() for point in points]
    submitted = hidden_cells(dict(zip(keys, (p.submitted for p in points), strict=True)))
    answered = hidden_cells(dict(zip(keys, (p.answered for p in points), strict=True)))
    return [
        TrendRow(
            bucket=point.bucket,
            label=bilingual(lambda bucket=point.bucket: bucket.short_label),
            submitted=count_cell(point.submitted, hidden=key in submitted),
            answered=count_cell(point.answered, hidden=key in answered),
        )
        for key, point in zip(keys, points, strict=True)
    ]
