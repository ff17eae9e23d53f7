"""SLA clocks on requests, driven through the real services.

The services stamp the current instant; where a test needs exact instants it
restarts the clock at a fixed `now` through `tawasul.sla.clocks` (the only place
that takes one) and then drives the request through the services.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.template import Context, Template
from django.utils import timezone, translation

from tawasul.cases.models import EventKind, Request, SlaStage, SlaState
from tawasul.cases.services import (
    request_answer,
    request_ask_beneficiary,
    request_beneficiary_reply,
    request_cancel,
    request_claim,
    request_forward,
    request_object,
    request_reopen,
    request_reply,
    request_return,
    request_start,
    request_submit,
)
from tawasul.directory.models import CareCentre, HolidayKind
from tawasul.directory.services import HolidaySpec, business_calendar_create
from tawasul.sla.business_time import business_minutes_between
from tawasul.sla.calendars import DEFAULT_CALENDAR
from tawasul.sla.clocks import sla_clock_pause, sla_clock_resume, sla_clock_start
from tawasul.sla.models import SlaPolicy
from tawasul.sla.selectors import request_sla_view, sla_compliance
from tawasul.sla.templatetags.sla import business_duration_label

RIYADH = ZoneInfo("Asia/Riyadh")
DAY = 420  # one working day of the default calendar, 08:00-15:00


def riyadh(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=RIYADH)


THURSDAY_14 = riyadh(2026, 12, 3, 14, 0)


def submit(ministry, beneficiary, *, entity=None, kind="complaint", priority="normal"):
    return request_submit(
        beneficiary=beneficiary,
        kind=kind,
        category=ministry.exams,
        subject="تأخر نتيجة الاختبار",
        description="لم تظهر نتيجة ابني في نظام نور حتى الآن.",
        entity=entity or ministry.riyadh,
        priority=priority,
    )


def fresh(request: Request) -> Request:
    return Request.objects.select_related("entity", "sla_policy").get(pk=request.pk)


def working(ministry, staff, beneficiary) -> Request:
    request = submit(ministry, beneficiary)
    request_claim(request=request, by=staff.riyadh_agent)
    return request_start(request=request, by=staff.riyadh_agent)


def last_event(request, kind):
    return request.events.filter(kind=kind).order_by("-id").first()


# --- submission ------------------------------------------------------------------------


def test_submission_sets_both_clocks_in_business_time(ministry, sara):
    # When a request is submitted through the service
    request = fresh(submit(ministry, sara))

    # Then both clocks run, 1 and 5 working days from submission, and the next sweep
    # step is the warning, between submission and the resolution deadline
    assert request.sla_first_response_state == SlaState.RUNNING
    assert request.sla_resolution_state == SlaState.RUNNING
    assert request.sla_stage == SlaStage.NONE
    submitted = request.created_at
    assert (
        abs(business_minutes_between(DEFAULT_CALENDAR, submitted, request.first_response_due) - DAY)
        <= 1
    )
    assert (
        abs(business_minutes_between(DEFAULT_CALENDAR, submitted, request.resolution_due) - 5 * DAY)
        <= 1
    )
    assert submitted < request.sla_next_at < request.resolution_due
    assert (
        abs(
            business_minutes_between(DEFAULT_CALENDAR, request.sla_next_at, request.resolution_due)
            - 525
        )
        <= 1
    )


def test_thursday_afternoon_is_due_sunday_afternoon(ministry, sara):
    # Given a request submitted on Thursday at 14:00 in Riyadh (weekend Friday-Saturday)
    request = fresh(submit(ministry, sara))

    # When its clock starts then
    sla_clock_start(request, now=THURSDAY_14)
    request = fresh(request)

    # Then the first response is due on Sunday at 14:00, the answer the next Thursday
    # at 14:00, and the warning (75 % of 5 days) comes on Wednesday at 12:15
    assert request.first_response_due == riyadh(2026, 12, 6, 14, 0)
    assert request.resolution_due == riyadh(2026, 12, 10, 14, 0)
    assert request.sla_next_at == riyadh(2026, 12, 9, 12, 15)


def test_the_centre_calendar_and_its_holidays_count(ministry, sara):
    # Given the Riyadh centre closed on 6 December and open 07:30-14:30
    calendar = business_calendar_create(
        name="Riyadh",
        working_days=[7, 1, 2, 3, 4],
        opens_at=dt.time(7, 30),
        closes_at=dt.time(14, 30),
        holidays=[
            HolidaySpec(
                name_ar="إجازة", name_en="Closure", kind=HolidayKind.GREGORIAN, month=12, day=6
            )
        ],
    )
    CareCentre.objects.filter(entity=ministry.riyadh).update(calendar=calendar)
    request = fresh(submit(ministry, sara))

    # When its clock starts on Thursday at 14:00
    sla_clock_start(request, now=THURSDAY_14)

    # Then 30 minutes count on Thursday, none on the Sunday holiday: due Monday 14:00
    assert fresh(request).first_response_due == riyadh(2026, 12, 7, 14, 0)


def test_the_matching_policy_sets_the_targets(ministry, sara):
    # Given urgent complaints must be answered within 2 working hours
    policy = SlaPolicy.objects.create(
        name_ar="عاجل",
        name_en="Urgent",
        priority="urgent",
        first_response_minutes=30,
        resolution_minutes=120,
    )
    request = fresh(submit(ministry, sara, priority="urgent"))

    # When the clock starts on Thursday at 14:00
    sla_clock_start(request, now=THURSDAY_14)
    request = fresh(request)

    # Then the policy is recorded and its targets count
    assert request.sla_policy == policy
    assert request.first_response_due == riyadh(2026, 12, 3, 14, 30)
    assert request.resolution_due == riyadh(2026, 12, 6, 9, 0)
    assert request.sla_resolution_minutes == 120


# --- first response -------------------------------------------------------------------------


def test_a_reply_in_time_meets_the_first_response_clock(ministry, staff, sara):
    request = submit(ministry, sara)
    request_claim(request=request, by=staff.riyadh_agent)

    request_reply(request=request, by=staff.riyadh_agent, body="نعمل على طلبك.")

    request = fresh(request)
    assert request.sla_first_response_state == SlaState.MET
    assert request.sla_resolution_state == SlaState.RUNNING


def test_a_late_first_response_is_breached(ministry, staff, sara):
    # Given a request whose clock started in early November
    request = submit(ministry, sara)
    sla_clock_start(fresh(request), now=riyadh(2026, 11, 1, 9, 0))
    request_claim(request=request, by=staff.riyadh_agent)

    # When the first reply comes now
    request_reply(request=request, by=staff.riyadh_agent, body="نعمل على طلبك.")

    # Then the first response was late
    assert fresh(request).sla_first_response_state == SlaState.BREACHED


# --- pause and resume -----------------------------------------------------------------------


def test_asking_the_beneficiary_pauses_and_their_reply_resumes(ministry, staff, sara):
    # Given a request being worked on
    request = working(ministry, staff, sara)
    before = fresh(request)

    # When the agent asks the beneficiary for something
    request_ask_beneficiary(request=request, by=staff.riyadh_agent, question="أرسل رقم الطالب.")

    # Then the resolution clock is paused with its time left, and out of the sweep
    paused = fresh(request)
    assert paused.sla_resolution_state == SlaState.PAUSED
    assert paused.sla_next_at is None
    assert paused.sla_remaining_minutes == business_minutes_between(
        DEFAULT_CALENDAR, paused.sla_paused_at, before.resolution_due
    )
    assert last_event(request, EventKind.SLA_PAUSED).is_public is False

    # When the beneficiary replies
    request_beneficiary_reply(request=request, beneficiary=sara, body="رقم الطالب 12345.")

    # Then the clock runs again with the same time left, and the beneficiary sees it
    resumed = fresh(request)
    assert resumed.sla_resolution_state == SlaState.RUNNING
    assert resumed.sla_paused_at is None
    resumed_event = last_event(request, EventKind.SLA_RESUMED)
    assert resumed_event.is_public is True
    left = business_minutes_between(
        DEFAULT_CALENDAR, resumed_event.created_at, resumed.resolution_due
    )
    assert abs(left - paused.sla_remaining_minutes) <= 1
    assert resumed.sla_next_at is not None


def test_a_pause_keeps_the_remaining_business_time_exactly(ministry, sara):
    # Given a clock started Thursday 14:00 (5 working days)
    request = fresh(submit(ministry, sara))
    sla_clock_start(request, now=THURSDAY_14)

    # When paused on Sunday at 10:00 (3 hours used) and resumed on Tuesday at 09:00
    request = fresh(request)
    sla_clock_pause(request, now=riyadh(2026, 12, 6, 10, 0))
    request = fresh(request)
    assert request.sla_remaining_minutes == 5 * DAY - 180
    sla_clock_resume(request, now=riyadh(2026, 12, 8, 9, 0))

    # Then the 1,920 minutes left run from Tuesday 09:00: due the next Monday 13:00,
    # warned when 525 minutes are left (Sunday 11:15)
    request = fresh(request)
    assert request.resolution_due == riyadh(2026, 12, 14, 13, 0)
    assert request.sla_next_at == riyadh(2026, 12, 13, 11, 15)
    assert request.sla_remaining_minutes is None


# --- transfers --------------------------------------------------------------------------------


def test_a_forwarded_request_keeps_its_clock(ministry, staff, sara):
    request = submit(ministry, sara)
    before = fresh(request)

    request_forward(
        request=request, by=staff.riyadh_agent, to_entity=ministry.makkah, reason="من اختصاص مكة"
    )

    after = fresh(request)
    assert after.entity == ministry.makkah
    assert (after.first_response_due, after.resolution_due, after.sla_next_at) == (
        before.first_response_due,
        before.resolution_due,
        before.sla_next_at,
    )
    assert not after.events.filter(kind=EventKind.SLA_RESTARTED).exists()


def test_forwarding_a_paused_request_resumes_its_clock(ministry, staff, sara):
    request = working(ministry, staff, sara)
    request_ask_beneficiary(request=request, by=staff.riyadh_agent, question="أرسل رقم الطالب.")

    request_forward(
        request=request, by=staff.riyadh_agent, to_entity=ministry.makkah, reason="من اختصاص مكة"
    )

    after = fresh(request)
    assert after.sla_resolution_state == SlaState.RUNNING
    assert after.sla_next_at is not None


def forward_and_return(ministry, staff, request):
    request_forward(
        request=request, by=staff.riyadh_agent, to_entity=ministry.makkah, reason="من اختصاص مكة"
    )
    return request_return(request=request, by=staff.makkah_agent, reason="ليس من اختصاصنا")


def test_a_returned_request_keeps_its_clock_by_default(ministry, staff, sara):
    request = submit(ministry, sara)
    sla_clock_start(fresh(request), now=riyadh(2026, 11, 26, 10, 0))
    before = fresh(request)

    forward_and_return(ministry, staff, request)

    after = fresh(request)
    assert after.resolution_due == before.resolution_due
    assert not after.events.filter(kind=EventKind.SLA_RESTARTED).exists()


def test_a_returned_request_restarts_its_clock_when_configured(ministry, staff, sara, settings):
    # Given returns restart the clock, Makkah answers within 2 days, and a request
    # whose clock started last week
    settings.TAWASUL_SLA_RESTART_ON_RETURN = True
    SlaPolicy.objects.create(
        name_ar="الرياض",
        name_en="Riyadh",
        centre=CareCentre.objects.get(entity=ministry.riyadh),
        resolution_minutes=2 * DAY,
    )
    request = submit(ministry, sara)
    sla_clock_start(fresh(request), now=riyadh(2026, 11, 19, 10, 0))
    before = fresh(request)

    # When it is forwarded to Makkah and returned as misrouted
    forward_and_return(ministry, staff, request)

    # Then a new clock runs from the return under the Riyadh policy, shown to the beneficiary
    after = fresh(request)
    restarted = last_event(request, EventKind.SLA_RESTARTED)
    assert restarted is not None
    assert restarted.is_public is True
    assert after.resolution_due > before.resolution_due
    assert after.sla_policy is not None
    assert after.sla_policy.name_en == "Riyadh"
    left = business_minutes_between(DEFAULT_CALENDAR, restarted.created_at, after.resolution_due)
    assert abs(left - 2 * DAY) <= 1
    assert after.sla_stage == SlaStage.NONE


# --- answer, reopen, cancel ---------------------------------------------------------------------


def test_an_answer_in_time_meets_both_clocks(ministry, staff, sara):
    request = working(ministry, staff, sara)

    request_answer(request=request, by=staff.riyadh_agent, resolution="ظهرت النتيجة في نظام نور.")

    after = fresh(request)
    assert (after.sla_first_response_state, after.sla_resolution_state) == (
        SlaState.MET,
        SlaState.MET,
    )
    assert after.sla_next_at is None


def test_a_late_answer_breaches_the_resolution_clock(ministry, staff, sara):
    request = working(ministry, staff, sara)
    sla_clock_start(fresh(request), now=riyadh(2026, 11, 1, 9, 0))

    request_answer(request=request, by=staff.riyadh_agent, resolution="ظهرت النتيجة في نظام نور.")

    after = fresh(request)
    assert after.sla_resolution_state == SlaState.BREACHED
    assert after.sla_first_response_state == SlaState.BREACHED
    assert after.sla_next_at is None


def test_reopening_after_an_upheld_objection_sets_a_new_target(ministry, staff, sara):
    # Given an answered request whose first clock started early in November
    request = working(ministry, staff, sara)
    sla_clock_start(fresh(request), now=riyadh(2026, 11, 1, 9, 0))
    request_answer(request=request, by=staff.riyadh_agent, resolution="ظهرت النتيجة في نظام نور.")
    request_object(request=request, beneficiary=sara, reason="النتيجة المعروضة غير صحيحة.")

    # When the objection is upheld and the request reopened
    request_reopen(request=request, by=staff.riyadh_supervisor, reason="الاعتراض في محله")

    # Then a new 5-day clock runs from the reopening, shown to the beneficiary
    after = fresh(request)
    restarted = last_event(request, EventKind.SLA_RESTARTED)
    assert restarted.is_public is True
    assert after.sla_resolution_state == SlaState.RUNNING
    assert after.sla_stage == SlaStage.NONE
    left = business_minutes_between(DEFAULT_CALENDAR, restarted.created_at, after.resolution_due)
    assert abs(left - 5 * DAY) <= 1
    assert after.sla_next_at is not None


def test_cancelling_stops_the_clocks(ministry, staff, sara):
    request = submit(ministry, sara)

    request_cancel(request=request, beneficiary=sara, reason="لم أعد بحاجة")

    after = fresh(request)
    assert after.sla_next_at is None
    assert (after.sla_first_response_state, after.sla_resolution_state) == (
        SlaState.STOPPED,
        SlaState.STOPPED,
    )


# --- shown to people ------------------------------------------------------------------------------


def test_the_view_gives_business_time_left_and_overdue(ministry, sara):
    request = fresh(submit(ministry, sara))
    sla_clock_start(request, now=THURSDAY_14)
    request = fresh(request)

    on_time = request_sla_view(request, now=riyadh(2026, 12, 7, 9, 0))
    late = request_sla_view(request, now=riyadh(2026, 12, 13, 9, 0))

    # Monday 09:00: 540 of 2,100 minutes used (Thursday 1 h, Sunday 7 h, Monday 1 h);
    # the first response, due Sunday 14:00, is two working hours late
    assert on_time.resolution_remaining == 2100 - 540
    assert on_time.first_response_remaining == -120
    # The following Sunday 09:00: two working hours past the Thursday 14:00 due
    assert late.resolution_remaining == -(60 + 60)
    assert late.overdue
    assert on_time.working_day_minutes == DAY


def test_the_template_tag_says_how_long_is_left_and_when_it_is_due(ministry, sara):
    request = fresh(submit(ministry, sara))
    sla_clock_start(request, now=timezone.now())
    request = fresh(request)

    with translation.override("en"):
        text = Template("{% load sla %}{% sla_remaining request %}").render(
            Context({"request": request})
        )

    assert "5 working days left, due by" in text
    assert "AH" in text  # Hijri beside Gregorian
    assert str(timezone.localtime(request.resolution_due).year) in text


@pytest.mark.parametrize(
    ("minutes", "label"),
    [
        (3 * DAY + 120, "3 working days 2 hours"),
        (DAY, "1 working day"),
        (61, "1 hour 1 minute"),
        (-45, "45 minutes"),
        (0, "less than a minute"),
    ],
)
def test_business_durations_in_words(minutes, label):
    with translation.override("en"):
        assert business_duration_label(minutes, day_minutes=DAY) == label


def test_the_request_admin_shows_the_clock(admin_client, ministry, sara):
    request = submit(ministry, sara)
    admin_client.cookies["tawasul_language"] = "en"

    page = admin_client.get(f"/admin/cases/request/{request.pk}/change/", follow=True)

    # whole working days, or a minute less when the clock's minute turns during the test
    text = page.content.decode()
    assert "working day" in text
    assert " left, due by " in text


# --- compliance -------------------------------------------------------------------------------------


def test_compliance_by_kind_and_centre(
    ministry, staff, sara, khalid, django_assert_max_num_queries
):
    # Given two Riyadh complaints answered, one in time and one late, and an open Makkah inquiry
    in_time = working(ministry, staff, sara)
    request_answer(request=in_time, by=staff.riyadh_agent, resolution="تمت معالجة طلبك بنجاح.")
    late = working(ministry, staff, khalid)
    sla_clock_start(fresh(late), now=riyadh(2026, 11, 1, 9, 0))
    request_answer(request=late, by=staff.riyadh_agent, resolution="تمت معالجة طلبك بنجاح.")
    submit(ministry, sara, entity=ministry.makkah, kind="inquiry")

    # When compliance is computed by kind and by centre
    with django_assert_max_num_queries(8):
        by_kind = {
            row.key: row for row in sla_compliance(requests=Request.objects.all(), group_by="kind")
        }
    by_centre = {
        row.key: row for row in sla_compliance(requests=Request.objects.all(), group_by="centre")
    }

    # Then the complaints are half compliant and the open inquiry counts nothing yet
    complaints = by_kind["complaint"]
    assert (complaints.requests, complaints.resolution_met, complaints.resolution_breached) == (
        2,
        1,
        1,
    )
    assert complaints.resolution_compliance == 50.0
    assert complaints.first_response_compliance == 50.0
    assert complaints.answer_median_minutes is not None
    assert complaints.answer_p90_minutes >= complaints.answer_median_minutes
    inquiries = by_kind["inquiry"]
    assert (inquiries.requests, inquiries.resolution_compliance) == (1, None)
    assert by_centre[str(ministry.riyadh.pk)].requests == 2
    assert by_centre[str(ministry.makkah.pk)].label


def test_compliance_costs_the_same_queries_for_more_requests(
    ministry, staff, sara, django_assert_max_num_queries
):
    for _ in range(6):
        request = working(ministry, staff, sara)
        request_answer(request=request, by=staff.riyadh_agent, resolution="تمت معالجة طلبك بنجاح.")

    with django_assert_max_num_queries(4):
        rows = sla_compliance(requests=Request.objects.all(), group_by="month")

    assert sum(row.requests for row in rows) == 6
    assert rows[0].resolution_compliance == 100.0


def test_compliance_rejects_an_unknown_grouping(db):
    with pytest.raises(ValueError, match="group_by"):
        sla_compliance(requests=Request.objects.all(), group_by="colour")
