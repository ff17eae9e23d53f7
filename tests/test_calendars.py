"""Business calendars from the database: inheritance down the tree, holidays, validation.

The ministry persona: moe (central centre) → general-education (no centre) → riyadh
(centre) → riyadh-north (no centre); makkah (centre); ksu (centre). No centre has a
calendar until a test gives it one.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from hijridate import Hijri

from tawasul.directory.models import BusinessCalendar, CareCentre, Holiday, HolidayKind
from tawasul.directory.services import HolidaySpec, business_calendar_create
from tawasul.sla.business_time import business_minutes_add
from tawasul.sla.calendars import DEFAULT_CALENDAR, holiday_dates, working_calendar_for_entity

RIYADH = ZoneInfo("Asia/Riyadh")
SAUDI_HOLIDAYS = [
    HolidaySpec("يوم التأسيس", "Founding Day", HolidayKind.GREGORIAN, 2, 22),
    HolidaySpec("اليوم الوطني", "National Day", HolidayKind.GREGORIAN, 9, 23),
    HolidaySpec("إجازة عيد الفطر", "Eid al-Fitr holiday", HolidayKind.HIJRI, 10, 1, 4),
    HolidaySpec("إجازة عيد الأضحى", "Eid al-Adha holiday", HolidayKind.HIJRI, 12, 9, 4),
]
AROUND_2027 = dt.datetime(2027, 1, 15, 9, 0, tzinfo=RIYADH)


def _calendar(name: str, **changes: object) -> BusinessCalendar:
    calendar = business_calendar_create(
        name=name,
        working_days=[7, 1, 2, 3, 4],
        opens_at=dt.time(8, 0),
        closes_at=dt.time(15, 0),
        holidays=SAUDI_HOLIDAYS,
    )
    for field, value in changes.items():
        setattr(calendar, field, value)
    if changes:
        calendar.save(update_fields=list(changes))
    return calendar


def _give(centre_entity, calendar: BusinessCalendar, **changes: object) -> None:
    """Set a centre's calendar (there is no service for it yet: configuration via the admin)."""
    centre = CareCentre.objects.get(entity=centre_entity)
    centre.calendar = calendar
    for field, value in changes.items():
        setattr(centre, field, value)
    centre.save(update_fields=["calendar", *changes])


def _holiday(kind: str, **fields: object) -> Holiday:
    """An unsaved holiday: `holiday_dates` and `clean()` need no database row."""
    return Holiday(name_ar="عطلة", name_en="Holiday", kind=kind, **fields)


def _hijri_dates(month: int, day: int, length: int, years: range) -> set[dt.date]:
    """The oracle: hijridate's own conversion, day by day."""
    return {
        Hijri(year, month, day).to_gregorian() + dt.timedelta(days=offset)
        for year in years
        for offset in range(length)
    }


# --- which calendar governs an entity -------------------------------------------------------


def test_without_any_calendar_the_default_saudi_week_applies(ministry, django_assert_num_queries):
    with django_assert_num_queries(1):
        calendar = working_calendar_for_entity(ministry.riyadh_office)

    assert calendar == DEFAULT_CALENDAR
    assert calendar.weekdays == frozenset({7, 1, 2, 3, 4})
    assert calendar.shifts == ((dt.time(8), dt.time(15)),)
    assert calendar.tz == RIYADH


def test_an_office_inherits_the_central_calendar_through_its_department(
    ministry, django_assert_num_queries
):
    # Given only the ministry's central centre has a calendar (with the Saudi holidays)
    _give(ministry.ministry, _calendar("Central"))

    # When the calendar of an office without a centre, under a centre without a calendar, is built
    with django_assert_num_queries(2):
        calendar = working_calendar_for_entity(ministry.riyadh_office, around=AROUND_2027)

    # Then it is the central one, holidays expanded
    assert calendar.weekdays == frozenset({7, 1, 2, 3, 4})
    assert dt.date(2027, 9, 23) in calendar.closed_days
    assert dt.date(2027, 3, 9) in calendar.closed_days  # 1 Shawwal 1448
    assert working_calendar_for_entity(ministry.ministry, around=AROUND_2027) == calendar
    assert working_calendar_for_entity(ministry.university, around=AROUND_2027) == calendar


