"""My requests and the request page: the beneficiary sees only their own requests and
the public side of them, and every action goes through its service or is refused
with the service's message (409 / 400), changing nothing."""

from __future__ import annotations

import re

import pytest
from django.core.files.base import ContentFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tawasul.cases.attachments import attachment_check, attachment_store
from tawasul.cases.models import Attachment, Message, Request, Status
from tawasul.cases.services import (
    request_accept,
    request_answer,
    request_ask_beneficiary,
    request_cancel,
    request_claim,
    request_note,
    request_object,
    request_reply,
    request_start,
    request_submit,
)
from tawasul.feedback.models import SatisfactionResponse
from tawasul.portal.session import BENEFICIARY_KEY

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
NOTE = "Internal: the school principal was slow to reply, chase him."
ANSWER = "The result was re-checked and has been published in Noor today."


def _sign_in(client, beneficiary):
    session = client.session
    session[BENEFICIARY_KEY] = beneficiary.pk
    session.save()


def _submit(ministry, beneficiary, subject="تأخر نتيجة الاختبار", kind="complaint", files=()):
    return request_submit(
        beneficiary=beneficiary,
        kind=kind,
        category=ministry.exams,
        subject=subject,
        description="لم تظهر نتيجة ابني في نظام نور حتى الآن",
        entity=ministry.riyadh,
        attachments=[attachment_check(name=name, content=content) for name, content in files],
    )


def _in_progress(request, staff):
    request_claim(request=request, by=staff.riyadh_agent)
    return request_start(request=request, by=staff.riyadh_agent)


def _answered(request, staff):
    _in_progress(request, staff)
    return request_answer(request=request, by=staff.riyadh_agent, resolution=ANSWER)


def _url(request, action=""):
    return f"/en/requests/{request.tracking_number}/{action}"


def _status(request):
    return Request.objects.get(pk=request.pk).status


def _page(response):
    return response.content.decode()


@pytest.fixture
def signed_in(client, sara):
    _sign_in(client, sara)
    return client


@pytest.fixture
def new_request(ministry, sara):
    return _submit(ministry, sara)


@pytest.fixture
def answered(new_request, staff):
    return _answered(new_request, staff)


# --- the list ----------------------------------------------------------------------------


def test_the_list_needs_a_signed_in_beneficiary(client, db):
    response = client.get("/en/requests/")

    assert response.status_code == 302
    assert response["Location"].startswith("/en/signin/?next=/en/requests/")


def test_the_list_shows_only_the_beneficiary_s_own_requests(signed_in, ministry, sara, khalid):
    # Given two requests of Sara's and one of Khalid's
    mine = [_submit(ministry, sara, "Exam result late"), _submit(ministry, sara, "Bus timing")]
    theirs = _submit(ministry, khalid, "Khalid's transfer")

    # When Sara opens her list
    response = signed_in.get("/en/requests/")

    # Then she sees hers, with number (left to right), kind, status, entity and dates
    page = _page(response)
    assert response.status_code == 200
    for request in mine:
        assert request.subject in page
        assert f'<span class="tracking-number" dir="ltr">{request.tracking_display}</span>' in page
        assert f'href="/en/requests/{request.tracking_number}/"' in page
    assert "Complaint" in page
    assert "New" in page
    assert "Riyadh Education" in page
    assert "AH" in page  # Hijri beside Gregorian
    assert "Expected answer by" in page
    # And nothing of Khalid's
    assert theirs.subject not in page
    assert theirs.tracking_display not in page


def test_the_list_shows_the_answered_date_once_answered(signed_in, answered):
    page = _page(signed_in.get("/en/requests/"))

    assert "Answered on" in page
    assert "Expected answer by" not in page


@pytest.fixture
def one_of_each(ministry, sara, staff):
    """Requests of Sara's in different states; each subject names its state or kind."""
    _submit(ministry, sara, "new")
    request_object(
        request=_answered(_submit(ministry, sara, "objected"), staff),
        beneficiary=sara,
        reason="This answer does not address my question.",
    )
    _answered(_submit(ministry, sara, "answered"), staff)
    request_cancel(request=_submit(ministry, sara, "cancelled"), beneficiary=sara, reason="Sorted")
    _submit(ministry, sara, "inquiry", kind="inquiry")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=open", {"new", "objected", "inquiry"}),
        ("status=answered", {"answered"}),
        ("status=closed", {"cancelled"}),
        ("kind=inquiry", {"inquiry"}),
        ("status=open&kind=complaint", {"new", "objected"}),
        ("status=closed&kind=inquiry", set()),
        ("", {"new", "objected", "answered", "cancelled", "inquiry"}),
    ],
)
def test_the_list_filters_by_status_and_kind(signed_in, one_of_each, query, expected):
    # Given requests of Sara's in different states (one_of_each); when she filters
    response = signed_in.get(f"/en/requests/?{query}")

    # Then exactly the matching requests are listed
    assert response.status_code == 200
    shown = set(
        re.findall(r'<h2 class="request-card__title"><a href="[^"]+">(\w+)</a>', _page(response))
    )
    assert shown == expected


