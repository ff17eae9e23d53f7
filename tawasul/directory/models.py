"""The ministry's directory: entities, care centres, staff grants, calendars."""

from __future__ import annotations

import calendar as gregorian
import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from treebeard.mp_tree import MP_Node, MP_NodeManager

from tawasul.core.models import BilingualNameMixin


class EntityKind(models.TextChoices):
    MINISTRY = "ministry", _("Ministry")
    SECTOR = "sector", _("Sector")
    AGENCY = "agency", _("Deputyship / general directorate")
    REGION = "region", _("Regional education department")
    UNIVERSITY = "university", _("University")
    OFFICE = "office", _("Education office")


class Entity(BilingualNameMixin, MP_Node):
    """A node of the entity tree (ministry → sectors → departments/universities → offices).

    `path` (from treebeard) is a materialised path: an entity's subtree is every
    entity whose path starts with it, which is how access is decided.
    """

    code = models.SlugField(_("code"), max_length=60, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=EntityKind.choices)
    region = models.CharField(_("region"), max_length=60, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    node_order_by = ["code"]
    objects = MP_NodeManager()  # type: ignore[django-manager-missing]

    class Meta:
        verbose_name = _("entity")
        verbose_name_plural = _("entities")


ISO_WEEKDAYS = range(1, 8)
MAX_HOLIDAY_DAYS = 30
HIJRI_MONTH_MAX_DAYS = 30
LEAP_YEAR = 2024  # 29 February is a valid yearly date (it falls on 1 March in common years)


def _iso_weekday(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value in ISO_WEEKDAYS


def _time_zone_exists(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


class BusinessCalendar(models.Model):
    """Working days, hours and holidays of a care centre (its arithmetic lives in sla/)."""

    name = models.CharField(_("name"), max_length=120)
    timezone = models.CharField(_("time zone"), max_length=60, default="Asia/Riyadh")
    # ISO weekdays: Monday=1 … Sunday=7. Default Sunday–Thursday.
    working_days = models.JSONField(_("working days"), default=list)
    opens_at = models.TimeField(_("opens at"), default=dt.time(8, 0))
    closes_at = models.TimeField(_("closes at"), default=dt.time(15, 0))
    second_opens_at = models.TimeField(_("second shift opens at"), null=True, blank=True)
    second_closes_at = models.TimeField(_("second shift closes at"), null=True, blank=True)

    class Meta:
        verbose_name = _("business calendar")
        verbose_name_plural = _("business calendars")

    def __str__(self) -> str:
        return self.name

    def save(self, *args: object, **kwargs: object) -> None:
        if not self.working_days:
            self.working_days = [7, 1, 2, 3, 4]
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def clean(self) -> None:
        """Known time zone, ISO working days, whole-minute shifts in order, not overlapping."""
        errors: dict[str, Any] = {}
        if not _time_zone_exists(self.timezone):
            errors["timezone"] = _("Enter a time zone such as Asia/Riyadh.")
        days = self.working_days
        if not isinstance(days, list) or not days or not all(_iso_weekday(day) for day in days):
            errors["working_days"] = _(
                "Choose at least one working day, as ISO weekdays from 1 (Monday) to 7 (Sunday)."
            )
        elif len(set(days)) != len(days):
            errors["working_days"] = _("Each working day may appear only once.")
        errors.update(self._shift_errors())
        if errors:
            raise ValidationError(errors)

    def _shift_errors(self) -> dict[str, Any]:
        errors: dict[str, Any] = {}
        times = {
            "opens_at": self.opens_at,
            "closes_at": self.closes_at,
            "second_opens_at": self.second_opens_at,
            "second_closes_at": self.second_closes_at,
        }
        for field, moment in times.items():
            if moment is not None and (moment.second or moment.microsecond):
                errors[field] = _("Enter a time in whole minutes.")
        if self.opens_at and self.closes_at and self.opens_at >= self.closes_at:
            errors["closes_at"] = _("The centre must open before it closes.")
        second_opens, second_closes = self.second_opens_at, self.second_closes_at
        if (second_opens is None) != (second_closes is None):
            missing = "second_closes_at" if second_closes is None else "second_opens_at"
            errors[missing] = _("Give both times of the second shift, or neither.")
        elif second_opens is not None and second_closes is not None:
            if second_opens >= second_closes:
                errors["second_closes_at"] = _("The second shift must open before it closes.")
            if self.closes_at and second_opens < self.closes_at:
                errors["second_opens_at"] = _(
                    "The second shift must start when or after the first one ends."
                )
        return errors


class HolidayKind(models.TextChoices):
    GREGORIAN = "gregorian", _("Every year on a Gregorian date")
    HIJRI = "hijri", _("Every year on a Hijri (Umm al-Qura) date")
    ONE_OFF = "one_off", _("One-off closure")


class Holiday(BilingualNameMixin, models.Model):
    """A closed period of a calendar: yearly Gregorian, yearly Hijri, or one-off."""

    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.CASCADE, related_name="holidays"
    )
    kind = models.CharField(_("kind"), max_length=12, choices=HolidayKind.choices)
    month = models.PositiveSmallIntegerField(_("month"), null=True, blank=True)
    day = models.PositiveSmallIntegerField(_("day"), null=True, blank=True)
    length_days = models.PositiveSmallIntegerField(_("length in days"), default=1)
    start_date = models.DateField(_("start date"), null=True, blank=True)
    end_date = models.DateField(_("end date"), null=True, blank=True)

    class Meta:
        verbose_name = _("holiday")
        verbose_name_plural = _("holidays")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        """A yearly holiday needs a day that exists; a one-off closure, dates in order."""
        errors: dict[str, Any] = {}
        if self.length_days is None or not 1 <= self.length_days <= MAX_HOLIDAY_DAYS:
            errors["length_days"] = _("A holiday lasts from 1 to 30 days.")
        if self.kind == HolidayKind.ONE_OFF:
            errors.update(self._one_off_errors())
        elif self.kind in (HolidayKind.GREGORIAN, HolidayKind.HIJRI):
            errors.update(self._yearly_errors())
        if errors:
            raise ValidationError(errors)

    def _yearly_errors(self) -> dict[str, Any]:
        errors: dict[str, Any] = {}
        if self.start_date is not None or self.end_date is not None:
            errors["start_date"] = _("Leave the dates empty for a yearly holiday.")
        if self.month is None or not 1 <= self.month <= 12:
            errors["month"] = _("Enter a month from 1 to 12.")
            return errors
        if self.kind == HolidayKind.HIJRI:
            last_day = HIJRI_MONTH_MAX_DAYS
            message = _("Enter a Hijri day from 1 to 30.")
        else:
            last_day = gregorian.monthrange(LEAP_YEAR, self.month)[1]
            message = _("Enter a day that exists in this month.")
        if self.day is None or not 1 <= self.day <= last_day:
            errors["day"] = message
        return errors

    def _one_off_errors(self) -> dict[str, Any]:
        errors: dict[str, Any] = {}
        if self.month is not None or self.day is not None:
            errors["month"] = _("Leave the month and day empty for a one-off closure.")
        if self.start_date is None:
            errors["start_date"] = _("Enter the first day of the closure.")
        if self.end_date is None:
            errors["end_date"] = _("Enter the last day of the closure.")
        elif self.start_date is not None and self.start_date > self.end_date:
            errors["end_date"] = _("The closure cannot end before it starts.")
        return errors


class CareCentre(BilingualNameMixin, models.Model):
    """The beneficiary-care centre of an entity. The central centre oversees all."""

    entity = models.OneToOneField(
        Entity, on_delete=models.PROTECT, related_name="centre", verbose_name=_("entity")
    )
    is_central = models.BooleanField(_("central centre"), default=False)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    calendar = models.ForeignKey(
        BusinessCalendar,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        verbose_name=_("business calendar"),
        help_text=_("Empty: inherited from the nearest parent centre."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("care centre")
        verbose_name_plural = _("care centres")
        constraints = [
            models.UniqueConstraint(
                fields=["is_central"],
                condition=models.Q(is_central=True),
                name="one_central_centre",
            )
        ]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    AGENT = "agent", _("Agent")
    SUPERVISOR = "supervisor", _("Supervisor")
    CENTRE_MANAGER = "centre_manager", _("Centre manager")
    QUALITY_OFFICER = "quality_officer", _("Quality officer")
    EXECUTIVE_VIEWER = "executive_viewer", _("Executive viewer")
    ADMINISTRATOR = "administrator", _("Administrator")


class StaffGrant(models.Model):
    """A role held by a staff member over an entity and its whole subtree."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="grants",
        verbose_name=_("staff member"),
    )
    entity = models.ForeignKey(
        Entity, on_delete=models.CASCADE, related_name="grants", verbose_name=_("entity")
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(_("granted at"), auto_now_add=True)

    class Meta:
        verbose_name = _("staff grant")
        verbose_name_plural = _("staff grants")
        constraints = [
            models.UniqueConstraint(fields=["user", "entity", "role"], name="unique_grant")
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.entity}"
