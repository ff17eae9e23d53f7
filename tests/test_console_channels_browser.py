"""The review queue in a real (headless Chromium) browser: an agent follows the nav link to
the review queue, opens a too-short SMS, opens a request from it and lands on the request,
where the channel is shown. Staff sign in with a session cookie."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import Browser, Page, expect

from tawasul.cases.models import Channel, Request
from tawasul.channels.inbound import Incoming, inbound_receive
from tawasul.channels.models import ChannelKind, IdentityKind, InboundMessage, InboundStatus
from tests.channel_servers import channel_account

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "screenshots"


def _shot(page: Page, test: str, step: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{test}-{step}.png"), full_page=True)


def _as(browser: Browser, live_server, user) -> Page:
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie.value, "url": live_server.url}]
    )
    return context.new_page()


def test_an_agent_opens_a_request_from_the_review_queue(  # noqa: PLR0917
    browser: Browser, live_server, ministry, staff, sara, tmp_path, settings
):
    name = "review-open-request"
    settings.MEDIA_ROOT = str(tmp_path / "media")
    # Given a three-letter SMS from sara's mobile, set aside for review
    account = channel_account(
        kind=ChannelKind.SMS,
        centre=ministry.riyadh.centre,
        settings={"url": "http://127.0.0.1:9/sms", "sender": "MOE"},
        name="Riyadh SMS",
    )
    message, _new = inbound_receive(
        account,
        Incoming(
            external_id="sms-1",
            sender="+966551234567",
            identity_kind=IdentityKind.MOBILE,
            body="شكر",
        ),
    )
    assert message.status == InboundStatus.REVIEW

    # When the Riyadh agent follows the nav link to the review queue
    page = _as(browser, live_server, staff.riyadh_agent)
    page.goto(f"{live_server.url}/console/")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.locator("#nav-review-count")).to_have_text("1")
    page.locator("#nav-review").click()
    rows = page.locator("#inbound-messages tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).not_to_contain_text("+966551234567")
    _shot(page, name, "1-queue")

    # And opens the message, and a complaint about exam results from it
    rows.first.locator("td.subject a").click()
    expect(page.locator("#inbound-text")).to_have_text("شكر")
    form = page.locator("form.action--open")
    form.locator("select[name=kind]").select_option("complaint")
    form.locator("select[name=category]").select_option(str(ministry.exams.pk))
    expect(form.locator("select[name=entity]")).to_have_value(str(ministry.riyadh.pk))
    _shot(page, name, "2-message")
    form.locator("button[type=submit]").click()

    # Then they land on the new request, sara's, by SMS
    expect(page.locator(".workspace__header")).to_be_visible()
    request = Request.objects.get()
    expect(page.locator(".workspace__tracking")).to_contain_text(request.tracking_display)
    expect(page.locator(".workspace__facts")).to_contain_text(str(Channel.SMS.label))
    expect(page.locator("#nav-review-count")).to_have_text("0")
    _shot(page, name, "3-request")
    assert (request.beneficiary, request.channel) == (sara, Channel.SMS)
    assert InboundMessage.objects.get(pk=message.pk).request == request
