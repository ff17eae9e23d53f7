"""Sign-in by code and tracking without an account, in headless Chromium."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.cache import cache
from playwright.sync_api import Page, expect

from tawasul.beneficiaries.models import Beneficiary
from tawasul.cases.services import request_claim, request_note, request_reply, request_submit
from tawasul.channels import sms
from tawasul.channels.delivery import outbox_drain

from .conftest import luhn_complete

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "screenshots"


@pytest.fixture(autouse=True)
def _clean_cache():
    cache.clear()
    yield
    cache.clear()


def shot(page: Page, test: str, step: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{test}-{step}.png"), full_page=True)


def sms_code(to: str) -> str:
    outbox_drain()
    assert sms.outbox, "no SMS was sent"
    assert sms.outbox[-1].to == to
    return re.search(r"\b(\d{6})\b", sms.outbox[-1].text).group(1)


def test_first_sign_in_with_a_code_from_the_sms(page: Page, live_server, channels_in_memory):
    name = "first_sign_in"
    page.set_viewport_size({"width": 390, "height": 844})  # a phone

    # Given a visitor on the Arabic home page, who follows "Sign in" in the header
    page.goto(f"{live_server.url}/")
    page.locator(".site-nav a[href='/signin/']").click()
    expect(page).to_have_url(f"{live_server.url}/signin/")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    shot(page, name, "1-address")

    # When they give their mobile, the way people type it
    page.fill("#id_destination", "056 111 2223")
    page.locator("form.form button[type=submit]").click()

    # Then the code page follows, and the code arrives by SMS
    expect(page).to_have_url(f"{live_server.url}/signin/code/")
    expect(page.locator("#id_code")).to_have_attribute("autocomplete", "one-time-code")
    shot(page, name, "2-code")
    page.fill("#id_code", sms_code("+966561112223"))
    page.locator("form.form button[type=submit]").click()

    # And, being new, they read the privacy notice and say who they are
    expect(page).to_have_url(f"{live_server.url}/signin/profile/")
    expect(page.locator(".privacy")).to_be_visible()
    shot(page, name, "3-profile")
    page.fill("#id_national_id", luhn_complete("104444444"))
    page.fill("#id_full_name", "نورة الحربي")
    page.check("#id_kind_0")
    page.check("#id_language_0")
    page.locator("form.form button[type=submit]").click()

    # Without consent, the form says so and nothing is recorded
    expect(page.locator("#id_consent_error")).to_be_visible()
    assert not Beneficiary.objects.exists()
    shot(page, name, "4-consent-missing")
    page.check("#id_consent")
    page.locator("form.form button[type=submit]").click()

    # Then they land signed in, with the sign-out button in the header
    expect(page).to_have_url(re.compile(rf"{re.escape(live_server.url)}/requests/$"))
    expect(page.locator(".site-nav__signout button")).to_be_visible()
    shot(page, name, "5-signed-in")
    beneficiary = Beneficiary.objects.get()
    assert beneficiary.mobile == "+966561112223"
    assert beneficiary.consent_at is not None

    # And signing out brings them home, signed out
    page.locator(".site-nav__signout button").click()
    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.locator(".site-nav a[href='/signin/']")).to_be_visible()
    shot(page, name, "6-signed-out")


@pytest.mark.usefixtures("channels_in_memory")
def test_track_a_request_without_an_account(page: Page, live_server, ministry, staff, sara):
    name = "track_without_account"
    # Given sara's request, worked on by an agent who also wrote an internal note
    request = request_submit(
        beneficiary=sara,
        kind="complaint",
        category=ministry.exams,
        subject="تأخر نتيجة الاختبار",
        description="لم تظهر نتيجة ابني في نظام نور حتى الآن",
        entity=ministry.riyadh,
    )
    request_claim(request=request, by=staff.riyadh_agent)
    request_note(request=request, by=staff.riyadh_agent, body="INTERNAL-ONLY remark")
    request_reply(request=request, by=staff.riyadh_agent, body="We are checking with the school.")
    outbox_drain()
    page.set_viewport_size({"width": 1280, "height": 900})

    # When she opens "Track a request" in English and gives the number and her mobile
    page.goto(f"{live_server.url}/en/")
    page.get_by_role("link", name="Track a request").click()
    expect(page).to_have_url(f"{live_server.url}/en/track/")
    shot(page, name, "1-form")
    page.get_by_label("Tracking number").fill(request.tracking_display)
    page.get_by_label("The mobile number the request was sent with").fill("0551234567")
    page.get_by_role("button", name="Send me a code").click()

    # Then she is asked for the code sent to her mobile
    expect(page).to_have_url(f"{live_server.url}/en/track/code/")
    shot(page, name, "2-code")
    page.get_by_label("The code you received").fill(sms_code("+966551234567"))
    page.get_by_role("button", name="Show the request").click()

    # And she reads her request and its public timeline, without the internal note
    expect(page).to_have_url(f"{live_server.url}/en/track/view/")
    main = page.locator("main")
    expect(main).to_contain_text(request.tracking_display)
    expect(main).to_contain_text("We are checking with the school.")
    expect(main).to_contain_text("Beneficiary care team")
    expect(main).not_to_contain_text("INTERNAL-ONLY")
    expect(main).not_to_contain_text("riyadh_agent")
    shot(page, name, "3-view")
