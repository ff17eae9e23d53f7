"""Admin for the category taxonomy and a read-only view of requests.

Requests are listed and shown only through `directory.access.requests_for`, so a
staff member sees exactly the requests of their entities' subtrees, and a request
out of reach is "not found". Nothing is written here: every change to a request
goes through `cases.services` (the staff console).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from treebeard.admin import TreeAdmin
from treebeard.forms import movenodeform_factory

from tawasul.cases.models import Attachment, CannedResponse, Category, Event, Message, Request
from tawasul.core.admin import ReadOnlyAdminMixin
from tawasul.core.ids import tracking_number_parse
from tawasul.core.templatetags.tawasul_dates import dual_datetime_label
from tawasul.directory import access
from tawasul.sla.templatetags.sla import sla_remaining_label


@admin.register(Category)
class CategoryAdmin(TreeAdmin):
    form = movenodeform_factory(Category)
    list_display = ("name_ar", "name_en", "code", "kinds", "is_active")
    list_filter = ("is_active",)
    search_fields = ("name_ar", "name_en", "code")


def _is_staff(request: HttpRequest) -> bool:
    return access.staff_scope(request.user).is_staff


class ReadOnlyInline(ReadOnlyAdminMixin, admin.TabularInline):  # type: ignore[type-arg]
    """An inline of a request's rows, shown to whoever may see the request."""

    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_staff(request)


class MessageInline(ReadOnlyInline):
    model = Message
    fields = ("written", "author", "visibility", "body")
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Message]:
        return super().get_queryset(request).select_related("author_user")

    @admin.display(description=_("written at"))
    def written(self, obj: Message) -> str:
        return dual_datetime_label(obj.created_at)

    @admin.display(description=_("author"))
    def author(self, obj: Message) -> str:
        if obj.from_beneficiary:
            return str(_("The beneficiary"))
        return str(obj.author_user or "")


class AttachmentInline(ReadOnlyInline):
    model = Attachment
    fields = ("original_name", "content_type", "size", "uploaded", "from_beneficiary")
    readonly_fields = fields

    @admin.display(description=_("uploaded at"))
    def uploaded(self, obj: Attachment) -> str:
        return dual_datetime_label(obj.uploaded_at)


class EventInline(ReadOnlyInline):
    model = Event
    fields = ("happened", "kind", "from_status", "to_status", "actor", "is_public")
    readonly_fields = fields
    verbose_name_plural = _("timeline")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Event]:
        return super().get_queryset(request).select_related("actor_user")

    @admin.display(description=_("at"))
    def happened(self, obj: Event) -> str:
        return dual_datetime_label(obj.created_at)

    @admin.display(description=_("by"))
    def actor(self, obj: Event) -> str:
        if obj.by_beneficiary:
            return str(_("The beneficiary"))
        return str(obj.actor_user or "")


@admin.register(Request)
class RequestAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = (
        "tracking",
        "kind",
        "status",
        "category",
        "entity",
        "assignee",
        "submitted",
    )
    list_display_links = ("tracking",)
    list_filter = ("status", "kind", "channel", "priority")
    list_select_related = ("category", "entity", "assignee")
    search_fields = ("tracking_number",)  # shows the search box; matching is exact (see below)
    search_help_text = _("Tracking number, for example 482-9310-5726.")
    ordering = ("-created_at", "-id")
    actions = None
    fields = (
        "tracking",
        "status",
        "kind",
        "category",
        "channel",
        "priority",
        "entity",
        "assignee",
        "beneficiary",
        "subject",
        "description",
        "resolution",
        "resolution_code",
        "cancel_reason",
        "transfer_count",
        "submitted",
        "first_response_due_at",
        "resolution_due_at",
        "sla_clock",
        "answered",
        "closed",
    )
    readonly_fields = fields
    inlines = (MessageInline, AttachmentInline, EventInline)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Request]:
        return (
            access.requests_for(request.user)
            .select_related("category", "entity", "assignee", "beneficiary")
            .order_by(*self.ordering)
        )

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Request], search_term: str
    ) -> tuple[QuerySet[Request], bool]:
        if not search_term.strip():
            return queryset, False
        digits = tracking_number_parse(search_term)
        if digits is None:
            return queryset.none(), False
        return queryset.filter(tracking_number=digits), False

    @admin.display(description=_("tracking number"), ordering="tracking_number")
    def tracking(self, obj: Request) -> str:
        return obj.tracking_display

    @admin.display(description=_("submitted at"), ordering="created_at")
    def submitted(self, obj: Request) -> str:
        return dual_datetime_label(obj.created_at)

    @admin.display(description=_("first response due"))
    def first_response_due_at(self, obj: Request) -> str:
        return dual_datetime_label(obj.first_response_due)

    @admin.display(description=_("resolution due"))
    def resolution_due_at(self, obj: Request) -> str:
        return dual_datetime_label(obj.resolution_due)

    @admin.display(description=_("service level"))
    def sla_clock(self, obj: Request) -> str:
        return sla_remaining_label(obj)

    @admin.display(description=_("answered at"))
    def answered(self, obj: Request) -> str:
        return dual_datetime_label(obj.answered_at)

    @admin.display(description=_("closed at"))
    def closed(self, obj: Request) -> str:
        return dual_datetime_label(obj.closed_at)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _is_staff(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_staff(request)


@admin.register(CannedResponse)
class CannedResponseAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Bilingual ready-made replies; placeholders {tracking_number}, {name}, {entity}."""

    list_display = ("title_ar", "title_en", "centre", "is_active")
    list_filter = ("is_active", "centre")
    list_select_related = ("centre",)
    search_fields = ("title_ar", "title_en", "body_ar", "body_en")
    fields = ("centre", "title_ar", "title_en", "body_ar", "body_en", "is_active")
