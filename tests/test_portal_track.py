"""Following one request without an account: number + mobile → code → read-only view."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from tawasul.beneficiaries.models import SignInCode
from tawasul.cases.attachments import attachment_check
from tawasul.cases.models import EventKind
from tawasul.cases.services import (
    request_answer,
    request_ask_beneficiary,
    request_beneficiary_reply,
    request_claim,
    request_note,
    request_reply,
    request_start,
    request_submit,
)
from tawasul.channels import sms
from tawasul.channels.delivery import outbox_drain
from tawasul.channels.models import OutboxMessage
from tawasul.core.ids import damm_digit
from tawasul.portal.session import BENEFICIARY_KEY, TRACKED_KEY
from tawasul.portal.timeline import public_timeline

pytestmark = pytest.mark.usefixtures("channels_in_memory")

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
INTERNAL_NOTE = "INTERNAL: the school head was warned twice already"


@pytest.fixture(autouse=True)
def _clean_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def worked_request(ministry, staff, sara):
    """Sara's complaint with a file, a question and her reply, an internal note, and the answer."""
    request = request_submit(
        beneficiary=sara,
        kind="complaint",
        category=ministry.exams,
        subject="تأخر نتيجة الاختبار",
        description="لم تظهر نتيجة ابني في نظام نور حتى الآن",
        entity=ministry.riyadh,
        attachments=[attachment_check(name="grades.pdf", content=PDF)],
    )
    agent = staff.riyadh_agent
    request_claim(request=request, by=agent)
    request_start(request=request, by=agent)
    request_ask_beneficiary(request=request, by=agent, question="Which school is your son in?")
    request_beneficiary_reply(
        request=request,
        beneficiary=sara,
        body="Al-Noor primary school",
        attachments=[attachment_check(name="id-card.pdf", content=PDF)],
    )
    request_note(request=request, by=agent, body=INTERNAL_NOTE)
    request_reply(request=request, by=agent, body="We are checking with the school.")
    request_answer(request=request, by=agent, resolution="The result is now published in Noor.")
    request.refresh_from_db()
    return request


def main_text(response) -> str:
    page = response.content.decode()
    main = re.search(r"<main.*</main>", page, re.DOTALL).group(0)
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", main)


def field_error(response, field: str) -> str:
    match = re.search(
        rf'<p class="field__error" id="id_{field}_error">(.*?)</p>',
        response.content.decode(),
        re.DOTALL,
    )
    assert match, f"no error shown on {field}"
    return match.group(1)


def ask_track(client, tracking: str, mobile: str):
    return client.post("/en/track/", {"tracking_number": tracking, "mobile": mobile})


def sms_code() -> str:
    outbox_drain()
    return re.search(r"\b(\d{6})\b", sms.outbox[-1].text).group(1)


def another_valid_number(tracking: str) -> str:
    """A well-formed tracking number that is not `tracking`."""
    body = ("1" if tracking[0] != "1" else "2") + tracking[1:10]
    return body + str(damm_digit(body))


def tracked(client, request, mobile: str = "0551234567"):
    """Go through number + mobile + code; return the view's response."""
    assert ask_track(client, request.tracking_display, mobile)["Location"] == "/en/track/code/"
    response = client.post("/en/track/code/", {"code": sms_code()})
    assert response.status_code == 302
    assert response["Location"] == "/en/track/view/"
    return client.get("/en/track/view/")


# --- asking for a code -------------------------------------------------------------------


def test_the_track_page_asks_for_the_number_and_the_mobile(client, db):
    page = client.get("/en/track/").content.decode()

    assert 'name="tracking_number"' in page
    assert 'name="mobile"' in page
    assert 'name="csrfmiddlewaretoken"' in page


def test_the_right_number_and_mobile_get_a_code_for_that_request(client, db, worked_request):
    # When sara gives her request's number (as read aloud, with dashes) and her mobile
    response = ask_track(client, worked_request.tracking_display, "+966 55 123 4567")

    # Then a code for that request goes to her mobile
    assert response.status_code == 302
    assert response["Location"] == "/en/track/code/"
    code = SignInCode.objects.get(purpose="track")
    assert code.request_id == worked_request.pk
    message = OutboxMessage.objects.get(template="sign_in_code")
    assert message.recipient == "+966551234567"


