"""Admin for the directory: the entity tree, care centres, calendars and staff grants.

These are configuration, edited by superusers and administrators holding Django's
model permissions. The admin site's own titles are set here as well.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext_lazy as _
from treebeard.admin import TreeAdmin
from treebeard.forms import movenodeform_factory

from tawasul.directory.models import (
    BusinessCalendar,
    CareCentre,
    Entity,
    Holiday,
    StaffGrant,
)

admin.site.site_header = _("Tawasul administration")
admin.site.site_title = _("Tawasul administration")
admin.site.index_title = _("Beneficiary care")


@admin.register(Entity)
class EntityAdmin(TreeAdmin):
    form = movenodeform_factory(Entity)
    list_display = ("name_ar", "name_en", "code", "kind", "region", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("name_ar", "name_en", "code")


# ISO weekday (Monday=1 … Sunday=7) → Django's translated name; the Saudi week first.
SAUDI_WEEK = (7, 1, 2, 3, 4, 5, 6)
WEEKDAY_CHOICES = [(iso, WEEKDAYS[iso - 1]) for iso in SAUDI_WEEK]


class HolidayForm(forms.ModelForm[Holiday]):
    class Meta:
        model = Holiday
        fields = (
            "name_ar",
            "name_en",
            "kind",
            "month",
            "day",
            "length_days",
            "start_date",
            "end_date",
        )
        help_texts = {
            "month": _("Yearly holidays: the Gregorian or Hijri month (1–12)."),
            "day": _(
                "Yearly holidays: the day of the month. A Hijri 30th in a 29-day month "
                "falls on the 1st of the next month."
            ),
            "length_days": _("Yearly holidays: days closed from that date (1–30)."),
            "start_date": _("One-off closures: the first day closed."),
            "end_date": _("One-off closures: the last day closed."),
        }


class HolidayInline(admin.TabularInline):  # type: ignore[type-arg]
    model = Holiday
    form = HolidayForm
    extra = 0


class BusinessCalendarForm(forms.ModelForm[BusinessCalendar]):
    working_days = forms.TypedMultipleChoiceField(
        label=_("working days"),
        choices=WEEKDAY_CHOICES,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("The days the centre is open. The Saudi working week is Sunday to Thursday."),
    )

    class Meta:
        model = BusinessCalendar
        fields = (
            "name",
            "timezone",
            "working_days",
            "opens_at",
            "closes_at",
            "second_opens_at",
            "second_closes_at",
        )
        help_texts = {
            "timezone": _(
                "A time zone name such as Asia/Riyadh: working hours are local times there."
            ),
            "opens_at": _("Opening time of every working day, in whole minutes."),
            "closes_at": _("Closing time: the last open minute ends here."),
            "second_opens_at": _("Optional split shift: leave both times empty for one shift."),
            "second_closes_at": _("Closing time of the second shift."),
        }


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """A centre's calendar; centres without one inherit the nearest parent centre's."""

    form = BusinessCalendarForm
    list_display = ("name", "timezone", "opens_at", "closes_at", "second_opens_at")
    search_fields = ("name",)
    fieldsets = (
        (None, {"fields": ("name", "timezone")}),
        (_("Working week"), {"fields": ("working_days", "opens_at", "closes_at")}),
        (
            _("Second shift"),
            {
                "fields": ("second_opens_at", "second_closes_at"),
                "description": _("For a split shift, e.g. 08:00–12:00 and 16:00–20:00."),
            },
        ),
    )
    inlines = (HolidayInline,)


@admin.register(CareCentre)
class CareCentreAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("name_ar", "name_en", "entity", "calendar", "is_central", "is_active")
    list_filter = ("is_central", "is_active")
    list_select_related = ("entity", "calendar")
    search_fields = ("name_ar", "name_en", "entity__code")
    autocomplete_fields = ("entity", "calendar")


@admin.register(StaffGrant)
class StaffGrantAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("user", "role", "entity", "created_at")
    list_filter = ("role", ("entity", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("user", "entity")
    search_fields = ("user__username", "entity__code", "entity__name_ar", "entity__name_en")
    autocomplete_fields = ("user", "entity")

    def get_queryset(self, request: HttpRequest) -> QuerySet[StaffGrant]:
        return super().get_queryset(request).order_by("user__username", "role")
