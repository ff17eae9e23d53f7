"""Demo "meet the minister": hosts, four weeks of slots, and meeting requests at every step.

Written through the meetings services as the portal and the console would: the
beneficiaries are those whose requests were answered or closed (the eligibility
rule), the central centre's agent screens, the minister's office decides and
schedules. The notices these steps queue are discarded, like the requests' ones.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.contrib.auth.models import User
from django.db import transaction

from tawasul.cases.models import Request, Status
from tawasul.channels.models import OutboxMessage
from tawasul.meetings.models import MeetingHost, MeetingRequest, MeetingSlot, PartOfDay
from tawasul.meetings.scheduling import (
    SlotPlan,
    meeting_book,
    meeting_offer,
    slots_create_recurring,
)
from tawasul.meetings.services import (
    PreferredPeriod,
    meeting_approve,
    meeting_decline,
    meeting_delegate,
    meeting_forward,
    meeting_request_submit,
)

RIYADH = ZoneInfo("Asia/Riyadh")
SUBJECTS = (
    (
        "تأخر صرف مستحقات المعلمين",
        "أطلب مقابلة معاليكم لعرض تأخر صرف الفروقات المالية منذ عام رغم الرد على طلبي.",
    ),
    (
        "نقل ابني بين المدارس",
        "أرجو لقاء معاليكم لشرح ظروف أسرتي بعد رفض طلب نقل ابني للمدرسة القريبة.",
    ),
    (
        "معادلة شهادتي الجامعية",
        "لم تحل مشكلة معادلة شهادتي رغم الاعتراض، وأتمنى عرضها على معاليكم.",
    ),
    (
        "النقل الخارجي للمعلمات",
        "أطلب مقابلة معالي الوزير بشأن نقل المعلمات المتزوجات بعيدًا عن أسرهن.",
    ),
    (
        "قبول ابنتي في الجامعة",
        "أود عرض حالة ابنتي الحاصلة على نسبة عالية ولم تقبل في التخصص المطلوب.",
    ),
    ("مبنى المدرسة المستأجر", "مبنى مدرسة الحي مستأجر وغير آمن وأرغب في عرض الموضوع على معاليكم."),
    ("مكافأة الطلاب الموقوفة", "أوقفت مكافأة ابني الجامعي دون سبب واضح وأطلب لقاء معاليكم."),
    (
        "تكليف القيادات المدرسية",
        "لدي مقترح لتطوير آلية تكليف القيادات المدرسية أود عرضه على معاليكم.",
    ),
    ("النقل المدرسي في القرى", "لا يتوفر نقل مدرسي لطالبات قريتنا وأطلب مقابلة معالي الوزير."),
    ("اختبارات القدرات والتحصيلي", "أرغب في عرض ملاحظاتي على مواعيد اختبارات القدرات والتحصيلي."),
)
DECLINE_REASON = "سبق الرد على موضوعكم من الجهة المختصة، ويمكنكم متابعة طلبكم السابق."
# The step each demo meeting request is taken to, in order.
PLAN = (
    "submitted",
    "submitted",
    "submitted",
    "forwarded",
    "forwarded",
    "declined",
    "offered",
    "booked",
    "booked",
    "delegated",
)


@dataclass(frozen=True)
class Cast:
    screener: User  # the central centre's agent
    office: User  # the minister's office
    minister: MeetingHost
    deputy: MeetingHost


def meetings_load(rng: random.Random) -> int:
    """Hosts, slots and meeting requests; returns how many meeting requests were made."""
    users = User.objects
    first_outbox = OutboxMessage.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    with transaction.atomic():
        minister, deputy = _hosts()
        cast = Cast(
            screener=users.get(username="central.agent"),
            office=users.get(username="minister.office"),
            minister=minister,
            deputy=deputy,
        )
        slots = _slots(cast)
        meetings = _meetings(rng, cast, slots)
        OutboxMessage.objects.filter(pk__gt=first_outbox).delete()
    return meetings


def _hosts() -> tuple[MeetingHost, MeetingHost]:
    minister = MeetingHost.objects.create(
        name="معالي وزير التعليم", title="وزير التعليم", is_minister=True
    )
    deputy = MeetingHost.objects.create(name="معالي نائب وزير التعليم", title="نائب وزير التعليم")
    return minister, deputy


def _slots(cast: Cast) -> list[MeetingSlot]:
    today = dt.datetime.now(RIYADH).date()
    first, last = today + dt.timedelta(days=1), today + dt.timedelta(days=28)
    office = SlotPlan(duration_minutes=30, capacity=1, place="مكتب معالي الوزير — الرياض")
    made = slots_create_recurring(
        host=cast.minister,
        weekdays=[7, 2],  # Sunday and Tuesday (ISO)
        at=dt.time(10, 0),
        first_day=first,
        last_day=last,
        plan=office,
        by=cast.office,
    )
    made += slots_create_recurring(
        host=cast.deputy,
        weekdays=[1, 3],  # Monday and Wednesday
        at=dt.time(11, 0),
        first_day=first,
        last_day=last,
        plan=SlotPlan(duration_minutes=30, capacity=2, video_link="https://meet.moe.gov.sa/deputy"),
        by=cast.office,
    )
    return list(made)


def _eligible_pairs(rng: random.Random) -> list[tuple[int, int]]:
    """(beneficiary, settled request) pairs, one per beneficiary."""
    rows = (
        Request.objects.filter(status__in=[Status.CLOSED, Status.ANSWERED])
        .order_by("beneficiary_id", "pk")
        .values_list("beneficiary_id", "pk")
    )
    seen: dict[int, int] = {}
    for beneficiary_id, pk in rows:
        seen.setdefault(beneficiary_id, pk)
    pairs = sorted(seen.items())
    rng.shuffle(pairs)
    return pairs


def _meetings(rng: random.Random, cast: Cast, slots: list[MeetingSlot]) -> int:
    pairs = _eligible_pairs(rng)[: len(PLAN)]
    minister_slots = [slot for slot in slots if slot.host_id == cast.minister.pk]
    deputy_slots = [slot for slot in slots if slot.host_id == cast.deputy.pk]
    today = dt.datetime.now(RIYADH).date()
    made = 0
    for (_beneficiary, request_id), step, (subject, summary) in zip(
        pairs, PLAN, SUBJECTS, strict=False
    ):
        meeting = meeting_request_submit(
            beneficiary=Request.objects.get(pk=request_id).beneficiary,
            subject=subject,
            summary=summary,
            follow_ups=[request_id],
            preferences=[
                PreferredPeriod(
                    first_day=today + dt.timedelta(days=3),
                    last_day=today + dt.timedelta(days=25),
                    part_of_day=rng.choice([PartOfDay.MORNING, PartOfDay.EVENING]),
                )
            ],
        )
        made += 1
        _walk(meeting, step, cast, minister_slots, deputy_slots)
    return made


def _walk(
    meeting: MeetingRequest,
    step: str,
    cast: Cast,
    minister_slots: list[MeetingSlot],
    deputy_slots: list[MeetingSlot],
) -> None:
    """Take one meeting request to its planned step."""
    if step == "submitted":
        return
    if step == "declined":
        meeting_decline(meeting=meeting, by=cast.screener, reason=DECLINE_REASON)
        return
    meeting_forward(meeting=meeting, by=cast.screener)
    if step == "forwarded":
        return
    if step == "delegated":
        meeting_delegate(meeting=meeting, by=cast.office, host=cast.deputy)
        meeting_book(meeting=meeting, slot=deputy_slots.pop(0), by=cast.office)
        return
    meeting_approve(meeting=meeting, by=cast.office)
    if step == "offered":
        offered = [minister_slots.pop(0), minister_slots.pop(0)]
        meeting_offer(meeting=meeting, slots=offered, by=cast.office)
    else:
        meeting_book(meeting=meeting, slot=minister_slots.pop(0), by=cast.office)
