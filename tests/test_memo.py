"""The reference memo: calendars, centres and SLA policies read once per process, and
forgotten the moment an administrator changes one of them."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tawasul.cases.models import Kind, Priority
from tawasul.core import memo
from tawasul.directory.models import BusinessCalendar, CareCentre, Holiday, HolidayKind
from tawasul.sla.calendars import working_calendar_for_entity
from tawasul.sla.models import SlaPolicy
from tawasul.sla.policies import sla_policy_for

pytestmark = pytest.mark.django_db
AROUND = dt.datetime(2027, 1, 15, 9, 0, tzinfo=ZoneInfo("Asia/Riyadh"))


@pytest.fixture
def memo_on(settings):  # type: ignore[no-untyped-def]
    settings.TAWASUL_REFERENCE_MEMO_SECONDS = 60


@pytest.fixture
def central_calendar(ministry):  # type: ignore[no-untyped-def]
    calendar = BusinessCalendar.objects.create(
        name="Central", working_days=[7, 1, 2, 3, 4], opens_at=dt.time(8), closes_at=dt.time(15)
    )
    CareCentre.objects.filter(entity=ministry.ministry).update(calendar=calendar)
    memo.memo_forget()  # `update` sends no signal
    return calendar


def queries(call):  # type: ignore[no-untyped-def]
    with CaptureQueriesContext(connection) as captured:
        value = call()
    return value, len(captured)


@pytest.mark.usefixtures("memo_on")
def test_a_calendar_is_read_once_then_served_from_the_memo(ministry, central_calendar) -> None:  # type: ignore[no-untyped-def]
    first, cold = queries(lambda: working_calendar_for_entity(ministry.riyadh, around=AROUND))
    again, warm = queries(lambda: working_calendar_for_entity(ministry.riyadh, around=AROUND))

    assert (cold, warm) == (2, 0)
    assert again == first


@pytest.mark.usefixtures("memo_on")
def test_a_new_holiday_is_seen_at_once(ministry, central_calendar) -> None:  # type: ignore[no-untyped-def]
    before = working_calendar_for_entity(ministry.riyadh, around=AROUND)
    assert dt.date(2027, 2, 22) not in before.closed_days

    Holiday.objects.create(
        calendar=central_calendar,
        name_ar="يوم التأسيس",
        name_en="Founding Day",
        kind=HolidayKind.GREGORIAN,
        month=2,
        day=22,
    )

    after = working_calendar_for_entity(ministry.riyadh, around=AROUND)
    assert dt.date(2027, 2, 22) in after.closed_days


@pytest.mark.usefixtures("memo_on")
def test_a_new_or_switched_off_policy_applies_to_the_next_request(ministry) -> None:  # type: ignore[no-untyped-def]
    def chosen() -> SlaPolicy | None:
        return sla_policy_for(
            centre=None, kind=Kind.COMPLAINT, category=ministry.exams, priority=Priority.NORMAL
        )

    assert chosen() is None
    exams = SlaPolicy.objects.create(name_ar="اختبارات", name_en="Exams", category=ministry.exams)
    assert chosen() == exams
    _, warm = queries(chosen)
    assert warm == 0

    exams.is_active = False
    exams.save()
    assert chosen() is None


def test_values_expire_after_the_memos_lifetime(settings, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    settings.TAWASUL_REFERENCE_MEMO_SECONDS = 60
    clock = {"now": 1000.0}
    monkeypatch.setattr(memo.time, "monotonic", lambda: clock["now"])
    computed: list[int] = []

    def compute() -> int:
        computed.append(len(computed))
        return len(computed)

    assert [memo.memoised("k", compute) for _ in range(3)] == [1, 1, 1]
    clock["now"] += 61
    assert memo.memoised("k", compute) == 2


def test_a_lifetime_of_zero_turns_the_memo_off(settings) -> None:  # type: ignore[no-untyped-def]
    settings.TAWASUL_REFERENCE_MEMO_SECONDS = 0
    calls = iter(range(10))
    assert [memo.memoised("k", lambda: next(calls)) for _ in range(3)] == [0, 1, 2]
