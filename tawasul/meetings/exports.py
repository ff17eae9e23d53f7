"""The schedule as iCalendar and the minister's office daily agenda as an Arabic PDF.

The calendar feed leaves the ministry (phones, mail servers, calendar services), so an
event carries no personal data and no text the beneficiary wrote: the summary is
"Minister meeting" with the meeting's tracking number, the location is the slot's
place or video link, the description names the host. The office reads the rest in the
console by the tracking number. The PDF agenda is printed for the office itself and
does carry the beneficiary's name and the meeting's subject (never a national ID or a
contact detail). See docs/decisions/0006-meetings.md.
"""

from __future__ import annotations

import datetime as dt

from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from icalendar import Calendar, Event

from tawasul.core.hijri import hijri_label
from tawasul.core.ids import tracking_number_display
from tawasul.meetings.models import MeetingBooking, MeetingEventKind, MeetingHost
from tawasul.meetings.selectors import meeting_agenda, meeting_bookings_between

UID_DOMAIN = "meetings.tawasul"
PRODID = "-//Tawasul//Minister meetings//AR"


def meeting_uid(booking: MeetingBooking) -> str:
    """Stable across exports and reschedules: one meeting request, one calendar event."""
    return f"meeting-{booking.meeting.tracking_number}@{UID_DOMAIN}"


def meetings_ics(
    *,
    start: dt.datetime,
    end: dt.datetime,
    host: MeetingHost | None = None,
    language: str = "ar",
) -> bytes:
    """A VCALENDAR with one VEVENT per booked meeting starting in [start, end)."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    with translation.override(language):
        calendar.add("x-wr-calname", str(_("Minister meetings")))
        for booking in meeting_bookings_between(start=start, end=end, host=host):
            calendar.add_component(_vevent(booking))
    return calendar.to_ical()


def _vevent(booking: MeetingBooking) -> Event:
    slot, meeting = booking.slot, booking.meeting
    starts = slot.starts_at.astimezone(dt.UTC)
    event = Event()
    event.add("uid", meeting_uid(booking))
    event.add("dtstamp", booking.created_at.astimezone(dt.UTC))
    event.add("dtstart", starts)
    event.add("dtend", starts + dt.timedelta(minutes=slot.duration_minutes))
    event.add("sequence", meeting.events.filter(kind=MeetingEventKind.RESCHEDULED).count())
    event.add(
        "summary", f"{_('Minister meeting')} {tracking_number_display(meeting.tracking_number)}"
    )
    event.add("description", f"{slot.host.name} — {slot.host.title}")
    location = slot.place or slot.video_link
    if location:
        event.add("location", location)
    if slot.video_link:
        event.add("url", slot.video_link)
    event.add("status", "CONFIRMED")
    return event


def agenda_pdf(*, day: dt.date, host: MeetingHost | None = None) -> bytes:
    """The minister's office agenda of `day`: an Arabic, right-to-left PDF."""
    from weasyprint import HTML  # heavy (Pango, fonts): loaded only when a PDF is made

    with translation.override("ar"):
        html = render_to_string("meetings/agenda.html", _agenda_context(day, host))
    return HTML(string=html).write_pdf()


def _agenda_context(day: dt.date, host: MeetingHost | None) -> dict[str, object]:
    rows = [
        {
            "time": timezone.localtime(booking.slot.starts_at).strftime("%H:%M"),
            "minutes": booking.slot.duration_minutes,
            "host": booking.slot.host,
            "subject": booking.meeting.subject,
            "name": booking.meeting.beneficiary.full_name,
            "tracking": tracking_number_display(booking.meeting.tracking_number),
            "place": booking.slot.place or str(_("Video call")),
        }
        for booking in meeting_agenda(day, host=host)
    ]
    return {"day": day, "hijri": hijri_label(day, "ar"), "rows": rows, "host": host}
