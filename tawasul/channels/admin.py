"""The outbox in the admin: read-only, recipients masked, with a "retry now" action."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from tawasul.channels.delivery import outbox_retry
from tawasul.channels.models import OutboxMessage
from tawasul.channels.outbox import recipient_masked

if TYPE_CHECKING:
    _ModelAdmin = admin.ModelAdmin[OutboxMessage]
else:
    _ModelAdmin = admin.ModelAdmin


@admin.register(OutboxMessage)
class OutboxMessageAdmin(_ModelAdmin):
    list_display = (
        "template",
        "channel",
        "masked_recipient",
        "status",
        "attempts",
        "next_attempt_at",
        "created_at",
        "sent_at",
    )
    list_filter = ("status", "channel", "template")
    search_fields = ("request__tracking_number",)
    ordering = ("-created_at", "-pk")
    date_hierarchy = "created_at"
    actions = ("retry_now",)
    fields = (
        "template",
        "channel",
        "masked_recipient",
        "language",
        "request",
        "status",
        "attempts",
        "next_attempt_at",
        "claimed_until",
        "last_error",
        "provider_message_id",
        "created_at",
        "sent_at",
    )
    readonly_fields = fields
    show_full_result_count = False

    @admin.display(description=_("recipient"))
    def masked_recipient(self, obj: OutboxMessage) -> str:
        return recipient_masked(channel=obj.channel, recipient=obj.recipient)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: OutboxMessage | None = None) -> bool:
        return False

    @admin.action(description=_("Retry now"), permissions=["change"])
    def retry_now(self, request: HttpRequest, queryset: QuerySet[OutboxMessage]) -> None:
        ids = list(queryset.values_list("pk", flat=True))
        count = outbox_retry(message_ids=ids, by=request.user)  # type: ignore[arg-type]
        self.message_user(
            request,
            ngettext(
                "%(count)d message will be sent again now.",
                "%(count)d messages will be sent again now.",
                count,
            )
            % {"count": count},
            messages.SUCCESS if count else messages.WARNING,
        )
