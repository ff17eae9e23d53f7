"""Slots, offers, bookings, reschedules, cancellations, no-shows, reminders and outcomes."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tawasul.channels.models import OutboxMessage
from tawasul.channels.notifications import notification_render_email, notification_render_sms
from tawasul.core.errors import AccessDenied, Conflict, IllegalTransition, InvalidInput, NotFound
from tawasul.directory.models import BusinessCalendar, CareCentre, Holiday, HolidayKind
from tawasul.meetings.models import (
    MeetingBooking,
    MeetingReminder,
    MeetingSlot,
    MeetingStatus,
)
from tawasul.meetings.scheduling import (
    SlotPlan,
    meeting_book,
    meeting_cancel,
    meeting_mark_held,
    meeting_mark_no_show,
    meeting_offer,
    meeting_pick,
    meeting_reschedule,
    slot_create,
    slots_create_recurring,
)
from tawasul.meetings.selectors import meeting_offered_slots, meeting_slots_open, meeting_timeline
from tawasul.meetings.services import (
    meeting_action_add,
    meeting_action_open_request,
    meeting_outcome_record,
    meeting_withdraw,
)
from tawasul.meetings.sweep import meeting_reminders_send
from tests.test_meetings_support import (  # noqa: F401 (fixtures)
    RIYADH,
    answered_request,
    approved,
    deputy_fixture,
    local,
    minister_fixture,
    settled_fixture,
    slot,
)

pytestmark = pytest.mark.django_db


def _to_the_past(slot_row: MeetingSlot) -> None:
    """The meeting's time has come (the clock moves, not the rules)."""
    MeetingSlot.objects.filter(pk=slot_row.pk).update(
        starts_at=timezone.now() - dt.timedelta(minutes=5)
    )


# --- slots -------------------------------------------------------------------------------------


def test_slot_create(staff, minister):
    created = slot(staff, minister, days=3, hour=10, capacity=2)
    assert created.starts_at == local(3, 10)
    assert (created.capacity, created.duration_minutes, created.created_by) == (
        2,
        30,
        staff.executive,
    )


@pytest.mark.parametrize(
    ("plan", "days", "code"),
    [
        (SlotPlan(duration_minutes=30, place="مكتب"), -1, "slot_past"),
        (SlotPlan(duration_minutes=2, place="مكتب"), 3, "duration"),
        (SlotPlan(duration_minutes=30, capacity=0, place="مكتب"), 3, "capacity"),
        (SlotPlan(duration_minutes=30), 3, "place_required"),
        (SlotPlan(duration_minutes=30, video_link="http://meet.example/x"), 3, "video_link"),
    ],
)
def test_slot_input_is_checked(staff, minister, plan, days, code):
    with pytest.raises(InvalidInput) as caught:
        slot_create(host=minister, starts_at=local(days), plan=plan, by=staff.executive)
    assert caught.value.code == code
    assert MeetingSlot.objects.count() == 0


def test_slots_of_a_host_do_not_overlap(staff, minister, deputy):
    slot(staff, minister, days=3, hour=10)
    with pytest.raises(Conflict) as caught:
        slot_create(
            host=minister,
            starts_at=local(3, 10) + dt.timedelta(minutes=15),
            plan=SlotPlan(duration_minutes=30, place="مكتب"),
            by=staff.executive,
        )
    assert caught.value.code == "slot_overlap"
    assert slot(staff, deputy, days=3, hour=10).host == deputy  # another host is free
    assert slot(staff, minister, days=3, hour=11).host == minister


def test_only_the_office_manages_slots(staff, minister):
    with pytest.raises(AccessDenied):
        slot_create(
            host=minister,
            starts_at=local(3),
            plan=SlotPlan(duration_minutes=30, place="مكتب"),
            by=staff.central_agent,
        )
    with pytest.raises(NotFound):
        slot_create(
            host=minister,
            starts_at=local(3),
            plan=SlotPlan(duration_minutes=30, place="مكتب"),
            by=staff.riyadh_supervisor,
        )


