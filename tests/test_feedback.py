"""Satisfaction: a beneficiary rates an answer to their own request, once per answer."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from tawasul.cases.models import Event, EventKind
from tawasul.cases.services import (
    request_accept,
    request_answer,
    request_claim,
    request_object,
    request_reopen,
    request_start,
    request_submit,
)
from tawasul.core.errors import Conflict, InvalidInput, NotFound
from tawasul.feedback.models import SatisfactionResponse
from tawasul.feedback.selectors import satisfaction_answer_to_rate
from tawasul.feedback.services import satisfaction_record


@pytest.fixture
def submitted(ministry, sara):
    return request_submit(
        beneficiary=sara,
        kind="complaint",
        category=ministry.exams,
        subject="تأخر نتيجة الاختبار",
        description="لم تظهر نتيجة ابني في نظام نور حتى الآن",
        entity=ministry.riyadh,
    )


def _answer(request, agent, text="The result was re-checked and published today."):
    return request_answer(request=request, by=agent, resolution=text)


@pytest.fixture
def answered(submitted, staff):
    request_claim(request=submitted, by=staff.riyadh_agent)
    request_start(request=submitted, by=staff.riyadh_agent)
    return _answer(submitted, staff.riyadh_agent)


def _answer_event(request):
    return Event.objects.filter(request=request, kind=EventKind.ANSWERED).latest("created_at", "id")


def test_the_beneficiary_rates_the_answer(answered, sara):
    # When Sara rates the answer to her request
    response = satisfaction_record(
        request=answered, beneficiary=sara, score=4, resolved=True, comment="  Quick, thank you  "
    )

    # Then one response is stored against that answer
    stored = SatisfactionResponse.objects.get()
    assert stored.pk == response.pk
    assert stored.request_id == answered.pk
    assert stored.answer_event_id == _answer_event(answered).pk
    assert (stored.score, stored.resolved, stored.comment) == (4, True, "Quick, thank you")
    assert stored.created_at is not None


def test_a_closed_request_can_still_be_rated_after_its_answer(answered, sara):
    # Given Sara accepted the answer (the request is closed)
    request_accept(request=answered, beneficiary=sara)

    # When she rates it
    satisfaction_record(request=answered, beneficiary=sara, score=5, resolved=True)

    # Then the rating is recorded
    assert SatisfactionResponse.objects.get().score == 5


def test_an_answer_is_rated_only_once(answered, sara):
    # Given Sara rated the answer
    satisfaction_record(request=answered, beneficiary=sara, score=2, resolved=False)

    # When she tries again
    with pytest.raises(Conflict) as error:
        satisfaction_record(request=answered, beneficiary=sara, score=5, resolved=True)

    # Then she is told so, and the first rating stands alone
    assert error.value.code == "already_rated"
    assert list(SatisfactionResponse.objects.values_list("score", flat=True)) == [2]
    assert satisfaction_answer_to_rate(answered) is None


def test_a_request_without_an_answer_cannot_be_rated(submitted, sara):
    with pytest.raises(Conflict) as error:
        satisfaction_record(request=submitted, beneficiary=sara, score=3, resolved=False)

    assert error.value.code == "not_answered"
    assert not SatisfactionResponse.objects.exists()


def test_an_objected_answer_is_not_rated_while_under_review(answered, sara):
    # Given Sara objected to the answer
    request_object(request=answered, beneficiary=sara, reason="The answer ignores my question.")

    # Then there is nothing to rate until a new outcome
    with pytest.raises(Conflict):
        satisfaction_record(request=answered, beneficiary=sara, score=1, resolved=False)
    assert not SatisfactionResponse.objects.exists()


def test_a_new_answer_after_reopening_can_be_rated_again(answered, sara, staff):
    # Given Sara rated the first answer, objected, and the request was answered again
    satisfaction_record(request=answered, beneficiary=sara, score=1, resolved=False)
    request_object(request=answered, beneficiary=sara, reason="The answer ignores my question.")
    request_reopen(request=answered, by=staff.riyadh_supervisor, reason="Objection upheld")
    _answer(answered, staff.riyadh_agent, "A second, complete answer to your question.")

    # When she rates the second answer
    satisfaction_record(request=answered, beneficiary=sara, score=5, resolved=True)

    # Then each answer has its own rating
    answers = Event.objects.filter(request=answered, kind=EventKind.ANSWERED).order_by("id")
    assert [SatisfactionResponse.objects.get(answer_event=answer).score for answer in answers] == [
        1,
        5,
    ]


def test_someone_else_s_request_is_not_found(answered, khalid):
    with pytest.raises(NotFound):
        satisfaction_record(request=answered, beneficiary=khalid, score=5, resolved=True)

    assert not SatisfactionResponse.objects.exists()


@pytest.mark.parametrize("score", [0, 6, -1, "5", 4.5, True, None])
def test_a_score_outside_1_to_5_is_refused(answered, sara, score):
    with pytest.raises(InvalidInput) as error:
        satisfaction_record(request=answered, beneficiary=sara, score=score, resolved=True)

    assert error.value.details["field"] == "score"
    assert not SatisfactionResponse.objects.exists()


def test_a_comment_longer_than_1000_characters_is_refused(answered, sara):
    with pytest.raises(InvalidInput) as error:
        satisfaction_record(
            request=answered, beneficiary=sara, score=3, resolved=True, comment="x" * 1001
        )

    assert error.value.details["field"] == "comment"
    assert not SatisfactionResponse.objects.exists()


def test_a_comment_of_exactly_1000_characters_is_kept(answered, sara):
    satisfaction_record(
        request=answered, beneficiary=sara, score=3, resolved=True, comment="x" * 1000
    )

    assert len(SatisfactionResponse.objects.get().comment) == 1000


def test_the_database_refuses_a_score_out_of_range_and_a_second_row_per_answer(answered):
    # The constraints hold even for a write that bypasses the service
    answer = _answer_event(answered)
    with pytest.raises(IntegrityError), transaction.atomic():
        SatisfactionResponse.objects.create(
            request=answered, answer_event=answer, score=9, resolved=True
        )
    SatisfactionResponse.objects.create(
        request=answered, answer_event=answer, score=3, resolved=True
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        SatisfactionResponse.objects.create(
            request=answered, answer_event=answer, score=4, resolved=True
        )


def test_the_rating_writes_no_event(answered, sara):
    before = Event.objects.filter(request=answered).count()

    satisfaction_record(request=answered, beneficiary=sara, score=4, resolved=True)

    assert Event.objects.filter(request=answered).count() == before


# --- admin ----------------------------------------------------------------------------


def test_staff_see_ratings_of_their_entities_read_only(client, answered, sara, staff):
    # Given a rating of a Riyadh request
    satisfaction_record(request=answered, beneficiary=sara, score=4, resolved=True)
    url = "/en/admin/feedback/satisfactionresponse/"
    for user in (staff.riyadh_supervisor, staff.makkah_agent):
        user.is_staff = True
        user.save(update_fields=["is_staff"])

    # When the Riyadh supervisor opens the list, they see it, with no way to add one
    client.force_login(staff.riyadh_supervisor)
    page = client.get(url)
    assert page.status_code == 200
    assert answered.tracking_display in page.content.decode()
    assert client.get(f"{url}add/").status_code == 403

    # And a Makkah agent does not see it
    client.force_login(staff.makkah_agent)
    page = client.get(url)
    assert page.status_code == 200
    assert answered.tracking_display not in page.content.decode()
