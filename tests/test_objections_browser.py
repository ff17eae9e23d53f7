"""Objection end to end in headless Chromium: answer → the beneficiary objects in the
portal → a supervisor upholds in the console → the request is in progress again →
answered again → the beneficiary rates the new answer in the portal."""

from __future__ import annotations

from importlib import import_module
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import Browser, Page, expect

from tawasul.cases.models import Priority, Status
from tawasul.cases.services import request_answer, request_claim, request_start, request_submit
from tawasul.feedback.models import Objection, ObjectionOutcome, SatisfactionResponse
from tawasul.portal.session import BENEFICIARY_KEY

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "screenshots"
FIRST_ANSWER = "The result was re-checked and is correct as published."
SECOND_ANSWER = "After a second review the missing mark was added and the result corrected."
REASON = "The answer does not explain why one subject's mark is missing."


def _shot(page: Page, step: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"objection-{step}.png"), full_page=True)


def _beneficiary_page(browser: Browser, live_server, beneficiary) -> Page:
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[BENEFICIARY_KEY] = beneficiary.pk
    store.save()
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": store.session_key, "url": live_server.url}]
    )
    return context.new_page()


def _staff_page(browser: Browser, live_server, user) -> Page:
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie.value, "url": live_server.url}]
    )
    return context.new_page()


def test_object_uphold_reanswer_and_rate(browser: Browser, live_server, ministry, staff, sara):
    # Given Sara's request answered by the Riyadh agent
    request = request_submit(
        beneficiary=sara,
        kind="complaint",
        category=ministry.exams,
        subject="Exam result incomplete",
        description="One subject's mark is missing from my son's result in Noor.",
        entity=ministry.riyadh,
    )
    request_claim(request=request, by=staff.riyadh_agent)
    request_start(request=request, by=staff.riyadh_agent)
    request_answer(request=request, by=staff.riyadh_agent, resolution=FIRST_ANSWER)

    # When Sara opens it in the portal, she sees until when she may object, and objects
    portal = _beneficiary_page(browser, live_server, sara)
    detail = f"{live_server.url}/en/requests/{request.tracking_number}/"
    portal.goto(detail)
    expect(portal.locator("#objection-window")).to_contain_text("You can object until")
    _shot(portal, "1-answered")
    portal.get_by_role("link", name="Object to the answer").click()
    portal.get_by_label("Why does the answer not satisfy you?").fill(REASON)
    portal.get_by_role("button", name="Send the objection").click()
    expect(portal.locator("#request-status")).to_have_text("Objected")
    _shot(portal, "2-objected")
    objection = Objection.objects.get(request=request)

    # When the Riyadh supervisor finds it in the objections queue and upholds it
    console = _staff_page(browser, live_server, staff.riyadh_supervisor)
    console.goto(f"{live_server.url}/en/console/objections/")
    row = console.locator(f'tr[data-objection="{objection.pk}"]')
    expect(row).to_contain_text(request.subject)
    _shot(console, "3-queue")
    row.get_by_role("link").click()
    expect(console.locator("#answer-text")).to_contain_text(FIRST_ANSWER)
    expect(console.locator("#objection-reason")).to_contain_text(REASON)
    uphold = console.locator("#uphold-form")
    uphold.get_by_label("Why the objection is upheld").fill("The missing mark was not checked.")
    uphold.get_by_label("Reassign to (optional)").select_option(str(staff.riyadh_agent2.pk))
    _shot(console, "4-review")
    uphold.get_by_role("button", name="Uphold and reopen").click()
    expect(console.get_by_role("status")).to_contain_text("The objection is upheld")
    expect(console.locator(f'tr[data-objection="{objection.pk}"]')).to_have_count(0)
    _shot(console, "5-upheld")

    # Then the request is in progress again, with a higher priority, for the second agent
    request.refresh_from_db()
    assert (request.status, request.priority) == (Status.IN_PROGRESS, Priority.HIGH)
    assert request.assignee_id == staff.riyadh_agent2.pk
    objection.refresh_from_db()
    assert objection.outcome == ObjectionOutcome.UPHELD
    portal.goto(detail)
    expect(portal.locator("#request-status")).to_have_text("In progress")
    _shot(portal, "6-reopened")

    # When the second agent answers again, Sara rates the new answer in the portal
    request_answer(request=request, by=staff.riyadh_agent2, resolution=SECOND_ANSWER)
    portal.goto(detail)
    expect(portal.locator("#request-status")).to_have_text("Answered")
    portal.get_by_role("link", name="Rate the answer").click()
    portal.get_by_label("4 — Satisfied").check()
    portal.get_by_role("group", name="Did the answer resolve your request?").get_by_label(
        "Yes"
    ).check()
    portal.get_by_role("button", name="Send the rating").click()
    expect(portal.locator(".rated")).to_contain_text("You rated this answer 4 out of 5.")
    _shot(portal, "7-rated")

    # Then the rating is about the second answer
    rating = SatisfactionResponse.objects.get(request=request)
    assert rating.score == 4
    assert rating.answer_event.data.get("message") != objection.answer_event.data.get("message")
