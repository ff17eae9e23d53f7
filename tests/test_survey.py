"""The satisfaction survey by link: invitation after each answer, a signed, single-use,
expiring token, the public page, low ratings flagged to the supervisor, statistics."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.core.signing import TimestampSigner
from django.utils import timezone

from tawasul.cases.models import Event, EventKind
from tawasul.cases.services import (
    request_answer,
    request_claim,
    request_object,
    request_start,
    request_submit,
)
from tawasul.channels import sms
from tawasul.channels.delivery import outbox_drain
from tawasul.channels.models import OutboxChannel, OutboxMessage
from tawasul.feedback.models import SatisfactionResponse
from tawasul.feedback.selectors import satisfaction_stats
from tawasul.feedback.services import satisfaction_record
from tawasul.feedback.survey import survey_token

ANSWER = "The result was re-checked and has been published in Noor today."


def _answered(ministry, staff, beneficiary, *, agent=None, category=None):
    agent = agent or staff.riyadh_agent
    request = request_submit(
        beneficiary=beneficiary,
        kind="complaint",
        category=category or ministry.exams,
        subject="تأخر نتيجة الاختبار",
        description="لم تظهر نتيجة ابني في نظام نور حتى الآن",
        entity=ministry.riyadh,
    )
    request_claim(request=request, by=agent)
    request_start(request=request, by=agent)
    return request_answer(request=request, by=agent, resolution=ANSWER)


def _answer_event(request):
    return Event.objects.filter(request=request, kind=EventKind.ANSWERED).latest("created_at", "id")


def _path(request, **kwargs) -> str:
    return f"/survey/{survey_token(_answer_event(request), **kwargs)}/"


def _rate(client, path, *, score="4", resolved="yes", comment=""):
    return client.post(path, {"score": score, "resolved": resolved, "comment": comment})


# --- the invitation -----------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_an_answer_sends_a_survey_link_by_sms_that_opens_the_survey(
    client, ministry, staff, sara, channels_in_memory
):
    # Given Sara's request is answered
    request = _answered(ministry, staff, sara)

    # Then an invitation is queued for her, after the "answered" notice
    invitation = OutboxMessage.objects.get(request=request, template="survey_invitation")
    assert (invitation.channel, invitation.recipient) == (OutboxChannel.SMS, sara.mobile)

    # When the outbox is drained
    outbox_drain()

    # Then her last SMS carries the link, which opens the survey of that answer
    text = sms.outbox[-1].text
    url = text.split()[-1]
    assert url.startswith("https://tawasul.moe.example/survey/")
    assert request.tracking_display in text
    page = client.get(urlsplit(url).path)
    assert page.status_code == 200
    assert request.tracking_display in page.text
    assert ANSWER in page.text
    # and the sent row no longer holds the link
    invitation.refresh_from_db()
    assert "survey_url" not in invitation.context


@pytest.mark.django_db(transaction=True)
def test_an_english_speaker_gets_the_invitation_by_email_in_english(
    client, ministry, staff, khalid, channels_in_memory
):
    # Given Khalid (e-mail, English) is answered
    request = _answered(ministry, staff, khalid)

    # When the outbox is drained
    outbox_drain()

    # Then the survey e-mail links to the English survey page
    invitation = next(m for m in mail.outbox if "How was the answer" in m.subject)
    assert invitation.to == ["khalid@example.com"]
    assert request.tracking_display in invitation.subject
    url = next(word for word in invitation.body.split() if "/survey/" in word)
    assert urlsplit(url).path.startswith("/en/survey/")
    html = invitation.alternatives[0][0]
    assert url in html
    assert client.get(urlsplit(url).path).status_code == 200


# --- the page -----------------------------------------------------------------------------


def test_the_survey_page_is_arabic_by_default_and_english_on_request(client, ministry, staff, sara):
    # Given an answered request and its survey link
    request = _answered(ministry, staff, sara)
    path = _path(request)

    # When the page is opened without and with the English prefix
    arabic = client.get(path)
    english = client.get(f"/en{path}")

    # Then it is right-to-left Arabic, or English, and shows the request and its answer
    assert arabic.status_code == english.status_code == 200
    assert 'lang="ar" dir="rtl"' in arabic.text
    assert 'lang="en" dir="ltr"' in english.text
    assert "Rate the answer" in english.text
    assert "Did the answer resolve your request?" in english.text
    for page in (arabic, english):
        assert request.tracking_display in page.text
        assert ANSWER in page.text
        # labelled radio buttons for the scores 1-5 and yes/no; no inline script or style
        for score in range(1, 6):
            assert f'type="radio" name="score" value="{score}"' in page.text
        assert 'name="resolved" value="no"' in page.text
        assert "<script" not in page.text
        assert "style=" not in page.text
        assert "<style" not in page.text


def test_a_rating_is_stored_once_and_a_second_is_already_answered(client, ministry, staff, sara):
    # Given an answered request and its survey link
    request = _answered(ministry, staff, sara)
    path = _path(request)

    # When Sara rates through the link
    thanks = _rate(client, f"/en{path}", score="5", comment="  Clear and quick  ")

    # Then the rating is stored against that answer and she is thanked
    assert thanks.status_code == 200
    assert "Thank you for rating the answer" in thanks.text
    stored = SatisfactionResponse.objects.get()
    assert (stored.request_id, stored.answer_event_id) == (request.pk, _answer_event(request).pk)
    assert (stored.score, stored.resolved, stored.comment) == (5, True, "Clear and quick")

    # When the link is used again (opened or submitted)
    again = _rate(client, f"/en{path}", score="1")
    opened = client.get(f"/en{path}")

    # Then it is "already answered" and nothing changes
    assert again.status_code == opened.status_code == 409
    assert "already rated" in again.text
    assert SatisfactionResponse.objects.get().score == 5


def test_an_invalid_rating_shows_the_form_again(client, ministry, staff, sara):
    request = _answered(ministry, staff, sara)

    response = _rate(client, f"/en{_path(request)}", score="9", comment="x" * 1001)

    assert response.status_code == 400
    assert not SatisfactionResponse.objects.exists()


def test_an_expired_link_is_gone_with_a_clear_message(client, ministry, staff, sara, settings):
    # Given links issued 15 and 13 days ago, with links valid for 14 days
    settings.TAWASUL_SURVEY_TTL_DAYS = 14
    request = _answered(ministry, staff, sara)
    old = _path(request, issued_at=timezone.now() - timedelta(days=15))
    recent = _path(request, issued_at=timezone.now() - timedelta(days=13))

    # Then the old one is gone (410) for reading and rating; the recent one still works
    assert client.get(f"/en{old}").status_code == 410
    expired = _rate(client, f"/en{old}")
    assert expired.status_code == 410
    assert "This survey link has expired" in expired.text
    assert not SatisfactionResponse.objects.exists()
    assert client.get(f"/en{recent}").status_code == 200


def test_tampered_and_forged_links_are_not_found(client, ministry, staff, sara, khalid):
    # Given a genuine link, and the event id of another request's answer
    request = _answered(ministry, staff, sara)
    other = _answered(ministry, staff, khalid)
    token = survey_token(_answer_event(request))
    value, _sep, rest = token.partition(":")

    forged = [
        # another answer's id under this token's signature
        f"{_answer_event(other).pk}.{request.pk}:{rest}",
        # a flipped character in the signature
        token[:-1] + ("A" if token[-1] != "A" else "B"),
        # signed with the right key but another salt
        TimestampSigner(salt="tawasul.other").sign(value),
        # genuinely signed, but naming an answer of another request
        TimestampSigner(salt="tawasul.survey").sign(f"{_answer_event(other).pk}.{request.pk}"),
        "not-a-token",
    ]

    # Then every one of them is a bare 404, for reading and for rating
    for token in forged:
        assert client.get(f"/en/survey/{token}/").status_code == 404, token
        assert _rate(client, f"/en/survey/{token}/").status_code == 404, token
    assert not SatisfactionResponse.objects.exists()


def test_a_link_to_an_answer_the_beneficiary_objected_to_is_closed(client, ministry, staff, sara):
    # Given Sara objected to the answer instead of rating it
    request = _answered(ministry, staff, sara)
    path = _path(request)
    request_object(request=request, beneficiary=sara, reason="The result is still the old one.")

    # Then the survey link is closed (410), not an error
    response = client.get(f"/en{path}")
    assert response.status_code == 410
    assert "can no longer be rated" in response.text


# --- low ratings --------------------------------------------------------------------------


@pytest.fixture
def supervisor_email(staff):
    staff.riyadh_supervisor.email = "supervisor@riyadh.example"
    staff.riyadh_supervisor.save(update_fields=["email"])
    return staff.riyadh_supervisor.email


@pytest.mark.parametrize(("score", "resolved"), [("2", "yes"), ("1", "yes"), ("5", "no")])
def test_a_low_rating_flags_the_request_to_the_centre_supervisors(  # noqa: PLR0917
    client, ministry, staff, sara, supervisor_email, settings, score, resolved
):
    # Given low scores are 2 and below
    settings.TAWASUL_SURVEY_LOW_SCORE = 2
    request = _answered(ministry, staff, sara)

    # When Sara rates low or says the answer did not resolve her request
    assert _rate(client, _path(request), score=score, resolved=resolved).status_code == 200

    # Then an internal event is on the request and the supervisor gets an e-mail
    event = Event.objects.get(request=request, kind=EventKind.LOW_RATING)
    assert event.is_public is False
    assert event.data["score"] == int(score)
    assert event.data["resolved"] is (resolved == "yes")
    notice = OutboxMessage.objects.get(request=request, template="survey_low_rating")
    assert (notice.channel, notice.recipient) == (OutboxChannel.EMAIL, supervisor_email)


def test_a_good_rating_flags_nothing(client, ministry, staff, sara, supervisor_email):
    request = _answered(ministry, staff, sara)

    assert _rate(client, _path(request), score="3", resolved="yes").status_code == 200

    assert not Event.objects.filter(request=request, kind=EventKind.LOW_RATING).exists()
    assert not OutboxMessage.objects.filter(template="survey_low_rating").exists()


@pytest.mark.django_db(transaction=True)
def test_a_low_rating_in_the_portal_also_flags_and_the_email_renders(
    ministry, staff, sara, supervisor_email, channels_in_memory
):
    # Given an answered request
    request = _answered(ministry, staff, sara)

    # When Sara rates it 1 inside the portal (not through the link)
    satisfaction_record(request=request, beneficiary=sara, score=1, resolved=False)
    outbox_drain()

    # Then the supervisor is e-mailed about it
    assert Event.objects.filter(request=request, kind=EventKind.LOW_RATING).count() == 1
    sent = [m for m in mail.outbox if m.to == [supervisor_email]]
    assert len(sent) == 1
    assert request.tracking_display in sent[0].subject


# --- statistics ---------------------------------------------------------------------------


def test_satisfaction_statistics_by_centre_agent_category_and_month(ministry, staff, sara, khalid):
    # Given three rated answers: two by one agent (exams), one by another (transfer)
    first = _answered(ministry, staff, sara)
    second = _answered(ministry, staff, khalid)
    third = _answered(ministry, staff, sara, agent=staff.riyadh_agent2, category=ministry.transfer)
    satisfaction_record(request=first, beneficiary=sara, score=5, resolved=True)
    satisfaction_record(request=second, beneficiary=khalid, score=2, resolved=False)
    satisfaction_record(request=third, beneficiary=sara, score=4, resolved=True)
    _answered(ministry, staff, khalid)  # answered, not rated
    requests = first.__class__.objects.all()

    # When the statistics are read by each grouping
    by_centre = satisfaction_stats(requests=requests, group_by="centre")
    by_agent = {row["key"]: row for row in satisfaction_stats(requests=requests, group_by="agent")}
    by_category = {
        row["key"]: row for row in satisfaction_stats(requests=requests, group_by="category")
    }
    by_month = satisfaction_stats(requests=requests, group_by="month")

    # Then they count responses, average, distribution and resolved-rate per group
    assert len(by_centre) == 1
    centre = by_centre[0]
    assert centre["key"] == ministry.riyadh.pk
    assert centre["responses"] == 3
    assert centre["csat_average"] == pytest.approx(11 / 3)
    assert centre["distribution"] == {1: 0, 2: 1, 3: 0, 4: 1, 5: 1}
    assert centre["resolved_rate"] == pytest.approx(2 / 3)
    assert by_agent[staff.riyadh_agent.pk]["responses"] == 2
    assert by_agent[staff.riyadh_agent.pk]["csat_average"] == pytest.approx(3.5)
    assert by_agent[staff.riyadh_agent2.pk]["resolved_rate"] == 1
    assert by_category[ministry.transfer.pk]["distribution"][4] == 1
    assert by_category[ministry.exams.pk]["resolved_rate"] == pytest.approx(0.5)
    assert [row["responses"] for row in by_month] == [3]

    # And only the requests asked about are counted
    only_first = satisfaction_stats(requests=requests.filter(pk=first.pk), group_by="centre")
    assert only_first[0]["responses"] == 1


def test_satisfaction_statistics_refuse_an_unknown_grouping(db):
    from tawasul.cases.models import Request

    with pytest.raises(ValueError, match="group_by"):
        satisfaction_stats(requests=Request.objects.all(), group_by="region")