def test_a_centre_with_its_own_calendar_overrides_for_its_subtree(ministry):
    # Given a central calendar, and Riyadh's own split-shift calendar without holidays
    _give(ministry.ministry, _calendar("Central"))
    riyadh = BusinessCalendar.objects.create(
        name="Riyadh",
        working_days=[7, 1, 2, 3, 4, 6],
        opens_at=dt.time(8, 0),
        closes_at=dt.time(12, 0),
        second_opens_at=dt.time(16, 0),
        second_closes_at=dt.time(20, 0),
    )
    _give(ministry.riyadh, riyadh)

    # Then Riyadh and its office follow Riyadh's calendar; Makkah keeps the central one
    for entity in (ministry.riyadh, ministry.riyadh_office):
        calendar = working_calendar_for_entity(entity, around=AROUND_2027)
        assert calendar.weekdays == frozenset({7, 1, 2, 3, 4, 6})
        assert calendar.shifts == ((dt.time(8), dt.time(12)), (dt.time(16), dt.time(20)))
        assert calendar.closed_days == frozenset()
    makkah = working_calendar_for_entity(ministry.makkah, around=AROUND_2027)
    assert makkah.shifts == ((dt.time(8), dt.time(15)),)
    assert dt.date(2027, 9, 23) in makkah.closed_days


def test_an_inactive_centre_does_not_lend_its_calendar(ministry):
    _give(ministry.ministry, _calendar("Central"))
    _give(ministry.riyadh, _calendar("Riyadh", closes_at=dt.time(14, 0)), is_active=False)

    calendar = working_calendar_for_entity(ministry.riyadh_office, around=AROUND_2027)

    assert calendar.shifts == ((dt.time(8), dt.time(15)),)


def test_holidays_cover_one_year_before_to_five_years_after(ministry):
    _give(ministry.ministry, _calendar("Central"))

    calendar = working_calendar_for_entity(ministry.riyadh, around=AROUND_2027)

    national_days = {day.year for day in calendar.closed_days if (day.month, day.day) == (9, 23)}
    assert national_days == set(range(2026, 2033))


def test_five_working_days_across_eid_al_fitr_1448_with_the_stored_calendar(ministry):
    # Given the central calendar with Eid al-Fitr 1–4 Shawwal (Tuesday 9 – Friday 12 March 2027)
    _give(ministry.ministry, _calendar("Central"))
    calendar = working_calendar_for_entity(ministry.riyadh, around=AROUND_2027)

    # When five working days are added on the eve of Eid at 09:00
    due = business_minutes_add(calendar, dt.datetime(2027, 3, 8, 9, 0, tzinfo=RIYADH), 5 * 420)

    # Then Eid is skipped: Thursday 18 March at 09:00
    assert due == dt.datetime(2027, 3, 18, 9, 0, tzinfo=RIYADH)


# --- expanding holidays -------------------------------------------------------------------


@pytest.mark.parametrize(("month", "day", "length"), [(10, 1, 4), (12, 9, 4), (9, 1, 1)])
def test_hijri_holidays_of_1447_to_1449_match_hijridate(month, day, length):
    holiday = _holiday(HolidayKind.HIJRI, month=month, day=day, length_days=length)

    # 1447–1449 AH fall within 2025-07-26 … 2028-06-13; their Ramadan, Shawwal and
    # Dhu al-Hijjah within 2026–2028.
    dates = holiday_dates(holiday, range(2026, 2029))

    assert dates == _hijri_dates(month, day, length, range(1447, 1450))


def test_a_hijri_holiday_over_the_new_year_spans_two_hijri_years():
    # Given a closure from 29 Dhu al-Hijjah for three days
    holiday = _holiday(HolidayKind.HIJRI, month=12, day=29, length_days=3)

    dates = holiday_dates(holiday, [2027])

    # Then in 2027 it is 29 and 30 Dhu al-Hijjah 1448 and 1 Muharram 1449
    assert dates == {dt.date(2027, 6, 4), dt.date(2027, 6, 5), dt.date(2027, 6, 6)}
    assert Hijri(1449, 1, 1).to_gregorian() == dt.date(2027, 6, 6)