def test_recurring_slots_skip_holidays(ministry, staff, minister):
    calendar = BusinessCalendar.objects.create(name="التقويم المركزي")
    CareCentre.objects.filter(entity=ministry.ministry).update(calendar=calendar)
    today = timezone.localdate()
    first = today + dt.timedelta(days=(7 - today.isoweekday()) % 7 + 7)  # a Sunday ahead
    holiday = first + dt.timedelta(days=9)  # the second Tuesday
    Holiday.objects.create(
        calendar=calendar,
        kind=HolidayKind.ONE_OFF,
        name_ar="إجازة",
        name_en="Closure",
        start_date=holiday,
        end_date=holiday,
    )
    slots = slots_create_recurring(
        host=minister,
        weekdays=[7, 2],  # Sundays and Tuesdays
        at=dt.time(9, 30),
        first_day=first,
        last_day=first + dt.timedelta(days=20),
        plan=SlotPlan(duration_minutes=20, place="مكتب معالي الوزير"),
        by=staff.executive,
    )
    days = [timezone.localtime(s.starts_at, RIYADH).date() for s in slots]
    assert days == [
        first,
        first + dt.timedelta(days=2),
        first + dt.timedelta(days=7),
        first + dt.timedelta(days=14),
        first + dt.timedelta(days=16),
    ]
    assert holiday not in days
    assert {timezone.localtime(s.starts_at, RIYADH).time() for s in slots} == {dt.time(9, 30)}


def test_recurrence_input_is_checked(staff, minister):
    today = timezone.localdate()
    plan = SlotPlan(duration_minutes=20, place="مكتب")
    with pytest.raises(InvalidInput):
        slots_create_recurring(
            host=minister,
            weekdays=[8],
            at=dt.time(9),
            first_day=today,
            last_day=today,
            plan=plan,
            by=staff.executive,
        )
    with pytest.raises(InvalidInput):
        slots_create_recurring(
            host=minister,
            weekdays=[1],
            at=dt.time(9),
            first_day=today + dt.timedelta(days=5),
            last_day=today,
            plan=plan,
            by=staff.executive,
        )


# --- booking -----------------------------------------------------------------------------------


def test_office_books_a_slot(channels_in_memory, staff, sara, settled, minister):
    meeting = approved(staff, sara, [settled])
    free = slot(staff, minister, days=3)
    booking = meeting_book(meeting=meeting, slot=free, by=staff.executive)
    meeting.refresh_from_db()
    assert meeting.status == MeetingStatus.SCHEDULED
    assert (booking.slot, booking.seat, booking.released_at) == (free, 0, None)
    assert sorted(booking.reminders.values_list("minutes_before", flat=True)) == [120, 1440]
    assert OutboxMessage.objects.filter(template="meeting_scheduled").count() == 1
    entry = meeting_timeline(meeting, for_staff=False)[-1]
    assert entry.kind == "scheduled"
    assert "هـ" in entry.when_label  # Gregorian and Hijri
    assert meeting_slots_open(host=minister, start=local(0), end=local(10)) == []


def test_a_full_slot_refuses_and_writes_nothing(staff, sara, khalid, ministry, minister):
    first = approved(staff, sara, [answered_request(ministry, staff, sara)])
    second = approved(staff, khalid, [answered_request(ministry, staff, khalid)])
    only = slot(staff, minister, capacity=1)
    meeting_book(meeting=first, slot=only, by=staff.executive)
    with pytest.raises(Conflict) as caught:
        meeting_book(meeting=second, slot=only, by=staff.executive)
    assert caught.value.code == "slot_full"
    second.refresh_from_db()
    assert second.status == MeetingStatus.APPROVED
    assert MeetingBooking.objects.filter(slot=only).count() == 1
    assert not second.events.filter(kind="scheduled").exists()


def test_capacity_two_seats_two(settings, staff, sara, settled, minister):
    settings.TAWASUL_MEETING_RULES = []
    meetings = [approved(staff, sara, [settled]) for _ in range(3)]
    shared = slot(staff, minister, capacity=2)
    seats = [meeting_book(meeting=m, slot=shared, by=staff.executive).seat for m in meetings[:2]]
    assert seats == [0, 1]
    with pytest.raises(Conflict):
        meeting_book(meeting=meetings[2], slot=shared, by=staff.executive)


