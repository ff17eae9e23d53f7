"""The portal and the admin in a real (headless Chromium) browser."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tawasul.cases.services import request_submit

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(tempfile.gettempdir()) / "tawasul-ui"

# Where a heading's text sits on the screen, from its own glyphs (not its block box).
HEADING_BOX = """(selector) => {
  const range = document.createRange();
  range.selectNodeContents(document.querySelector(selector));
  const box = range.getBoundingClientRect();
  return {left: box.left, right: box.right, viewport: document.documentElement.clientWidth};
}"""


def _heading_box(page: Page) -> dict[str, float]:
    return page.evaluate(HEADING_BOX, "#kinds-title")


def test_home_renders_right_to_left(page: Page, live_server):
    # Given a visitor with no language chosen
    page.set_viewport_size({"width": 1280, "height": 900})

    # When they open the home page
    page.goto(f"{live_server.url}/")

    # Then the page is Arabic, laid out right to left: headings hug the right edge
    html = page.locator("html")
    expect(html).to_have_attribute("dir", "rtl")
    expect(html).to_have_attribute("lang", "ar")
    box = _heading_box(page)
    assert box["left"] > box["viewport"] / 2
    assert box["viewport"] - box["right"] < box["left"]
    expect(page.locator(".today time")).to_contain_text("هـ")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "home-ar.png"), full_page=True)


def test_switching_to_english_flips_the_page_and_is_remembered(page: Page, live_server):
    # Given the Arabic home page
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/")

    # When the visitor presses the English button of the language switch
    page.get_by_role("button", name="English").click()

    # Then the page is English and left to right
    expect(page).to_have_url(f"{live_server.url}/en/")
    html = page.locator("html")
    expect(html).to_have_attribute("dir", "ltr")
    expect(html).to_have_attribute("lang", "en")
    box = _heading_box(page)
    assert box["right"] < box["viewport"] / 2
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "home-en.png"), full_page=True)

    # And on the next visit to the plain address the choice holds
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(f"{live_server.url}/en/")
    expect(html).to_have_attribute("dir", "ltr")

    # And switching back to Arabic returns to the plain address
    page.locator("button[name=language][value=ar]").click()
    expect(page).to_have_url(f"{live_server.url}/")
    expect(html).to_have_attribute("dir", "rtl")


@pytest.fixture
def riyadh_and_makkah(ministry, sara, khalid):
    """A Riyadh request and a Makkah one."""
    riyadh = request_submit(
        beneficiary=sara,
        kind="complaint",
        category=ministry.exams,
        subject="تأخر نتيجة الرياض",
        description="لم تظهر نتيجة ابني في نظام نور حتى الآن",
        entity=ministry.riyadh,
    )
    makkah = request_submit(
        beneficiary=khalid,
        kind="inquiry",
        category=ministry.exams,
        subject="سؤال عن نتيجة مكة",
        description="متى تظهر نتائج الاختبارات النهائية؟",
        entity=ministry.makkah,
    )
    return riyadh, makkah


def test_staff_member_signs_in_and_sees_requests_of_their_entity(
    page: Page, live_server, staff, riyadh_and_makkah
):
    # Given a Riyadh agent with staff access, a Riyadh request and a Makkah one
    agent = staff.riyadh_agent
    agent.is_staff = True
    agent.save(update_fields=["is_staff"])
    riyadh, makkah = riyadh_and_makkah

    # When they sign in through the admin's login form
    page.goto(f"{live_server.url}/en/admin/cases/request/")
    expect(page).to_have_url(f"{live_server.url}/en/admin/login/?next=/en/admin/cases/request/")
    page.fill("#id_username", "riyadh_agent")
    page.fill("#id_password", "pass-Word-1234")
    page.get_by_role("button", name="Log in").click()

    # Then they see the request list with their entity's request, and not Makkah's
    expect(page).to_have_url(f"{live_server.url}/en/admin/cases/request/")
    results = page.locator("#result_list")
    expect(results).to_contain_text(riyadh.tracking_display)
    expect(results).to_contain_text("Riyadh Education")
    expect(results).not_to_contain_text(makkah.tracking_display)

    # And opening it shows its subject and timeline, read-only
    page.get_by_role("link", name=riyadh.tracking_display).click()
    expect(page.locator("#content")).to_contain_text("تأخر نتيجة الرياض")
    expect(page.locator("#content")).to_contain_text("Submitted")
    expect(page.locator("input[name=_save]")).to_have_count(0)
