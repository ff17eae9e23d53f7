"""The survey link in a real (headless Chromium) browser: the SMS after an answer opens
the survey, no sign-in; a low, unresolved rating is thanked and flags the request."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from tawasul.cases.models import Event, EventKind
from tawasul.cases.services import request_answer, request_claim, request_start, request_submit
from tawasul.channels import sms
from tawasul.channels.delivery import outbox_drain
from tawasul.feedback.models import SatisfactionResponse

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "screenshots"
ANSWER = "The result was re-checked and has been published in Noor today."


def _shot(page: Page, step: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"survey-{step}.png"), full_page=True)


def test_the_beneficiary_rates_the_answer_from_the_sms_link(  # noqa: PLR0917
    page: Page, live_server, ministry, staff, sara, channels_in_memory
):
    # Given Sara's request is answered and the outbox is drained
    request = request_submit(
        beneficiary=sara,
        kind="complaint",
        category=ministry.exams,
        subject="تأخر نتيجة الاختبار",
        description="لم تظهر نتيجة ابني في نظام نور حتى الآن",
        entity=ministry.riyadh,
    )
    request_claim(request=request, by=staff.riyadh_agent)
    request_start(request=request, by=staff.riyadh_agent)
    request_answer(request=request, by=staff.riyadh_agent, resolution=ANSWER)
    outbox_drain()

    # When she opens the link from her last SMS, on a phone, without signing in
    link = urlsplit(sms.outbox[-1].text.split()[-1])
    page.set_viewport_size({"width": 360, "height": 800})
    page.goto(f"{live_server.url}{link.path}")

    # Then the survey shows her request and the answer, right to left
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.locator("body")).to_contain_text(request.tracking_display)
    expect(page.locator("section.answer")).to_contain_text(ANSWER)
    _shot(page, "1-form")

    # When she rates it 2 and says it did not resolve her request
    page.locator('input[name="score"][value="2"]').check()
    page.locator('input[name="resolved"][value="no"]').check()
    page.locator('textarea[name="comment"]').fill("النتيجة ما زالت القديمة")
    _shot(page, "2-filled")
    page.locator("form.rating button[type=submit]").click()

    # Then she sees the thanks page, and the rating is stored and flagged
    expect(page.locator(".survey-thanks")).to_contain_text(request.tracking_display)
    expect(page.locator("form.rating")).to_have_count(0)
    _shot(page, "3-thanks")
    rating = SatisfactionResponse.objects.get(request=request)
    assert (rating.score, rating.resolved) == (2, False)
    assert Event.objects.filter(request=request, kind=EventKind.LOW_RATING).exists()

    # When she opens the link again, in English
    page.goto(f"{live_server.url}/en{link.path}")

    # Then it says she has already rated it
    expect(page.locator("h1")).to_have_text("You have already rated this answer")
    _shot(page, "4-already")
