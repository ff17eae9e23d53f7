"""The request page in a real (headless Chromium) browser: see the answer, object;
accept, then rate. Staff act through the services; the beneficiary through the page."""

from __future__ import annotations

from importlib import import_module
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import Page, expect

from tawasul.cases.models import Request, Status
from tawasul.cases.services import request_answer, request_claim, request_start, request_submit
from tawasul.feedback.models import SatisfactionResponse
from tawasul.portal.session import BENEFICIARY_KEY

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "screenshots"
ANSWER = "The result was re-checked and has been published in Noor today."


def _shot(page: Page, test: str, step: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{test}-{step}.png"), full_page=True)


def _sign_in(page: Page, live_server, beneficiary) -> None:
    """A signed-in portal session, as the sign-in page would leave it."""
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[BENEFICIARY_KEY] = beneficiary.pk
    store.save()
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": store.session_key, "url": live_server.url}]
    )


def _answered(ministry, staff, beneficiary, subject: str) -> Request:
    request = request_submit(
        beneficiary=beneficiary,
        kind="complaint",
        category=ministry.exams,
        subject=subject,
        description="لم تظهر نتيجة ابني في نظام نور حتى الآن",
        entity=ministry.riyadh,
    )
    request_claim(request=request, by=staff.riyadh_agent)
    request_start(request=request, by=staff.riyadh_agent)
    return request_answer(request=request, by=staff.riyadh_agent, resolution=ANSWER)


def test_the_beneficiary_sees_the_answer_and_objects(
    page: Page, live_server, ministry, staff, sara
):
    name = "requests-object"
    # Given an answered request of Sara's, and Sara signed in
    request = _answered(ministry, staff, sara, "تأخر نتيجة الاختبار")
    _sign_in(page, live_server, sara)
    page.set_viewport_size({"width": 1280, "height": 900})

    # When she opens her list, then the request
    page.goto(f"{live_server.url}/en/requests/")
    card = page.locator(".request-card", has_text=request.tracking_display)
    expect(card).to_contain_text("Answered")
    _shot(page, name, "1-list")
    card.get_by_role("link", name=request.subject).click()

    # Then she sees the answer
    expect(page).to_have_url(f"{live_server.url}/en/requests/{request.tracking_number}/")
    expect(page.locator("section.answer")).to_contain_text(ANSWER)
    expect(page.locator("#request-status")).to_have_text("Answered")
    _shot(page, name, "2-answer")

    # When she objects with a reason
    page.get_by_role("link", name="Object to the answer").click()
    page.get_by_label("Why does the answer not satisfy you?").fill(
        "The result shown in Noor is still the old one."
    )
    _shot(page, name, "3-objection-form")
    page.get_by_role("button", name="Send the objection").click()

    # Then the request is objected, on the page and in the database
    expect(page.locator("#request-status")).to_have_text("Objected")
    expect(page.get_by_role("status")).to_contain_text("Your objection has been filed")
    expect(page.locator(".timeline")).to_contain_text(
        "The result shown in Noor is still the old one."
    )
    _shot(page, name, "4-objected")
    assert Request.objects.get(pk=request.pk).status == Status.OBJECTED


def test_the_beneficiary_accepts_and_rates_the_answer(
    page: Page, live_server, ministry, staff, sara
):
    name = "requests-accept-rate"
    # Given an answered request of Sara's, and Sara signed in, on a phone
    request = _answered(ministry, staff, sara, "Exam result late")
    _sign_in(page, live_server, sara)
    page.set_viewport_size({"width": 360, "height": 800})
    page.goto(f"{live_server.url}/en/requests/{request.tracking_number}/")
    _shot(page, name, "1-answer")

    # When she accepts the answer
    page.get_by_role("button", name="Accept the answer").click()

    # Then the request is closed and she is invited to rate the answer
    expect(page.locator("#request-status")).to_have_text("Closed")
    _shot(page, name, "2-accepted")
    page.get_by_role("link", name="Rate the answer").click()

    # When she rates it 5, resolved, with a comment
    page.get_by_label("5 — Very satisfied").check()
    page.get_by_role("group", name="Did the answer resolve your request?").get_by_label(
        "Yes"
    ).check()
    page.get_by_label("Comment (optional)").fill("Clear and quick, thank you.")
    _shot(page, name, "3-rating-form")
    page.get_by_role("button", name="Send the rating").click()

    # Then the page thanks her and the rating is stored
    expect(page.locator(".rated")).to_contain_text("You rated this answer 5 out of 5.")
    expect(page.get_by_role("link", name="Rate the answer")).to_have_count(0)
    _shot(page, name, "4-rated")
    rating = SatisfactionResponse.objects.get(request=request)
    assert (rating.score, rating.resolved, rating.comment) == (
        5,
        True,
        "Clear and quick, thank you.",
    )


def test_the_request_page_is_right_to_left_in_arabic(
    page: Page, live_server, ministry, staff, sara
):
    # Given an answered request, opened in Arabic (the default)
    request = _answered(ministry, staff, sara, "تأخر نتيجة الاختبار")
    _sign_in(page, live_server, sara)
    page.set_viewport_size({"width": 360, "height": 800})

    page.goto(f"{live_server.url}/requests/{request.tracking_number}/")

    # Then the page is right to left, the tracking number reads left to right, nothing overflows
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    number = page.locator(".request-head .tracking-number")
    expect(number).to_have_attribute("dir", "ltr")
    expect(number).to_have_text(request.tracking_display)
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
    _shot(page, "requests-arabic", "1-detail")