def test_a_slot_of_another_host_is_refused(staff, sara, settled, minister, deputy):
    meeting = approved(staff, sara, [settled])
    with pytest.raises(InvalidInput) as caught:
        meeting_book(meeting=meeting, slot=slot(staff, deputy), by=staff.executive)
    assert caught.value.code == "slot_unknown"
    with pytest.raises(InvalidInput):
        meeting_book(meeting=meeting, slot=987654, by=staff.executive)


def test_screeners_do_not_book(staff, sara, settled, minister):
    meeting = approved(staff, sara, [settled])
    with pytest.raises(AccessDenied):
        meeting_book(meeting=meeting, slot=slot(staff, minister), by=staff.central_agent)


# --- offer and pick ----------------------------------------------------------------------------


@pytest.mark.usefixtures("channels_in_memory")
def test_offer_then_the_beneficiary_picks(staff, sara, khalid, settled, minister):
    meeting = approved(staff, sara, [settled])
    one, two, other = (slot(staff, minister, days=d) for d in (3, 4, 5))
    meeting_offer(meeting=meeting, slots=[one, two], by=staff.executive)
    meeting.refresh_from_db()
    assert meeting.status == MeetingStatus.OFFERED
    assert meeting_offered_slots(meeting) == [one, two]
    assert OutboxMessage.objects.filter(template="meeting_offered").count() == 1
    with pytest.raises(InvalidInput) as caught:
        meeting_pick(meeting=meeting, beneficiary=sara, slot=other)
    assert caught.value.code == "slot_not_offered"
    with pytest.raises(NotFound):
        meeting_pick(meeting=meeting, beneficiary=khalid, slot=two)
    booking = meeting_pick(meeting=meeting, beneficiary=sara, slot=two)
    meeting.refresh_from_db()
    assert (meeting.status, booking.slot, booking.booked_by_beneficiary) == (
        MeetingStatus.SCHEDULED,
        two,
        True,
    )
    assert meeting_offered_slots(meeting) == []
    event = meeting.events.get(kind="scheduled")
    assert event.by_beneficiary


def test_a_new_offer_replaces_the_old_one(staff, sara, settled, minister):
    meeting = approved(staff, sara, [settled])
    one, two = slot(staff, minister, days=3), slot(staff, minister, days=4)
    meeting_offer(meeting=meeting, slots=[one], by=staff.executive)
    meeting_offer(meeting=meeting, slots=[two], by=staff.executive)
    assert meeting_offered_slots(meeting) == [two]
    with pytest.raises(InvalidInput):
        meeting_pick(meeting=meeting, beneficiary=sara, slot=one)


def test_picking_a_slot_filled_meanwhile_is_a_conflict(settings, staff, sara, settled, minister):
    settings.TAWASUL_MEETING_RULES = []
    mine, theirs = approved(staff, sara, [settled]), approved(staff, sara, [settled])
    only = slot(staff, minister)
    meeting_offer(meeting=mine, slots=[only], by=staff.executive)
    meeting_book(meeting=theirs, slot=only, by=staff.executive)
    with pytest.raises(Conflict):
        meeting_pick(meeting=mine, beneficiary=sara, slot=only)
    mine.refresh_from_db()
    assert mine.status == MeetingStatus.OFFERED


# --- after booking -----------------------------------------------------------------------------


def test_reschedule_moves_the_seat_and_the_reminders(staff, sara, settled, minister):
    meeting = approved(staff, sara, [settled])
    old, new = slot(staff, minister, days=3), slot(staff, minister, days=5)
    first = meeting_book(meeting=meeting, slot=old, by=staff.executive)
    with pytest.raises(InvalidInput):
        meeting_reschedule(meeting=meeting, slot=old, by=staff.executive, reason="تعارض")
    second = meeting_reschedule(
        meeting=meeting, slot=new, by=staff.executive, reason="سفر معالي الوزير"
    )
    first.refresh_from_db()
    assert first.released_at is not None
    assert (second.slot, second.released_at) == (new, None)
    assert meeting_slots_open(host=minister, start=local(0), end=local(10))[0].slot == old
    event = meeting.events.get(kind="rescheduled")
    assert (event.data["from_slot"], event.data["slot"]) == (old.pk, new.pk)
    # only the new booking's reminders can be sent
    assert meeting_reminders_send(now=old.starts_at - dt.timedelta(minutes=100)) == 0


