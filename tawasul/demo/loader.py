"""Load the demo ministry through the project's services (see docs/demo.md).

Entities, the calendar, the taxonomy and the staff come from the data in
`ministry.py`, `taxonomy.py` and `ACCOUNTS`; beneficiaries and requests are made
up with a seeded `random.Random`, so the same seed always gives the same demo.
Every request is submitted and then driven through the case services by the
demo staff until it reaches the status chosen for it.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import AbstractUser
from django.db import transaction
from django.db.models import Count

from tawasul.beneficiaries.models import Beneficiary, BeneficiaryKind
from tawasul.beneficiaries.services import beneficiary_register
from tawasul.cases.models import Category, Request, Status
from tawasul.cases.taxonomy import category_create
from tawasul.channels.outbox import outbox_discard_pending
from tawasul.demo import ministry, taxonomy, texts
from tawasul.demo.channels import channels_load
from tawasul.demo.meetings import meetings_load
from tawasul.demo.walk import RequestDriver, Team, Topic, World
from tawasul.directory.models import BusinessCalendar, CareCentre, Entity, EntityKind, Role
from tawasul.directory.services import (
    HolidaySpec,
    business_calendar_create,
    care_centre_create,
    entity_create,
    staff_member_create,
)
from tawasul.insights.summary import insights_summarise_all

DEMO_PASSWORD = "Tawasul-demo-2026"  # noqa: S105 -- the documented password of the demo accounts
SUPERUSER = "admin"
BATCH_SIZE = 100

# (username, full name, entity code, role). docs/demo.md lists them.
ACCOUNTS: tuple[tuple[str, str, str, str], ...] = (
    ("central.agent", "سعد محمد الحربي", "moe", Role.AGENT),
    ("central.agent2", "نوف عبدالله السبيعي", "moe", Role.AGENT),
    ("central.supervisor", "فهد ناصر القحطاني", "moe", Role.SUPERVISOR),
    ("central.manager", "هيفاء سلمان الدوسري", "moe", Role.CENTRE_MANAGER),
    ("central.quality", "ريم خالد العتيبي", "moe", Role.QUALITY_OFFICER),
    ("minister.office", "عبدالعزيز فيصل آل الشيخ", "moe", Role.EXECUTIVE_VIEWER),
    ("ministry.admin", "ماجد تركي الشهري", "moe", Role.ADMINISTRATOR),
    ("riyadh.agent1", "خالد سعود المطيري", "edu-riyadh", Role.AGENT),
    ("riyadh.agent2", "منيرة فهد العنزي", "edu-riyadh", Role.AGENT),
    ("riyadh.agent3", "تركي عبدالرحمن الرشيدي", "edu-riyadh", Role.AGENT),
    ("riyadh.supervisor", "نورة إبراهيم السديري", "edu-riyadh", Role.SUPERVISOR),
    ("riyadh.manager", "سلطان محمد الخالدي", "edu-riyadh", Role.CENTRE_MANAGER),
    ("jeddah.agent1", "أحمد عمر الغامدي", "edu-jeddah", Role.AGENT),
    ("jeddah.agent2", "مها يوسف الزهراني", "edu-jeddah", Role.AGENT),
    ("jeddah.supervisor", "بندر علي المالكي", "edu-jeddah", Role.SUPERVISOR),
    ("jeddah.manager", "لمياء أحمد الجهني", "edu-jeddah", Role.CENTRE_MANAGER),
    ("ksu.agent1", "يوسف ناصر الثبيتي", "ksu", Role.AGENT),
    ("ksu.agent2", "شهد عبدالله العمري", "ksu", Role.AGENT),
    ("ksu.supervisor", "نايف سعد الشمري", "ksu", Role.SUPERVISOR),
    ("ksu.manager", "الجوهرة فهد السديري", "ksu", Role.CENTRE_MANAGER),
)
TEAM_ENTITIES = ("moe", "edu-riyadh", "edu-jeddah", "ksu")


@dataclass
class DemoSummary:
    entities: int
    centres: int
    categories: int
    staff: int
    beneficiaries: int
    requests_by_status: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def demo_is_loaded() -> bool:
    """Whether the directory already holds data (the demo loads only into an empty one)."""
    return Entity.objects.exists()


def demo_load(*, requests: int = 2000, seed: int = 2026) -> DemoSummary:
    """Load the whole demo; the caller checks first that the database is empty."""
    started = time.monotonic()
    rng = random.Random(seed)
    with transaction.atomic():
        entities = ministry_load()
        topics = taxonomy_load()
        teams = staff_load(entities)
    beneficiaries = beneficiaries_load(rng, count=max(40, min(400, requests // 5)))
    world = World(
        rng=rng,
        entities=entities,
        central=entities[ministry.MINISTRY[0]],
        teams=teams,
        topics=topics,
        beneficiaries=beneficiaries,
    )
    requests_load(world, count=requests)
    meetings_load(rng)
    channels_load(rng)
    insights_summarise_all()  # the dashboards read the daily summary
    summary = demo_summary()
    summary.seconds = time.monotonic() - started
    return summary


def demo_summary() -> DemoSummary:
    by_status = dict(
        Request.objects.order_by()
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    return DemoSummary(
        entities=Entity.objects.count(),
        centres=CareCentre.objects.count(),
        categories=Category.objects.count(),
        staff=get_user_model().objects.filter(is_staff=True).count(),
        beneficiaries=Beneficiary.objects.count(),
        requests_by_status={status: by_status.get(status, 0) for status in Status.values},
    )


# --- directory ----------------------------------------------------------------------


def calendar_load() -> BusinessCalendar:
    return business_calendar_create(
        name=ministry.CALENDAR_NAME,
        working_days=ministry.WORKING_DAYS,
        opens_at=ministry.OPENS_AT,
        closes_at=ministry.CLOSES_AT,
        holidays=[HolidaySpec(*holiday) for holiday in ministry.HOLIDAYS],
    )


def ministry_load() -> dict[str, Entity]:
    """The entity tree with its centres; returns the entities by code."""
    code, name_ar, name_en, region = ministry.MINISTRY
    root = entity_create(
        parent=None,
        code=code,
        name_ar=name_ar,
        name_en=name_en,
        kind=EntityKind.MINISTRY,
        region=region,
    )
    central_ar, central_en = ministry.CENTRAL_CENTRE
    care_centre_create(
        entity=root,
        name_ar=central_ar,
        name_en=central_en,
        is_central=True,
        email="care@tawasul.example",
        phone="920000000",
        calendar=calendar_load(),
    )
    entities = {code: root}
    general = _add(entities, root, ministry.GENERAL_EDUCATION, EntityKind.SECTOR)
    higher = _add(entities, root, ministry.HIGHER_EDUCATION, EntityKind.SECTOR)
    for spec in sorted(ministry.DEPUTYSHIPS):
        _add(entities, root, spec, EntityKind.AGENCY)
    for spec in sorted(ministry.REGIONAL_DEPARTMENTS):
        _with_centre(_add(entities, general, spec, EntityKind.REGION))
    for spec in sorted(ministry.UNIVERSITIES):
        _with_centre(_add(entities, higher, spec, EntityKind.UNIVERSITY))
    for parent_code, offices in ministry.OFFICES.items():
        for spec in sorted(offices):
            _add(entities, entities[parent_code], spec, EntityKind.OFFICE)
    return entities


def _add(
    entities: dict[str, Entity], parent: Entity, spec: tuple[str, str, str, str], kind: str
) -> Entity:
    code, name_ar, name_en, region = spec
    entity = entity_create(
        parent=parent, code=code, name_ar=name_ar, name_en=name_en, kind=kind, region=region
    )
    entities[code] = entity
    return entity


def _with_centre(entity: Entity) -> CareCentre:
    name_ar, name_en = ministry.centre_names(entity.name_ar, entity.name_en)
    return care_centre_create(
        entity=entity, name_ar=name_ar, name_en=name_en, email=f"care.{entity.code}@tawasul.example"
    )


def taxonomy_load() -> list[Topic]:
    """The category tree; returns its leaves with what the request generator needs."""
    topics: list[Topic] = []
    for code, name_ar, name_en, kinds, scope, children in sorted(taxonomy.CATEGORIES):
        parent = category_create(code=code, name_ar=name_ar, name_en=name_en, kinds=kinds)
        for child_code, child_ar, child_en in sorted(children):
            leaf = category_create(
                code=child_code, name_ar=child_ar, name_en=child_en, kinds=kinds, parent=parent
            )
            topics.append(Topic(category=leaf, top_code=code, scope=scope, kinds=kinds))
    return topics


def staff_load(entities: dict[str, Entity]) -> dict[str, Team]:
    """The demo accounts (one password, hashed once) and the superuser `admin`."""
    password_hash = make_password(DEMO_PASSWORD)
    users: dict[str, list[tuple[str, AbstractUser]]] = {code: [] for code in TEAM_ENTITIES}
    for username, full_name, entity_code, role in ACCOUNTS:
        user = staff_member_create(
            username=username,
            entity=entities[entity_code],
            role=role,
            full_name=full_name,
            password_hash=password_hash,
        )
        users[entity_code].append((role, user))
    superuser = get_user_model().objects.create_superuser(username=SUPERUSER, email="")
    superuser.password = password_hash
    superuser.save(update_fields=["password"])
    return {code: _team(entities[code], members) for code, members in users.items()}


def _team(entity: Entity, members: list[tuple[str, AbstractUser]]) -> Team:
    def of(role: str) -> list[AbstractUser]:
        return [user for held, user in members if held == role]

    return Team(
        entity=entity,
        agents=of(Role.AGENT),
        supervisor=of(Role.SUPERVISOR)[0],
        manager=of(Role.CENTRE_MANAGER)[0],
    )


# --- beneficiaries and requests ---------------------------------------------------------

_KINDS = (
    (BeneficiaryKind.PARENT, 45),
    (BeneficiaryKind.TEACHER, 20),
    (BeneficiaryKind.STUDENT, 25),
    (BeneficiaryKind.EMPLOYEE, 5),
    (BeneficiaryKind.OTHER, 5),
)
_MOBILE_PREFIXES = ("050", "053", "054", "055", "056", "058", "059")
_MAIL_HANDLES = ("abu.fahad", "noura.s", "m.alharbi", "teacher", "um.khalid", "s.alqahtani")


def luhn_complete(prefix9: str) -> str:
    """Append the Luhn check digit to nine digits (a valid national ID or iqama)."""
    total = 0
    for index, char in enumerate(reversed(prefix9)):
        value = int(char) * (2 if index % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return prefix9 + str((10 - total % 10) % 10)


def beneficiaries_load(rng: random.Random, *, count: int) -> list[Beneficiary]:
    """`count` beneficiaries with valid national IDs or iqamas and Saudi mobiles."""
    kinds = [kind for kind, _share in _KINDS]
    weights = [share for _kind, share in _KINDS]
    result: list[Beneficiary] = []
    numbers: set[str] = set()
    while len(numbers) < count:  # 15 % iqama holders (2…), the rest citizens (1…)
        numbers.add(("2" if rng.random() < 0.15 else "1") + f"{rng.randrange(10**8):08d}")
    with transaction.atomic():
        for number, prefix in enumerate(sorted(numbers, key=lambda n: n[1:])):
            kind = rng.choices(kinds, weights)[0]
            female = rng.random() < 0.5
            national_id = luhn_complete(prefix)
            wants_email = rng.random() < 0.12
            result.append(
                beneficiary_register(
                    full_name=texts.person_name(rng, female=female),
                    national_id=national_id,
                    mobile=f"{rng.choice(_MOBILE_PREFIXES)}{rng.randrange(10**6, 10**7)}",
                    email=f"{rng.choice(_MAIL_HANDLES)}{number}@example.com" if wants_email else "",
                    kind=kind,
                    language="en" if rng.random() < 0.04 else "ar",
                    preferred_contact="email" if wants_email else "sms",
                    consent=True,
                )
            )
    return result


def requests_load(world: World, *, count: int) -> None:
    """Submit and drive `count` requests, in batches of one transaction each."""
    driver = RequestDriver(world)
    targets = status_plan(world.rng, count)
    for start in range(0, count, BATCH_SIZE):
        with transaction.atomic():
            ids = [driver.request_make(target).pk for target in targets[start : start + BATCH_SIZE]]
            # Demo requests were never really sent: nobody is to be notified about them.
            outbox_discard_pending(request_ids=ids)


_STATUS_SHARES = {
    Status.NEW: 9,
    Status.ASSIGNED: 7,
    Status.IN_PROGRESS: 12,
    Status.AWAITING_BENEFICIARY: 7,
    Status.ANSWERED: 11,
    Status.OBJECTED: 6,
    Status.CLOSED: 42,
    Status.CANCELLED: 6,
}


def status_plan(rng: random.Random, count: int) -> list[Status]:
    """The target status of each request: every status at least once, then by share."""
    total = sum(_STATUS_SHARES.values())
    plan = [status for status in _STATUS_SHARES if count >= len(_STATUS_SHARES)]
    for status, share in _STATUS_SHARES.items():
        plan.extend([status] * max(0, round((count - len(_STATUS_SHARES)) * share / total)))
    while len(plan) < count:
        plan.append(Status.CLOSED)
    plan = plan[:count]
    rng.shuffle(plan)
    return plan
