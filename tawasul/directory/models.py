"""The ministry's directory: entities, care centres, staff grants, calendars."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
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
