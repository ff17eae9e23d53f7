"""Reporting periods: Gregorian days, weeks, months, quarters and years, and Umm al-Qura
Hijri months and years, each with the one before it (for comparisons) and its buckets
(for trends).

A period is a run of whole local days in Asia/Riyadh (`TIME_ZONE`), from `first` to
`last` inclusive; `start` and `end` are the aware instants that bound it (end excluded),
so a filter `created_at__gte=start, created_at__lt=end` takes exactly its requests. The
Saudi week runs Sunday to Saturday. Hijri dates come from `hijridate` (1343–1500 AH).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _
from hijridate import Gregorian, Hijri

from tawasul.core.errors import InvalidInput
from tawasul.core.hijri import hijri_label

ONE_DAY = dt.timedelta(days=1)


class Grain(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"
    HIJRI_MONTH = "hijri_month"
    HIJRI_YEAR = "hijri_year"


GRAIN_LABELS = {
    Grain.DAY: _("Day"),
    Grain.WEEK: _("Week"),
    Grain.MONTH: _("Month"),
    Grain.QUARTER: _("Quarter"),
    Grain.YEAR: _("Year"),
    Grain.HIJRI_MONTH: _("Hijri month"),
    Grain.HIJRI_YEAR: _("Hijri year"),
}

# The buckets of a trend chart for each grain.
_BUCKET = {
    Grain.DAY: Grain.DAY,
    Grain.WEEK: Grain.DAY,
    Grain.MONTH: Grain.DAY,
    Grain.QUARTER: Grain.MONTH,
    Grain.YEAR: Grain.MONTH,
    Grain.HIJRI_MONTH: Grain.DAY,
    Grain.HIJRI_YEAR: Grain.HIJRI_MONTH,
}


@dataclass(frozen=True)
class ReportPeriod:
    grain: Grain
    first: dt.date
    last: dt.date

    @property
    def start(self) -> dt.datetime:
        return local_midnight(self.first)

    @property
    def end(self) -> dt.datetime:
        return local_midnight(self.last + ONE_DAY)

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def previous(self) -> ReportPeriod:
        """The period of the same grain just before this one."""
        return period_containing(self.grain, self.first - ONE_DAY)

    def following(self) -> ReportPeriod:
        return period_containing(self.grain, self.last + ONE_DAY)

    def buckets(self) -> list[ReportPeriod]:
        """The consecutive sub-periods a trend of this period is drawn in."""
        grain = _BUCKET[self.grain]
        buckets: list[ReportPeriod] = []
        day = self.first
        while day <= self.last:
            bucket = period_containing(grain, day)
            buckets.append(bucket)
            day = bucket.last + ONE_DAY
        return buckets

    @property
    def label(self) -> str:
        """The period in words, in the active language."""
        return _LABELS[self.grain](self)

    @property
    def short_label(self) -> str:
        """A bucket's label on a chart axis."""
        if self.grain == Grain.DAY:
            return date_format(self.first, "j/n")
        if self.grain == Grain.MONTH:
            return date_format(self.first, "M Y")
        if self.grain == Grain.HIJRI_MONTH:
            hijri = Gregorian(self.first.year, self.first.month, self.first.day).to_hijri()
            return f"{hijri.month}/{hijri.year}"
        return self.label


def period_containing(grain: Grain | str, day: dt.date) -> ReportPeriod:
    """The period of `grain` that holds `day`."""
    grain = Grain(grain)
    first, last = _BOUNDS[grain](day)
    return ReportPeriod(grain, first, last)


def _week(day: dt.date) -> tuple[dt.date, dt.date]:
    first = day - dt.timedelta(days=(day.weekday() + 1) % 7)  # back to Sunday
    return first, first + dt.timedelta(days=6)


def _month(day: dt.date) -> tuple[dt.date, dt.date]:
    first = day.replace(day=1)
    return first, _next_month(first) - ONE_DAY


def _quarter(day: dt.date) -> tuple[dt.date, dt.date]:
    first = dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    return first, _next_month(_next_month(_next_month(first))) - ONE_DAY


