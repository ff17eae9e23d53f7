"""Quality review: the weekly sample, the review rules, the weighted total, what an agent
sees, calibration agreement, the summary, and the console screens."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from tawasul.cases.models import Event, EventKind
from tawasul.cases.services import request_answer, request_claim, request_start, request_submit
from tawasul.core.errors import AccessDenied, Conflict, InvalidInput, NotFound
from tawasul.directory import access
from tawasul.feedback.models import QualityCriterion, QualityReview, QualitySample, SampleReason
from tawasul.feedback.objections import objection_file
from tawasul.feedback.quality import (
    iso_week,
    quality_review_record,
    quality_rubric_ensure,
    quality_sample_previous_week,
    quality_sample_week,
)
from tawasul.feedback.selectors import (
    calibration_agreement,
    quality_reviews_of_agent,
    quality_summary,
)
from tawasul.feedback.services import satisfaction_record

CODES = ["accuracy", "completeness", "clarity", "courtesy", "language", "timeliness"]


def _answer(ministry, beneficiary, agent, *, entity=None):
    request = request_submit(
        beneficiary=beneficiary,
        kind="complaint",
        category=ministry.exams,
        subject="تأخر نتيجة الاختبار",
        description="لم تظهر نتيجة ابني في نظام نور حتى الآن",
        entity=entity or ministry.riyadh,
    )
    request_claim(request=request, by=agent)
    request_start(request=request, by=agent)
    answered = request_answer(request=request, by=agent, resolution="The result is now published.")
    return Event.objects.filter(request=answered, kind=EventKind.ANSWERED).latest("id")


def _this_week():
    today = timezone.localdate()
    return today - timedelta(days=today.weekday())


def _all(score, **overrides):
    return {code: overrides.get(code, score) for code in CODES}


@pytest.fixture(autouse=True)
def _rubric(db):
    """The migration's seed rows do not survive another test's table flush: ensure them."""
    quality_rubric_ensure()


@pytest.fixture
def answer(ministry, staff, sara):
    return _answer(ministry, sara, staff.riyadh_agent)


# --- sampling -------------------------------------------------------------------------------


def test_the_rubric_starts_with_six_equally_weighted_criteria(db):
    criteria = list(QualityCriterion.objects.filter(active=True))
    assert [c.code for c in criteria] == CODES
    assert {c.weight for c in criteria} == {1}


def test_the_random_share_is_deterministic_with_a_seed(ministry, staff, sara):
    # Given five answers this week in Riyadh
    for _ in range(5):
        _answer(ministry, sara, staff.riyadh_agent)

    # When the week is sampled at 40 % with seed 7, twice from scratch
    added = quality_sample_week(week_start=_this_week(), percent=40, seed=7)
    first = set(QualitySample.objects.values_list("answer_event_id", flat=True))
    QualitySample.objects.all().delete()  # test arrangement: start over
    quality_sample_week(week_start=_this_week(), percent=40, seed=7)
    second = set(QualitySample.objects.values_list("answer_event_id", flat=True))

    # Then 40 % of five (two) answers were picked at random, the same two both times
    assert added == 2
    assert first == second
    sample = QualitySample.objects.first()
    assert sample.reason == SampleReason.RANDOM
    assert sample.centre == ministry.riyadh
    assert sample.week == iso_week(_this_week())


def test_every_objected_and_low_rated_answer_is_sampled(ministry, staff, sara, khalid):
    # Given one answer objected to, one rated 2, one rated 5, one left alone
    objected = _answer(ministry, sara, staff.riyadh_agent)
    objection_file(request=objected.request, beneficiary=sara, reason="The answer is wrong here.")
    low = _answer(ministry, khalid, staff.riyadh_agent)
    satisfaction_record(request=low.request, beneficiary=khalid, score=2, resolved=False)
    high = _answer(ministry, khalid, staff.riyadh_agent2)
    satisfaction_record(request=high.request, beneficiary=khalid, score=5, resolved=True)
    _answer(ministry, sara, staff.riyadh_agent2)

    # When the week is sampled with no random share
    quality_sample_week(week_start=_this_week(), percent=0)

    # Then exactly the objected and the low-rated answers are in the sample
    assert dict(QualitySample.objects.values_list("answer_event_id", "reason")) == {
        objected.pk: SampleReason.OBJECTED,
        low.pk: SampleReason.LOW_RATED,
    }


def test_sampling_a_week_twice_adds_nothing(ministry, staff, sara):
    for _ in range(3):
        _answer(ministry, sara, staff.riyadh_agent)
    _answer(ministry, sara, staff.makkah_agent, entity=ministry.makkah)
    first = quality_sample_week(week_start=_this_week(), percent=50)

    second = quality_sample_week(week_start=_this_week(), percent=50)

    # per centre: ceil(50 % of 3) = 2 in Riyadh, ceil(50 % of 1) = 1 in Makkah
    assert first == 3
    assert second == 0
    assert QualitySample.objects.count() == 3


def test_the_weekly_job_samples_the_previous_week(answer):
    # When the Sunday job runs on the Sunday that ends the next ISO week (Monday-based)
    added = quality_sample_previous_week(today=_this_week() + timedelta(days=13))

    # Then the last complete week's answer is sampled (at the default 10 %, one of one)
    assert added == 1
    assert QualitySample.objects.get().answer_event == answer


def test_answers_of_another_week_are_not_sampled(answer):
    quality_sample_week(week_start=_this_week() - timedelta(days=7), percent=100)
    assert not QualitySample.objects.exists()


# --- reviewing ------------------------------------------------------------------------------


def test_a_quality_officer_reviews_an_answer_and_gets_the_weighted_total(answer, staff):
    # Given accuracy weighs three times the other criteria
    QualityCriterion.objects.filter(code="accuracy").update(weight=3)

    # When the officer gives accuracy 5 and every other criterion 1
    review = quality_review_record(
        answer_event=answer, by=staff.quality_officer, scores=_all(1, accuracy=5), comment="Good."
    )

    # Then the total is (3 × 4 + 5 × 0) / 8 / 4 × 100 = 37.5
    assert review.total == Decimal("37.50")
    assert review.scores.count() == 6
    assert review.request == answer.request


def test_equal_scores_give_the_matching_total(answer, staff):
    review = quality_review_record(answer_event=answer, by=staff.riyadh_supervisor, scores=_all(3))
    assert review.total == Decimal("50.00")


def test_an_agent_may_not_review(answer, staff):
    with pytest.raises(AccessDenied):
        quality_review_record(answer_event=answer, by=staff.riyadh_agent2, scores=_all(4))


def test_staff_out_of_reach_do_not_find_the_answer(answer, staff):
    with pytest.raises(NotFound):
        quality_review_record(answer_event=answer, by=staff.makkah_agent, scores=_all(4))


def test_the_answerer_may_not_review_their_own_answer(ministry, staff, sara):
    own = _answer(ministry, sara, staff.riyadh_supervisor)
    with pytest.raises(AccessDenied) as error:
        quality_review_record(answer_event=own, by=staff.riyadh_supervisor, scores=_all(5))
    assert error.value.code == "own_answer"


@pytest.mark.parametrize(
    "scores",
    [
        dict.fromkeys(CODES[:-1], 4),  # one criterion missing
        _all(4, clarity=6),
        _all(4, clarity=0),
        {**_all(4), "spelling": 4},  # not a criterion
    ],
)
def test_every_active_criterion_must_be_scored_1_to_5(answer, staff, scores):
    with pytest.raises(InvalidInput):
        quality_review_record(answer_event=answer, by=staff.quality_officer, scores=scores)
    assert not QualityReview.objects.exists()


def test_an_inactive_criterion_is_not_scored(answer, staff):
    QualityCriterion.objects.filter(code="timeliness").update(active=False)
    review = quality_review_record(
        answer_event=answer, by=staff.quality_officer, scores=dict.fromkeys(CODES[:-1], 5)
    )
    assert review.total == Decimal("100.00")


def test_an_officer_reviews_an_answer_once(answer, staff):
    quality_review_record(answer_event=answer, by=staff.quality_officer, scores=_all(4))
    with pytest.raises(Conflict):
        quality_review_record(answer_event=answer, by=staff.quality_officer, scores=_all(2))
    assert QualityReview.objects.count() == 1


def test_an_agent_sees_the_reviews_of_their_own_answers_only(ministry, staff, sara, answer):
    other = _answer(ministry, sara, staff.riyadh_agent2)
    mine = quality_review_record(answer_event=answer, by=staff.quality_officer, scores=_all(4))
    quality_review_record(answer_event=other, by=staff.quality_officer, scores=_all(2))

    assert list(quality_reviews_of_agent(staff.riyadh_agent)) == [mine]


# --- calibration and summary ----------------------------------------------------------------


def test_calibration_agreement_compares_two_officers(ministry, staff, sara, answer):
    # Given two officers score the same answer in round 1, differing on accuracy only
    quality_review_record(
        answer_event=answer, by=staff.quality_officer, scores=_all(5), calibration_group=1
    )
    quality_review_record(
        answer_event=answer,
        by=staff.central_supervisor,
        scores=_all(5, accuracy=4),
        calibration_group=1,
    )
    # and an answer only one officer scored in that round
    single = _answer(ministry, sara, staff.riyadh_agent2)
    quality_review_record(
        answer_event=single, by=staff.quality_officer, scores=_all(3), calibration_group=1
    )

    result = calibration_agreement(1)

    # Then only the doubly scored answer is compared: totals 100 and 95.83, 5 of 6 identical
    assert [a["answer_event"] for a in result["answers"]] == [answer.pk]
    row = result["answers"][0]
    assert row["total_difference"] == pytest.approx(100 - 95.83)
    assert row["identical_share"] == pytest.approx(5 / 6)
    assert sorted(r["total"] for r in row["reviews"]) == [95.83, 100.0]
    assert result["total_difference"] == pytest.approx(4.17)


def test_quality_summary_per_agent_in_two_queries(
    ministry, staff, sara, answer, django_assert_max_num_queries
):
    other = _answer(ministry, sara, staff.riyadh_agent2)
    third = _answer(ministry, sara, staff.riyadh_agent)
    quality_review_record(answer_event=answer, by=staff.quality_officer, scores=_all(5))
    quality_review_record(answer_event=third, by=staff.quality_officer, scores=_all(3))
    quality_review_record(answer_event=other, by=staff.quality_officer, scores=_all(1))
    requests = access.requests_for(staff.riyadh_supervisor)

    with django_assert_max_num_queries(2):
        rows = quality_summary(group_by="agent", requests=requests)

    by_agent = {row["key"]: row for row in rows}
    assert by_agent[staff.riyadh_agent.pk]["reviews"] == 2
    assert by_agent[staff.riyadh_agent.pk]["average"] == pytest.approx(75.0)
    assert by_agent[staff.riyadh_agent.pk]["criteria"]["clarity"] == pytest.approx(4.0)
    assert by_agent[staff.riyadh_agent2.pk]["average"] == pytest.approx(0.0)
    centres = quality_summary(group_by="centre", requests=access.requests_for(staff.makkah_agent))
    assert centres == []


# --- console --------------------------------------------------------------------------------


@pytest.fixture
def sample(answer):
    quality_sample_week(week_start=_this_week(), percent=100)
    return QualitySample.objects.get(answer_event=answer)


def test_the_officer_sees_the_sample_queue(client, staff, sample):
    client.force_login(staff.quality_officer)
    response = client.get(reverse("console:quality"))
    assert response.status_code == 200
    assert f'data-sample="{sample.pk}"' in response.content.decode()


def test_an_agent_may_not_open_the_sample_queue_or_a_sample(client, staff, sample):
    client.force_login(staff.riyadh_agent2)
    assert client.get(reverse("console:quality")).status_code == 403
    assert client.get(reverse("console:quality_score", args=[sample.pk])).status_code == 404


def test_a_sample_out_of_reach_is_not_found(client, staff, ministry, sample):
    client.force_login(staff.makkah_agent)
    assert client.get(reverse("console:quality_score", args=[sample.pk])).status_code == 404


def test_the_officer_scores_a_sample_through_the_form(client, staff, sample):
    client.force_login(staff.quality_officer)
    url = reverse("console:quality_score", args=[sample.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert "The result is now published." in page.content.decode()

    data = {f"score_{code}": "4" for code in CODES} | {"comment": "Clear and kind."}
    response = client.post(url, data)

    assert response.status_code == 302
    review = QualityReview.objects.get()
    assert review.total == Decimal("75.00")
    assert review.reviewer == staff.quality_officer
    # the sample has left the queue
    assert (
        f'data-sample="{sample.pk}"' not in client.get(reverse("console:quality")).content.decode()
    )


def test_a_form_with_a_missing_score_is_refused(client, staff, sample):
    client.force_login(staff.quality_officer)
    data = {f"score_{code}": "4" for code in CODES[1:]}
    response = client.post(reverse("console:quality_score", args=[sample.pk]), data)
    assert response.status_code == 400
    assert not QualityReview.objects.exists()


def test_the_answerer_is_refused_on_the_scoring_form(client, ministry, staff, sara):
    own = _answer(ministry, sara, staff.riyadh_supervisor)
    quality_sample_week(week_start=_this_week(), percent=100)
    sample = QualitySample.objects.get(answer_event=own)
    client.force_login(staff.riyadh_supervisor)
    data = {f"score_{code}": "5" for code in CODES}
    response = client.post(reverse("console:quality_score", args=[sample.pk]), data)
    assert response.status_code == 403
    assert not QualityReview.objects.exists()


def test_the_agent_page_shows_scores_and_comment_without_the_reviewer(client, staff, answer):
    quality_review_record(
        answer_event=answer, by=staff.quality_officer, scores=_all(4), comment="Add the date."
    )
    client.force_login(staff.riyadh_agent)
    body = client.get(reverse("console:quality_mine")).content.decode()
    assert "Add the date." in body
    assert "quality_officer" not in body
    client.force_login(staff.riyadh_agent2)
    assert "Add the date." not in client.get(reverse("console:quality_mine")).content.decode()


def test_the_calibration_page_shows_the_round(client, staff, answer):
    for officer in (staff.quality_officer, staff.central_supervisor):
        quality_review_record(answer_event=answer, by=officer, scores=_all(4), calibration_group=3)
    client.force_login(staff.quality_officer)
    response = client.get(reverse("console:quality_calibration"), {"group": 3})
    assert response.status_code == 200
    assert f'data-answer="{answer.pk}"' in response.content.decode()
    client.force_login(staff.riyadh_agent)
    assert client.get(reverse("console:quality_calibration")).status_code == 403


def test_the_summary_shows_quality_beside_satisfaction_and_objections(
    client, staff, sara, answer, django_assert_max_num_queries
):
    satisfaction_record(request=answer.request, beneficiary=sara, score=4, resolved=True)
    quality_review_record(answer_event=answer, by=staff.quality_officer, scores=_all(5))
    client.force_login(staff.riyadh_supervisor)
    with translation.override("en"):
        url = reverse("console:quality_summary")
    with django_assert_max_num_queries(20):
        response = client.get(url)
    assert response.status_code == 200
    body = response.content.decode()
    assert f'data-key="{staff.riyadh_agent.pk}"' in body
    assert "100.0" in body
    client.force_login(staff.makkah_agent)
    assert (
        f'data-key="{staff.riyadh_agent.pk}"'
        not in client.get(reverse("console:quality_summary")).content.decode()
    )


def test_anonymous_users_are_sent_to_sign_in(client, sample):
    response = client.get(reverse("console:quality"))
    assert response.status_code == 302
    assert reverse("console:login") in response["Location"]


def test_users_without_a_grant_get_403(client, staff):
    client.force_login(staff.outsider)
    assert client.get(reverse("console:quality_summary")).status_code == 403