def test_unknown_number_and_wrong_mobile_look_exactly_alike(db, worked_request, khalid):
    # Given three visitors: the right pair, an unknown number, and the right number with another mobile
    unknown_number, wrong_mobile, right = Client(), Client(), Client()

    # When each asks for a code
    responses = {
        "unknown": ask_track(
            unknown_number, another_valid_number(worked_request.tracking_number), "0551234567"
        ),
        "wrong": ask_track(wrong_mobile, worked_request.tracking_number, "0559876543"),
        "right": ask_track(right, worked_request.tracking_number, "0551234567"),
    }

    # Then all get the same status and redirect, and the same code page
    assert {(r.status_code, r["Location"]) for r in responses.values()} == {
        (302, "/en/track/code/")
    }
    pages = [main_text(c.get("/en/track/code/")) for c in (unknown_number, wrong_mobile, right)]
    assert pages[0] == pages[1] == pages[2]
    # And only the right pair was sent a code; the others were counted all the same
    assert OutboxMessage.objects.filter(template="sign_in_code").count() == 1
    assert SignInCode.objects.filter(purpose="track").count() == 3


def test_unknown_number_and_wrong_mobile_fail_alike_at_the_code(db, worked_request):
    unknown_number, wrong_mobile = Client(), Client()
    ask_track(unknown_number, another_valid_number(worked_request.tracking_number), "0551234567")
    ask_track(wrong_mobile, worked_request.tracking_number, "0559876543")

    answers = [
        c.post("/en/track/code/", {"code": "123456"}) for c in (unknown_number, wrong_mobile)
    ]

    assert [a.status_code for a in answers] == [400, 400]
    assert main_text(answers[0]) == main_text(answers[1])
    assert "The code is wrong or has expired." in field_error(answers[0], "code")


def test_probing_is_rate_limited_even_when_nothing_matches(client, db, worked_request, settings):
    # Given a limit of two codes per mobile in 15 minutes
    settings.TAWASUL_CODES_PER_15_MINUTES = 2
    wrong = another_valid_number(worked_request.tracking_number)
    ask_track(client, wrong, "0559876543")
    ask_track(client, worked_request.tracking_number, "0559876543")

    # When the same mobile probes a third time
    response = ask_track(client, wrong, "0559876543")

    # Then it is refused with 429, as a real request would be
    assert response.status_code == 429
    assert "Too many codes were asked for this address" in response.content.decode()


def test_rate_limit_looks_the_same_for_a_match_and_a_miss(db, worked_request, settings):
    settings.TAWASUL_CODES_PER_15_MINUTES = 1
    hit, miss = Client(), Client()
    ask_track(hit, worked_request.tracking_number, "0551234567")
    ask_track(miss, another_valid_number(worked_request.tracking_number), "0559876543")

    second_hit = ask_track(hit, worked_request.tracking_number, "0551234567")
    second_miss = ask_track(
        miss, another_valid_number(worked_request.tracking_number), "0559876543"
    )

    assert second_hit.status_code == second_miss.status_code == 429
    assert main_text(second_hit).replace(worked_request.tracking_number, "N").replace(
        "0551234567", "M"
    ) == (
        main_text(second_miss)
        .replace(another_valid_number(worked_request.tracking_number), "N")
        .replace("0559876543", "M")
    )


@pytest.mark.parametrize(
    ("tracking", "mobile", "error"),
    [
        ("12345", "0551234567", ("tracking_number", "This is not a valid tracking number")),
        ("12345678901", "0551234567", ("tracking_number", "This is not a valid tracking number")),
        (None, "123", ("mobile", "Enter a valid Saudi mobile number")),
    ],
)
def test_malformed_input_is_a_field_error(client, worked_request, tracking, mobile, error):
    number = tracking if tracking is not None else worked_request.tracking_number
    if tracking == "12345678901":  # right length, wrong check digit
        assert damm_digit(number) != 0
    field, message = error

    response = ask_track(client, number, mobile)

    assert response.status_code == 400
    assert message in field_error(response, field)
    assert not SignInCode.objects.exists()


def test_the_code_page_without_a_challenge_sends_back(client, db):
    assert client.get("/en/track/code/")["Location"] == "/en/track/"
    assert client.get("/en/track/view/")["Location"] == "/en/track/"


# --- the code, then the view ---------------------------------------------------------------


def test_a_wrong_track_code_is_refused(client, db, worked_request):
    ask_track(client, worked_request.tracking_number, "0551234567")
    code = sms_code()

    response = client.post("/en/track/code/", {"code": f"{(int(code) + 1) % 1_000_000:06d}"})

    assert response.status_code == 400
    assert '<a href="/en/track/">Ask for a new code</a>' in response.content.decode()
    assert TRACKED_KEY not in client.session


def test_a_sign_in_code_does_not_open_a_tracked_request(client, db, worked_request):
    # Given a sign-in code for sara's mobile
    client.post("/en/signin/", {"destination": "0551234567"})
    code = sms_code()
    challenge = client.session["portal_signin_challenge"]["challenge"]
    session = client.session
    session["portal_track_challenge"] = challenge
    session.save()

    # When it is typed on the tracking code page
    response = client.post("/en/track/code/", {"code": code})

    # Then it is refused: codes are bound to their purpose
    assert response.status_code == 400
    assert TRACKED_KEY not in client.session


