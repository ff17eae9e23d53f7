"""The periodic reports in the admin: the archive read-only (limited to the reports one may
see; they are made by the jobs and the console), and the e-mail subscriptions; the routing
classifiers' versions and their suggestions, read-only."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from tawasul.core.admin import ReadOnlyAdminMixin
from tawasul.core.templatetags.tawasul_dates import dual_date_label, dual_datetime_label
from tawasul.directory import access
from tawasul.insights.report_models import Report, ReportSubscription
from tawasul.insights.reports import reports_for
from tawasul.insights.text_models import Suggestion, TextModel, TextTarget

if TYPE_CHECKING:
    _ReportAdmin = admin.ModelAdmin[Report]
    _SubscriptionAdmin = admin.ModelAdmin[ReportSubscription]
    _TextModelAdmin = admin.ModelAdmin[TextModel]
    _SuggestionAdmin = admin.ModelAdmin[Suggestion]
else:
    _ReportAdmin = _SubscriptionAdmin = _TextModelAdmin = _SuggestionAdmin = admin.ModelAdmin


def _is_staff(request: HttpRequest) -> bool:
    return access.staff_scope(request.user).is_staff


@admin.register(Report)
class ReportAdmin(ReadOnlyAdminMixin, _ReportAdmin):
    list_display = ("kind", "period", "scope", "status", "progress", "created", "finished")
    list_filter = ("kind", "status", "grain")
    ordering = ("-created_at", "-id")
    actions = None
    fields = (
        "kind",
        "grain",
        "period",
        "scope",
        "status",
        "progress",
        "requested_by",
        "created",
        "finished",
        "error",
        "console_page",
    )
    readonly_fields = fields
    show_full_result_count = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Report]:
        return reports_for(request.user).order_by(*self.ordering)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _is_staff(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_staff(request)

    @admin.display(description=_("period"), ordering="first")
    def period(self, obj: Report) -> str:
        return f"{dual_date_label(obj.first)} – {dual_date_label(obj.last)}"

    @admin.display(description=_("entity"))
    def scope(self, obj: Report) -> str:
        return obj.entity.name if obj.entity is not None else str(_("The whole ministry"))

    @admin.display(description=_("created at"), ordering="created_at")
    def created(self, obj: Report) -> str:
        return dual_datetime_label(obj.created_at)

    @admin.display(description=_("finished at"), ordering="finished_at")
    def finished(self, obj: Report) -> str:
        return dual_datetime_label(obj.finished_at)

    @admin.display(description=_("console page"))
    def console_page(self, obj: Report) -> str:
        return format_html(
            '<a href="{}">{}</a>',
            reverse("console:report", args=[obj.pk]),
            _("Open in the console"),
        )


@admin.register(ReportSubscription)
class ReportSubscriptionAdmin(_SubscriptionAdmin):
    list_display = ("user", "scope", "weekly", "monthly", "active", "updated_at")
    list_filter = ("weekly", "monthly", "active")
    search_fields = ("user__username", "user__email")
    raw_id_fields = ("user", "entity")
    list_select_related = ("user", "entity")
    ordering = ("user__username",)

    @admin.display(description=_("entity"))
    def scope(self, obj: ReportSubscription) -> str:
        return obj.entity.name if obj.entity is not None else str(_("The whole ministry"))


# --- the routing classifiers (issue 12): read-only, made by `tawasul classifier train` ------


@admin.register(TextModel)
class TextModelAdmin(ReadOnlyAdminMixin, _TextModelAdmin):
    list_display = (
        "target",
        "version",
        "is_active",
        "trained_at",
        "samples",
        "labels",
        "threshold",
        "held_out_accuracy",
        "train_seconds",
    )
    list_filter = ("target", "is_active")
    ordering = ("target", "-version")
    actions = None
    readonly_fields = (
        "target",
        "version",
        "is_active",
        "path",
        "trained_at",
        "train_seconds",
        "samples",
        "labels",
        "threshold",
        "metrics",
    )
    fields = readonly_fields

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _is_staff(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_staff(request)

    @admin.display(description=_("held-out accuracy"))
    def held_out_accuracy(self, obj: TextModel) -> str:
        accuracy = obj.metrics.get("accuracy") if isinstance(obj.metrics, dict) else None
        return f"{accuracy:.1%}" if isinstance(accuracy, int | float) else "—"


@admin.register(Suggestion)
class SuggestionAdmin(ReadOnlyAdminMixin, _SuggestionAdmin):
    """The suggestions of the requests one may see."""

    list_display = (
        "request",
        "target",
        "suggested",
        "confidence",
        "abstained",
        "outcome",
        "model",
        "created_at",
    )
    list_filter = ("target", "outcome", "abstained")
    list_select_related = ("request", "model", "category", "entity")
    ordering = ("-created_at", "-id")
    actions = None
    readonly_fields = (
        "request",
        "target",
        "model",
        "category",
        "entity",
        "confidence",
        "abstained",
        "created_at",
        "outcome",
        "final_category",
        "final_entity",
        "decided_by",
        "decided_at",
    )
    fields = readonly_fields
    show_full_result_count = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Suggestion]:
        visible = access.requests_for(request.user).values("pk")
        return super().get_queryset(request).filter(request__in=visible)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _is_staff(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_staff(request)

    @admin.display(description=_("suggested"))
    def suggested(self, obj: Suggestion) -> str:
        chosen = obj.category if obj.target == TextTarget.CATEGORY else obj.entity
        return chosen.name if chosen is not None else "—"
