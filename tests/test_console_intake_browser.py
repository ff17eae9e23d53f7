"""Call-centre intake in headless Chromium: find the caller by mobile, create a request
on their behalf, and log an inquiry answered during the call."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tawasul.cases.models import Channel, EventKind, Request, Status

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "screenshots"


def shot(page: Page, test: str, step: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{test}-{step}.png"), full_page=True)


def test_call_centre_intake(page: Page, live_server, ministry, staff, sara):
    name = "console_intake"
    base = live_server.url

    # Given the Riyadh agent signs in through the console's form, on their way to intake
    page.goto(f"{base}/en/console/login/?next=/en/console/intake/")
    page.fill("#id_username", "riyadh_agent")
    page.fill("#id_password", "pass-Word-1234")
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{base}/en/console/intake/")
    expect(page.locator("#id_query")).to_be_focused()

    # When a caller gives her mobile the way people say it
    page.fill("#id_query", "055 123 4567")
    page.get_by_role("button", name="Find the caller").click()

    # Then she is found, with her ID and mobile masked
    card = page.locator(".caller-card")
    expect(card).to_have_count(1)
    expect(card).to_contain_text(sara.full_name)
    expect(card).to_contain_text(sara.masked_mobile)
    expect(card).not_to_contain_text(sara.national_id)
    shot(page, name, "1-found")

    # When the agent continues with her and creates a complaint on her behalf
    card.get_by_role("link", name="Continue with this caller").click()
    expect(page).to_have_url(re.compile(r"/en/console/intake/caller/[^/]+/$"))
    caller_url = page.url
    page.select_option("#id_req-kind", "complaint")
    page.select_option("#id_req-category", str(ministry.exams.pk))
    page.select_option("#id_req-entity", str(ministry.riyadh.pk))
    page.fill("#id_req-subject", "Exam certificate not received")
    page.fill("#id_req-description", "The caller has not received her son's certificate.")
    shot(page, name, "2-new-request")
    page.get_by_role("button", name="Create the request").click()

    # Then the request exists, taken through the call centre, and its page opens
    created = Request.objects.get(subject="Exam certificate not received")
    assert created.channel == Channel.CALL_CENTRE
    assert created.events.get(kind=EventKind.SUBMITTED).actor_user_id == staff.riyadh_agent.pk
    expect(page.get_by_text(created.tracking_display).first).to_be_visible()
    shot(page, name, "3-workspace")

    # When, on another call, she asks a question the agent answers at once
    page.goto(caller_url)
    expect(page.locator(".caller-card")).to_contain_text(created.tracking_display)
    page.select_option("#id_fcr-kind", "inquiry")
    page.select_option("#id_fcr-category", str(ministry.exams.pk))
    page.select_option("#id_fcr-entity", str(ministry.riyadh.pk))
    page.fill("#id_fcr-subject", "Results date")
    page.fill("#id_fcr-description", "When do the final results appear?")
    page.fill("#id_fcr-resolution", "They appear on Noor on the 15th of this month.")
    page.fill("#id_fcr-resolution_code", "informed")
    page.get_by_role("button", name="Log as answered").click()

    # Then it is logged as answered, and the agent reads the number out
    answered = Request.objects.get(subject="Results date")
    assert answered.status == Status.ANSWERED
    assert answered.first_response_at is not None
    expect(page.locator(".notice--success")).to_contain_text(answered.tracking_display)
    expect(page).to_have_url(caller_url)
    shot(page, name, "4-answered")