def test_the_30th_of_a_29_day_hijri_month_is_the_day_after_the_29th():
    # Muharram has 30 days in 1447 but 29 in 1448 and 1449
    holiday = _holiday(HolidayKind.HIJRI, month=1, day=30, length_days=1)

    dates = holiday_dates(holiday, range(2025, 2028))

    assert dates == {
        Hijri(1447, 1, 30).to_gregorian(),
        Hijri(1448, 2, 1).to_gregorian(),
        Hijri(1449, 2, 1).to_gregorian(),
    }


def test_hijri_holidays_outside_hijridate_years_are_left_out_quietly():
    holiday = _holiday(HolidayKind.HIJRI, month=10, day=1, length_days=4)

    assert holiday_dates(holiday, [2090]) == set()
    assert holiday_dates(holiday, [1920, 1925]) == _hijri_dates(10, 1, 4, range(1343, 1344))


def test_gregorian_holidays_repeat_every_year_and_spill_over_new_year():
    founding_day = _holiday(HolidayKind.GREGORIAN, month=2, day=22, length_days=1)
    new_year = _holiday(HolidayKind.GREGORIAN, month=12, day=31, length_days=3)
    leap_day = _holiday(HolidayKind.GREGORIAN, month=2, day=29, length_days=1)

    assert holiday_dates(founding_day, [2027, 2028]) == {dt.date(2027, 2, 22), dt.date(2028, 2, 22)}
    assert holiday_dates(new_year, [2027]) == {
        dt.date(2027, 1, 1),
        dt.date(2027, 1, 2),
        dt.date(2027, 12, 31),
    }
    assert holiday_dates(leap_day, [2027, 2028]) == {dt.date(2027, 3, 1), dt.date(2028, 2, 29)}


def test_a_one_off_closure_covers_its_dates_within_the_years_asked():
    closure = _holiday(
        HolidayKind.ONE_OFF, start_date=dt.date(2027, 12, 30), end_date=dt.date(2028, 1, 2)
    )

    assert holiday_dates(closure, [2027]) == {dt.date(2027, 12, 30), dt.date(2027, 12, 31)}
    assert len(holiday_dates(closure, [2027, 2028])) == 4
    assert holiday_dates(closure, [2030]) == set()


# --- validation -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "field_in_error"),
    [
        ({"kind": HolidayKind.GREGORIAN, "month": 13, "day": 1}, "month"),
        ({"kind": HolidayKind.GREGORIAN, "month": 2, "day": 30}, "day"),
        ({"kind": HolidayKind.GREGORIAN, "month": 4, "day": 31}, "day"),
        ({"kind": HolidayKind.GREGORIAN, "month": None, "day": 1}, "month"),
        ({"kind": HolidayKind.HIJRI, "month": 0, "day": 1}, "month"),
        ({"kind": HolidayKind.HIJRI, "month": 9, "day": 31}, "day"),
        ({"kind": HolidayKind.HIJRI, "month": 9, "day": None}, "day"),
        ({"kind": HolidayKind.HIJRI, "month": 10, "day": 1, "length_days": 0}, "length_days"),
        ({"kind": HolidayKind.HIJRI, "month": 10, "day": 1, "length_days": 31}, "length_days"),
        (
            {"kind": HolidayKind.HIJRI, "month": 10, "day": 1, "start_date": dt.date(2027, 1, 1)},
            "start_date",
        ),
        ({"kind": HolidayKind.ONE_OFF, "end_date": dt.date(2027, 1, 1)}, "start_date"),
        ({"kind": HolidayKind.ONE_OFF, "start_date": dt.date(2027, 1, 1)}, "end_date"),
        (
            {
                "kind": HolidayKind.ONE_OFF,
                "start_date": dt.date(2027, 1, 2),
                "end_date": dt.date(2027, 1, 1),
            },
            "end_date",
        ),
        (
            {
                "kind": HolidayKind.ONE_OFF,
                "month": 1,
                "start_date": dt.date(2027, 1, 1),
                "end_date": dt.date(2027, 1, 1),
            },
            "month",
        ),
    ],
)
def test_an_invalid_holiday_is_refused_on_the_right_field(fields, field_in_error):
    holiday = _holiday(**fields)

    with pytest.raises(ValidationError) as error:
        holiday.clean()

    assert field_in_error in error.value.message_dict


