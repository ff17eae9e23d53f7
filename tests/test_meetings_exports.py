"""Exports: the schedule as iCalendar (parsed back with `icalendar`) and the office's daily
agenda as an Arabic PDF (its text read back with pdftotext)."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess

import pytest
from icalendar import Calendar

from tawasul.core.hijri import hijri_label
from tawasul.core.ids import tracking_number_display
from tawasul.meetings.exports import agenda_pdf, meetings_ics
from tawasul.meetings.scheduling import meeting_book, meeting_cancel, meeting_reschedule
from tests.test_meetings_support import (  # noqa: F401 (fixtures)
    answered_request,
    approved,
    deputy_fixture,
    local,
    minister_fixture,
    settled_fixture,
    slot,
)

pytestmark = pytest.mark.django_db
BIDI_CONTROLS = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _events(data: bytes) -> list:
    return list(Calendar.from_ical(data).walk("VEVENT"))


def test_ics_lists_booked_meetings_without_personal_data(staff, sara, settled, minister, deputy):
    meeting = approved(staff, sara, [settled], subject="نقل ابني بين المدارس")
    booked = slot(staff, minister, days=3, hour=10)
    meeting_book(meeting=meeting, slot=booked, by=staff.executive)
    slot(staff, deputy, days=3, hour=10)  # an empty slot is not an event

    data = meetings_ics(start=local(0), end=local(10))
    calendar = Calendar.from_ical(data)
    assert str(calendar["VERSION"]) == "2.0"
    [event] = _events(data)
    assert str(event["UID"]) == f"meeting-{meeting.tracking_number}@meetings.tawasul"
    start = event.decoded("DTSTART")
    assert start.utcoffset() == dt.timedelta(0)
    assert start == local(3, 10)  # 10:00 Riyadh is 07:00 UTC
    assert b"T070000Z" in data
    assert event.decoded("DTEND") - start == dt.timedelta(minutes=30)
    summary = str(event["SUMMARY"])
    assert tracking_number_display(meeting.tracking_number) in summary
    text = data.decode()
    for personal in (sara.full_name, sara.mobile, sara.national_id, "نقل ابني"):
        assert personal not in text
    assert str(event["LOCATION"]) == "مكتب معالي الوزير"
    assert meetings_ics(start=local(0), end=local(10), host=deputy).count(b"BEGIN:VEVENT") == 0


def test_ics_uid_is_stable_across_exports_and_reschedules(staff, sara, settled, minister):
    meeting = approved(staff, sara, [settled])
    meeting_book(meeting=meeting, slot=slot(staff, minister, days=3), by=staff.executive)
    [first] = _events(meetings_ics(start=local(0), end=local(10)))
    [again] = _events(meetings_ics(start=local(0), end=local(10)))
    assert first["UID"] == again["UID"]
    meeting_reschedule(
        meeting=meeting, slot=slot(staff, minister, days=5), by=staff.executive, reason="سفر"
    )
    [moved] = _events(meetings_ics(start=local(0), end=local(10)))
    assert moved["UID"] == first["UID"]
    assert int(moved["SEQUENCE"]) == int(first["SEQUENCE"]) + 1
    assert moved.decoded("DTSTART") == local(5, 10)
    meeting_cancel(meeting=meeting, by=staff.executive, reason="اعتذر معالي الوزير عن الموعد")
    assert _events(meetings_ics(start=local(0), end=local(10))) == []


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
def test_agenda_pdf_is_arabic_text_in_reading_order(ministry, staff, sara, khalid, minister):
    settled = answered_request(ministry, staff, sara)
    meeting = approved(staff, sara, [settled], subject="نقل ابني بين المدارس")
    meeting_book(meeting=meeting, slot=slot(staff, minister, days=3, hour=11), by=staff.executive)
    other = approved(
        staff, khalid, [answered_request(ministry, staff, khalid)], subject="شهادة الخبرة"
    )
    meeting_book(meeting=other, slot=slot(staff, minister, days=4, hour=9), by=staff.executive)

    day = local(3).date()
    pdf = agenda_pdf(day=day)
    assert pdf.startswith(b"%PDF")
    text = subprocess.run(
        ["pdftotext", "-", "-"],  # noqa: S607
        input=pdf,
        capture_output=True,
        check=True,
    ).stdout.decode()
    text = BIDI_CONTROLS.sub("", text)
    assert "سارة العتيبي" in text  # the beneficiary's name, letters in logical order
    assert "نقل ابني بين المدارس" in text
    assert "معالي الوزير" in text
    assert "11:00" in text
    hijri = hijri_label(day, "ar").split()  # day, month name (one or two words), year, هـ
    assert " ".join(hijri[1:-2]) in text  # the Hijri month, in reading order
    assert hijri[-2] in text  # the Hijri year
    assert str(day.year) in text  # and the Gregorian year
    assert "Khalid" not in text  # another day's meeting is not on this agenda
    assert sara.national_id not in text
    assert sara.mobile not in text


def test_agenda_pdf_of_an_empty_day(db):
    pdf = agenda_pdf(day=dt.date(2030, 1, 1))
    assert pdf.startswith(b"%PDF")
