"""Minister meetings in headless Chromium: the care centre screens, the minister's office
approves and offers dates, all through the console's real forms, in Arabic (RTL)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tawasul.meetings.models import MeetingRequest, MeetingStatus
from tests.test_meetings_support import (  # noqa: F401 (fixtures)
    minister_fixture,
    settled_fixture,
    slot,
    submit,
)

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "screenshots"


def shot(page: Page, step: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"console_meetings-{step}.png"), full_page=True)


def sign_in(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/console/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "pass-Word-1234")
    page.locator("form.stack-form button[type=submit]").click()
    expect(page).to_have_url(f"{base}/console/queues/mine/")


def sign_out(page: Page) -> None:
    page.locator(".console-tools form button[type=submit]").last.click()


@pytest.mark.django_db(transaction=True)
def test_screen_approve_and_offer_dates_through_the_console(  # noqa: PLR0917
    page: Page, live_server, staff, sara, settled, minister
) -> None:
    meeting = submit(sara, [settled])
    slots = [slot(staff, minister, days=3, hour=10), slot(staff, minister, days=4, hour=11)]
    base = live_server.url

    # Given a care-centre agent opens the meeting requests from the navigation
    sign_in(page, base, "central_agent")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    page.locator("body").press("g")
    page.locator("body").press("k")
    expect(page).to_have_url(f"{base}/console/meetings/")
    row = page.locator(f"tr[data-meeting='{meeting.pk}']")
    expect(row).to_be_visible()
    shot(page, "1-queue")

    # When they open it and forward it to the minister's office
    row.locator("a").first.click()
    expect(page.locator("#meeting-status")).to_be_visible()
    shot(page, "2-screening")
    page.fill("#id_forward-note", "طلب مستوفٍ للشروط")
    page.locator("#meeting-forward button[type=submit]").click()
    expect(page.locator(".notice--success")).to_be_visible()
    expect(page.locator("#meeting-approve")).to_have_count(0)  # deciding is not theirs
    sign_out(page)

    # Then the office approves it with the minister
    sign_in(page, base, "executive")
    page.goto(f"{base}/console/meetings/{meeting.pk}/")
    page.locator("#meeting-approve button[type=submit]").click()
    expect(page.locator(".notice--success")).to_be_visible()
    assert MeetingRequest.objects.get(pk=meeting.pk).status == MeetingStatus.APPROVED

    # And offers two dates for the beneficiary to pick
    offer = page.locator("#meeting-offer")
    offer.locator("xpath=ancestor::details").evaluate("node => node.open = true")
    for item in slots:
        offer.locator(f"input[value='{item.pk}']").check()
    offer.locator("button[type=submit]").click()
    expect(page.locator("#offered li")).to_have_count(2)
    shot(page, "3-offered")
    assert MeetingRequest.objects.get(pk=meeting.pk).status == MeetingStatus.OFFERED

    # The availability page shows the offered slots
    page.goto(f"{base}/console/meetings/availability/?host={minister.pk}")
    expect(page.locator("tr[data-slot]")).to_have_count(2)
    shot(page, "4-availability")
