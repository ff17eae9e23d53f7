"""Shared fixtures: a small ministry with named staff and beneficiaries.

The ministry (central centre) → general-education sector → Riyadh and Makkah
education departments (each with a centre) → an education office in Riyadh
without a centre; and a university with its own centre.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser
from django.utils.translation import trans_real

# Sync Playwright runs an event loop in the test thread; the ORM must be allowed there.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from tawasul.beneficiaries.models import Beneficiary
from tawasul.beneficiaries.services import beneficiary_register
from tawasul.cases.models import Category, Kind
from tawasul.directory.models import CareCentre, Entity, EntityKind, Role, StaffGrant

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def luhn_complete(prefix9: str) -> str:
    """Append the Luhn digit that makes a valid 10-digit national ID."""
    for last in "0123456789":
        candidate = prefix9 + last
        total = 0
        for index, char in enumerate(reversed(candidate)):
            value = int(char) * (2 if index % 2 else 1)
            total += value - 9 if value > 9 else value
        if total % 10 == 0:
            return candidate
    raise AssertionError("unreachable")


@dataclass
class Ministry:
    ministry: Entity
    sector: Entity
    riyadh: Entity
    makkah: Entity
    riyadh_office: Entity
    university: Entity
    exams: Category
    transfer: Category
    praise_only: Category


@dataclass
class Staff:
    riyadh_agent: AbstractUser
    riyadh_agent2: AbstractUser
    riyadh_supervisor: AbstractUser
    makkah_agent: AbstractUser
    university_agent: AbstractUser
    central_agent: AbstractUser
    central_supervisor: AbstractUser
    quality_officer: AbstractUser
    executive: AbstractUser
    riyadh_admin: AbstractUser
    outsider: AbstractUser


@pytest.fixture(autouse=True)
def _default_language() -> Iterator[None]:
    """Each test starts in Arabic, whatever language an earlier test left active."""
    from django.utils import translation

    translation.activate("ar")
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """Each test starts with an empty shared cache: kept queue counts, rate-limit windows
    and cached pages are keyed by ids that another test's rows may have had."""
    from django.core.cache import cache

    from tawasul.core.memo import memo_forget

    cache.clear()
    memo_forget()  # rows of an earlier test may have had the same primary keys


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: object) -> None:
    """Tests create many staff users; the production hasher is slow on purpose."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # type: ignore[attr-defined]


def _user(username: str) -> AbstractUser:
    return get_user_model().objects.create_user(username=username, password="pass-Word-1234")


@pytest.fixture
def ministry(db: None) -> Ministry:
    root = Entity.objects.add_root(
        instance=Entity(
            code="moe",
            name_ar="وزارة التعليم",
            name_en="Ministry of Education",
            kind=EntityKind.MINISTRY,
        )
    )
    sector = Entity.objects.add_child(
        root,
        instance=Entity(
            code="general-education",
            name_ar="التعليم العام",
            name_en="General Education",
            kind=EntityKind.SECTOR,
        ),
    )
    riyadh = Entity.objects.add_child(
        sector,
        instance=Entity(
            code="riyadh",
            name_ar="الإدارة العامة للتعليم بمنطقة الرياض",
            name_en="Riyadh Education",
            kind=EntityKind.REGION,
            region="riyadh",
        ),
    )
    makkah = Entity.objects.add_child(
        sector,
        instance=Entity(
            code="makkah",
            name_ar="الإدارة العامة للتعليم بمنطقة مكة المكرمة",
            name_en="Makkah Education",
            kind=EntityKind.REGION,
            region="makkah",
        ),
    )
    office = Entity.objects.add_child(
        riyadh,
        instance=Entity(
            code="riyadh-north",
            name_ar="مكتب التعليم بشمال الرياض",
            name_en="North Riyadh Office",
            kind=EntityKind.OFFICE,
            region="riyadh",
        ),
    )
    university = Entity.objects.add_child(
        root,
        instance=Entity(
            code="ksu",
            name_ar="جامعة الملك سعود",
            name_en="King Saud University",
            kind=EntityKind.UNIVERSITY,
            region="riyadh",
        ),
    )
    for entity, central in ((root, True), (riyadh, False), (makkah, False), (university, False)):
        CareCentre.objects.create(
            entity=entity,
            is_central=central,
            name_ar=f"مركز رعاية المستفيدين - {entity.name_ar}",
            name_en=f"Beneficiary Care - {entity.name_en}",
        )
    exams = Category.objects.add_root(
        instance=Category(code="exams", name_ar="نتائج الاختبارات", name_en="Exam results")
    )
    transfer = Category.objects.add_root(
        instance=Category(
            code="transfer",
            name_ar="نقل المعلمين",
            name_en="Teacher transfer",
            kinds=[Kind.INQUIRY, Kind.COMPLAINT],
        )
    )
    praise = Category.objects.add_root(
        instance=Category(
            code="thanks", name_ar="شكر وتقدير", name_en="Thanks", kinds=[Kind.PRAISE]
        )
    )
    return Ministry(
        ministry=Entity.objects.get(pk=root.pk),
        sector=Entity.objects.get(pk=sector.pk),
        riyadh=Entity.objects.get(pk=riyadh.pk),
        makkah=Entity.objects.get(pk=makkah.pk),
        riyadh_office=Entity.objects.get(pk=office.pk),
        university=Entity.objects.get(pk=university.pk),
        exams=exams,
        transfer=transfer,
        praise_only=praise,
    )


@pytest.fixture
def staff(ministry: Ministry) -> Staff:
    def grant(name: str, entity: Entity, role: Role) -> AbstractUser:
        user = _user(name)
        StaffGrant.objects.create(user=user, entity=entity, role=role)
        return user

    return Staff(
        riyadh_agent=grant("riyadh_agent", ministry.riyadh, Role.AGENT),
        riyadh_agent2=grant("riyadh_agent2", ministry.riyadh, Role.AGENT),
        riyadh_supervisor=grant("riyadh_supervisor", ministry.riyadh, Role.SUPERVISOR),
        makkah_agent=grant("makkah_agent", ministry.makkah, Role.AGENT),
        university_agent=grant("university_agent", ministry.university, Role.AGENT),
        central_agent=grant("central_agent", ministry.ministry, Role.AGENT),
        central_supervisor=grant("central_supervisor", ministry.ministry, Role.SUPERVISOR),
        quality_officer=grant("quality_officer", ministry.ministry, Role.QUALITY_OFFICER),
        executive=grant("executive", ministry.ministry, Role.EXECUTIVE_VIEWER),
        riyadh_admin=grant("riyadh_admin", ministry.riyadh, Role.ADMINISTRATOR),
        outsider=_user("outsider"),
    )


@pytest.fixture
def sara(db: None) -> Beneficiary:
    """A parent who writes in Arabic and prefers SMS."""
    return beneficiary_register(
        full_name="سارة العتيبي",
        national_id=luhn_complete("100000001"),
        mobile="0551234567",
        kind="parent",
        consent=True,
    )


@pytest.fixture
def khalid(db: None) -> Beneficiary:
    """A teacher (iqama holder) who prefers e-mail in English."""
    return beneficiary_register(
        full_name="Khalid Rahman",
        national_id=luhn_complete("200000002"),
        email="khalid@example.com",
        kind="teacher",
        language="en",
        preferred_contact="email",
        consent=True,
    )


@pytest.fixture
def channels_in_memory(settings: object) -> Iterator[None]:
    """SMS and e-mail delivered to in-memory outboxes (`sms.outbox`, `mail.outbox`)."""
    from django.core import mail

    from tawasul.channels import sms

    settings.SMS_BACKEND = "tawasul.channels.sms.MemorySmsGateway"  # type: ignore[attr-defined]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"  # type: ignore[attr-defined]
    settings.TAWASUL_PORTAL_URL = "https://tawasul.moe.example"  # type: ignore[attr-defined]
    sms.outbox.clear()
    mail.outbox = []
    yield
    sms.outbox.clear()


# --- translations ---------------------------------------------------------------------

LATIN = re.compile(r"[A-Za-z]{2}")
# Not words to translate: product and standard names.
ALLOWED = {"Open311", "Tawasul", "ISO", "SMS", "PDF", "JPEG", "PNG", "Asia/Riyadh"}


@pytest.fixture
def untranslated(monkeypatch: pytest.MonkeyPatch) -> set[str]:
    """Record every msgid rendered in Arabic without an Arabic translation."""
    misses: set[str] = set()
    depth = threading.local()
    original_gettext = trans_real.DjangoTranslation.gettext
    original_ngettext = trans_real.DjangoTranslation.ngettext

    def recorded(original, self, *args):
        level = getattr(depth, "level", 0)
        depth.level = level + 1
        try:
            result = original(self, *args)
        finally:
            depth.level = level
        message = args[0]
        if (
            level == 0
            and self.language() == "ar"
            and result in args[:2]
            and LATIN.search(message)
            and message not in ALLOWED
        ):
            misses.add(message)
        return result

    monkeypatch.setattr(
        trans_real.DjangoTranslation, "gettext", lambda self, m: recorded(original_gettext, self, m)
    )
    monkeypatch.setattr(
        trans_real.DjangoTranslation,
        "ngettext",
        lambda self, s, p, n: recorded(original_ngettext, self, s, p, n),
    )
    return misses


# --- browser ------------------------------------------------------------------------


def _browser_available() -> bool:
    return shutil.which(CHROMIUM) is not None or os.path.exists(CHROMIUM)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "headless": True,
        "args": CHROMIUM_ARGS,
    }


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip browser tests where Chromium is missing, unless CI requires them."""
    if _browser_available() or os.environ.get("TAWASUL_REQUIRE_BROWSER"):
        return
    skip = pytest.mark.skip(reason="Debian chromium is not installed (/usr/bin/chromium)")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def on_postgres() -> None:
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (set DATABASE_URL); runs in CI's PostgreSQL pass")
