"""Meeting requests: eligibility rules, submission, the screening chain and who may do what."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.utils import timezone

from tawasul.cases.models import Request, Status
from tawasul.channels.models import OutboxMessage
from tawasul.core.errors import AccessDenied, IllegalTransition, InvalidInput, NotFound
from tawasul.feedback.models import ObjectionOutcome
from tawasul.feedback.objections import objection_file, objection_reject
from tawasul.meetings.eligibility import meeting_eligibility
from tawasul.meetings.models import (
    MeetingEvent,
    MeetingEventKind,
    MeetingRequest,
    MeetingStatus,
    MeetingStep,
)
from tawasul.meetings.permissions import meeting_for_beneficiary, meeting_for_staff
from tawasul.meetings.selectors import meeting_follow_up_choices, meeting_timeline
from tawasul.meetings.services import (
    MeetingIneligible,
    PreferredPeriod,
    meeting_approve,
    meeting_convert,
    meeting_decline,
    meeting_delegate,
    meeting_forward,
    meeting_note,
    meeting_request_submit,
    meeting_withdraw,
)
from tawasul.meetings.sweep import meeting_steps_flag_overdue
from tawasul.meetings.workflow import TRANSITIONS, MeetingMove, meeting_next_status
from tests.test_meetings_support import (  # noqa: F401 (fixtures)
    SUMMARY,
    answered_request,
    deputy_fixture,
    minister_fixture,
    periods,
    settled_fixture,
    submit,
)

pytestmark = pytest.mark.django_db


def codes(refusals):
    return [refusal.code for refusal in refusals]


# --- eligibility rules -------------------------------------------------------------------------


def test_settled_request_rule_refuses_without_follow_ups(sara):
    assert codes(meeting_eligibility(beneficiary=sara, follow_ups=[])) == ["no_settled_request"]


def test_settled_request_rule_refuses_a_request_still_being_worked(ministry, staff, sara):
    request = answered_request(ministry, staff, sara)
    from tawasul.cases.services import request_submit

    pending = request_submit(
        beneficiary=sara,
        kind="inquiry",
        category=ministry.exams,
        subject="سؤال آخر",
        description="سؤال لم يجب عنه أحد بعد",
        entity=ministry.riyadh,
    )
    assert codes(meeting_eligibility(beneficiary=sara, follow_ups=[pending])) == [
        "no_settled_request"
    ]
    assert meeting_eligibility(beneficiary=sara, follow_ups=[pending, request]) == []


def test_settled_request_rule_accepts_answered_and_closed(ministry, staff, sara):
    answered = answered_request(ministry, staff, sara)
    assert answered.status == Status.ANSWERED
    assert meeting_eligibility(beneficiary=sara, follow_ups=[answered]) == []
    from tawasul.cases.services import request_accept

    closed = request_accept(request=answered, beneficiary=sara)
    assert closed.status == Status.CLOSED
    assert meeting_eligibility(beneficiary=sara, follow_ups=[closed]) == []


def test_settled_request_rule_accepts_a_rejected_objection(ministry, staff, sara):
    answered = answered_request(ministry, staff, sara)
    objection = objection_file(
        request=answered, beneficiary=sara, reason="الرد لم يحل المشكلة إطلاقا، ما زالت قائمة"
    )
    objection_reject(
        objection=objection,
        by=staff.riyadh_supervisor,
        justification="راجعنا الطلب ووجدنا أن الرد صحيح ومكتمل",
    )
    objection.refresh_from_db()
    assert objection.outcome == ObjectionOutcome.REJECTED
    assert meeting_eligibility(beneficiary=sara, follow_ups=[answered]) == []
    assert list(meeting_follow_up_choices(sara)) == [answered]


def test_one_open_rule(staff, sara, settled):
    first = submit(sara, [settled])
    assert codes(meeting_eligibility(beneficiary=sara, follow_ups=[settled])) == [
        "meeting_already_open"
    ]
    meeting_withdraw(meeting=first, beneficiary=sara, reason="لم أعد بحاجة")
    assert meeting_eligibility(beneficiary=sara, follow_ups=[settled]) == []


def _held(beneficiary, days_ago):
    return MeetingRequest.objects.create(
        tracking_number=f"9{days_ago:010d}",
        beneficiary=beneficiary,
        subject="مقابلة سابقة",
        summary=SUMMARY,
        status=MeetingStatus.HELD,
        held_at=timezone.now() - dt.timedelta(days=days_ago),
    )


def test_cooling_off_rule(settings, sara, settled):
    settings.TAWASUL_MEETING_COOLING_OFF_DAYS = 90
    _held(sara, days_ago=30)
    refusals = meeting_eligibility(beneficiary=sara, follow_ups=[settled])
    assert codes(refusals) == ["cooling_off"]
    assert refusals[0].details["days"] == 90
    messages = refusals[0].messages()
    assert "هـ" in messages["ar"]  # the date from which one may ask, with its Hijri date
    assert messages["en"].startswith("You met the ministry recently")


def test_cooling_off_rule_passes_after_the_period(settings, sara, settled):
    settings.TAWASUL_MEETING_COOLING_OFF_DAYS = 90
    _held(sara, days_ago=91)
    assert meeting_eligibility(beneficiary=sara, follow_ups=[settled]) == []


def test_rules_are_chosen_by_settings(settings, sara):
    settings.TAWASUL_MEETING_RULES = ["one_open"]
    assert meeting_eligibility(beneficiary=sara, follow_ups=[]) == []
    settings.TAWASUL_MEETING_RULES = ["nonsense"]
    with pytest.raises(ValueError, match="nonsense"):
        meeting_eligibility(beneficiary=sara, follow_ups=[])


def test_every_failed_rule_is_explained_at_once(sara, settled):
    submit(sara, [settled])
    with pytest.raises(MeetingIneligible) as caught:
        submit(sara, [])
    error = caught.value
    assert error.status == 409
    assert error.code == "not_eligible"
    refusals = error.details["refusals"]
    assert [r["code"] for r in refusals] == ["no_settled_request", "meeting_already_open"]
    assert all(r["message"]["ar"] and r["message"]["en"] for r in refusals)
    assert MeetingRequest.objects.count() == 1


# --- submission --------------------------------------------------------------------------------


def test_submit_records_the_request_and_starts_screening(channels_in_memory, sara, settled):
    meeting = submit(sara, [settled])
    assert meeting.status == MeetingStatus.SUBMITTED
    assert len(meeting.tracking_number) == 11
    assert list(meeting.follow_ups.all()) == [settled]
    assert meeting.preferences.count() == 1
    assert meeting.step == MeetingStep.SCREENING
    assert meeting.screening_due is not None
    assert meeting.screening_due > timezone.now() + dt.timedelta(days=1)  # 3 working days
    event = meeting.events.get()
    assert (event.kind, event.is_public, event.by_beneficiary) == ("submitted", True, True)
    notice = OutboxMessage.objects.get(template="meeting_received")
    assert notice.recipient == sara.mobile
    assert notice.context == {"tracking_number": meeting.tracking_number}


def test_follow_ups_must_be_the_beneficiarys_own(ministry, staff, sara, khalid):
    khalids = answered_request(ministry, staff, khalid)
    with pytest.raises(InvalidInput) as caught:
        submit(sara, [khalids])
    assert caught.value.code == "follow_up_unknown"
    with pytest.raises(InvalidInput):
        submit(sara, [987654321])
    assert MeetingRequest.objects.count() == 0


@pytest.mark.parametrize(
    ("first", "last", "part"),
    [
        (-1, 5, "morning"),
        (10, 5, "morning"),
        (5, 100, "morning"),
        (5, 6, "night"),
        (200, 201, "evening"),
    ],
)
def test_preferred_periods_are_checked(sara, settled, first, last, part):
    today = timezone.localdate()
    period = PreferredPeriod(
        today + dt.timedelta(days=first), today + dt.timedelta(days=last), part
    )
    with pytest.raises(InvalidInput) as caught:
        meeting_request_submit(
            beneficiary=sara,
            subject="مقابلة",
            summary=SUMMARY,
            follow_ups=[settled],
            preferences=[period],
        )
    assert caught.value.code == "preference_invalid"
    assert MeetingRequest.objects.count() == 0


def test_short_summary_is_refused(sara, settled):
    with pytest.raises(InvalidInput) as caught:
        meeting_request_submit(
            beneficiary=sara,
            subject="مقابلة",
            summary="قصير",
            follow_ups=[settled],
            preferences=periods(),
        )
    assert caught.value.details["field"] == "summary"


# --- the screening chain -----------------------------------------------------------------------


def test_forward_then_approve_with_the_minister(channels_in_memory, staff, sara, settled, minister):
    meeting = submit(sara, [settled])
    meeting = meeting_forward(meeting=meeting, by=staff.central_agent, note="ملف مكتمل")
    assert meeting.status == MeetingStatus.FORWARDED
    assert meeting.step == MeetingStep.DECISION
    assert meeting.decision_due is not None
    meeting = meeting_approve(meeting=meeting, by=staff.executive)
    assert meeting.status == MeetingStatus.APPROVED
    assert meeting.host == minister
    assert meeting.step == MeetingStep.SCHEDULING
    assert meeting.scheduling_due is not None
    kinds = list(meeting.events.values_list("kind", "is_public"))
    assert kinds == [
        ("submitted", True),
        ("forwarded", True),
        ("note_added", False),
        ("approved", True),
    ]
    assert OutboxMessage.objects.filter(template="meeting_decided").count() == 1


def test_delegate_to_a_deputy(staff, sara, settled, minister, deputy):
    meeting = meeting_forward(meeting=submit(sara, [settled]), by=staff.central_agent)
    with pytest.raises(InvalidInput):
        meeting_delegate(meeting=meeting, by=staff.executive, host=minister)
    meeting = meeting_delegate(meeting=meeting, by=staff.executive, host=deputy)
    assert (meeting.status, meeting.host) == (MeetingStatus.APPROVED, deputy)
    event = meeting.events.get(kind=MeetingEventKind.DELEGATED)
    assert event.data["host_name"] == "نائب الوزير"
    public = meeting_timeline(meeting, for_staff=False)
    assert public[-1].data == {"host_name": "نائب الوزير", "host_title": "نائب وزير التعليم"}


def test_approve_needs_a_minister_host(staff, sara, settled):
    meeting = meeting_forward(meeting=submit(sara, [settled]), by=staff.central_agent)
    with pytest.raises(InvalidInput) as caught:
        meeting_approve(meeting=meeting, by=staff.executive)
    assert caught.value.code == "host_required"
    assert MeetingRequest.objects.get(pk=meeting.pk).status == MeetingStatus.FORWARDED


def test_centre_declines_with_a_reason_the_beneficiary_reads(
    channels_in_memory, staff, sara, settled
):
    meeting = submit(sara, [settled])
    meeting_note(meeting=meeting, by=staff.central_agent, body="ملاحظة داخلية لا يراها المستفيد")
    meeting = meeting_decline(
        meeting=meeting, by=staff.central_supervisor, reason="الموضوع من اختصاص إدارة التعليم"
    )
    assert meeting.status == MeetingStatus.DECLINED
    assert meeting.step == MeetingStep.NONE
    assert meeting.step_due is None
    public = meeting_timeline(meeting_for_beneficiary(sara, pk=meeting.pk), for_staff=False)
    assert [entry.kind for entry in public] == ["submitted", "declined"]
    assert public[-1].data == {"reason": "الموضوع من اختصاص إدارة التعليم"}
    staff_view = meeting_timeline(meeting, for_staff=True)
    assert [entry.kind for entry in staff_view] == ["submitted", "note_added", "declined"]
    assert OutboxMessage.objects.filter(template="meeting_decided").count() == 1


def test_office_declines_after_forwarding(staff, sara, settled):
    meeting = meeting_forward(meeting=submit(sara, [settled]), by=staff.central_agent)
    with pytest.raises(AccessDenied):
        meeting_decline(meeting=meeting, by=staff.central_agent, reason="لا يمكن ترتيب المقابلة")
    meeting = meeting_decline(meeting=meeting, by=staff.executive, reason="لا يمكن ترتيب المقابلة")
    assert meeting.status == MeetingStatus.DECLINED
    assert meeting.events.get(kind="declined").data["by_office"] is True


def test_convert_into_an_ordinary_request(ministry, staff, sara, settled):
    meeting = submit(sara, [settled])
    request = meeting_convert(
        meeting=meeting, by=staff.central_agent, entity=ministry.riyadh, category=ministry.transfer
    )
    meeting.refresh_from_db()
    assert meeting.status == MeetingStatus.CONVERTED
    assert meeting.converted_request == request
    assert (request.beneficiary, request.entity, request.subject) == (
        sara,
        ministry.riyadh,
        meeting.subject,
    )
    assert request.description == SUMMARY
    submitted = request.events.get(kind="submitted")
    assert submitted.actor_user_id == staff.central_agent.pk
    event = meeting.events.get(kind="converted")
    assert event.data["tracking_number"] == request.tracking_number
    public = meeting_timeline(meeting, for_staff=False)
    assert public[-1].data == {"tracking_number": request.tracking_number}


def test_convert_failure_writes_nothing(ministry, staff, sara, settled):
    meeting = submit(sara, [settled])
    before = Request.objects.count()
    with pytest.raises(InvalidInput):
        meeting_convert(
            meeting=meeting,
            by=staff.central_agent,
            entity=ministry.riyadh,
            category=ministry.praise_only,
        )
    assert Request.objects.count() == before
    assert MeetingRequest.objects.get(pk=meeting.pk).status == MeetingStatus.SUBMITTED


# --- who may do what ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "outcome"),
    [
        ("central_agent", None),
        ("central_supervisor", None),
        ("executive", AccessDenied),  # the office sees the request but does not screen
        ("quality_officer", NotFound),
        ("riyadh_supervisor", NotFound),
        ("riyadh_admin", NotFound),
        ("outsider", NotFound),
    ],
)
def test_who_may_screen(staff, sara, settled, persona, outcome):
    meeting = submit(sara, [settled])
    user = getattr(staff, persona)
    if outcome is None:
        assert meeting_forward(meeting=meeting, by=user).status == MeetingStatus.FORWARDED
    else:
        with pytest.raises(outcome):
            meeting_forward(meeting=meeting, by=user)
        assert MeetingRequest.objects.get(pk=meeting.pk).status == MeetingStatus.SUBMITTED


@pytest.mark.parametrize(
    ("persona", "outcome"),
    [
        ("executive", None),
        ("central_agent", AccessDenied),  # screeners see it but do not decide
        ("riyadh_supervisor", NotFound),
        ("outsider", NotFound),
    ],
)
@pytest.mark.usefixtures("minister")
def test_who_may_decide(staff, sara, settled, persona, outcome):
    meeting = meeting_forward(meeting=submit(sara, [settled]), by=staff.central_agent)
    user = getattr(staff, persona)
    if outcome is None:
        assert meeting_approve(meeting=meeting, by=user).status == MeetingStatus.APPROVED
    else:
        with pytest.raises(outcome):
            meeting_approve(meeting=meeting, by=user)


@pytest.mark.usefixtures("minister")
def test_the_minister_office_setting_moves_the_deciders(settings, ministry, staff, sara, settled):
    settings.TAWASUL_MINISTER_OFFICE = ministry.university.code
    from tawasul.directory.models import Role, StaffGrant

    StaffGrant.objects.create(
        user=staff.university_agent, entity=ministry.university, role=Role.ADMINISTRATOR
    )
    meeting = meeting_forward(meeting=submit(sara, [settled]), by=staff.central_agent)
    assert (
        meeting_approve(meeting=meeting, by=staff.university_agent).status == MeetingStatus.APPROVED
    )


def test_staff_fetch_matrix(staff, sara, khalid, settled):
    meeting = submit(sara, [settled])
    number = meeting.tracking_number
    assert meeting_for_staff(staff.executive, tracking_number=number) == meeting
    assert meeting_for_staff(staff.central_agent, pk=meeting.pk) == meeting
    with pytest.raises(AccessDenied):
        meeting_for_staff(staff.central_agent, pk=meeting.pk, role="decide")
    for user in (staff.riyadh_agent, staff.makkah_agent, staff.outsider):
        with pytest.raises(NotFound):
            meeting_for_staff(user, tracking_number=number)
    with pytest.raises(NotFound):
        meeting_for_staff(staff.executive, tracking_number="not a number")
    with pytest.raises(NotFound):
        meeting_for_beneficiary(khalid, tracking_number=number)
    with pytest.raises(NotFound):
        meeting_withdraw(meeting=meeting, beneficiary=khalid)


def test_an_illegal_step_is_refused(staff, sara, settled, minister):
    meeting = submit(sara, [settled])
    with pytest.raises(IllegalTransition):
        meeting_approve(meeting=meeting, by=staff.executive)
    meeting = meeting_forward(meeting=meeting, by=staff.central_agent)
    with pytest.raises(IllegalTransition):
        meeting_forward(meeting=meeting, by=staff.central_agent)
    assert MeetingEvent.objects.filter(meeting=meeting, kind="forwarded").count() == 1


@pytest.mark.parametrize(("move", "status"), list(itertools.product(MeetingMove, MeetingStatus)))
def test_the_transition_table(move, status):
    expected = TRANSITIONS[move].get(status)
    if expected is None:
        with pytest.raises(IllegalTransition):
            meeting_next_status(move, status)
    else:
        assert meeting_next_status(move, status) == expected


def test_terminal_statuses_allow_nothing_but_what_the_table_says():
    for status in (MeetingStatus.DECLINED, MeetingStatus.CONVERTED, MeetingStatus.CANCELLED):
        assert not any(status in table for table in TRANSITIONS.values())


# --- service levels ----------------------------------------------------------------------------


def test_overdue_steps_are_flagged_once(staff, sara, settled):
    meeting = meeting_forward(meeting=submit(sara, [settled]), by=staff.central_agent)
    assert meeting_steps_flag_overdue(now=meeting.decision_due - dt.timedelta(minutes=1)) == 0
    later = meeting.decision_due + dt.timedelta(minutes=1)
    assert meeting_steps_flag_overdue(now=later) == 1
    assert meeting_steps_flag_overdue(now=later) == 0
    event = meeting.events.get(kind="step_overdue")
    assert (event.is_public, event.data["step"]) == (False, "decision")
    assert "step_overdue" not in [e.kind for e in meeting_timeline(meeting, for_staff=False)]


def test_events_are_append_only(sara, settled):
    meeting = submit(sara, [settled])
    event = meeting.events.get()
    with pytest.raises(TypeError):
        event.save()
    with pytest.raises(TypeError):
        MeetingEvent.objects.filter(pk=event.pk).update(is_public=False)
    with pytest.raises(TypeError):
        MeetingEvent.objects.filter(pk=event.pk).delete()
