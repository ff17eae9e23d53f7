"""The portal's minister-meeting pages: the list, asking (every rule shown before, every
failed one explained after), one request with its public timeline, picking an offered
date, withdrawing. Only the signed-in beneficiary's own meeting requests are reachable;
bad input shows the form again and writes nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tawasul.channels.models import OutboxMessage
from tawasul.meetings.models import (
    MeetingBooking,
    MeetingEvent,
    MeetingReminder,
    MeetingRequest,
    MeetingStatus,
)
from tawasul.meetings.scheduling import meeting_book, meeting_offer
from tawasul.meetings.services import meeting_decline, meeting_note, meeting_withdraw
from tawasul.portal.session import BENEFICIARY_KEY
from tests.test_meetings_support import (  # noqa: F401 (fixtures)
    answered_request,
    approved,
    minister_fixture,
    settled_fixture,
    slot,
    submit,
)

pytestmark = pytest.mark.django_db

SUBJECT = "نقل ابني بين المدارس"
SUMMARY = "أطلب مقابلة معالي الوزير لعرض مشكلة نقل ابني بين المدارس بعد الرد على طلبي"


def _sign_in(client, beneficiary):
    session = client.session
    session[BENEFICIARY_KEY] = beneficiary.pk
    session.save()
    return client


@pytest.fixture
def signed_in(client, sara):
    return _sign_in(client, sara)


def _page(response) -> str:
    return response.content.decode()


def _day(days: int) -> str:
    return (timezone.localdate() + dt.timedelta(days=days)).isoformat()


def _form(settled, **overrides) -> dict:
    data = {
        "subject": SUBJECT,
        "summary": SUMMARY,
        "follow_ups": [str(settled.pk)],
        "period_1_first_day": _day(7),
        "period_1_last_day": _day(21),
        "period_1_part_of_day": "morning",
        "period_2_first_day": "",
        "period_2_last_day": "",
        "period_2_part_of_day": "",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def _offered(staff, sara, settled, minister):
    meeting = approved(staff, sara, [settled])
    first = slot(staff, minister, days=3, hour=10, place="مكتب معالي الوزير")
    second = slot(staff, minister, days=4, hour=11, place="قاعة الاجتماعات")
    meeting_offer(meeting=meeting, slots=[first, second], by=staff.executive)
    return meeting, first, second


# --- the list ------------------------------------------------------------------------------


def test_signing_in_is_required(client):
    response = client.get("/en/meetings/")
    assert response.status_code == 302
    assert response["Location"].startswith("/en/signin/")


def test_the_list_shows_only_my_meeting_requests(client, sara, khalid, settled):
    meeting = submit(sara, [settled])
    _sign_in(client, sara)
    page = _page(client.get("/en/meetings/"))
    assert meeting.subject in page
    assert f'data-meeting="{meeting.tracking_number}"' in page
    assert "Awaiting screening" in page
    _sign_in(client, khalid)
    page = _page(client.get("/en/meetings/"))
    assert meeting.tracking_number not in page
    assert "You have not asked for a meeting yet." in page


def test_the_list_reads_in_a_fixed_number_of_queries(settings, signed_in, sara, settled):
    settings.TAWASUL_MEETING_MAX_OPEN = 10
    submit(sara, [settled])
    with CaptureQueriesContext(connection) as one:
        assert signed_in.get("/en/meetings/").status_code == 200
    for number in range(4):
        submit(sara, [settled], subject=f"موضوع آخر {number}")
    with CaptureQueriesContext(connection) as five:
        assert signed_in.get("/en/meetings/").status_code == 200
    assert len(five.captured_queries) == len(one.captured_queries)


def test_the_navigation_links_to_the_meetings(signed_in):
    page = _page(signed_in.get("/en/requests/"))
    assert 'href="/en/meetings/"' in page
    assert "Meet the minister" in page


# --- asking for a meeting ---------------------------------------------------------------------


def test_the_rules_are_shown_before_asking(signed_in, settled):
    response = signed_in.get("/en/meetings/new/")
    page = _page(response)
    assert response.status_code == 200
    for code in ("settled_request", "one_open", "cooling_off"):
        assert f'data-rule="{code}"' in page
    assert page.count("rule--passed") == 3
    assert settled.tracking_display in page  # a follow-up to choose
    assert 'name="period_1_first_day"' in page


def test_without_a_settled_request_the_rule_is_explained_and_no_form_shown(
    signed_in, ministry, sara
):
    page = _page(signed_in.get("/en/meetings/new/"))
    assert 'class="rule rule--failed" data-rule="settled_request"' in page
    assert "Choose at least one such request." in page
    assert 'id="not-eligible"' in page
    assert 'name="subject"' not in page


def test_asking_records_the_meeting_request(channels_in_memory, signed_in, sara, settled):
    response = signed_in.post("/en/meetings/new/", _form(settled))
    meeting = MeetingRequest.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/en/meetings/{meeting.tracking_number}/"
    assert (meeting.beneficiary_id, meeting.subject, meeting.status) == (
        sara.pk,
        SUBJECT,
        MeetingStatus.SUBMITTED,
    )
    assert list(meeting.follow_ups.all()) == [settled]
    period = meeting.preferences.get()
    assert (period.first_day.isoformat(), period.part_of_day) == (_day(7), "morning")
    assert OutboxMessage.objects.filter(template="meeting_received").count() == 1
    page = _page(signed_in.get(response["Location"]))
    assert meeting.tracking_display in page  # in the confirmation notice and the head
    assert "Your meeting request has been sent." in page


def test_two_periods_are_kept(signed_in, settled):
    data = _form(
        settled,
        period_2_first_day=_day(30),
        period_2_last_day=_day(40),
        period_2_part_of_day="evening",
    )
    assert signed_in.post("/en/meetings/new/", data).status_code == 302
    periods = MeetingRequest.objects.get().preferences.order_by("first_day")
    assert [p.part_of_day for p in periods] == ["morning", "evening"]


def test_every_failed_rule_is_explained_after_asking(signed_in, sara, settled):
    response = signed_in.post("/en/meetings/new/", _form(settled, follow_ups=None))
    page = _page(response)
    assert response.status_code == 409
    assert 'id="refusals"' in page
    assert "Choose at least one such request." in page
    assert SUBJECT in page  # the form keeps what was typed
    assert MeetingRequest.objects.count() == 0


def test_an_open_meeting_refuses_before_and_after(signed_in, sara, settled):
    submit(sara, [settled])
    page = _page(signed_in.get("/en/meetings/new/"))
    assert 'class="rule rule--failed" data-rule="one_open"' in page
    assert 'id="not-eligible"' in page
    response = signed_in.post("/en/meetings/new/", _form(settled, subject="موضوع ثان"))
    assert response.status_code == 409
    assert "You already have a meeting request in progress." in _page(response)
    assert MeetingRequest.objects.count() == 1


def test_the_refusals_are_in_arabic_on_the_arabic_page(signed_in, sara, settled):
    submit(sara, [settled])
    response = signed_in.post("/meetings/new/", _form(settled, follow_ups=None))
    page = _page(response)
    assert response.status_code == 409
    assert 'lang="ar"' in page
    assert "You already have a meeting request in progress." not in page


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"summary": "قصير"}, "between 20 and 5000 characters"),
        ({"subject": ""}, "This field is required."),
        ({"period_1_first_day": ""}, "This field is required."),
        ({"period_1_first_day": "not-a-date"}, "Enter a valid date."),
        ({"period_1_first_day": _day(-3)}, "within the next 180 days"),
        ({"period_1_last_day": _day(400)}, "within the next 180 days"),
        ({"period_1_part_of_day": "night"}, "Select a valid choice."),
        ({"period_2_first_day": _day(30)}, "Fill in both days and the part of the day"),
    ],
)
def test_bad_input_shows_the_form_again_and_writes_nothing(signed_in, settled, overrides, message):
    response = signed_in.post("/en/meetings/new/", _form(settled, **overrides))
    assert response.status_code == 400
    assert message in _page(response)
    assert 'id="error-summary"' in _page(response)
    assert MeetingRequest.objects.count() == 0
    assert MeetingEvent.objects.count() == 0


def test_someone_elses_request_cannot_be_followed_up(signed_in, ministry, staff, khalid, settled):
    khalids = answered_request(ministry, staff, khalid)
    response = signed_in.post("/en/meetings/new/", _form(settled, follow_ups=[str(khalids.pk)]))
    assert response.status_code == 400
    assert "Select a valid choice." in _page(response)
    assert MeetingRequest.objects.count() == 0


# --- one meeting request -------------------------------------------------------------------------


def test_the_page_shows_the_public_timeline_only(signed_in, staff, sara, settled):
    meeting = submit(sara, [settled])
    meeting_note(meeting=meeting, by=staff.central_agent, body="ملاحظة داخلية لا يراها المستفيد")
    page = _page(signed_in.get(f"/en/meetings/{meeting.tracking_number}/"))
    assert 'id="meeting-status">Awaiting screening<' in page
    assert "Meeting requested" in page
    assert "ملاحظة داخلية" not in page
    assert settled.tracking_display in page  # the request it follows up
    assert sara.national_id not in page
    assert "central_agent" not in page


def test_someone_elses_or_an_unknown_number_is_not_found(client, sara, khalid, settled):
    meeting = submit(sara, [settled])
    _sign_in(client, khalid)
    for path in (
        f"/en/meetings/{meeting.tracking_number}/",
        "/en/meetings/12345678901/",
        "/en/meetings/%E2%80%AE%00/",
    ):
        assert client.get(path).status_code == 404, path
    response = client.post(f"/en/meetings/{meeting.tracking_number}/withdraw/", {"reason": "x"})
    assert response.status_code == 404
    assert MeetingRequest.objects.get().status == MeetingStatus.SUBMITTED


def test_the_number_may_be_typed_with_dashes(signed_in, sara, settled):
    meeting = submit(sara, [settled])
    assert signed_in.get(f"/en/meetings/{meeting.tracking_display}/").status_code == 200


def test_the_decline_reason_is_shown(signed_in, staff, sara, settled):
    meeting = submit(sara, [settled])
    meeting_decline(
        meeting=meeting, by=staff.central_agent, reason="الموضوع من اختصاص إدارة التعليم"
    )
    page = _page(signed_in.get(f"/en/meetings/{meeting.tracking_number}/"))
    assert 'id="meeting-status">Declined<' in page
    assert "الموضوع من اختصاص إدارة التعليم" in page
    assert "Withdraw the meeting request" not in page


# --- picking a date ---------------------------------------------------------------------------


def test_picking_an_offered_date_books_it(signed_in, staff, sara, settled, minister):
    meeting, first, second = _offered(staff, sara, settled, minister)
    detail = f"/en/meetings/{meeting.tracking_number}/"
    page = _page(signed_in.get(detail))
    assert "Choose a date for your meeting" in page
    assert f'value="{first.pk}"' in page
    assert f'value="{second.pk}"' in page
    response = signed_in.post(f"{detail}pick/", {"slot": str(second.pk)})
    assert response.status_code == 302
    meeting.refresh_from_db()
    assert meeting.status == MeetingStatus.SCHEDULED
    booking = MeetingBooking.objects.get(meeting=meeting, released_at__isnull=True)
    assert booking.slot_id == second.pk
    assert booking.booked_by_beneficiary
    assert MeetingReminder.objects.filter(booking=booking).count() == 2
    page = _page(signed_in.get(detail))
    assert 'id="booking-place">قاعة الاجتماعات<' in page
    assert "معالي الوزير — وزير التعليم" in page
    assert 'id="meeting-status">Scheduled<' in page
    assert "AH" in page.split('id="booking-when"')[1].split("</time>")[0]  # Hijri beside


def test_the_booking_shows_hijri_in_arabic(signed_in, staff, sara, settled, minister):
    meeting, first, _second = _offered(staff, sara, settled, minister)
    signed_in.post(f"/meetings/{meeting.tracking_number}/pick/", {"slot": str(first.pk)})
    page = _page(signed_in.get(f"/meetings/{meeting.tracking_number}/"))
    when = page.split('id="booking-when"')[1].split("</time>")[0]
    assert "هـ" in when


def test_a_date_not_offered_is_refused(signed_in, staff, sara, settled, minister):
    meeting, _first, _second = _offered(staff, sara, settled, minister)
    other = slot(staff, minister, days=5)
    response = signed_in.post(f"/en/meetings/{meeting.tracking_number}/pick/", {"slot": other.pk})
    assert response.status_code == 400
    assert "Select a valid choice." in _page(response)
    assert not MeetingBooking.objects.exists()
    assert MeetingRequest.objects.get().status == MeetingStatus.OFFERED


@pytest.fixture
def offered(staff, sara, settled, minister):
    return _offered(staff, sara, settled, minister)


def test_a_date_filled_meanwhile_is_a_conflict(signed_in, ministry, staff, khalid, offered):
    meeting, first, _second = offered
    khalids = approved(staff, khalid, [answered_request(ministry, staff, khalid)])
    meeting_book(meeting=khalids, slot=first, by=staff.executive)
    response = signed_in.post(f"/en/meetings/{meeting.tracking_number}/pick/", {"slot": first.pk})
    assert response.status_code == 409
    assert "This slot is already fully booked." in _page(response)
    assert MeetingRequest.objects.get(pk=meeting.pk).status == MeetingStatus.OFFERED
    assert not MeetingBooking.objects.filter(meeting=meeting).exists()


def test_picking_without_an_offer_is_a_conflict(signed_in, sara, settled):
    meeting = submit(sara, [settled])
    response = signed_in.post(f"/en/meetings/{meeting.tracking_number}/pick/", {"slot": "1"})
    assert response.status_code == 409
    assert "There are no dates offered to choose from." in _page(response)
    assert MeetingRequest.objects.get().status == MeetingStatus.SUBMITTED


# --- withdrawing --------------------------------------------------------------------------------


def test_withdrawing_frees_the_booked_date(signed_in, staff, sara, settled, minister):
    meeting, first, _second = _offered(staff, sara, settled, minister)
    detail = f"/en/meetings/{meeting.tracking_number}/"
    signed_in.post(f"{detail}pick/", {"slot": first.pk})
    response = signed_in.post(f"{detail}withdraw/", {"reason": "لم أعد بحاجة إلى المقابلة"})
    assert response.status_code == 302
    meeting.refresh_from_db()
    assert meeting.status == MeetingStatus.CANCELLED
    assert meeting.cancel_reason == "لم أعد بحاجة إلى المقابلة"
    assert MeetingBooking.objects.get(meeting=meeting).released_at is not None
    page = _page(signed_in.get(detail))
    assert 'id="meeting-status">Cancelled<' in page
    assert "Withdrawn by the beneficiary" in page


def test_withdrawing_twice_is_a_conflict(signed_in, sara, settled):
    meeting = submit(sara, [settled])
    meeting_withdraw(meeting=meeting, beneficiary=sara)
    events = MeetingEvent.objects.count()
    response = signed_in.post(f"/en/meetings/{meeting.tracking_number}/withdraw/", {"reason": ""})
    assert response.status_code == 409
    assert "This action is not possible" in _page(response)
    assert MeetingEvent.objects.count() == events


def test_a_too_long_reason_is_refused(signed_in, sara, settled):
    meeting = submit(sara, [settled])
    response = signed_in.post(
        f"/en/meetings/{meeting.tracking_number}/withdraw/", {"reason": "x" * 1001}
    )
    assert response.status_code == 400
    assert MeetingRequest.objects.get().status == MeetingStatus.SUBMITTED
