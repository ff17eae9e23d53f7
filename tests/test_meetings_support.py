"""Fixtures and steps shared by the meeting tests (no tests of its own).

Personas: the central care centre screens (`staff.central_agent`, `staff.central_supervisor`),
the minister's office decides (`staff.executive`, an executive viewer on the ministry,
which is the office by default); nobody else sees meeting requests.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from tawasul.cases.services import request_answer, request_claim, request_start, request_submit
from tawasul.meetings.models import MeetingHost, MeetingRequest, MeetingSlot
from tawasul.meetings.scheduling import SlotPlan, slot_create
from tawasul.meetings.services import (
    PreferredPeriod,
    meeting_approve,
    meeting_forward,
    meeting_request_submit,
)

RIYADH = ZoneInfo("Asia/Riyadh")
SUMMARY = "أطلب مقابلة معالي الوزير لعرض مشكلة نقل ابني بين المدارس بعد الرد على طلبي"


def answered_request(ministry, staff, beneficiary, subject="تأخر نتيجة اختبار الرياضيات"):
    """A request of the beneficiary, answered by the Riyadh agent."""
    request = request_submit(
        beneficiary=beneficiary,
        kind="complaint",
        category=ministry.exams,
        subject=subject,
        description="لم تظهر نتيجة ابني في النظام حتى الآن رغم المراجعة",
        entity=ministry.riyadh,
    )
    request = request_claim(request=request, by=staff.riyadh_agent)
    request = request_start(request=request, by=staff.riyadh_agent)
    return request_answer(
        request=request, by=staff.riyadh_agent, resolution="ظهرت النتيجة الآن في النظام، نعتذر"
    )


def periods():
    today = timezone.localdate()
    return [PreferredPeriod(today + dt.timedelta(days=7), today + dt.timedelta(days=21), "morning")]


def submit(beneficiary, follow_ups, subject="نقل ابني بين المدارس"):
    return meeting_request_submit(
        beneficiary=beneficiary,
        subject=subject,
        summary=SUMMARY,
        follow_ups=follow_ups,
        preferences=periods(),
    )


def approved(staff, beneficiary, follow_ups, subject="نقل ابني بين المدارس") -> MeetingRequest:
    meeting = submit(beneficiary, follow_ups, subject=subject)
    meeting = meeting_forward(meeting=meeting, by=staff.central_agent)
    return meeting_approve(meeting=meeting, by=staff.executive)


def local(days: int, hour: int = 10, minute: int = 0) -> dt.datetime:
    day = timezone.localdate() + dt.timedelta(days=days)
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=RIYADH)


def slot(staff, host, *, days=3, hour=10, capacity=1, place="مكتب معالي الوزير") -> MeetingSlot:
    return slot_create(
        host=host,
        starts_at=local(days, hour),
        plan=SlotPlan(duration_minutes=30, capacity=capacity, place=place),
        by=staff.executive,
    )


@pytest.fixture(name="minister")
def minister_fixture(db: None) -> MeetingHost:
    return MeetingHost.objects.create(name="معالي الوزير", title="وزير التعليم", is_minister=True)


@pytest.fixture(name="deputy")
def deputy_fixture(db: None) -> MeetingHost:
    return MeetingHost.objects.create(name="نائب الوزير", title="نائب وزير التعليم")


@pytest.fixture(name="settled")
def settled_fixture(ministry, staff, sara):
    """Sara's answered request: what a meeting request follows up."""
    return answered_request(ministry, staff, sara)