def test_an_unknown_filter_value_is_a_bad_request_not_an_error(signed_in, new_request):
    response = signed_in.get("/en/requests/?status=deleted&kind=gossip")

    assert response.status_code == 400
    assert new_request.subject in _page(response)


def test_an_empty_list_says_so(signed_in):
    page = _page(signed_in.get("/en/requests/"))

    assert "You have not sent any request yet." in page
    assert 'href="/en/requests/new/"' in page


def _list_queries(client, url="/en/requests/"):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def test_the_list_costs_the_same_queries_for_3_and_25_requests(signed_in, ministry, sara):
    # Given three requests
    for index in range(3):
        _submit(ministry, sara, f"request {index}")
    three = _list_queries(signed_in)

    # When she has 25 (two pages)
    for index in range(3, 25):
        _submit(ministry, sara, f"request {index}")
    twenty_five = _list_queries(signed_in)

    # Then the first page costs the same number of queries, and shows 20
    assert twenty_five == three
    page = _page(signed_in.get("/en/requests/"))
    assert page.count('class="request-card"') == 20
    assert "Page 1 of 2" in page
    second = _page(signed_in.get("/en/requests/?page=2"))
    assert second.count('class="request-card"') == 5


def test_pagination_keeps_the_filters(signed_in, ministry, sara):
    for index in range(21):
        _submit(ministry, sara, f"request {index}")

    page = _page(signed_in.get("/en/requests/?status=open"))

    assert 'href="?status=open&amp;page=2"' in page


# --- the request page --------------------------------------------------------------------


def test_the_request_page_shows_the_public_timeline_and_the_answer(signed_in, new_request, staff):
    # Given a request with an internal note, a public reply and an answer
    _in_progress(new_request, staff)
    request_note(request=new_request, by=staff.riyadh_agent, body=NOTE)
    request_reply(request=new_request, by=staff.riyadh_agent, body="We are looking into it.")
    request_answer(request=new_request, by=staff.riyadh_agent, resolution=ANSWER)

    # When Sara opens the request
    response = signed_in.get(_url(new_request))

    # Then she sees its header, description, public replies and the answer highlighted
    page = _page(response)
    assert response.status_code == 200
    assert new_request.tracking_display in page
    assert "Exam results" in page  # the category
    assert "Riyadh Education" in page
    assert ">Answered<" in page
    assert "لم تظهر نتيجة ابني" in page
    assert "We are looking into it." in page
    answer = re.search(r'<section class="answer".*?</section>', page, re.DOTALL)
    assert answer
    assert ANSWER in answer.group(0)
    # And never the internal note nor who worked on it
    assert NOTE not in page
    assert "riyadh_agent" not in page
    assert "Internal note" not in page
    assert "Claimed" not in page


def test_user_text_is_escaped(signed_in, ministry, sara):
    request = _submit(ministry, sara, subject="<script>alert(1)</script>")

    page = _page(signed_in.get(_url(request)))

    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_the_actions_follow_the_status(signed_in, new_request, staff):
    # A new request: reply and withdraw, no accept/object/rate
    page = _page(signed_in.get(_url(new_request)))
    assert f'action="/en/requests/{new_request.tracking_number}/reply/"' in page
    assert "Withdraw the request" in page
    assert "Accept the answer" not in page
    assert "Rate the answer" not in page

    # Answered: accept, object and rate; no reply
    _answered(new_request, staff)
    page = _page(signed_in.get(_url(new_request)))
    assert "Accept the answer" in page
    assert f'href="/en/requests/{new_request.tracking_number}/object/"' in page
    assert f'href="/en/requests/{new_request.tracking_number}/rate/"' in page
    assert "/reply/" not in page


def test_a_request_that_is_not_yours_or_not_a_number_is_not_found(signed_in, ministry, khalid):
    theirs = _submit(ministry, khalid, "Khalid's")

    assert signed_in.get(_url(theirs)).status_code == 404
    assert signed_in.get("/en/requests/12345678901/").status_code == 404
    assert signed_in.get("/en/requests/not-a-number/").status_code == 404


# --- reply ---------------------------------------------------------------------------


