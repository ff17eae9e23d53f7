"""The demo ministry (`tawasul demo`): loaded once for the module, then inspected.

The load commits (it runs as `make run` does), so the module fixture empties
the database again afterwards; each test itself runs in a rolled-back transaction.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import override_settings

from tawasul.beneficiaries.models import Beneficiary
from tawasul.cases.models import Category, Event, Message, Request, Status
from tawasul.channels.models import OutboxMessage, OutboxStatus
from tawasul.core.errors import Conflict, InvalidInput
from tawasul.core.validators import national_id_clean
from tawasul.demo.loader import ACCOUNTS, DEMO_PASSWORD
from tawasul.demo.ministry import REGIONS
from tawasul.directory.models import CareCentre, Entity, EntityKind, Role, StaffGrant
from tawasul.directory.services import staff_member_create

ARABIC = re.compile("[\u0621-\u064a]")
DEMO_REQUESTS = 60


@pytest.fixture(scope="module")
def demo_output(django_db_setup: None, django_db_blocker: pytest.FixtureRequest) -> Iterator[str]:
    fast_hashing = override_settings(
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]
    )
    with django_db_blocker.unblock(), fast_hashing:  # type: ignore[attr-defined]
        out = StringIO()
        call_command("demo", requests=DEMO_REQUESTS, stdout=out)
        yield out.getvalue()
        call_command("flush", interactive=False, verbosity=0)


@pytest.fixture
def demo(demo_output: str, db: None) -> str:
    return demo_output


def _counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (Entity, CareCentre, Category, Beneficiary, Request, Event, Message)
    }


def test_the_ministry_root_holds_the_central_centre(demo: str) -> None:
    root = Entity.objects.get(depth=1)
    assert root.kind == EntityKind.MINISTRY
    assert root.centre.is_central
    assert Entity.objects.filter(depth=1).count() == 1


def test_every_regional_department_and_university_has_a_centre(demo: str) -> None:
    departments = Entity.objects.filter(kind=EntityKind.REGION)
    universities = Entity.objects.filter(kind=EntityKind.UNIVERSITY)
    assert departments.count() >= 40
    assert universities.count() >= 25
    for entity in [*departments, *universities]:
        assert CareCentre.objects.filter(entity=entity, is_central=False).exists(), entity.code
        assert entity.region in REGIONS, entity.code


def test_education_offices_have_no_centre_and_sit_under_a_department(demo: str) -> None:
    offices = Entity.objects.filter(kind=EntityKind.OFFICE)
    assert offices.count() >= 2
    for office in offices:
        assert not CareCentre.objects.filter(entity=office).exists()
        assert Entity.objects.get_parent(office).kind == EntityKind.REGION


def test_the_central_calendar_is_the_saudi_working_week_others_inherit(demo: str) -> None:
    central = CareCentre.objects.get(is_central=True)
    calendar = central.calendar
    assert calendar is not None
    assert calendar.working_days == [7, 1, 2, 3, 4]
    assert (calendar.opens_at.hour, calendar.closes_at.hour) == (8, 15)
    holidays = {h.name_en: (h.kind, h.month, h.day, h.length_days) for h in calendar.holidays.all()}
    assert holidays["Founding Day"] == ("gregorian", 2, 22, 1)
    assert holidays["National Day"] == ("gregorian", 9, 23, 1)
    assert holidays["Eid al-Fitr holiday"][:3] == ("hijri", 10, 1)
    assert holidays["Eid al-Adha holiday"][:3] == ("hijri", 12, 9)
    assert not CareCentre.objects.filter(is_central=False, calendar__isnull=False).exists()


def test_the_taxonomy_has_two_levels_and_a_praise_only_category(demo: str) -> None:
    assert Category.objects.filter(depth=1).count() >= 18
    assert not Category.objects.filter(depth__gt=2).exists()
    thanks = Category.objects.get(code="thanks")
    assert thanks.kinds == ["praise"]
    praise = Request.objects.filter(kind="praise")
    assert praise.exists()
    assert not praise.exclude(category__path__startswith=thanks.path).exists()
    assert not Request.objects.exclude(kind="praise").filter(category__path__startswith=thanks.path)


def test_every_status_is_represented(demo: str) -> None:
    present = set(Request.objects.values_list("status", flat=True))
    assert present == set(Status.values)
    assert Request.objects.count() == DEMO_REQUESTS
    assert f"{DEMO_REQUESTS} requests by status" in demo


def test_every_role_has_a_demo_user_who_can_sign_in(demo: str) -> None:
    roles = set(StaffGrant.objects.values_list("role", flat=True))
    assert roles == set(Role.values)
    for username, _name, _entity, _role in ACCOUNTS:
        user = get_user_model().objects.get(username=username)
        assert user.is_staff
        assert user.check_password(DEMO_PASSWORD)
    admin = get_user_model().objects.get(username="admin")
    assert admin.is_superuser
    assert admin.check_password(DEMO_PASSWORD)


def test_every_timeline_starts_with_submission(demo: str) -> None:
    first_kinds: dict[int, str] = {}
    for request_id, kind in Event.objects.order_by("request_id", "created_at", "id").values_list(
        "request_id", "kind"
    ):
        first_kinds.setdefault(request_id, kind)
    assert len(first_kinds) == DEMO_REQUESTS
    assert set(first_kinds.values()) == {"submitted"}


def test_texts_are_arabic_and_never_placeholder_latin(demo: str) -> None:
    texts = [
        *Request.objects.values_list("subject", flat=True),
        *Request.objects.values_list("description", flat=True),
        *Message.objects.values_list("body", flat=True),
    ]
    assert len(texts) > 2 * DEMO_REQUESTS
    for text in texts:
        assert ARABIC.search(text), text
        assert "lorem" not in text.lower()
        assert "{" not in text, text


def test_beneficiaries_have_valid_ids_and_saudi_mobiles(demo: str) -> None:
    beneficiaries = list(Beneficiary.objects.all())
    assert len(beneficiaries) >= 40
    for person in beneficiaries:
        assert national_id_clean(person.national_id or "") == person.national_id
        assert re.fullmatch(r"\+9665\d{8}", person.mobile)
    assert any(person.preferred_contact == "email" for person in beneficiaries)


def test_no_demo_notification_is_left_to_send(demo: str) -> None:
    assert not OutboxMessage.objects.filter(status=OutboxStatus.PENDING).exists()


def test_if_empty_on_a_loaded_database_changes_nothing(demo: str) -> None:
    before = _counts()
    out = StringIO()
    call_command("demo", if_empty=True, stdout=out)
    assert _counts() == before
    assert "not loaded" in out.getvalue()


def test_without_if_empty_a_loaded_database_is_refused(demo: str) -> None:
    before = _counts()
    with pytest.raises(CommandError, match="already holds data"):
        call_command("demo", requests=5)
    assert _counts() == before


# --- staff_member_create -------------------------------------------------------------


def test_staff_member_create_grants_the_role_over_the_entity(demo: str) -> None:
    tabuk = Entity.objects.get(code="edu-tabuk")
    user = staff_member_create(
        username="tabuk.agent",
        password="Another-pass-2026",
        entity=tabuk,
        role=Role.AGENT,
        full_name="عبدالله سالم البلوي",
    )
    assert user.is_staff
    assert user.check_password("Another-pass-2026")
    assert (user.first_name, user.last_name) == ("عبدالله", "سالم البلوي")
    assert list(StaffGrant.objects.filter(user=user).values_list("entity__code", "role")) == [
        ("edu-tabuk", "agent")
    ]


def test_staff_member_create_refuses_a_taken_username_or_unknown_role(demo: str) -> None:
    tabuk = Entity.objects.get(code="edu-tabuk")
    with pytest.raises(Conflict):
        staff_member_create(
            username="central.agent", entity=tabuk, role=Role.AGENT, full_name="سعد"
        )
    with pytest.raises(InvalidInput):
        staff_member_create(username="tabuk.x", entity=tabuk, role="minister", full_name="سعد")
    assert not get_user_model().objects.filter(username="tabuk.x").exists()


def test_the_demo_has_meeting_requests_at_every_step_and_no_double_booking(demo: str) -> None:
    from tawasul.meetings.models import MeetingBooking, MeetingHost, MeetingRequest, MeetingSlot

    assert MeetingHost.objects.filter(is_minister=True).count() == 1
    assert MeetingSlot.objects.count() >= 16  # four weeks, two days a week, two hosts
    statuses = set(MeetingRequest.objects.values_list("status", flat=True))
    assert len(statuses) >= 5
    booked = MeetingBooking.objects.values_list("slot_id", "seat")
    assert len(set(booked)) == len(booked)
    for meeting in MeetingRequest.objects.all():
        assert meeting.events.filter(kind="submitted").count() == 1