@pytest.mark.usefixtures("channels_in_memory")
def test_cancel_frees_the_seat(staff, sara, khalid, ministry, minister):
    first = approved(staff, sara, [answered_request(ministry, staff, sara)])
    second = approved(staff, khalid, [answered_request(ministry, staff, khalid)])
    only = slot(staff, minister)
    meeting_book(meeting=first, slot=only, by=staff.executive)
    with pytest.raises(InvalidInput):
        meeting_cancel(meeting=first, by=staff.executive, reason="قصير")
    meeting_cancel(meeting=first, by=staff.executive, reason="اعتذر معالي الوزير عن الموعد")
    first.refresh_from_db()
    assert first.status == MeetingStatus.CANCELLED
    assert OutboxMessage.objects.filter(template="meeting_cancelled").count() == 1
    assert meeting_book(meeting=second, slot=only, by=staff.executive).seat == 0


def test_withdraw_frees_the_seat(staff, sara, settled, minister):
    meeting = approved(staff, sara, [settled])
    only = slot(staff, minister)
    meeting_book(meeting=meeting, slot=only, by=staff.executive)
    meeting_withdraw(meeting=meeting, beneficiary=sara, reason="ظرف طارئ")
    meeting.refresh_from_db()
    assert meeting.status == MeetingStatus.CANCELLED
    assert meeting_slots_open(host=minister, start=local(0), end=local(10))[0].free_seats == 1
    assert meeting.events.get(kind="withdrawn").data["released_slot"] == only.pk


def test_held_and_no_show_only_once_the_meeting_began(settings, staff, sara, settled, minister):
    settings.TAWASUL_MEETING_RULES = []
    held, missed = approved(staff, sara, [settled]), approved(staff, sara, [settled])
    one, two = slot(staff, minister, days=3), slot(staff, minister, days=4)
    meeting_book(meeting=held, slot=one, by=staff.executive)
    meeting_book(meeting=missed, slot=two, by=staff.executive)
    with pytest.raises(Conflict) as caught:
        meeting_mark_held(meeting=held, by=staff.executive)
    assert caught.value.code == "not_started"
    _to_the_past(one)
    _to_the_past(two)
    with pytest.raises(AccessDenied):
        meeting_mark_held(meeting=held, by=staff.central_agent)
    held = meeting_mark_held(meeting=held, by=staff.executive)
    assert held.status == MeetingStatus.HELD
    assert held.held_at is not None
    missed = meeting_mark_no_show(meeting=missed, by=staff.executive)
    assert missed.status == MeetingStatus.NO_SHOW
    with pytest.raises(IllegalTransition):
        meeting_mark_held(meeting=missed, by=staff.executive)


# --- reminders ---------------------------------------------------------------------------------


def test_reminders_are_queued_once_each(channels_in_memory, staff, sara, settled, minister):
    meeting = approved(staff, sara, [settled])
    booked = slot(staff, minister, days=3)
    meeting_book(meeting=meeting, slot=booked, by=staff.executive)
    starts = booked.starts_at
    assert meeting_reminders_send(now=timezone.now()) == 0
    day_before = starts - dt.timedelta(minutes=1439)
    assert meeting_reminders_send(now=day_before) == 1
    assert meeting_reminders_send(now=day_before) == 0  # a second sweep finds nothing to claim
    two_hours = starts - dt.timedelta(minutes=119)
    assert meeting_reminders_send(now=two_hours) == 1
    assert meeting_reminders_send(now=two_hours) == 0
    assert meeting_reminders_send(now=starts + dt.timedelta(minutes=1)) == 0
    notices = OutboxMessage.objects.filter(template="meeting_reminder")
    assert notices.count() == 2
    assert {n.recipient for n in notices} == {sara.mobile}
    assert notices.first().context == {"tracking_number": meeting.tracking_number}
    assert MeetingReminder.objects.filter(sent_at__isnull=True).count() == 0
    sms = notification_render_sms(notices.first())
    assert meeting.tracking_display in sms
    assert "https://tawasul.moe.example/" in sms
    assert sara.full_name not in sms