@pytest.mark.parametrize(
    "fields",
    [
        {"kind": HolidayKind.GREGORIAN, "month": 2, "day": 29},
        {"kind": HolidayKind.HIJRI, "month": 12, "day": 30, "length_days": 30},
        {
            "kind": HolidayKind.ONE_OFF,
            "start_date": dt.date(2027, 1, 1),
            "end_date": dt.date(2027, 1, 1),
        },
    ],
)
def test_a_valid_holiday_passes(fields):
    _holiday(**fields).clean()


@pytest.mark.parametrize(
    ("fields", "field_in_error"),
    [
        ({"working_days": []}, "working_days"),
        ({"working_days": [0, 1]}, "working_days"),
        ({"working_days": [7, 8]}, "working_days"),
        ({"working_days": ["7"]}, "working_days"),
        ({"working_days": [7, 7, 1]}, "working_days"),
        ({"timezone": "Asia/Nowhere"}, "timezone"),
        ({"opens_at": dt.time(15), "closes_at": dt.time(8)}, "closes_at"),
        ({"opens_at": dt.time(8, 0, 30)}, "opens_at"),
        ({"second_opens_at": dt.time(16)}, "second_closes_at"),
        ({"second_closes_at": dt.time(20)}, "second_opens_at"),
        ({"second_opens_at": dt.time(14), "second_closes_at": dt.time(20)}, "second_opens_at"),
        ({"second_opens_at": dt.time(20), "second_closes_at": dt.time(16)}, "second_closes_at"),
    ],
)
def test_an_invalid_calendar_is_refused_on_the_right_field(fields, field_in_error):
    calendar = BusinessCalendar(name="Centre", working_days=[7, 1, 2, 3, 4])
    for field, value in fields.items():
        setattr(calendar, field, value)

    with pytest.raises(ValidationError) as error:
        calendar.clean()

    assert field_in_error in error.value.message_dict


def test_a_split_shift_calendar_passes():
    BusinessCalendar(
        name="Split",
        working_days=[7, 1, 2, 3, 4],
        opens_at=dt.time(8),
        closes_at=dt.time(12),
        second_opens_at=dt.time(12),
        second_closes_at=dt.time(20),
    ).clean()


# --- the admin ----------------------------------------------------------------------------


@pytest.fixture
def superuser(django_user_model):
    return django_user_model.objects.create_superuser(username="root", password="pass-Word-1234")


def _calendar_form(**changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "name": "Jeddah",
        "timezone": "Asia/Riyadh",
        "working_days": ["7", "1", "2", "3", "4"],
        "opens_at": "08:00",
        "closes_at": "12:00",
        "second_opens_at": "16:00",
        "second_closes_at": "20:00",
        "holidays-TOTAL_FORMS": "1",
        "holidays-INITIAL_FORMS": "0",
        "holidays-MIN_NUM_FORMS": "0",
        "holidays-MAX_NUM_FORMS": "1000",
        "holidays-0-name_ar": "إجازة عيد الفطر",
        "holidays-0-name_en": "Eid al-Fitr holiday",
        "holidays-0-kind": "hijri",
        "holidays-0-month": "10",
        "holidays-0-day": "1",
        "holidays-0-length_days": "4",
    }
    data.update(changes)
    return data


def test_the_admin_saves_a_split_shift_calendar_with_weekday_checkboxes(client, superuser):
    client.force_login(superuser)

    response = client.post("/en/admin/directory/businesscalendar/add/", _calendar_form())

    assert response.status_code == 302
    calendar = BusinessCalendar.objects.get(name="Jeddah")
    assert calendar.working_days == [7, 1, 2, 3, 4]
    assert calendar.second_opens_at == dt.time(16)
    assert calendar.holidays.get().length_days == 4


def test_the_admin_refuses_overlapping_shifts_and_a_hijri_31st(client, superuser):
    client.force_login(superuser)

    response = client.post(
        "/en/admin/directory/businesscalendar/add/",
        _calendar_form(second_opens_at="11:00", **{"holidays-0-day": "31"}),
    )

    assert response.status_code == 200
    assert b"The second shift must start when or after the first one ends." in response.content
    assert not BusinessCalendar.objects.filter(name="Jeddah").exists()
