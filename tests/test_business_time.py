"""Business-time arithmetic: laws under random calendars, and worked examples by hand.

No database: `tawasul.sla.business_time` is pure. The worked examples use a Riyadh
centre open Sunday–Thursday 08:00–15:00 with the 1448 AH / 2027 holidays written out
as dates (and checked against hijridate once, below).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hijridate import Hijri
from hypothesis import given, settings
from hypothesis import strategies as st

from tawasul.sla.business_time import (
    WorkingCalendar,
    business_minutes_add,
    business_minutes_between,
    is_open,
    next_opening,
)

RIYADH = ZoneInfo("Asia/Riyadh")
LONDON = ZoneInfo("Europe/London")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")  # half-hour daylight saving at 02:00
UTC = dt.UTC


def instant(moment: dt.datetime) -> dt.datetime:
    """The moment in UTC. Python compares two datetimes of the same zone by their wall
    clock, ignoring `fold`: across a DST fall-back, 01:00 (second time) < 01:29 (first)."""
    return moment.astimezone(UTC)


SUN_TO_THU = frozenset({7, 1, 2, 3, 4})
MON_TO_FRI = frozenset({1, 2, 3, 4, 5})
DAY_SHIFT = ((dt.time(8), dt.time(15)),)
FIVE_WORKING_DAYS = 5 * 7 * 60

EID_AL_FITR_1448 = [dt.date(2027, 3, 9) + dt.timedelta(days=i) for i in range(4)]  # 1–4 Shawwal
NATIONAL_DAY_2027 = dt.date(2027, 9, 23)  # a Thursday
FOUNDING_DAY_2027 = dt.date(2027, 2, 22)  # a Monday
HIJRI_NEW_YEAR_1449 = dt.date(2027, 6, 6)  # 1 Muharram 1449, a Sunday

SAUDI = WorkingCalendar(
    tz=RIYADH,
    weekdays=SUN_TO_THU,
    shifts=DAY_SHIFT,
    closed_days=frozenset([*EID_AL_FITR_1448, NATIONAL_DAY_2027, FOUNDING_DAY_2027]),
)
SPLIT = WorkingCalendar(
    tz=RIYADH,
    weekdays=SUN_TO_THU,
    shifts=((dt.time(8), dt.time(12)), (dt.time(16), dt.time(20))),
    closed_days=frozenset(),
)


def riyadh(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=RIYADH)  # type: ignore[misc]


def london(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=LONDON)  # type: ignore[misc]


# --- strategies ---------------------------------------------------------------------------

ZONES = [RIYADH, LONDON, LORD_HOWE, ZoneInfo("UTC")]
FIRST_DAY, LAST_DAY = dt.date(2027, 1, 1), dt.date(2027, 12, 31)


def _minute(value: int) -> dt.time:
    return dt.time(value // 60, value % 60)


# Any non-empty set of ISO weekdays, as a 7-bit mask (draws a set without retries).
weekday_sets = st.integers(1, 127).map(
    lambda mask: frozenset(day for day in range(1, 8) if mask >> (day - 1) & 1)
)


@st.composite
def calendars(draw: st.DrawFn, zones: list[ZoneInfo] = ZONES) -> WorkingCalendar:
    """Any weekdays, one or two shifts, up to 40 closed days around 2027, in any zone."""
    count = draw(st.sampled_from([2, 4]))
    points = sorted(
        draw(st.lists(st.integers(0, 1439), min_size=count, max_size=count, unique=True))
    )
    shifts = tuple((_minute(points[i]), _minute(points[i + 1])) for i in range(0, count, 2))
    closed = draw(
        st.frozensets(
            st.dates(FIRST_DAY - dt.timedelta(days=31), LAST_DAY + dt.timedelta(days=31)),
            max_size=40,
        )
    )
    return WorkingCalendar(
        tz=draw(st.sampled_from(zones)),
        weekdays=draw(weekday_sets),
        shifts=shifts,
        closed_days=closed,
    )


@st.composite
def instants(draw: st.DrawFn, calendar: WorkingCalendar) -> dt.datetime:
    """Any instant in 2027 in any zone, or one a second or a minute around a shift boundary."""
    if draw(st.booleans()):
        return draw(
            st.datetimes(
                dt.datetime.combine(FIRST_DAY, dt.time()),
                dt.datetime.combine(LAST_DAY, dt.time()),
                timezones=st.sampled_from(ZONES),
            )
        )
    day = draw(st.dates(FIRST_DAY, LAST_DAY))
    boundary = draw(st.sampled_from([time for shift in calendar.shifts for time in shift]))
    nudge = draw(st.sampled_from([-60, -1, 0, 0, 1, 60]))
    local = dt.datetime.combine(day, boundary, tzinfo=calendar.tz)
    return (local + dt.timedelta(seconds=nudge)).astimezone(draw(st.sampled_from(ZONES)))


minutes = st.integers(0, 3000)


@st.composite
def calendar_and_instant(draw: st.DrawFn) -> tuple[WorkingCalendar, dt.datetime]:
    calendar = draw(calendars())
    return calendar, draw(instants(calendar))


@st.composite
def calendar_and_two_instants(
    draw: st.DrawFn,
) -> tuple[WorkingCalendar, dt.datetime, dt.datetime]:
    calendar = draw(calendars())
    return calendar, draw(instants(calendar)), draw(instants(calendar))


# --- laws -----------------------------------------------------------------------------------


@settings(max_examples=400, deadline=None)
@given(calendar_and_instant(), minutes, minutes)
def test_adding_in_two_steps_is_adding_the_sum(case, first, second):
    calendar, start = case

    once = business_minutes_add(calendar, start, first + second)
    twice = business_minutes_add(calendar, business_minutes_add(calendar, start, first), second)

    assert once == twice


@settings(max_examples=400, deadline=None)
@given(calendar_and_instant(), minutes)
def test_the_minutes_between_a_start_and_its_sum_are_the_minutes_added(case, count):
    calendar, start = case

    end = business_minutes_add(calendar, start, count)

    assert business_minutes_between(calendar, start, end) == count


@settings(max_examples=400, deadline=None)
@given(calendar_and_instant(), minutes)
def test_a_sum_is_open_time_not_before_its_start_in_the_start_zone(case, count):
    calendar, start = case

    end = business_minutes_add(calendar, start, count)

    assert instant(end) >= instant(start)
    assert is_open(calendar, end)
    assert end.tzinfo is start.tzinfo


@settings(max_examples=300, deadline=None)
@given(calendar_and_two_instants(), minutes)
def test_adding_is_monotonic_in_the_start(case, count):
    calendar, one, other = case
    early, late = sorted([one, other], key=instant)

    assert instant(business_minutes_add(calendar, early, count)) <= instant(
        business_minutes_add(calendar, late, count)
    )


@settings(max_examples=300, deadline=None)
@given(calendar_and_instant(), minutes, minutes)
def test_adding_more_minutes_lands_strictly_later(case, one, other):
    calendar, start = case
    fewer, more = sorted([one, other])

    if fewer < more:
        assert instant(business_minutes_add(calendar, start, fewer)) < instant(
            business_minutes_add(calendar, start, more)
        )
    else:
        assert business_minutes_add(calendar, start, fewer) == business_minutes_add(
            calendar, start, more
        )


@settings(max_examples=300, deadline=None)
@given(calendar_and_two_instants(), st.data())
def test_between_is_additive_and_zero_backwards(case, data):
    calendar, one, other = case
    first, last = sorted([one, other], key=instant)
    # In UTC: aware arithmetic in a zone with daylight saving works on the wall clock.
    fraction = data.draw(st.floats(0, 1), label="fraction")
    span = instant(last) - instant(first)
    middle = min(max(instant(first), instant(first) + span * fraction), instant(last))

    whole = business_minutes_between(calendar, first, last)

    assert whole == business_minutes_between(calendar, first, middle) + business_minutes_between(
        calendar, middle, last
    )
    assert business_minutes_between(calendar, last, first) == 0 or first == last
    assert business_minutes_between(calendar, first, first) == 0


@settings(max_examples=300, deadline=None)
@given(calendar_and_instant())
def test_the_next_opening_is_open_and_no_business_time_away(case):
    calendar, at = case

    opening = next_opening(calendar, at)

    assert instant(opening) >= instant(at)
    assert is_open(calendar, opening)
    assert business_minutes_between(calendar, at, opening) == 0
    assert opening == business_minutes_add(calendar, at, 0)


def _open_by_the_wall_clock(calendar: WorkingCalendar, instant: dt.datetime) -> bool:
    """The obvious definition, right wherever clocks never change (fixed-offset zones)."""
    local = instant.astimezone(calendar.tz)
    return (
        local.isoweekday() in calendar.weekdays
        and local.date() not in calendar.closed_days
        and any(opens <= local.time() < closes for opens, closes in calendar.shifts)
    )


@settings(max_examples=300, deadline=None)
@given(
    calendars(zones=[RIYADH, ZoneInfo("UTC")]),
    st.datetimes(
        dt.datetime(2027, 1, 1),  # noqa: DTZ001 (hypothesis bounds are naive; values are UTC)
        dt.datetime(2027, 12, 28),  # noqa: DTZ001
        timezones=st.just(UTC),
    ),
    st.integers(0, 2 * 24 * 3600),
)
def test_between_counts_the_open_minutes_a_minute_by_minute_scan_finds(calendar, start, seconds):
    end = start + dt.timedelta(seconds=seconds)
    minute = start.replace(second=0, microsecond=0)
    if minute < start:
        minute += dt.timedelta(minutes=1)
    scanned = 0
    while minute < end:
        scanned += _open_by_the_wall_clock(calendar, minute)
        minute += dt.timedelta(minutes=1)

    assert business_minutes_between(calendar, start, end) == scanned
    assert is_open(calendar, start) == _open_by_the_wall_clock(calendar, start)


# --- worked examples: Riyadh, Sunday–Thursday 08:00–15:00 -----------------------------------


def test_the_2027_holidays_written_here_are_umm_al_qura_dates():
    assert Hijri(1448, 10, 1).to_gregorian() == EID_AL_FITR_1448[0]
    assert Hijri(1449, 1, 1).to_gregorian() == HIJRI_NEW_YEAR_1449
    assert Hijri(1448, 12, 30).to_gregorian() == dt.date(2027, 6, 5)


@pytest.mark.parametrize(
    ("start", "count", "expected"),
    [
        # Thursday 14:30 + 60: 30 minutes on Thursday, 30 on Sunday.
        (riyadh(2027, 3, 4, 14, 30), 60, riyadh(2027, 3, 7, 8, 30)),
        # Exactly the rest of Thursday: the deadline is the next opening, not 15:00.
        (riyadh(2027, 3, 4, 14, 30), 30, riyadh(2027, 3, 7, 8, 0)),
        (riyadh(2027, 3, 4, 14, 30), 29, riyadh(2027, 3, 4, 14, 59)),
        # Friday and Saturday are closed: the clock starts on Sunday.
        (riyadh(2027, 3, 5, 10, 0), 0, riyadh(2027, 3, 7, 8, 0)),
        (riyadh(2027, 3, 6, 23, 59, 59), 1, riyadh(2027, 3, 7, 8, 1)),
        # Seconds round up to the next whole minute of open time.
        (riyadh(2027, 3, 7, 9, 0, 30), 10, riyadh(2027, 3, 7, 9, 11)),
        (riyadh(2027, 3, 7, 14, 59, 1), 0, riyadh(2027, 3, 8, 8, 0)),
        # Five working days from Monday 09:00, the eve of Eid al-Fitr 1448 (Tue–Fri closed):
        # Monday 360, Sunday–Wednesday 4 × 420, Thursday 60.
        (riyadh(2027, 3, 8, 9, 0), FIVE_WORKING_DAYS, riyadh(2027, 3, 18, 9, 0)),
        # The same from the Monday after: no holiday, five days later to the minute.
        (riyadh(2027, 3, 15, 9, 0), FIVE_WORKING_DAYS, riyadh(2027, 3, 22, 9, 0)),
        # Inside Eid: the clock starts at the next opening (Sunday 14 March).
        (riyadh(2027, 3, 10, 10, 0), 60, riyadh(2027, 3, 14, 9, 0)),
        # National Day is Thursday 23 September: Wednesday 14:00 + 120 → Sunday 09:00.
        (riyadh(2027, 9, 22, 14, 0), 120, riyadh(2027, 9, 26, 9, 0)),
        # Founding Day, Monday 22 February: Sunday 14:00 + 120 → Tuesday 09:00.
        (riyadh(2027, 2, 21, 14, 0), 120, riyadh(2027, 2, 23, 9, 0)),
    ],
)
def test_adding_business_minutes_in_riyadh(start, count, expected):
    result = business_minutes_add(SAUDI, start, count)

    assert result == expected
    assert result.tzinfo is RIYADH
    assert business_minutes_between(SAUDI, start, result) == count


def test_five_working_days_across_the_hijri_new_year_closure():
    # Given a centre closed on 1 and 2 Muharram 1449 (Sunday 6 and Monday 7 June 2027)
    calendar = WorkingCalendar(
        tz=RIYADH,
        weekdays=SUN_TO_THU,
        shifts=DAY_SHIFT,
        closed_days=frozenset({HIJRI_NEW_YEAR_1449, HIJRI_NEW_YEAR_1449 + dt.timedelta(days=1)}),
    )
    # When five working days are added on Thursday 27 Dhu al-Hijjah 1448 at 09:00
    due = business_minutes_add(calendar, riyadh(2027, 6, 3, 9, 0), FIVE_WORKING_DAYS)

    # Then Thursday 360 + Tuesday–Thursday 3 × 420 + Sunday 420 leave 60 for Monday 14 June
    assert due == riyadh(2027, 6, 14, 9, 0)


def test_results_come_back_in_the_zone_of_the_start():
    start = riyadh(2027, 3, 4, 14, 30).astimezone(UTC)

    result = business_minutes_add(SAUDI, start, 60)

    assert result.tzinfo is UTC
    assert result == dt.datetime(2027, 3, 7, 5, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (riyadh(2027, 3, 5, 10, 0), riyadh(2027, 3, 6, 20, 0), 0),  # Friday → Saturday
        (riyadh(2027, 3, 4, 14, 0), riyadh(2027, 3, 7, 9, 0), 120),  # over a weekend
        (riyadh(2027, 3, 8, 9, 0), riyadh(2027, 3, 14, 9, 0), 420),  # over Eid al-Fitr
        (riyadh(2027, 3, 7, 8, 0, 30), riyadh(2027, 3, 7, 8, 5), 4),  # 08:01 … 08:04
        (riyadh(2027, 3, 7, 8, 0), riyadh(2027, 3, 7, 8, 0, 30), 1),  # 08:00 has started
        (riyadh(2027, 3, 7, 9, 0), riyadh(2027, 3, 7, 8, 0), 0),  # backwards
    ],
)
def test_business_minutes_between_in_riyadh(start, end, expected):
    assert business_minutes_between(SAUDI, start, end) == expected


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        # Wednesday at closing, the eve of National Day (Thursday): Sunday morning.
        (riyadh(2027, 9, 22, 15, 0), riyadh(2027, 9, 26, 8, 0)),
        # Monday evening, the eve of Eid al-Fitr: the Sunday after Eid.
        (riyadh(2027, 3, 8, 15, 30), riyadh(2027, 3, 14, 8, 0)),
        # Open already: the instant itself.
        (riyadh(2027, 9, 22, 14, 59), riyadh(2027, 9, 22, 14, 59)),
        # Before opening on a working day.
        (riyadh(2027, 9, 22, 6, 0), riyadh(2027, 9, 22, 8, 0)),
    ],
)
def test_next_opening(at, expected):
    assert next_opening(SAUDI, at) == expected


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (riyadh(2027, 3, 7, 8, 0), True),
        (riyadh(2027, 3, 7, 14, 59, 59), True),
        (riyadh(2027, 3, 7, 15, 0), False),
        (riyadh(2027, 3, 7, 7, 59, 59), False),
        (riyadh(2027, 3, 5, 10, 0), False),  # Friday
        (riyadh(2027, 3, 10, 10, 0), False),  # Eid al-Fitr
    ],
)
def test_is_open(at, expected):
    assert is_open(SAUDI, at) is expected


# --- a split shift: 08:00–12:00 and 16:00–20:00 ---------------------------------------------


@pytest.mark.parametrize(
    ("start", "count", "expected"),
    [
        (riyadh(2027, 1, 3, 11, 30), 60, riyadh(2027, 1, 3, 16, 30)),
        (riyadh(2027, 1, 3, 11, 0), 60, riyadh(2027, 1, 3, 16, 0)),  # the next opening
        (riyadh(2027, 1, 3, 13, 0), 0, riyadh(2027, 1, 3, 16, 0)),  # in the break
        (riyadh(2027, 1, 3, 19, 0), 120, riyadh(2027, 1, 4, 9, 0)),  # evening → next morning
        (riyadh(2027, 1, 7, 19, 0), 8 * 60, riyadh(2027, 1, 10, 19, 0)),  # Thursday → Sunday
    ],
)
def test_adding_across_a_split_shift(start, count, expected):
    assert business_minutes_add(SPLIT, start, count) == expected


def test_the_break_of_a_split_shift_does_not_count():
    assert (
        business_minutes_between(SPLIT, riyadh(2027, 1, 3, 11, 0), riyadh(2027, 1, 3, 17, 0)) == 120
    )
    assert not is_open(SPLIT, riyadh(2027, 1, 3, 13, 0))


# --- daylight saving: Europe/London (clocks go forward 28 March, back 31 October 2027) ----------


def test_office_hours_keep_the_wall_clock_across_a_daylight_saving_change():
    # Given a London office open Monday–Friday 09:00–17:00
    office = WorkingCalendar(
        tz=LONDON, weekdays=MON_TO_FRI, shifts=((dt.time(9), dt.time(17)),), closed_days=frozenset()
    )
    # When two hours are added on Friday 26 March at 16:00 (GMT)
    due = business_minutes_add(office, london(2027, 3, 26, 16, 0), 120)

    # Then the deadline is Monday 10:00 on the clock, now BST (09:00 UTC)
    assert due == london(2027, 3, 29, 10, 0)
    assert due.utcoffset() == dt.timedelta(hours=1)
    assert business_minutes_between(office, london(2027, 3, 26, 16, 0), due) == 120


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (dt.date(2027, 3, 27), 150),  # an ordinary day
        (dt.date(2027, 3, 28), 90),  # 01:00 GMT jumps to 02:00 BST: one hour fewer
        (dt.date(2027, 10, 31), 210),  # 02:00 BST falls back to 01:00 GMT: one hour more
    ],
)
def test_a_night_shift_that_spans_a_daylight_saving_change(day, expected):
    night = WorkingCalendar(
        tz=LONDON,
        weekdays=frozenset(range(1, 8)),
        shifts=((dt.time(0, 30), dt.time(3, 0)),),
        closed_days=frozenset(),
    )
    start = dt.datetime.combine(day, dt.time(0, 0), tzinfo=LONDON)
    end = dt.datetime.combine(day, dt.time(12, 0), tzinfo=LONDON)

    assert business_minutes_between(night, start, end) == expected


def test_a_shift_boundary_in_the_spring_gap_is_the_moment_the_clocks_change():
    # Given a shift 01:30–03:00: on 28 March 2027 the clocks never show 01:30
    night = WorkingCalendar(
        tz=LONDON,
        weekdays=frozenset(range(1, 8)),
        shifts=((dt.time(1, 30), dt.time(3, 0)),),
        closed_days=frozenset(),
    )
    # Then the centre opens when the clocks jump (01:00 UTC, shown as 02:00 BST)
    opening = next_opening(night, london(2027, 3, 28, 0, 0))

    assert opening == dt.datetime(2027, 3, 28, 1, 0, tzinfo=UTC)
    assert business_minutes_add(night, opening, 60) == london(2027, 3, 29, 1, 30)


# --- refusals -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("weekdays", "shifts"),
    [
        (frozenset(), DAY_SHIFT),  # no working day
        (SUN_TO_THU, ()),  # no shift
        (frozenset({0, 1}), DAY_SHIFT),  # not an ISO weekday
        (SUN_TO_THU, ((dt.time(15), dt.time(8)),)),  # closes before it opens
        (SUN_TO_THU, ((dt.time(8), dt.time(12)), (dt.time(11), dt.time(16)))),  # overlap
        (SUN_TO_THU, ((dt.time(16), dt.time(20)), (dt.time(8), dt.time(12)))),  # not sorted
        (SUN_TO_THU, ((dt.time(8, 0, 30), dt.time(15)),)),  # not a whole minute
    ],
)
def test_a_calendar_without_sensible_open_time_is_refused(weekdays, shifts):
    with pytest.raises(ValueError, match=r"(?i)working|shift|weekday"):
        WorkingCalendar(tz=RIYADH, weekdays=weekdays, shifts=shifts, closed_days=frozenset())


def test_naive_datetimes_and_negative_minutes_are_refused():
    with pytest.raises(ValueError, match="aware"):
        business_minutes_add(SAUDI, dt.datetime(2027, 3, 7, 9, 0), 10)  # noqa: DTZ001
    with pytest.raises(ValueError, match="aware"):
        business_minutes_between(SAUDI, riyadh(2027, 3, 7, 9, 0), dt.datetime(2027, 3, 8))  # noqa: DTZ001
    with pytest.raises(ValueError, match=">= 0"):
        business_minutes_add(SAUDI, riyadh(2027, 3, 7, 9, 0), -1)


def test_a_long_closure_is_walked_over_not_looped_on():
    # Given a centre closed for the whole of 2027
    closed = WorkingCalendar(
        tz=RIYADH,
        weekdays=SUN_TO_THU,
        shifts=DAY_SHIFT,
        closed_days=frozenset(dt.date(2027, 1, 1) + dt.timedelta(days=i) for i in range(365)),
    )
    # Then the first open minute is the first working day of 2028 (Sunday 2 January)
    assert next_opening(closed, riyadh(2027, 1, 1, 9, 0)) == riyadh(2028, 1, 2, 8, 0)
    assert business_minutes_between(closed, riyadh(2027, 1, 1), riyadh(2028, 1, 3)) == 420
