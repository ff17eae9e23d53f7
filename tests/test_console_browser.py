"""The console in headless Chromium: sign in, open a queue, filter with htmx, shortcuts."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tawasul.beneficiaries.models import Beneficiary
from tawasul.cases.services import request_submit
from tests.conftest import Ministry, Staff

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "screenshots"


def shot(page: Page, test: str, step: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{test}-{step}.png"), full_page=True)


@pytest.mark.django_db(transaction=True)
def test_agent_signs_in_filters_a_queue_with_htmx_and_uses_shortcuts(
    page: Page, live_server, ministry: Ministry, staff: Staff, sara: Beneficiary
) -> None:
    name = "console_queue"
    for subject in ("Missing exam results", "Teacher transfer delay", "Exam hall too cold"):
        request_submit(
            beneficiary=sara,
            kind="complaint",
            category=ministry.exams,
            subject=subject,
            description="Please look into this matter soon.",
            entity=ministry.riyadh,
        )
    request_submit(
        beneficiary=sara,
        kind="complaint",
        category=ministry.exams,
        subject="Makkah exam issue",
        description="Please look into this matter soon.",
        entity=ministry.makkah,
    )

    # Given the agent signs in through the real form
    page.goto(f"{live_server.url}/console/")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    page.fill("#id_username", "riyadh_agent")
    page.fill("#id_password", "pass-Word-1234")
    shot(page, name, "1-sign-in")
    page.locator("form.stack-form button[type=submit]").click()
    expect(page).to_have_url(f"{live_server.url}/console/queues/mine/")

    # When they open their entity's queue with the keyboard (g a)
    page.locator("body").press("g")
    page.locator("body").press("a")
    expect(page).to_have_url(f"{live_server.url}/console/queues/subtree/")
    rows = page.locator(".queue-table tbody tr")
    expect(rows).to_have_count(3)
    expect(page.get_by_text("Makkah exam issue")).to_have_count(0)
    shot(page, name, "2-queue")

    # And filter by text with htmx: the table changes without a full reload
    page.evaluate("window.__sameDocument = true")
    page.locator("body").press("/")
    expect(page.locator("#id_q")).to_be_focused()
    page.keyboard.type("transfer")
    page.keyboard.press("Enter")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Teacher transfer delay")
    assert page.evaluate("window.__sameDocument") is True
    expect(page).to_have_url(re.compile(r"/console/queues/subtree/\?q=transfer"))
    shot(page, name, "3-filtered")

    # Then "?" lists the shortcuts in a dialog
    page.locator("#id_q").blur()
    page.locator("body").press("?")
    dialog = page.locator("#shortcut-help")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("g m")
    shot(page, name, "4-shortcuts")
