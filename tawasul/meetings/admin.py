"""Meetings in the admin: hosts are edited here; requests, slots and their timelines are
read-only (writes go through the services), and only the meeting roles see them."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from tawasul.core.admin import ReadOnlyAdminMixin
from tawasul.core.templatetags.tawasul_dates import dual_datetime_label
from tawasul.meetings.models import MeetingEvent, MeetingHost, MeetingRequest, MeetingSlot
from tawasul.meetings.permissions import meeting_can, meetings_for
from tawasul.meetings.workflow import MeetingRole


@admin.register(MeetingHost)
class MeetingHostAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("name", "title", "is_minister", "is_active")
    list_filter = ("is_minister", "is_active")
    search_fields = ("name", "title")
    raw_id_fields = ("user",)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return meeting_can(request.user, MeetingRole.DECIDE)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return meeting_can(request.user, MeetingRole.DECIDE)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return meeting_can(request.user, MeetingRole.DECIDE)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return meeting_can(request.user, MeetingRole.DECIDE)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class MeetingEventInline(ReadOnlyAdminMixin, admin.TabularInline):  # type: ignore[type-arg]
    model = MeetingEvent
    fields = ("kind", "from_status", "to_status", "is_public", "by_beneficiary", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(MeetingRequest)
class MeetingRequestAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("tracking", "status", "host", "step", "step_due_label", "submitted")
    list_filter = ("status", "step")
    search_fields = ("tracking_number",)
    ordering = ("-created_at", "-id")
    fields = ("tracking", "status", "subject", "host", "step", "step_due_label", "submitted")
    readonly_fields = fields
    inlines = (MeetingEventInline,)
    actions = None

    def get_queryset(self, request: HttpRequest) -> QuerySet[MeetingRequest]:
        return meetings_for(request.user).select_related("host").order_by(*self.ordering)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return meeting_can(request.user, MeetingRole.VIEW)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return meeting_can(request.user, MeetingRole.VIEW)

    @admin.display(description=_("tracking number"), ordering="tracking_number")
    def tracking(self, obj: MeetingRequest) -> str:
        return obj.tracking_display

    @admin.display(description=_("running step due"), ordering="step_due")
    def step_due_label(self, obj: MeetingRequest) -> str:
        return dual_datetime_label(obj.step_due)

    @admin.display(description=_("submitted at"), ordering="created_at")
    def submitted(self, obj: MeetingRequest) -> str:
        return dual_datetime_label(obj.created_at)


@admin.register(MeetingSlot)
class MeetingSlotAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("host", "starts", "duration_minutes", "capacity", "place")
    list_filter = ("host",)
    list_select_related = ("host",)
    ordering = ("-starts_at", "-id")
    actions = None

    def has_module_permission(self, request: HttpRequest) -> bool:
        return meeting_can(request.user, MeetingRole.VIEW)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return meeting_can(request.user, MeetingRole.VIEW)

    @admin.display(description=_("starts at"), ordering="starts_at")
    def starts(self, obj: MeetingSlot) -> str:
        return dual_datetime_label(obj.starts_at)
