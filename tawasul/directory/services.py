"""Writes on the directory: entities, care centres, business calendars and staff."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from tawasul.core.errors import Conflict, InvalidInput
from tawasul.directory.access import staff_scope_forget
from tawasul.directory.models import (
    BusinessCalendar,
    CareCentre,
    Entity,
    EntityKind,
    Holiday,
    HolidayKind,
    Role,
    StaffGrant,
)


def entity_create(
    *,
    parent: Entity | None,
    code: str,
    name_ar: str,
    name_en: str,
    kind: str,
    region: str = "",
) -> Entity:
    """Add an entity under `parent` (a root when None) with the treebeard manager API."""
    if kind not in EntityKind.values:
        raise InvalidInput(
            _("Unknown entity kind."), code="kind_invalid", details={"field": "kind"}
        )
    if Entity.objects.filter(code=code).exists():
        raise Conflict(_("An entity with this code already exists."), code="entity_code_taken")
    instance = Entity(code=code, name_ar=name_ar, name_en=name_en, kind=kind, region=region)
    if parent is None:
        return Entity.objects.add_root(instance=instance)
    return Entity.objects.add_child(parent, instance=instance)


def care_centre_create(
    *,
    entity: Entity,
    name_ar: str,
    name_en: str,
    is_central: bool = False,
    email: str = "",
    phone: str = "",
    calendar: BusinessCalendar | None = None,
) -> CareCentre:
    """Open the beneficiary-care centre of `entity` (an empty calendar is inherited)."""
    if CareCentre.objects.filter(entity=entity).exists():
        raise Conflict(_("This entity already has a care centre."), code="centre_exists")
    if is_central and CareCentre.objects.filter(is_central=True).exists():
        raise Conflict(_("There is already a central centre."), code="central_exists")
    return CareCentre.objects.create(
        entity=entity,
        name_ar=name_ar,
        name_en=name_en,
        is_central=is_central,
        email=email,
        phone=phone,
        calendar=calendar,
    )


@dataclass(frozen=True)
class HolidaySpec:
    """A yearly holiday: `kind` is gregorian or hijri; the closure lasts `length_days`."""

    name_ar: str
    name_en: str
    kind: str
    month: int
    day: int
    length_days: int = 1


def business_calendar_create(
    *,
    name: str,
    working_days: Sequence[int],
    opens_at: dt.time,
    closes_at: dt.time,
    holidays: Sequence[HolidaySpec] = (),
) -> BusinessCalendar:
    """A working week (ISO weekdays, Monday=1 … Sunday=7), hours and yearly holidays."""
    days = list(dict.fromkeys(working_days))
    if not days or any(day not in range(1, 8) for day in days):
        raise InvalidInput(
            _("Working days are ISO weekdays from 1 (Monday) to 7 (Sunday)."),
            code="working_days_invalid",
            details={"field": "working_days"},
        )
    if opens_at >= closes_at:
        raise InvalidInput(
            _("The centre must open before it closes."),
            code="hours_invalid",
            details={"field": "closes_at"},
        )
    with transaction.atomic():
        calendar = BusinessCalendar.objects.create(
            name=name, working_days=days, opens_at=opens_at, closes_at=closes_at
        )
        Holiday.objects.bulk_create([_holiday(calendar, spec) for spec in holidays])
    return calendar


def _holiday(calendar: BusinessCalendar, spec: HolidaySpec) -> Holiday:
    last_day = {str(HolidayKind.GREGORIAN): 31, str(HolidayKind.HIJRI): 30}.get(spec.kind, 0)
    if not 1 <= spec.month <= 12 or not 1 <= spec.day <= last_day:
        raise InvalidInput(
            _("A yearly holiday needs a valid month and day."), code="holiday_invalid"
        )
    if spec.length_days < 1:
        raise InvalidInput(_("A holiday lasts at least one day."), code="holiday_invalid")
    return Holiday(
        calendar=calendar,
        name_ar=spec.name_ar,
        name_en=spec.name_en,
        kind=spec.kind,
        month=spec.month,
        day=spec.day,
        length_days=spec.length_days,
    )


def staff_member_create(
    *,
    username: str,
    entity: Entity,
    role: str,
    full_name: str,
    password: str = "",
    password_hash: str = "",
) -> AbstractUser:
    """A staff account (admin sign-in allowed) holding `role` over `entity`'s subtree.

    Give `password`, or `password_hash` (from `make_password`) when many accounts
    are created with one password and hashing each would be slow. With neither,
    the account cannot sign in with a password until one is set.
    """
    if role not in Role.values:
        raise InvalidInput(_("Unknown role."), code="role_invalid", details={"field": "role"})
    user_model = get_user_model()
    username = (username or "").strip()
    if not username:
        raise InvalidInput(
            _("Enter a username."), code="username_required", details={"field": "username"}
        )
    if user_model.objects.filter(username=username).exists():
        raise Conflict(_("This username is already taken."), code="username_taken")
    first_name, _sep, last_name = " ".join((full_name or "").split()).partition(" ")
    with transaction.atomic():
        user = user_model(username=username, first_name=first_name[:150], last_name=last_name[:150])
        user.is_staff = True
        if password_hash:
            user.password = password_hash
        elif password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save()
        StaffGrant.objects.create(user=user, entity=entity, role=role)
    staff_scope_forget(user)
    return user