def test_the_tracked_view_shows_the_request_and_its_public_timeline_only(
    client, db, staff, worked_request
):
    # When sara follows her request without an account
    before = client.session.session_key
    response = tracked(client, worked_request)

    # Then she sees it, read-only, in a fresh session that names that request only
    page = response.content.decode()
    assert response.status_code == 200
    assert client.session[TRACKED_KEY] == worked_request.pk
    assert client.session.session_key != before
    assert BENEFICIARY_KEY not in client.session
    for text in (
        worked_request.tracking_display,
        "Complaint",
        "Exam results",
        "Riyadh Education",
        "Answered",
        "The result is now published in Noor.",
        "Which school is your son in?",
        "Al-Noor primary school",
        "We are checking with the school.",
        "grades.pdf",
        "id-card.pdf",
        '<span class="timeline__who">Beneficiary care team</span>',
        '<span class="timeline__who">You</span>',
        "AH",
    ):
        assert text in page, text
    # And nothing internal: no note, no staff name
    assert INTERNAL_NOTE not in page
    assert "Internal note" not in page
    for user in (staff.riyadh_agent, staff.riyadh_supervisor):
        assert user.username not in page
    assert "<textarea" not in page


def test_the_expected_answer_date_is_shown_while_the_request_is_open(client, db, ministry, sara):
    request = request_submit(
        beneficiary=sara,
        kind="inquiry",
        category=ministry.exams,
        subject="موعد النتائج",
        description="متى تظهر نتائج الاختبارات النهائية؟",
        entity=ministry.riyadh,
    )

    page = tracked(client, request).content.decode()

    assert "Expected answer" in page
    assert "left, due by" in page
    assert "The answer" not in page


def test_a_tracked_session_opens_only_its_own_request(client, ministry, worked_request, khalid):
    # Given khalid's request, and sara tracking hers
    other = request_submit(
        beneficiary=khalid,
        kind="inquiry",
        category=ministry.exams,
        subject="Khalid's question about exams",
        description="When are the final exam results published?",
        entity=ministry.makkah,
    )
    tracked(client, worked_request)

    # When her session asks for khalid's request in every way the address allows
    pages = [
        client.get(f"/en/track/view/?id={other.pk}").content.decode(),
        client.get(
            f"/en/track/view/?request={other.pk}&tracking={other.tracking_number}"
        ).content.decode(),
    ]
    signed = client.get(f"/en/requests/{other.tracking_number}/")

    # Then she only ever sees her own, and the signed-in pages are closed to her
    for page in pages:
        assert worked_request.tracking_display in page
        assert other.tracking_display not in page
        assert "Khalid" not in page
    assert signed.status_code in (302, 404)
    if signed.status_code == 302:
        assert signed["Location"].startswith("/en/signin/")


def test_khalid_s_mobile_cannot_track_sara_s_request(client, db, ministry, worked_request):
    from tawasul.beneficiaries.services import beneficiary_register

    beneficiary_register(full_name="Khalid Rahman", mobile="0559876543", consent=True)

    ask_track(client, worked_request.tracking_number, "0559876543")

    assert not OutboxMessage.objects.filter(template="sign_in_code").exists()
    assert client.post("/en/track/code/", {"code": "000000"}).status_code == 400
    assert TRACKED_KEY not in client.session


# --- the timeline selector -----------------------------------------------------------------


def test_public_timeline_is_complete_and_takes_three_queries(db, worked_request):
    translation.activate("en")  # labels compared in English below
    with CaptureQueriesContext(connection) as queries:
        items = public_timeline(worked_request)

    assert len(queries) == 3
    kinds = [item.kind for item in items]
    assert kinds[0] == EventKind.SUBMITTED
    assert EventKind.NOTE_ADDED not in kinds
    assert EventKind.CLAIMED not in kinds
    by_kind = {item.kind: item for item in items}
    assert by_kind[EventKind.INFO_REQUESTED].body == "Which school is your son in?"
    assert str(by_kind[EventKind.INFO_REQUESTED].who) == "Beneficiary care team"
    assert by_kind[EventKind.BENEFICIARY_REPLIED].body == "Al-Noor primary school"
    assert str(by_kind[EventKind.BENEFICIARY_REPLIED].who) == "You"
    assert [a.original_name for a in by_kind[EventKind.BENEFICIARY_REPLIED].attachments] == [
        "id-card.pdf"
    ]
    assert [a.original_name for a in by_kind[EventKind.SUBMITTED].attachments] == ["grades.pdf"]
    assert by_kind[EventKind.ANSWERED].body == "The result is now published in Noor."
    assert str(by_kind[EventKind.ANSWERED].label) == "Answered"
    assert all(INTERNAL_NOTE not in item.body for item in items)
    assert [item.at for item in items] == sorted(item.at for item in items)
