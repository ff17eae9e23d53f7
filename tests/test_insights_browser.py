"""The insights dashboard in headless Chromium: Arabic, right to left, the trend's time
running from right to left, every section present under the strict CSP with no request
leaving the server, and a figure followed to its queue."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from tawasul.beneficiaries.models import Beneficiary
from tawasul.insights.periods import Grain, period_containing
from tawasul.insights.summary import insights_summarise
from tests.conftest import Ministry, Staff
from tests.insights_data import answered_on, submitted_on

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "screenshots"


# "__all__": the dashboard reads the replica alias when one is configured (CI's mirror)
@pytest.mark.django_db(transaction=True, databases="__all__")
def test_supervisor_reads_the_month_right_to_left_and_drills_into_a_queue(
    page: Page, live_server, ministry: Ministry, staff: Staff, sara: Beneficiary
) -> None:
    today = timezone.localdate()
    first = today.replace(day=1)
    noon = timezone.make_aware(dt.datetime.combine(first, dt.time(12)))
    made = [
        submitted_on(
            sara, ministry.riyadh, when=noon + dt.timedelta(days=n), category=ministry.exams
        )
        for n in range(min(3, today.day))
    ]
    answered_on(made[0], staff.riyadh_agent, when=None)
    insights_summarise(first=first, last=today)
    outside: list[str] = []
    page.on(
        "request",
        lambda request: (
            outside.append(request.url) if not request.url.startswith(live_server.url) else None
        ),
    )

    # Given the Riyadh supervisor signs in and opens this month's dashboard
    page.goto(f"{live_server.url}/console/")
    page.fill("#id_username", "riyadh_supervisor")
    page.fill("#id_password", "pass-Word-1234")
    page.locator("form.stack-form button[type=submit]").click()
    page.goto(f"{live_server.url}/console/insights/?grain=month&on={today.isoformat()}")

    # Then the page is Arabic and right to left, with every section
    expect(page.locator("html")).to_have_attribute("lang", "ar")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    for section in ("headline", "trend", "volume-kind", "answer-days", "routing", "workload"):
        expect(page.locator(f"#{section}")).to_be_visible()
    submitted = page.locator('tr[data-figure="submitted"] td.num').first
    expect(submitted).to_have_text(str(len(made)))

    # And the trend's first day is drawn at the right, the last at the left
    bars = page.locator("svg rect.bar--submitted")
    expect(bars).to_have_count(period_containing(Grain.MONTH, today).days)
    first_x = float(bars.first.get_attribute("x") or 0)
    last_x = float(bars.last.get_attribute("x") or 0)
    assert first_x > last_x
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "insights-month-ar.png"), full_page=True)

    # When they follow the submitted figure, the queue lists exactly those requests
    submitted.locator("a").click()
    expect(page.locator(".queue-table tbody tr")).to_have_count(len(made))
    assert outside == []