@pytest.mark.parametrize(
    "template",
    [
        "meeting_received",
        "meeting_decided",
        "meeting_offered",
        "meeting_scheduled",
        "meeting_cancelled",
        "meeting_reminder",
    ],
)
def test_meeting_notices_render_in_both_languages(channels_in_memory, khalid, template):
    message = OutboxMessage.objects.create(
        channel="email",
        recipient=khalid.email,
        template=template,
        language="en",
        context={"tracking_number": "12345678901"},
        next_attempt_at=timezone.now(),
    )
    email = notification_render_email(message)
    assert "123-4567-8901" in email.subject
    assert "123-4567-8901" in email.text
    assert 'dir="ltr"' in email.html
    message.language = "ar"
    assert "123-4567-8901" in notification_render_sms(message)


def test_no_reminder_for_a_cancelled_meeting(staff, sara, settled, minister):
    meeting = approved(staff, sara, [settled])
    booked = slot(staff, minister, days=3)
    meeting_book(meeting=meeting, slot=booked, by=staff.executive)
    meeting_cancel(meeting=meeting, by=staff.executive, reason="اعتذر معالي الوزير عن الموعد")
    assert meeting_reminders_send(now=booked.starts_at - dt.timedelta(minutes=60)) == 0
    assert not OutboxMessage.objects.filter(template="meeting_reminder").exists()


# --- outcome -----------------------------------------------------------------------------------


def test_outcome_and_follow_up_actions_open_requests(ministry, staff, sara, settled, minister):
    meeting = approved(staff, sara, [settled])
    booked = slot(staff, minister)
    meeting_book(meeting=meeting, slot=booked, by=staff.executive)
    with pytest.raises(Conflict):
        meeting_outcome_record(meeting=meeting, by=staff.executive, summary="لم تعقد بعد المقابلة")
    _to_the_past(booked)
    meeting_mark_held(meeting=meeting, by=staff.executive)
    outcome = meeting_outcome_record(
        meeting=meeting, by=staff.executive, summary="استمع معالي الوزير ووجه بمتابعة النقل"
    )
    assert outcome.recorded_by == staff.executive
    with pytest.raises(Conflict):
        meeting_outcome_record(meeting=meeting, by=staff.executive, summary="محضر ثان للمقابلة")
    action = meeting_action_add(
        meeting=meeting,
        by=staff.executive,
        description="دراسة طلب نقل الطالب خلال أسبوع",
        entity=ministry.riyadh,
    )
    request = meeting_action_open_request(
        action=action, by=staff.executive, category=ministry.transfer
    )
    action.refresh_from_db()
    assert action.request == request
    assert (request.entity, request.beneficiary) == (ministry.riyadh, sara)
    assert request.description == "دراسة طلب نقل الطالب خلال أسبوع"
    assert request.events.get(kind="submitted").actor_user_id == staff.executive.pk
    with pytest.raises(Conflict):
        meeting_action_open_request(action=action, by=staff.executive, category=ministry.transfer)
    kinds = [e.kind for e in meeting_timeline(meeting, for_staff=False)]
    assert kinds[-3:] == ["held", "outcome_recorded", "action_request_opened"]
    assert "action_added" in [e.kind for e in meeting_timeline(meeting, for_staff=True)]


def test_screeners_do_not_record_outcomes(staff, sara, settled, minister):
    meeting = approved(staff, sara, [settled])
    booked = slot(staff, minister)
    meeting_book(meeting=meeting, slot=booked, by=staff.executive)
    _to_the_past(booked)
    meeting_mark_held(meeting=meeting, by=staff.executive)
    with pytest.raises(AccessDenied):
        meeting_outcome_record(
            meeting=meeting, by=staff.central_agent, summary="محضر المقابلة كاملا"
        )
