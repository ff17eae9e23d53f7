"""Satisfaction responses in the admin: read-only, limited to the requests one may see."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from tawasul.core.admin import ReadOnlyAdminMixin
from tawasul.core.templatetags.tawasul_dates import dual_datetime_label
from tawasul.directory import access
from tawasul.feedback.models import QualityCriterion, SatisfactionResponse


def _is_staff(request: HttpRequest) -> bool:
    return access.staff_scope(request.user).is_staff


@admin.register(SatisfactionResponse)
class SatisfactionResponseAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("tracking", "score", "resolved", "entity", "rated")
    list_filter = ("score", "resolved")
    list_select_related = ("request", "request__entity")
    ordering = ("-created_at", "-id")
    actions = None
    fields = ("tracking", "entity", "score", "resolved", "comment", "rated")
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[SatisfactionResponse]:
        return (
            SatisfactionResponse.objects.filter(
                request__in=access.requests_for(request.user).values("pk")
            )
            .select_related("request", "request__entity")
            .order_by(*self.ordering)
        )

    @admin.display(description=_("tracking number"), ordering="request__tracking_number")
    def tracking(self, obj: SatisfactionResponse) -> str:
        return obj.request.tracking_display

    @admin.display(description=_("entity"))
    def entity(self, obj: SatisfactionResponse) -> str:
        return str(obj.request.entity)

    @admin.display(description=_("rated at"), ordering="created_at")
    def rated(self, obj: SatisfactionResponse) -> str:
        return dual_datetime_label(obj.created_at)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _is_staff(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_staff(request)


@admin.register(QualityCriterion)
class QualityCriterionAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """The quality rubric: criteria and their weights, edited by administrators."""

    list_display = ("code", "name_ar", "name_en", "weight", "active", "order")
    list_editable = ("weight", "active", "order")
    ordering = ("order", "code")