def test_replying_to_a_question_sends_the_reply_with_a_file(signed_in, new_request, staff):
    # Given the agent asked Sara for information
    _in_progress(new_request, staff)
    request_ask_beneficiary(
        request=new_request, by=staff.riyadh_agent, question="Please send the seat number."
    )
    page = _page(signed_in.get(_url(new_request)))
    assert "We need information from you" in page
    assert "Please send the seat number." in page

    # When she replies with a PDF
    response = signed_in.post(
        _url(new_request, "reply/"),
        {"body": "The seat number is 4471.", "attachments": [ContentFile(PDF, name="seat.pdf")]},
    )

    # Then the reply is recorded with its file and the request is back in progress
    assert response.status_code == 302
    assert response["Location"] == _url(new_request)
    assert _status(new_request) == Status.IN_PROGRESS
    message = Message.objects.get(request=new_request, from_beneficiary=True)
    assert message.body == "The seat number is 4471."
    assert [a.original_name for a in message.attachments.all()] == ["seat.pdf"]
    page = _page(signed_in.get(_url(new_request)))
    assert "Your reply has been sent." in page
    assert "The seat number is 4471." in page
    assert "seat.pdf" in page


def test_a_reply_with_a_file_of_a_refused_type_is_a_bad_request(signed_in, new_request):
    response = signed_in.post(
        _url(new_request, "reply/"),
        {
            "body": "Here it is.",
            "attachments": [ContentFile(b"MZ\x90\x00 not a pdf", name="x.exe")],
        },
    )

    assert response.status_code == 400
    assert "This type of file is not accepted." in _page(response)
    assert 'aria-invalid="true"' in _page(response)
    assert not Message.objects.filter(request=new_request).exists()
    assert not Attachment.objects.filter(request=new_request).exists()


def test_an_empty_reply_is_a_bad_request(signed_in, new_request):
    response = signed_in.post(_url(new_request, "reply/"), {"body": "  "})

    assert response.status_code == 400
    assert not Message.objects.filter(request=new_request).exists()


def test_replying_to_an_answered_request_is_refused(signed_in, answered):
    response = signed_in.post(_url(answered, "reply/"), {"body": "One more thing."})

    assert response.status_code == 409
    assert "This action is not possible while the request is" in _page(response)
    assert _status(answered) == Status.ANSWERED
    assert not Message.objects.filter(request=answered, from_beneficiary=True).exists()


# --- accept ----------------------------------------------------------------------------


def test_accepting_the_answer_closes_the_request(signed_in, answered):
    response = signed_in.post(_url(answered, "accept/"))

    assert response.status_code == 302
    assert _status(answered) == Status.CLOSED
    page = _page(signed_in.get(_url(answered)))
    assert "You accepted the answer" in page
    assert "Rate the answer" in page  # a closed request can still be rated


def test_accepting_a_request_not_answered_is_refused(signed_in, new_request):
    response = signed_in.post(_url(new_request, "accept/"))

    assert response.status_code == 409
    assert 'role="alert"' in _page(response)
    assert _status(new_request) == Status.NEW


def test_accept_needs_a_post(signed_in, answered):
    assert signed_in.get(_url(answered, "accept/")).status_code == 405
    assert _status(answered) == Status.ANSWERED


# --- object --------------------------------------------------------------------------


def test_objecting_files_the_objection(signed_in, answered):
    # Given the objection form
    form = signed_in.get(_url(answered, "object/"))
    assert form.status_code == 200
    assert ANSWER in _page(form)

    # When Sara objects with a reason
    response = signed_in.post(
        _url(answered, "object/"), {"reason": "The result shown is still the old one."}
    )

    # Then the request is objected and her reason is in the thread
    assert response.status_code == 302
    assert _status(answered) == Status.OBJECTED
    assert Message.objects.filter(
        request=answered, from_beneficiary=True, body="The result shown is still the old one."
    ).exists()
    assert ">Objected<" in _page(signed_in.get(_url(answered)))


def test_an_objection_reason_too_short_is_a_bad_request(signed_in, answered):
    response = signed_in.post(_url(answered, "object/"), {"reason": "No."})

    assert response.status_code == 400
    assert 'id="id_reason_error"' in _page(response)
    assert 'aria-describedby="id_reason_helptext id_reason_error"' in _page(response)
    assert _status(answered) == Status.ANSWERED


def test_objecting_to_a_request_not_answered_is_refused(signed_in, new_request):
    # The form is not offered
    response = signed_in.get(_url(new_request, "object/"))
    assert response.status_code == 302

    # And a hand-made POST is refused
    response = signed_in.post(
        _url(new_request, "object/"), {"reason": "I object to everything here."}
    )
    assert response.status_code == 409
    assert _status(new_request) == Status.NEW
    assert not Message.objects.filter(request=new_request).exists()


