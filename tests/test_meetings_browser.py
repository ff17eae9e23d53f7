"""Meet the minister end to end in headless Chromium, in Arabic (right to left): the
beneficiary sees why she cannot ask yet → her request is answered → she asks for a meeting
in the portal → the central centre screens it → the minister's office approves and offers
two dates → she picks one in the portal → a reminder is queued before the meeting.

The staff steps call the meetings services (the same ones the console calls)."""

from __future__ import annotations

import datetime as dt
import re
from importlib import import_module
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from tawasul.channels.models import OutboxMessage
from tawasul.meetings.models import (
    MeetingBooking,
    MeetingHost,
    MeetingReminder,
    MeetingRequest,
    MeetingStatus,
)
from tawasul.meetings.scheduling import meeting_offer
from tawasul.meetings.services import meeting_approve, meeting_forward
from tawasul.meetings.sweep import meeting_reminders_send
from tawasul.portal.session import BENEFICIARY_KEY
from tests.test_meetings_support import SUMMARY, answered_request, slot

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "screenshots"
SUBJECT = "نقل ابني بين المدارس"


def _shot(page: Page, step: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"meeting-{step}.png"), full_page=True)


def _beneficiary_page(browser: Browser, live_server, beneficiary) -> Page:
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[BENEFICIARY_KEY] = beneficiary.pk
    store.save()
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="ar")
    context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": store.session_key, "url": live_server.url}]
    )
    return context.new_page()


def _day(days: int) -> str:
    return (timezone.localdate() + dt.timedelta(days=days)).isoformat()


def test_ask_screen_approve_offer_pick_and_remind(
    browser: Browser, live_server, ministry, staff, sara
):
    minister = MeetingHost.objects.create(
        name="معالي الوزير", title="وزير التعليم", is_minister=True
    )
    # Given Sara signed in to the portal, with no request answered yet: the rule is explained
    portal = _beneficiary_page(browser, live_server, sara)
    portal.goto(f"{live_server.url}/requests/")
    expect(portal.locator("html")).to_have_attribute("dir", "rtl")
    portal.locator('.site-nav a[href="/meetings/"]').click()
    expect(portal).to_have_url(f"{live_server.url}/meetings/")
    portal.locator('.page-head a[href="/meetings/new/"]').click()
    expect(portal.locator('[data-rule="settled_request"]')).to_have_class(
        re.compile("rule--failed")
    )
    expect(portal.locator("#not-eligible")).to_be_visible()
    _shot(portal, "0-not-eligible")

    # When her request is answered, every rule is met and she asks for a meeting
    settled = answered_request(ministry, staff, sara)
    portal.reload()
    expect(portal.locator(".rule--passed")).to_have_count(3)
    portal.locator("#id_subject").fill(SUBJECT)
    portal.locator("#id_summary").fill(SUMMARY)
    portal.locator(f'input[name="follow_ups"][value="{settled.pk}"]').check()
    portal.locator("#id_period_1_first_day").fill(_day(2))
    portal.locator("#id_period_1_last_day").fill(_day(20))
    portal.locator("#id_period_1_part_of_day").select_option("morning")
    _shot(portal, "1-ask")
    portal.locator(".meeting-form button[type=submit]").click()

    # Then the meeting request is recorded and awaits screening
    meeting = MeetingRequest.objects.get(beneficiary=sara)
    expect(portal).to_have_url(f"{live_server.url}/meetings/{meeting.tracking_number}/")
    expect(portal.locator("#meeting-status")).to_have_class(re.compile("status--submitted"))
    expect(portal.locator(".notice--success")).to_contain_text(meeting.tracking_display)
    assert list(meeting.follow_ups.all()) == [settled]
    _shot(portal, "2-submitted")

    # When the central centre screens it and the minister's office approves and offers dates
    meeting = meeting_forward(meeting=meeting, by=staff.central_agent)
    meeting = meeting_approve(meeting=meeting, by=staff.executive)
    first = slot(staff, minister, days=3, hour=10, place="مكتب معالي الوزير، المبنى الرئيس")
    second = slot(staff, minister, days=5, hour=11, place="قاعة الاجتماعات الكبرى")
    meeting_offer(meeting=meeting, slots=[first, second], by=staff.executive)

    # Then Sara sees the dates offered and picks the second one
    portal.reload()
    expect(portal.locator("#meeting-status")).to_have_class(re.compile("status--offered"))
    expect(portal.locator("#pick .slot-choice")).to_have_count(2)
    _shot(portal, "3-offered")
    portal.locator(f'#pick input[value="{second.pk}"]').check()
    portal.locator("#pick button[type=submit]").click()

    # Then the meeting is scheduled: date and time in Gregorian and Hijri, place and host
    expect(portal.locator("#meeting-status")).to_have_class(re.compile("status--scheduled"))
    expect(portal.locator("#booking-when")).to_contain_text("هـ")
    expect(portal.locator("#booking-place")).to_have_text("قاعة الاجتماعات الكبرى")
    expect(portal.locator("#booking-host")).to_contain_text("معالي الوزير")
    expect(portal.locator("#pick")).to_have_count(0)
    _shot(portal, "4-scheduled")
    booking = MeetingBooking.objects.get(meeting=meeting, released_at__isnull=True)
    assert booking.slot_id == second.pk
    assert MeetingRequest.objects.get(pk=meeting.pk).status == MeetingStatus.SCHEDULED

    # And the list shows it scheduled
    portal.goto(f"{live_server.url}/meetings/")
    card = portal.locator(f'[data-meeting="{meeting.tracking_number}"]')
    expect(card.locator(".status")).to_have_class(re.compile("status--scheduled"))
    _shot(portal, "5-list")

    # When the reminder sweep runs a day before, a reminder is queued for Sara (once)
    day_before = MeetingReminder.objects.get(booking=booking, minutes_before=1440)
    assert meeting_reminders_send(now=day_before.due_at) == 1
    assert meeting_reminders_send(now=day_before.due_at) == 0
    reminder = OutboxMessage.objects.get(template="meeting_reminder")
    assert (reminder.channel, reminder.recipient) == ("sms", sara.mobile)
    assert reminder.context == {"tracking_number": meeting.tracking_number}
