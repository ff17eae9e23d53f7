"""Real concurrency: many bookings race for one seat; two reminder sweeps race for one
reminder. Threads with their own connections, released together by a barrier.

On PostgreSQL the slot's row lock (SELECT … FOR UPDATE) serialises the bookings and the
unique (slot, seat) constraint backs it; on SQLite the IMMEDIATE transaction does.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection

from tawasul.channels.models import OutboxMessage
from tawasul.core.errors import Conflict
from tawasul.meetings.models import MeetingBooking, MeetingStatus
from tawasul.meetings.scheduling import meeting_book
from tawasul.meetings.sweep import meeting_reminders_send
from tests.test_meetings_support import (  # noqa: F401 (fixtures)
    approved,
    minister_fixture,
    settled_fixture,
    slot,
)
from tests.threads import race

pytestmark = pytest.mark.django_db(transaction=True)
RACERS = 8
ROUNDS = 5


@pytest.mark.usefixtures("on_postgres")
def test_many_bookings_race_for_one_seat(settings, staff, sara, settled, minister):
    settings.TAWASUL_MEETING_RULES = []
    figures = []
    for round_number in range(ROUNDS):
        meetings = [approved(staff, sara, [settled]) for _ in range(RACERS)]
        seat = slot(staff, minister, days=3 + round_number, capacity=1)
        outcomes = race(
            [
                lambda meeting=meeting, seat=seat: meeting_book(
                    meeting=meeting, slot=seat, by=staff.executive
                )
                for meeting in meetings
            ]
        )
        winners = [o for o in outcomes if isinstance(o, MeetingBooking)]
        losers = [o for o in outcomes if isinstance(o, Conflict) and o.code == "slot_full"]
        figures.append((len(winners), len(losers)))
        assert (len(winners), len(losers)) == (1, RACERS - 1), outcomes
        assert MeetingBooking.objects.filter(slot=seat, released_at__isnull=True).count() == 1
        statuses = sorted(m.__class__.objects.get(pk=m.pk).status for m in meetings)
        assert statuses.count(MeetingStatus.SCHEDULED) == 1
        assert statuses.count(MeetingStatus.APPROVED) == RACERS - 1
    print(f"\nbooking race on {connection.vendor}: {ROUNDS} rounds x {RACERS} threads -> {figures}")


def test_two_reminder_sweeps_queue_each_reminder_once(staff, sara, settled, minister):
    meeting = approved(staff, sara, [settled])
    booked = slot(staff, minister, days=3)
    meeting_book(meeting=meeting, slot=booked, by=staff.executive)
    now = booked.starts_at - dt.timedelta(minutes=60)  # both reminders are due
    outcomes = race([lambda: meeting_reminders_send(now=now) for _ in range(2)])
    assert sorted(outcomes) == [0, 2] or sum(outcomes) == 2, outcomes
    assert OutboxMessage.objects.filter(template="meeting_reminder").count() == 2
