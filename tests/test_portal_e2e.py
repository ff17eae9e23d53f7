"""The issue's end-to-end scenarios, through the real pages in headless Chromium:
sign in with a code from the SMS → send a request with an attachment → read the
tracking number → a staff member answers (through the services) → see the answer →
object; and a second run → accept and rate."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.cache import cache
from playwright.sync_api import Page, expect

from tawasul.cases.models import Attachment, Request, Status
from tawasul.cases.services import request_answer, request_claim, request_start
from tawasul.channels import sms
from tawasul.channels.delivery import outbox_drain
from tawasul.feedback.models import SatisfactionResponse

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "screenshots"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
ANSWER = "The result was re-checked and has been published in Noor today."


@pytest.fixture(autouse=True)
def _clean_cache():
    """The sign-in rate limits live in the cache: start every scenario with none."""
    cache.clear()
    yield
    cache.clear()


def _shot(page: Page, test: str, step: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{test}-{step}.png"), full_page=True)


def _sms_code(to: str) -> str:
    outbox_drain()
    assert sms.outbox, "no SMS was sent"
    assert sms.outbox[-1].to == to
    match = re.search(r"\b(\d{6})\b", sms.outbox[-1].text)
    assert match, "no code in the SMS"
    return match.group(1)


def _sign_in(page: Page, base: str, name: str) -> None:
    """Open "My requests", get sent to sign in, and sign in with the code from the SMS."""
    page.goto(f"{base}/en/requests/")
    expect(page).to_have_url(re.compile(r"/en/signin/\?next=/en/requests/$"))
    page.fill("#id_destination", "055 123 4567")
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/en/signin/code/"))
    _shot(page, name, "1-code")
    page.fill("#id_code", _sms_code("+966551234567"))
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(f"{base}/en/requests/")


def _submit(page: Page, base: str, ministry, name: str, subject: str) -> Request:
    """Send a complaint with a PDF through the wizard; return it, read from its page."""
    page.get_by_role("link", name="Send a new request").click()
    expect(page).to_have_url(f"{base}/en/requests/new/")
    page.locator("input[name=kind][value=complaint]").check()
    page.select_option("#id_entity", value=str(ministry.riyadh.pk))
    page.select_option("#id_category", value=str(ministry.exams.pk))
    page.locator("#step-1 [data-next]").click()
    page.fill("#id_subject", subject)
    page.fill("#id_description", "My son's exam result has not appeared in Noor yet.")
    page.set_input_files(
        "#id_attachments",
        files=[{"name": "seat-card.pdf", "mimeType": "application/pdf", "buffer": PDF}],
    )
    _shot(page, name, "2-details")
    page.locator("#step-2 [data-next]").click()
    page.locator("input[name=preferred_contact][value=sms]").check()
    page.get_by_role("button", name="Send the request").click()

    # The confirmation shows the tracking number
    expect(page).to_have_url(re.compile(r"/en/requests/\d{11}/submitted/$"))
    number = page.locator(".tracking__number")
    expect(number).to_have_text(re.compile(r"^\d{3}-\d{4}-\d{4}$"))
    _shot(page, name, "3-tracking-number")
    request = Request.objects.get(tracking_number=number.get_attribute("data-tracking"))
    assert request.tracking_display == number.inner_text()
    assert request.subject == subject
    assert [a.original_name for a in Attachment.objects.filter(request=request)] == [
        "seat-card.pdf"
    ]
    return request


def _staff_answer(request: Request, staff) -> None:
    request_claim(request=request, by=staff.riyadh_agent)
    request_start(request=request, by=staff.riyadh_agent)
    request_answer(request=request, by=staff.riyadh_agent, resolution=ANSWER)


@pytest.mark.usefixtures("sara", "channels_in_memory")
def test_sign_in_submit_see_the_answer_and_object(page: Page, live_server, ministry, staff):
    name = "e2e-object"
    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    base = live_server.url

    # Given Sara signs in with the code sent to her mobile, and sends a request with a file
    _sign_in(page, base, name)
    request = _submit(page, base, ministry, name, "Exam result not published")

    # When a Riyadh agent answers it
    _staff_answer(request, staff)

    # Then, from the confirmation, she opens her request and sees the answer and her file
    page.get_by_role("link", name="See your request").click()
    expect(page).to_have_url(f"{base}/en/requests/{request.tracking_number}/")
    expect(page.locator("section.answer")).to_contain_text(ANSWER)
    expect(page.locator("#request-status")).to_have_text("Answered")
    with page.expect_download() as download:
        page.get_by_role("link", name="seat-card.pdf").click()
    assert Path(download.value.path()).read_bytes() == PDF
    _shot(page, name, "4-answer")

    # When she objects with a reason
    page.get_by_role("link", name="Object to the answer").click()
    page.get_by_label("Why does the answer not satisfy you?").fill(
        "The result shown in Noor is still the old one."
    )
    page.get_by_role("button", name="Send the objection").click()

    # Then the request is objected
    expect(page.locator("#request-status")).to_have_text("Objected")
    _shot(page, name, "5-objected")
    assert Request.objects.get(pk=request.pk).status == Status.OBJECTED


@pytest.mark.usefixtures("sara", "channels_in_memory")
def test_sign_in_submit_accept_and_rate_the_answer(page: Page, live_server, ministry, staff):
    name = "e2e-accept-rate"
    page.set_viewport_size({"width": 1280, "height": 900})
    base = live_server.url

    # Given Sara signed in and sent a request, which an agent answered
    _sign_in(page, base, name)
    request = _submit(page, base, ministry, name, "Exam result late")
    _staff_answer(request, staff)

    # When she finds it in her list and accepts the answer
    page.goto(f"{base}/en/requests/")
    card = page.locator(".request-card", has_text=request.tracking_display)
    expect(card).to_contain_text("Answered")
    card.get_by_role("link", name=request.subject).click()
    expect(page.locator("section.answer")).to_contain_text(ANSWER)
    page.get_by_role("button", name="Accept the answer").click()
    expect(page.locator("#request-status")).to_have_text("Closed")
    _shot(page, name, "4-accepted")

    # And rates it 4, resolved, with a comment
    page.get_by_role("link", name="Rate the answer").click()
    page.get_by_label("4 — Satisfied").check()
    page.get_by_role("group", name="Did the answer resolve your request?").get_by_label(
        "Yes"
    ).check()
    page.get_by_label("Comment (optional)").fill("Thank you for the quick answer.")
    page.get_by_role("button", name="Send the rating").click()

    # Then her rating is stored, once
    expect(page.locator(".rated")).to_contain_text("You rated this answer 4 out of 5.")
    _shot(page, name, "5-rated")
    rating = SatisfactionResponse.objects.get(request=request)
    assert (rating.score, rating.resolved, rating.comment) == (
        4,
        True,
        "Thank you for the quick answer.",
    )
    assert Request.objects.get(pk=request.pk).status == Status.CLOSED