# --- rate ----------------------------------------------------------------------------


def test_rating_the_answer_once(signed_in, answered, sara):
    # Given the rating form
    form = signed_in.get(_url(answered, "rate/"))
    assert form.status_code == 200
    assert 'type="radio" name="score" value="5"' in _page(form)
    assert "Very satisfied" in _page(form)

    # When Sara rates it
    response = signed_in.post(
        _url(answered, "rate/"), {"score": "5", "resolved": "yes", "comment": "Clear and quick."}
    )

    # Then the rating is stored, and the page thanks her instead of offering it again
    assert response.status_code == 302
    rating = SatisfactionResponse.objects.get(request=answered)
    assert (rating.score, rating.resolved, rating.comment) == (5, True, "Clear and quick.")
    page = _page(signed_in.get(_url(answered)))
    assert "You rated this answer 5 out of 5." in page
    assert f'href="/en/requests/{answered.tracking_number}/rate/"' not in page

    # And a second rating is refused
    again = signed_in.post(_url(answered, "rate/"), {"score": "1", "resolved": "no"})
    assert again.status_code == 409
    assert "You have already rated this answer." in _page(again)
    assert SatisfactionResponse.objects.get(request=answered).score == 5


def test_rating_before_an_answer_is_refused(signed_in, new_request):
    assert signed_in.get(_url(new_request, "rate/")).status_code == 302

    response = signed_in.post(_url(new_request, "rate/"), {"score": "4", "resolved": "yes"})

    assert response.status_code == 409
    assert not SatisfactionResponse.objects.exists()


@pytest.mark.parametrize(
    "data",
    [
        {"score": "9", "resolved": "yes"},
        {"score": "", "resolved": "yes"},
        {"score": "3"},
        {"score": "3", "resolved": "yes", "comment": "x" * 1001},
    ],
)
def test_a_rating_with_bad_values_is_a_bad_request(signed_in, answered, data):
    response = signed_in.post(_url(answered, "rate/"), data)

    assert response.status_code == 400
    assert not SatisfactionResponse.objects.exists()


# --- withdraw --------------------------------------------------------------------------


def test_withdrawing_an_open_request_cancels_it(signed_in, new_request):
    response = signed_in.post(_url(new_request, "withdraw/"), {"reason": "Solved at school."})

    assert response.status_code == 302
    request = Request.objects.get(pk=new_request.pk)
    assert request.status == Status.CANCELLED
    assert request.cancel_reason == "Solved at school."
    assert ">Cancelled<" in _page(signed_in.get(_url(new_request)))


def test_withdrawing_without_a_reason_is_a_bad_request(signed_in, new_request):
    response = signed_in.post(_url(new_request, "withdraw/"), {"reason": ""})

    assert response.status_code == 400
    assert "<details open>" in _page(response)
    assert _status(new_request) == Status.NEW


def test_withdrawing_a_closed_request_is_refused(signed_in, answered, sara):
    request_accept(request=answered, beneficiary=sara)

    response = signed_in.post(_url(answered, "withdraw/"), {"reason": "Changed my mind."})

    assert response.status_code == 409
    assert _status(answered) == Status.CLOSED


# --- someone else's request ------------------------------------------------------------------


def test_every_address_of_another_beneficiary_s_request_is_not_found(
    client, ministry, sara, khalid, staff
):
    # Given Khalid's answered request with a file, and Sara signed in
    theirs = _answered(_submit(ministry, khalid, "Khalid's", files=[("a.pdf", PDF)]), staff)
    attachment = Attachment.objects.get(request=theirs)
    _sign_in(client, sara)

    # Then every page and action on it is "not found", and nothing changes
    for action in ("", "object/", "rate/"):
        assert client.get(_url(theirs, action)).status_code == 404, action
    assert client.get(_url(theirs, f"attachments/{attachment.pk}/")).status_code == 404
    posts = {
        "reply/": {"body": "hello"},
        "accept/": {},
        "object/": {"reason": "I object to this answer."},
        "rate/": {"score": "5", "resolved": "yes"},
        "withdraw/": {"reason": "Not mine"},
    }
    for action, data in posts.items():
        assert client.post(_url(theirs, action), data).status_code == 404, action
    assert _status(theirs) == Status.ANSWERED
    assert not SatisfactionResponse.objects.exists()
    assert not Message.objects.filter(request=theirs, from_beneficiary=True).exists()


# --- attachments -------------------------------------------------------------------------


