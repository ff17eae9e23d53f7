"""Admin for SLA policies (the service-level document's targets)."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from tawasul.sla.models import WORKING_DAY_MINUTES, SlaPolicy


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = (
        "name_ar",
        "name_en",
        "centre",
        "kind",
        "category",
        "priority",
        "first_response_days",
        "resolution_days",
        "warning_percent",
        "is_active",
    )
    list_filter = ("is_active", "kind", "priority", "centre")
    search_fields = ("name_ar", "name_en")
    fieldsets = (
        (None, {"fields": ("name_ar", "name_en", "is_active")}),
        (_("Applies to"), {"fields": ("centre", "kind", "category", "priority")}),
        (
            _("Targets (business minutes; one working day is 420 minutes)"),
            {
                "fields": (
                    "first_response_minutes",
                    "resolution_minutes",
                    "objection_review_minutes",
                    "warning_percent",
                    "escalation_minutes",
                )
            },
        ),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[SlaPolicy]:
        return super().get_queryset(request).select_related("centre", "category")

    @admin.display(description=_("first response (working days)"))
    def first_response_days(self, obj: SlaPolicy) -> str:
        return _days(obj.first_response_minutes)

    @admin.display(description=_("resolution (working days)"))
    def resolution_days(self, obj: SlaPolicy) -> str:
        return _days(obj.resolution_minutes)


def _days(minutes: int) -> str:
    return f"{minutes / WORKING_DAY_MINUTES:g}"
