"""Objections: the window, one per answer, an independent reviewer, both outcomes,
the auto-close and overdue sweeps, and the statistics."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tawasul.cases.models import Event, EventKind, Message, Priority, Request, Status
from tawasul.cases.services import (
    request_answer,
    request_claim,
    request_start,
    request_submit,
)
from tawasul.channels.models import OutboxMessage
from tawasul.core.errors import AccessDenied, Conflict
from tawasul.feedback.models import Objection, ObjectionOutcome
from tawasul.feedback.objections import (
    objection_file,
    objection_recourse_text,
    objection_reject,
    objection_uphold,
    objection_window_end,
)
from tawasul.feedback.selectors import objection_stats, objections_to_review
from tawasul.feedback.sweep import objection_close_expired, objection_notify_overdue
from tawasul.sla.business_time import business_minutes_add
from tawasul.sla.calendars import working_calendar_for_entity

REASON = "The answer does not explain why the result is missing."


def _submit(ministry, beneficiary, *, entity=None, subject="تأخر نتيجة الاختبار"):
    return request_submit(
        beneficiary=beneficiary,
        kind="complaint",
        category=ministry.exams,
        subject=subject,
        description="لم تظهر نتيجة ابني في نظام نور حتى الآن",
        entity=entity or ministry.riyadh,
    )


def _answered(ministry, staff, beneficiary, *, agent=None, **kwargs):
    agent = agent or staff.riyadh_agent
    request = _submit(ministry, beneficiary, **kwargs)
    request_claim(request=request, by=agent)
    request_start(request=request, by=agent)
    return request_answer(request=request, by=agent, resolution="The result is now published.")


def _backdate_answer(request: Request, *, days: int) -> Request:
    """Given: the answer was given `days` calendar days ago (test arrangement)."""
    at = timezone.now() - timedelta(days=days)
    Request.objects.filter(pk=request.pk).update(answered_at=at)
    return Request.objects.select_related("entity").get(pk=request.pk)


@pytest.fixture
def answered(ministry, staff, sara):
    return _answered(ministry, staff, sara)


# --- filing ---------------------------------------------------------------------------------


def test_an_objection_inside_the_window_is_filed_for_the_answering_centre(answered, sara, ministry):
    # When Sara objects right after the answer
    objection = objection_file(request=answered, beneficiary=sara, reason=REASON)

    # Then the request is objected and the objection waits for the Riyadh centre's review
    answered.refresh_from_db()
    assert answered.status == Status.OBJECTED
    assert objection.outcome == ObjectionOutcome.PENDING
    assert objection.reviewer_entity == ministry.riyadh
    assert objection.answer_event.kind == EventKind.ANSWERED
    # due 10 working days (the default objection-review target) later, in business time
    calendar = working_calendar_for_entity(ministry.riyadh)
    expected = business_minutes_add(calendar, objection.created_at, 10 * 420)
    assert abs((objection.review_due - expected).total_seconds()) < 120
    assert Event.objects.filter(request=answered, kind=EventKind.OBJECTED).count() == 1


def test_an_objection_after_the_window_is_refused(answered, sara):
    # Given the answer was given 30 days ago (well past 5 working days)
    old = _backdate_answer(answered, days=30)

    # When Sara objects, then it is refused and nothing changes
    with pytest.raises(Conflict) as refused:
        objection_file(request=old, beneficiary=sara, reason=REASON)
    assert refused.value.code == "objection_window_closed"
    old.refresh_from_db()
    assert old.status == Status.ANSWERED
    assert not Objection.objects.exists()


def test_the_window_ends_after_five_working_days_of_the_request_calendar(answered):
    # Given the answer's time and the request's calendar
    calendar = working_calendar_for_entity(answered.entity)

    # Then the window ends 2100 business minutes later
    assert objection_window_end(answered) == business_minutes_add(
        calendar, answered.answered_at, 2100
    )


def test_only_one_objection_per_answer(answered, sara, staff):
    # Given an objection upheld: the request was reopened, not answered again
    objection = objection_file(request=answered, beneficiary=sara, reason=REASON)
    objection_uphold(objection=objection, by=staff.riyadh_supervisor, note="Answer incomplete")

    # When Sara tries to object again to the same answer, then it is refused
    with pytest.raises(Conflict) as refused:
        objection_file(request=answered, beneficiary=sara, reason=REASON)
    assert refused.value.code == "already_objected"
    assert Objection.objects.count() == 1


def test_the_reviewer_may_be_the_parent_centre(settings, answered, sara, ministry):
    settings.TAWASUL_OBJECTION_REVIEWER = "parent"
    objection = objection_file(request=answered, beneficiary=sara, reason=REASON)
    # Riyadh's nearest centre above is the ministry's central centre
    assert objection.reviewer_entity == ministry.ministry


# --- deciding -------------------------------------------------------------------------------


def test_the_answerer_may_not_decide_the_objection(ministry, staff, sara):
    # Given the Riyadh supervisor wrote the answer himself
    request = _answered(ministry, staff, sara, agent=staff.riyadh_supervisor)
    objection = objection_file(request=request, beneficiary=sara, reason=REASON)

    # When he tries to uphold or reject, then it is refused
    with pytest.raises(AccessDenied) as refused:
        objection_uphold(objection=objection, by=staff.riyadh_supervisor, note="Fine")
    assert refused.value.code == "reviewer_is_answerer"
    with pytest.raises(AccessDenied):
        objection_reject(
            objection=objection, by=staff.riyadh_supervisor, justification="The answer was right."
        )
    # and the queue does not... still list it (he may see it), but the central supervisor decides
    objection_reject(
        objection=objection, by=staff.central_supervisor, justification="The answer was right."
    )
    objection.refresh_from_db()
    assert objection.outcome == ObjectionOutcome.REJECTED


def test_an_agent_may_not_decide(answered, sara, staff):
    objection = objection_file(request=answered, beneficiary=sara, reason=REASON)
    with pytest.raises(AccessDenied):
        objection_uphold(objection=objection, by=staff.riyadh_agent2, note="Fine")


def test_a_centre_supervisor_may_not_decide_when_the_parent_reviews(
    settings, answered, sara, staff
):
    settings.TAWASUL_OBJECTION_REVIEWER = "parent"
    objection = objection_file(request=answered, beneficiary=sara, reason=REASON)
    with pytest.raises(AccessDenied):
        objection_uphold(objection=objection, by=staff.riyadh_supervisor, note="Fine")
    assert list(objections_to_review(staff.riyadh_supervisor)) == []
    assert list(objections_to_review(staff.central_supervisor)) == [objection]


def test_upholding_reopens_with_a_new_target_a_higher_priority_and_tells_the_beneficiary(
    answered, sara, staff
):
    # Given an objection on an answer whose resolution target has passed
    objection = objection_file(request=answered, beneficiary=sara, reason=REASON)
    old_due = timezone.now() - timedelta(days=1)
    Request.objects.filter(pk=answered.pk).update(resolution_due=old_due)

    # When the supervisor upholds it and reassigns to another agent
    objection_uphold(
        objection=objection,
        by=staff.riyadh_supervisor,
        note="The answer skipped the re-check.",
        reassign_to=staff.riyadh_agent2,
    )

    # Then the request is back in progress, with a new target and a higher priority
    request = Request.objects.get(pk=answered.pk)
    assert request.status == Status.IN_PROGRESS
    assert request.priority == Priority.HIGH
    assert request.assignee_id == staff.riyadh_agent2.pk
    assert request.resolution_due is not None
    assert request.resolution_due > old_due
    assert request.answered_at is None
    assert request.sla_resolution_state == "running"
    kinds = list(request.events.values_list("kind", flat=True))
    assert EventKind.REOPENED in kinds
    assert EventKind.REPRIORITISED in kinds
    assert EventKind.SLA_RESTARTED in kinds
    # and the objection is upheld by the supervisor
    objection.refresh_from_db()
    assert objection.outcome == ObjectionOutcome.UPHELD
    assert objection.decided_by_id == staff.riyadh_supervisor.pk
    assert objection.decided_at is not None
    # and Sara is told
    assert OutboxMessage.objects.filter(request=request, template="objection_upheld").count() == 1


def test_a_decided_objection_cannot_be_decided_again(answered, sara, staff):
    objection = objection_file(request=answered, beneficiary=sara, reason=REASON)
    objection_uphold(objection=objection, by=staff.riyadh_supervisor, note="Incomplete")
    with pytest.raises(Conflict):
        objection_reject(
            objection=objection, by=staff.central_supervisor, justification="The answer was right."
        )


def test_rejecting_closes_with_the_justification_and_recourse_shown_to_the_beneficiary(
    answered, sara, staff
):
    objection = objection_file(request=answered, beneficiary=sara, reason=REASON)

    # When the supervisor rejects it with a justification
    objection_reject(
        objection=objection,
        by=staff.riyadh_supervisor,
        justification="The result was verified against the school's records.",
    )

    # Then the request is closed and the last public message holds both texts
    request = Request.objects.get(pk=answered.pk)
    assert request.status == Status.CLOSED
    message = Message.objects.filter(request=request, visibility="public").latest("id")
    assert "verified against the school's records" in message.body
    assert objection_recourse_text(sara.language) in message.body
    event = request.events.get(kind=EventKind.OBJECTION_REJECTED)
    assert event.is_public
    objection.refresh_from_db()
    assert objection.outcome == ObjectionOutcome.REJECTED
    assert OutboxMessage.objects.filter(request=request, template="objection_rejected").count() == 1


# --- sweeps ---------------------------------------------------------------------------------


def test_auto_close_closes_only_expired_windows_exactly_once(ministry, staff, sara, khalid):
    # Given one answer 30 days old and one answer given just now
    expired = _backdate_answer(_answered(ministry, staff, sara), days=30)
    fresh = _answered(ministry, staff, khalid)

    # When the sweep runs twice
    first = objection_close_expired()
    second = objection_close_expired()

    # Then only the expired one is closed, once
    assert (first.closed, second.closed) == (1, 0)
    assert Request.objects.get(pk=expired.pk).status == Status.CLOSED
    assert Request.objects.get(pk=fresh.pk).status == Status.ANSWERED
    assert Event.objects.filter(kind=EventKind.CLOSED_ON_EXPIRY).count() == 1


def test_auto_close_counts_business_time_not_calendar_time(ministry, staff, sara):
    # Given an answer whose window ends at a known instant
    request = _answered(ministry, staff, sara)
    end = objection_window_end(request)
    assert end is not None

    # When the sweep runs one minute before, nothing closes; at the end, it closes
    assert objection_close_expired(now=end - timedelta(minutes=1)).closed == 0
    assert objection_close_expired(now=end).closed == 1


def test_auto_close_leaves_objected_requests(answered, sara):
    objection_file(request=answered, beneficiary=sara, reason=REASON)
    later = timezone.now() + timedelta(days=60)
    assert objection_close_expired(now=later).closed == 0
    assert Request.objects.get(pk=answered.pk).status == Status.OBJECTED


def test_overdue_objections_notify_the_reviewers_once(answered, sara, staff):
    staff.riyadh_supervisor.email = "sup@riyadh.example"
    staff.riyadh_supervisor.save(update_fields=["email"])
    objection = objection_file(request=answered, beneficiary=sara, reason=REASON)

    # Before the due date: nothing; after it, one notice, and never again
    assert objection_notify_overdue(now=objection.review_due - timedelta(minutes=1)) == 0
    after = objection.review_due + timedelta(minutes=1)
    assert objection_notify_overdue(now=after) == 1
    assert objection_notify_overdue(now=after) == 0
    notices = OutboxMessage.objects.filter(template="objection_overdue")
    assert list(notices.values_list("recipient", flat=True)) == ["sup@riyadh.example"]


# --- statistics ----------------------------------------------------------------------------


def test_objection_stats_by_agent_and_centre(
    ministry, staff, sara, khalid, django_assert_max_num_queries
):
    # Given three answers by the Riyadh agent, two objected, one of them upheld
    a = _answered(ministry, staff, sara)
    b = _answered(ministry, staff, sara)
    _answered(ministry, staff, khalid)
    objection_uphold(
        objection=objection_file(request=a, beneficiary=sara, reason=REASON),
        by=staff.riyadh_supervisor,
        note="Incomplete",
    )
    objection_reject(
        objection=objection_file(request=b, beneficiary=sara, reason=REASON),
        by=staff.riyadh_supervisor,
        justification="The answer was complete and correct.",
    )
    # and one Makkah answer with no objection
    _answered(ministry, staff, sara, agent=staff.makkah_agent, entity=ministry.makkah)

    # When the statistics are read by agent
    with django_assert_max_num_queries(1):
        by_agent = {
            row["key"]: row
            for row in objection_stats(requests=Request.objects.all(), group_by="agent")
        }

    # Then the Riyadh agent has 3 answers, 2 objections (2/3), 1 upheld of 2 decided
    riyadh = by_agent[staff.riyadh_agent.pk]
    assert (riyadh["answered"], riyadh["objections"], riyadh["upheld"]) == (3, 2, 1)
    assert riyadh["objection_rate"] == pytest.approx(2 / 3)
    assert riyadh["upheld_rate"] == pytest.approx(0.5)
    makkah = by_agent[staff.makkah_agent.pk]
    assert (makkah["answered"], makkah["objections"], makkah["upheld_rate"]) == (1, 0, None)

    by_centre = {
        row["key"]: row["objections"]
        for row in objection_stats(requests=Request.objects.all(), group_by="centre")
    }
    assert by_centre == {ministry.riyadh.pk: 2, ministry.makkah.pk: 0}
    months = objection_stats(requests=Request.objects.all(), group_by="month")
    assert sum(row["answered"] for row in months) == 4
    by_category = objection_stats(requests=Request.objects.all(), group_by="category")
    assert [(row["key"], row["objections"]) for row in by_category] == [(ministry.exams.pk, 2)]


def test_the_assignment_after_uphold_must_be_someone_who_can_work(answered, sara, staff):
    from tawasul.core.errors import InvalidInput

    objection = objection_file(request=answered, beneficiary=sara, reason=REASON)
    with pytest.raises(InvalidInput):
        objection_uphold(
            objection=objection,
            by=staff.riyadh_supervisor,
            note="Incomplete",
            reassign_to=staff.makkah_agent,
        )
    # the whole decision rolled back
    objection.refresh_from_db()
    assert objection.outcome == ObjectionOutcome.PENDING
    assert Request.objects.get(pk=answered.pk).status == Status.OBJECTED
