"""The screen-pop in a real (headless Chromium) browser: the agent's console is open, the
telephony system posts a signed `ringing` event over HTTP, the pop appears by itself within
the polling interval with the caller masked and their request, and opening the request from
the pop opens it (and links the call to it)."""

from __future__ import annotations

import json
import re
import time
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import Browser, Page, expect

from tawasul.channels.models import Call, CallStatus
from tawasul.core.validators import mobile_masked

from .test_channels_cti import SARA, cti_line, event, signed, submit

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "screenshots"
POLL_WAIT_MS = 10_000  # the pop polls every 3 s


def _shot(page: Page, step: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"call-pop-{step}.png"), full_page=False)


def _as(browser: Browser, live_server, user) -> Page:
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie.value, "url": live_server.url}]
    )
    return context.new_page()


def _telephony_posts(live_server, line, payload: dict) -> dict:
    """What the telephony system does: a signed POST to the line's webhook."""
    body = json.dumps(payload).encode()
    sent = urllib.request.Request(  # noqa: S310 (the local live server)
        f"{live_server.url}/channels/cti/{line.public_id}/events",
        data=body,
        headers={"Content-Type": "application/json", **signed(body)},
        method="POST",
    )
    with urllib.request.urlopen(sent, timeout=10) as response:  # noqa: S310
        return json.loads(response.read())


def test_the_pop_appears_for_a_ringing_call_and_opens_the_request(
    browser: Browser, live_server, ministry, staff, sara
):
    # given Sara's open Riyadh request, the Riyadh telephony line, and the agent's console open
    request = submit(ministry, sara, ministry.riyadh)
    line = cti_line(ministry)
    page = _as(browser, live_server, staff.riyadh_agent)
    page.goto(f"{live_server.url}/console/")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.locator(".call-pop__call")).to_have_count(0)

    # when the telephony system reports Sara's call ringing at the agent's desk
    answer = _telephony_posts(
        live_server, line, event("ringing", agent="riyadh_agent", at=int(time.time()))
    )
    assert answer["status"] == "ringing"

    # then the pop appears by itself, with her name, her number masked and her request
    pop = page.locator(".call-pop__call--ringing")
    expect(pop).to_be_visible(timeout=POLL_WAIT_MS)
    expect(pop.locator(".call-pop__name")).to_have_text(sara.full_name)
    expect(pop.locator(".call-pop__mobile")).to_have_text(mobile_masked(SARA))
    expect(pop).not_to_contain_text(SARA)
    opener = pop.locator(".call-pop__open", has_text=request.tracking_display)
    expect(opener).to_be_visible()
    _shot(page, "1-ringing")

    # when the agent opens the request from the pop
    opener.click()

    # then the request's page opens, and the call is linked to it
    expect(page).to_have_url(re.compile(rf"/console/requests/{request.pk}/$"))
    expect(page.locator(".workspace__header")).to_contain_text(request.tracking_display)
    expect(page.locator(".call-pop__linked")).to_be_visible(timeout=POLL_WAIT_MS)
    _shot(page, "2-opened")
    call = Call.objects.get()
    assert (call.request_id, call.status) == (request.pk, CallStatus.RINGING)