def test_the_owner_downloads_a_file_of_the_request(signed_in, ministry, sara):
    request = _submit(ministry, sara, files=[("result.pdf", PDF)])
    attachment = Attachment.objects.get(request=request)
    page = _page(signed_in.get(_url(request)))
    assert f'href="/en/requests/{request.tracking_number}/attachments/{attachment.pk}/"' in page

    response = signed_in.get(_url(request, f"attachments/{attachment.pk}/"))

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "result.pdf" in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"


def test_a_file_on_an_internal_note_is_not_downloadable(signed_in, new_request, staff):
    # Given a file the agent attached to an internal note of Sara's request
    _in_progress(new_request, staff)
    note = request_note(request=new_request, by=staff.riyadh_agent, body=NOTE)
    hidden = attachment_store(
        request=new_request,
        checked=attachment_check(name="internal.pdf", content=PDF),
        message=note,
        uploaded_by_id=staff.riyadh_agent.pk,
    )

    # Then Sara neither sees it nor downloads it
    assert "internal.pdf" not in _page(signed_in.get(_url(new_request)))
    assert signed_in.get(_url(new_request, f"attachments/{hidden.pk}/")).status_code == 404


def test_a_file_of_another_request_is_not_found_under_yours(signed_in, ministry, sara, khalid):
    mine = _submit(ministry, sara)
    theirs = _submit(ministry, khalid, files=[("theirs.pdf", PDF)])
    attachment = Attachment.objects.get(request=theirs)

    assert signed_in.get(_url(mine, f"attachments/{attachment.pk}/")).status_code == 404


def test_the_pages_need_a_signed_in_beneficiary(client, new_request):
    for action in ("", "object/", "rate/"):
        response = client.get(_url(new_request, action))
        assert response.status_code == 302
        assert response["Location"].startswith("/en/signin/")
    response = client.post(_url(new_request, "accept/"))
    assert response.status_code == 302
    assert _status(new_request) == Status.NEW


# --- Arabic ---------------------------------------------------------------------------------


@pytest.fixture
def arabic_misses(request):
    """Strings looked up in Arabic that have no Arabic translation (test_i18n_pages' recorder)."""
    return request.getfixturevalue("untranslated")


def test_the_pages_are_arabic_with_no_english_left(client, ministry, sara, staff, arabic_misses):
    # Given a new request (reply form), an answered one (accept, object, rate) and errors
    _sign_in(client, sara)
    waiting = _submit(ministry, sara, "سؤال")
    answered = _answered(_submit(ministry, sara, "شكوى"), staff)
    pages = [
        client.get("/requests/"),
        client.get("/requests/?status=closed"),
        client.get(_url(waiting).removeprefix("/en")),
        client.get(_url(answered).removeprefix("/en")),
        client.get(_url(answered, "object/").removeprefix("/en")),
        client.get(_url(answered, "rate/").removeprefix("/en")),
        client.post(_url(answered, "object/").removeprefix("/en"), {"reason": "لا"}),
        client.post(_url(waiting, "accept/").removeprefix("/en")),
    ]

    # Then every page is Arabic, and no string was left untranslated
    for response in pages:
        assert 'lang="ar"' in _page(response)
    assert [response.status_code for response in pages] == [200] * 6 + [400, 409]
    assert arabic_misses == set(), f"untranslated: {sorted(arabic_misses)}"


def test_an_objection_may_carry_a_file(client, ministry, sara, staff):
    from django.core.files.uploadedfile import SimpleUploadedFile

    _sign_in(client, sara)
    answered = _answered(_submit(ministry, sara), staff)
    response = client.post(
        _url(answered, "object/"),
        {
            "reason": "The grade shown is not the one on the corrected paper.",
            "attachments": SimpleUploadedFile("paper.pdf", PDF, content_type="application/pdf"),
        },
    )
    assert response.status_code == 302
    answered.refresh_from_db()
    assert answered.status == "objected"
    stored = answered.attachments.get(original_name="paper.pdf")
    assert stored.message.body.startswith("The grade shown")


def test_an_objection_with_a_bad_file_changes_nothing(client, ministry, sara, staff):
    from django.core.files.uploadedfile import SimpleUploadedFile

    _sign_in(client, sara)
    answered = _answered(_submit(ministry, sara), staff)
    response = client.post(
        _url(answered, "object/"),
        {
            "reason": "The grade shown is not the one on the corrected paper.",
            "attachments": SimpleUploadedFile(
                "paper.pdf", b"plain text", content_type="application/pdf"
            ),
        },
    )
    assert response.status_code == 400
    answered.refresh_from_db()
    assert answered.status == "answered"
    assert not answered.attachments.filter(original_name="paper.pdf").exists()
