"""Business calendars from the database, as pure `WorkingCalendar`s.

`working_calendar_for_entity` finds the calendar that governs an entity: the one
set on the entity's own active care centre, else on the nearest active ancestor
centre that has one (calendars are inherited down the tree unless overridden),
else `DEFAULT_CALENDAR` (Sunday–Thursday 08:00–15:00 Asia/Riyadh, no holidays).
Built, it costs two queries (the centre with its calendar, then the holidays; one
when no centre has a calendar), ~3.5 ms that every submission paid, so both the
governing calendar of each entity and each built calendar (per calendar and year)
are kept in the process's reference memo (`tawasul.core.memo`): an edit of a
centre, calendar or holiday empties it.

Holidays become closed local dates for the Gregorian years around `around`
(default: now), **from one year before to five years after** its year in the
calendar's zone: business-time sums that reach beyond that window ignore holidays
there, so build the calendar around the instant you count from.

- Yearly Gregorian holidays start on month/day every year (29 February starts on
  1 March in common years) and last `length_days` days.
- Yearly Hijri holidays start on the Umm al-Qura month/day of every Hijri year
  overlapping those Gregorian years, converted with `hijridate`; a day the month
  does not have (the 30th of a 29-day month) is the day after its 29th. Years
  outside `hijridate`'s range (1343–1500 AH, 1924–2077) have no Hijri holidays.
- One-off closures cover `start_date` to `end_date`, both included.

An occurrence that straddles New Year counts in both years it touches.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable
from zoneinfo import ZoneInfo

from django.db.models import Q
from django.utils import timezone
from hijridate import Hijri

from tawasul.core.memo import memoised
from tawasul.directory.models import (
    BusinessCalendar,
    CareCentre,
    Entity,
    Holiday,
    HolidayKind,
)
from tawasul.sla.business_time import WorkingCalendar

__all__ = [
    "DEFAULT_CALENDAR",
    "YEARS_AFTER",
    "YEARS_BEFORE",
    "holiday_dates",
    "working_calendar_build",
    "working_calendar_for_entity",
]

SUNDAY_TO_THURSDAY = frozenset({7, 1, 2, 3, 4})
DEFAULT_CALENDAR = WorkingCalendar(
    tz=ZoneInfo("Asia/Riyadh"),
    weekdays=SUNDAY_TO_THURSDAY,
    shifts=((dt.time(8, 0), dt.time(15, 0)),),
    closed_days=frozenset(),
)
YEARS_BEFORE = 1
YEARS_AFTER = 5
ONE_DAY = dt.timedelta(days=1)
# The Hijri year is about 354.37 days: 33 Hijri years for every 32 Gregorian ones.
HIJRI_YEARS_PER_GREGORIAN_YEAR = 33 / 32
HIJRA_GREGORIAN_YEAR = 622


def working_calendar_for_entity(
    entity: Entity, *, around: dt.datetime | None = None
) -> WorkingCalendar:
    """The calendar that governs `entity`: its centre's, an ancestor centre's, or the default."""
    calendar = memoised(("governing-calendar", entity.pk), lambda: _governing_calendar(entity))
    if calendar is None:
        return DEFAULT_CALENDAR
    year = timezone.localtime(around or timezone.now(), ZoneInfo(calendar.timezone)).year
    return memoised(
        ("working-calendar", calendar.pk, year),
        lambda: working_calendar_build(calendar, around=around),
    )


def working_calendar_build(
    calendar: BusinessCalendar, *, around: dt.datetime | None = None
) -> WorkingCalendar:
    """`calendar` with its holidays expanded for the years around `around` (default now)."""
    tz = ZoneInfo(calendar.timezone)
    year = timezone.localtime(around or timezone.now(), tz).year
    years = range(year - YEARS_BEFORE, year + YEARS_AFTER + 1)
    closed: set[dt.date] = set()
    for holiday in calendar.holidays.all():
        closed |= holiday_dates(holiday, years)
    return WorkingCalendar(
        tz=tz,
        weekdays=frozenset(int(day) for day in calendar.working_days) or SUNDAY_TO_THURSDAY,
        shifts=_shifts(calendar),
        closed_days=frozenset(closed),
    )


def holiday_dates(holiday: Holiday, years: Iterable[int]) -> set[dt.date]:
    """Every date `holiday` closes that falls in one of the Gregorian `years`."""
    wanted = set(years)
    if not wanted:
        return set()
    if holiday.kind == HolidayKind.ONE_OFF:
        first, last = holiday.start_date, holiday.end_date
        if first is None or last is None:
            return set()
        first = max(first, dt.date(min(wanted), 1, 1))
        last = min(last, dt.date(max(wanted), 12, 31))
        return {day for day in _date_range(first, last) if day.year in wanted}
    if holiday.month is None or holiday.day is None:
        return set()
    starts = _yearly_starts(holiday.kind, holiday.month, holiday.day, min(wanted), max(wanted))
    length = max(holiday.length_days, 1)
    return {
        start + offset * ONE_DAY
        for start in starts
        for offset in range(length)
        if (start + offset * ONE_DAY).year in wanted
    }


# --- helpers ------------------------------------------------------------------------------


def _governing_calendar(entity: Entity) -> BusinessCalendar | None:
    """The calendar of the deepest active centre on the path root → `entity` that has one."""
    centre = (
        CareCentre.objects.filter(
            Q(entity=entity) | Q(entity__in=Entity.objects.get_ancestors(entity)),
            is_active=True,
            calendar__isnull=False,
        )
        .select_related("calendar")
        .order_by("-entity__depth")
        .first()
    )
    return centre.calendar if centre is not None else None


def _shifts(calendar: BusinessCalendar) -> tuple[tuple[dt.time, dt.time], ...]:
    shifts = [(calendar.opens_at, calendar.closes_at)]
    if calendar.second_opens_at is not None and calendar.second_closes_at is not None:
        shifts.append((calendar.second_opens_at, calendar.second_closes_at))
    return tuple(
        (opens.replace(second=0, microsecond=0), closes.replace(second=0, microsecond=0))
        for opens, closes in sorted(shifts)
    )


def _yearly_starts(kind: str, month: int, day: int, first: int, last: int) -> list[dt.date]:
    """First days of a yearly holiday's occurrences touching Gregorian years first..last."""
    if kind == HolidayKind.GREGORIAN:
        # The year before too: a long holiday starting in late December spills over.
        return [_gregorian_start(year, month, day) for year in range(first - 1, last + 1)]
    if kind == HolidayKind.HIJRI:
        lowest = int((first - 1 - HIJRA_GREGORIAN_YEAR) * HIJRI_YEARS_PER_GREGORIAN_YEAR)
        highest = int((last - HIJRA_GREGORIAN_YEAR) * HIJRI_YEARS_PER_GREGORIAN_YEAR) + 2
        starts = (_hijri_start(year, month, day) for year in range(lowest, highest + 1))
        return [start for start in starts if start is not None]
    return []


def _gregorian_start(year: int, month: int, day: int) -> dt.date:
    """month/day of `year`; a day the month lacks (29 February) rolls over to the next."""
    return dt.date(year, month, 1) + (day - 1) * ONE_DAY


@functools.lru_cache(maxsize=4096)
def _hijri_start(year: int, month: int, day: int) -> dt.date | None:
    """The Gregorian date of Hijri year/month/day, or None outside hijridate's range.

    Counted from the first of the month, so the 30th of a 29-day month is the 1st of
    the next one.
    """
    try:
        first = Hijri(year, month, 1).to_gregorian()
    except (OverflowError, ValueError):
        return None
    return dt.date(first.year, first.month, first.day) + (day - 1) * ONE_DAY


def _date_range(first: dt.date, last: dt.date) -> Iterable[dt.date]:
    return (first + offset * ONE_DAY for offset in range((last - first).days + 1))
