"""The request workspace in real (headless Chromium) browsers: claim → reply with a canned
response → answer; forward to another entity (the receiving agent sees it, the sender's
agent no longer does); merge two requests. Staff sign in with a session cookie."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import Browser, Page, expect

from tawasul.cases.models import CannedResponse, Request, Status
from tawasul.cases.services import request_submit

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "screenshots"


def _shot(page: Page, test: str, step: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{test}-{step}.png"), full_page=True)


def _as(browser: Browser, live_server, user) -> Page:
    """A page in a fresh browser context signed in as `user`."""
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie.value, "url": live_server.url}]
    )
    return context.new_page()


def _submit(ministry, beneficiary, subject: str = "تأخر نتيجة الاختبار") -> Request:
    return request_submit(
        beneficiary=beneficiary,
        kind="complaint",
        category=ministry.exams,
        subject=subject,
        description="لم تظهر نتيجة ابني في نظام نور حتى الآن رغم انتهاء الفصل الدراسي.",
        entity=ministry.riyadh,
    )


def _url(live_server, request: Request) -> str:
    return f"{live_server.url}/console/requests/{request.pk}/"


def test_claim_reply_with_a_canned_response_and_answer(
    browser: Browser, live_server, ministry, staff, sara
):
    name = "workspace-claim-reply-answer"
    # Given a new Riyadh request and a shared canned response
    request = _submit(ministry, sara)
    CannedResponse.objects.create(
        title_ar="استلام الطلب",
        body_ar="مرحباً {name}، طلبك {tracking_number} قيد المعالجة.",
    )
    page = _as(browser, live_server, staff.riyadh_agent)
    page.goto(_url(live_server, request))
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.locator("#beneficiary")).not_to_contain_text(sara.national_id)
    _shot(page, name, "1-new")

    # When the agent claims it and starts work
    page.locator("form.action--claim button").click()
    expect(page.locator("form.action--claim")).to_have_count(0)
    page.locator("form.action--start button").click()
    expect(page.locator("form.action--start")).to_have_count(0)
    expect(page.locator("form.action--reply")).to_be_visible()

    # And inserts the canned response and sends it
    page.locator("[data-canned-insert]").click()
    reply = page.locator("#id_reply-body")
    expect(reply).to_have_value(f"مرحباً سارة، طلبك {request.tracking_display} قيد المعالجة.")
    _shot(page, name, "2-canned")
    page.locator("form.action--reply button").click()
    expect(page.locator(".timeline")).to_contain_text("قيد المعالجة")

    # And answers it with a resolution code
    page.locator("#answer summary").click()
    page.locator("#id_resolution").fill("ظهرت النتيجة في نظام نور بعد المراجعة.")
    page.locator("#id_resolution_code").select_option("resolved")
    page.locator("form.action--answer button").click()
    expect(page.locator(".workspace__header .status")).to_have_class("status status--answered")
    _shot(page, name, "3-answered")

    # Then the request is answered
    assert Request.objects.get(pk=request.pk).status == Status.ANSWERED


def test_forward_moves_the_request_between_entities(
    browser: Browser, live_server, ministry, staff, sara
):
    name = "workspace-forward"
    request = _submit(ministry, sara)
    riyadh = _as(browser, live_server, staff.riyadh_agent)
    riyadh.goto(_url(live_server, request))

    # When the Riyadh agent forwards it to Makkah, picking the entity through the filter
    riyadh.locator("#forward summary").click()
    riyadh.locator("#forward-filter").fill("مكة")
    riyadh.locator("#id_to_entity").select_option(str(ministry.makkah.pk))
    riyadh.locator("#id_reason").fill("المدرسة تتبع تعليم مكة")
    _shot(riyadh, name, "1-picker")
    riyadh.locator("form.action--forward button").click()
    riyadh.wait_for_load_state("networkidle")

    # Then the Makkah agent sees it, with the reason, and the Riyadh agent no longer does
    makkah = _as(browser, live_server, staff.makkah_agent)
    makkah.goto(_url(live_server, request))
    expect(makkah.locator(".timeline")).to_contain_text("المدرسة تتبع تعليم مكة")
    _shot(makkah, name, "2-received")
    response = riyadh.goto(_url(live_server, request))
    assert response is not None
    assert response.status == 404


def test_merge_two_requests(browser: Browser, live_server, ministry, staff, sara):
    name = "workspace-merge"
    duplicate = _submit(ministry, sara)
    survivor = _submit(ministry, sara, subject="نتيجة الاختبار لم تظهر")
    page = _as(browser, live_server, staff.riyadh_agent)
    page.goto(_url(live_server, duplicate))

    # the actions panel's merge (the similar-requests panel offers its own per row)
    actions = page.locator("section.panel.actions")
    actions.locator("details:has(form.action--merge) summary").click()
    page.locator("#id_merge-tracking_number").fill(survivor.tracking_display)
    page.locator("#id_merge-reason").fill("طلب مكرر لنفس الموضوع")
    actions.locator("form.action--merge button").click()
    expect(page.locator(".workspace__header .status")).to_have_class("status status--closed")
    expect(page.locator(".workspace__header")).to_contain_text(survivor.tracking_display)
    _shot(page, name, "1-merged")

    merged = Request.objects.get(pk=duplicate.pk)
    assert merged.merged_into_id == survivor.pk
    page.goto(_url(live_server, survivor))
    expect(page.locator(".timeline")).to_contain_text(duplicate.tracking_display)
    _shot(page, name, "2-survivor")