def _hijri_month(day: dt.date) -> tuple[dt.date, dt.date]:
    hijri = _to_hijri(day)
    following = (hijri.year + 1, 1) if hijri.month == 12 else (hijri.year, hijri.month + 1)
    return _from_hijri(hijri.year, hijri.month), _from_hijri(*following) - ONE_DAY


def _hijri_year(day: dt.date) -> tuple[dt.date, dt.date]:
    year = _to_hijri(day).year
    return _from_hijri(year, 1), _from_hijri(year + 1, 1) - ONE_DAY


_BOUNDS: dict[Grain, Callable[[dt.date], tuple[dt.date, dt.date]]] = {
    Grain.DAY: lambda day: (day, day),
    Grain.WEEK: _week,
    Grain.MONTH: _month,
    Grain.QUARTER: _quarter,
    Grain.YEAR: lambda day: (dt.date(day.year, 1, 1), dt.date(day.year, 12, 31)),
    Grain.HIJRI_MONTH: _hijri_month,
    Grain.HIJRI_YEAR: _hijri_year,
}


def _label_week(period: ReportPeriod) -> str:
    return str(
        _("%(first)s to %(last)s")
        % {"first": date_format(period.first, "j F"), "last": date_format(period.last, "j F Y")}
    )


def _label_quarter(period: ReportPeriod) -> str:
    quarter = (period.first.month - 1) // 3 + 1
    return str(_("Q%(quarter)d %(year)d") % {"quarter": quarter, "year": period.first.year})


def _label_hijri_year(period: ReportPeriod) -> str:
    return str(_("%(year)d AH") % {"year": _to_hijri(period.first).year})


_LABELS: dict[Grain, Callable[[ReportPeriod], str]] = {
    Grain.DAY: lambda period: date_format(period.first, "j F Y"),
    Grain.WEEK: _label_week,
    Grain.MONTH: lambda period: date_format(period.first, "F Y"),
    Grain.QUARTER: _label_quarter,
    Grain.YEAR: lambda period: str(period.first.year),
    # "Jumada al-Awwal 1448 AH": the Hijri label of its first day without the day number
    Grain.HIJRI_MONTH: lambda period: hijri_label(period.first).split(" ", 1)[1],
    Grain.HIJRI_YEAR: _label_hijri_year,
}


def period_current(grain: Grain | str, now: dt.datetime | None = None) -> ReportPeriod:
    """The period of `grain` that holds today (Riyadh)."""
    return period_containing(grain, timezone.localdate(now or timezone.now()))


def period_parse(grain: str, on: str, *, now: dt.datetime | None = None) -> ReportPeriod:
    """The period of `grain` holding the ISO date `on` (today when empty), for addresses
    such as `?grain=hijri_month&on=2026-11-28`; InvalidInput for anything else — a date so
    near the calendars' ends (year 1 or 9999, Hijri dates outside 1343–1500 AH) that the
    period before or after it cannot be formed included, as every page shows both."""
    if grain not in Grain.__members__.values():
        raise InvalidInput(_("Unknown period."), code="period_unknown", details={"field": "grain"})
    try:
        day = dt.date.fromisoformat(on) if on else timezone.localdate(now or timezone.now())
        period = period_containing(grain, day)
        period.previous(), period.following()  # both exist
        return period
    except (ValueError, OverflowError) as error:
        raise InvalidInput(
            _("Enter a valid date, for example 2026-11-28."),
            code="date_invalid",
            details={"field": "on"},
        ) from error


def local_midnight(day: dt.date) -> dt.datetime:
    """The start of a local (Riyadh) day as an aware instant."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _next_month(first: dt.date) -> dt.date:
    return dt.date(first.year + first.month // 12, first.month % 12 + 1, 1)


def _to_hijri(day: dt.date) -> Hijri:
    return Gregorian(day.year, day.month, day.day).to_hijri()


def _from_hijri(year: int, month: int) -> dt.date:
    gregorian = Hijri(year, month, 1).to_gregorian()
    return dt.date(gregorian.year, gregorian.month, gregorian.day)
