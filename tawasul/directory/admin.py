"""Admin for the directory: the entity tree, care centres, calendars and staff grants.

These are configuration, edited by superusers and administrators holding Django's
model permissions. The admin site's own titles are set here as well.
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
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


class HolidayInline(admin.TabularInline):  # type: ignore[type-arg]
    model = Holiday
    extra = 0
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


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("name", "timezone", "opens_at", "closes_at")
    search_fields = ("name",)
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
