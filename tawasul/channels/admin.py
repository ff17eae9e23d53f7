"""The outbox and the webhook delivery log in the admin: read-only, recipients masked,
with "retry now" and "send again" actions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_stubs_ext import StrOrPromise

from tawasul.channels.delivery import outbox_retry
from tawasul.channels.inbound import identity_shown
from tawasul.channels.models import (
    CHANNEL_SECRET_NAMES,
    SECRET_NAMES,
    Call,
    ChannelAccount,
    ChannelKind,
    InboundMessage,
    OutboxMessage,
    WebhookDelivery,
    WebhookSubscription,
)
from tawasul.channels.outbox import recipient_masked
from tawasul.channels.webhooks import webhook_subscription_set_active, webhooks_redeliver
from tawasul.directory import access

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


# --- webhooks --------------------------------------------------------------------------

if TYPE_CHECKING:
    _SubscriptionAdmin = admin.ModelAdmin[WebhookSubscription]
    _DeliveryAdmin = admin.ModelAdmin[WebhookDelivery]
else:
    _SubscriptionAdmin = admin.ModelAdmin
    _DeliveryAdmin = admin.ModelAdmin


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(_SubscriptionAdmin):
    """Partners manage their subscriptions through the API; here they are seen and
    switched off or on. The secret is never shown."""

    list_display = ("client", "url", "event_types", "entity", "is_active", "created_at")
    list_filter = ("is_active",)
    search_fields = ("client__name", "url")
    ordering = ("-created_at", "-pk")
    fields = ("public_id", "client", "url", "event_types", "entity", "is_active", "created_at")
    readonly_fields = fields
    actions = ("activate", "deactivate")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description=_("Switch on"), permissions=["change"])
    def activate(self, request: HttpRequest, queryset: QuerySet[WebhookSubscription]) -> None:
        for subscription in queryset:
            webhook_subscription_set_active(subscription=subscription, active=True)

    @admin.action(description=_("Switch off"), permissions=["change"])
    def deactivate(self, request: HttpRequest, queryset: QuerySet[WebhookSubscription]) -> None:
        for subscription in queryset:
            webhook_subscription_set_active(subscription=subscription, active=False)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(_DeliveryAdmin):
    """The delivery log: read-only, filtered by status, with a "send again" action."""

    list_display = (
        "event_type",
        "subscription",
        "status",
        "attempts",
        "last_response_status",
        "next_attempt_at",
        "created_at",
        "delivered_at",
    )
    list_filter = ("status", "event_type")
    list_select_related = ("subscription", "subscription__client")
    search_fields = ("public_id",)
    ordering = ("-created_at", "-pk")
    date_hierarchy = "created_at"
    actions = ("redeliver",)
    fields = (
        "public_id",
        "subscription",
        "event_type",
        "payload",
        "status",
        "attempts",
        "next_attempt_at",
        "claimed_until",
        "last_response_status",
        "last_error",
        "created_at",
        "delivered_at",
    )
    readonly_fields = fields
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(
        self, request: HttpRequest, obj: WebhookDelivery | None = None
    ) -> bool:
        return False

    @admin.action(description=_("Send again now"), permissions=["change"])
    def redeliver(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        ids = list(queryset.values_list("pk", flat=True))
        count = webhooks_redeliver(delivery_ids=ids, by=request.user)  # type: ignore[arg-type]
        self.message_user(
            request,
            ngettext(
                "%(count)d delivery will be sent again now.",
                "%(count)d deliveries will be sent again now.",
                count,
            )
            % {"count": count},
            messages.SUCCESS if count else messages.WARNING,
        )


# --- channel accounts ---------------------------------------------------------------------------


SECRET_LABELS = {
    "password": _("Mailbox password"),
    "webhook_secret": _("Webhook signing secret"),
    "access_token": _("Access token (to send)"),
    "consumer_secret": _("X consumer secret (to verify webhooks)"),
    "app_secret": _("Meta app secret (to verify webhooks)"),
    "verify_token": _("Meta verify token (webhook handshake)"),
    "bot_token": _("Telegram bot token"),
    "api_token": _("Gateway API token"),
}


def _secret_field(label: StrOrPromise, help_text: StrOrPromise) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=help_text,
    )


class ChannelAccountForm(forms.ModelForm[ChannelAccount]):
    """Secrets are written, never read back: empty keeps the one stored. `secret` is the
    kind's main secret; the named fields set the others a kind uses (listed per kind)."""

    secret = _secret_field(
        _("Secret (password, access token or app secret)"),
        _("Stored encrypted and never shown again. Leave empty to keep the current one."),
    )

    class Meta:
        model = ChannelAccount
        fields = ("name", "kind", "centre", "settings", "is_active")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in SECRET_NAMES:
            kinds = ", ".join(
                str(ChannelKind(kind).label)
                for kind, names in CHANNEL_SECRET_NAMES.items()
                if name in names
            )
            self.fields[f"secret_{name}"] = _secret_field(SECRET_LABELS.get(name, name), kinds)

    def save(self, commit: bool = True) -> ChannelAccount:
        account = super().save(commit=False)
        values = {
            name: self.cleaned_data[f"secret_{name}"]
            for name in SECRET_NAMES
            if self.cleaned_data.get(f"secret_{name}")
        }
        if self.cleaned_data.get("secret"):
            values[CHANNEL_SECRET_NAMES.get(account.kind, ("secret",))[0]] = self.cleaned_data[
                "secret"
            ]
        if values:
            account.secrets_set(values)
        if commit:
            account.save()
        return account


if TYPE_CHECKING:
    _AccountAdmin = admin.ModelAdmin[ChannelAccount]
else:
    _AccountAdmin = admin.ModelAdmin


@admin.register(ChannelAccount)
class ChannelAccountAdmin(_AccountAdmin):
    """Each account mapped to the centre that receives its traffic; the secret is never
    shown (a column says whether one is set)."""

    form = ChannelAccountForm
    list_display = ("name", "kind", "centre", "is_active", "secret_is_set", "updated_at")
    list_filter = ("kind", "is_active")
    search_fields = ("name",)

    def save_model(
        self, request: HttpRequest, obj: ChannelAccount, form: Any, change: bool
    ) -> None:
        """An edit writes only what the form holds: `state` (an IMAP mailbox's last UID, the
        poller's lease) is the adapters', written meanwhile by a worker, never reset here."""
        if not change:
            super().save_model(request, obj, form, change)
            return
        obj.save(update_fields=[*ChannelAccountForm.Meta.fields, "secret_encrypted", "updated_at"])

    @admin.display(boolean=True, description=_("secret set"))
    def secret_is_set(self, account: ChannelAccount) -> bool:
        return account.has_secret

    @admin.display(description=_("webhook address"))
    def webhook_path(self, account: ChannelAccount) -> str:
        return f"/channels/{account.kind}/{account.public_id}/"

    readonly_fields = ("webhook_path", "secrets_stored")

    @admin.display(description=_("secrets stored"))
    def secrets_stored(self, account: ChannelAccount) -> str:
        return ", ".join(account.secret_names_set()) or "—"


# --- inbound messages and calls: read-only, through the access layer ---------------------------


if TYPE_CHECKING:
    _InboundAdmin = admin.ModelAdmin[InboundMessage]
    _CallAdmin = admin.ModelAdmin[Call]
else:
    _InboundAdmin = _CallAdmin = admin.ModelAdmin


@admin.register(InboundMessage)
class InboundMessageAdmin(_InboundAdmin):
    """What came in through each account and what became of it (the console's review queue
    is where staff act on it). Only messages of accounts within the user's reach; the
    sender is masked and the text is not listed."""

    list_display = ("received_at", "account", "masked_sender", "status", "reason", "request")
    list_filter = ("status", "reason", "account__kind")
    ordering = ("-received_at", "-pk")
    date_hierarchy = "received_at"
    fields = (
        "public_id",
        "account",
        "masked_sender",
        "status",
        "reason",
        "request",
        "received_at",
        "processed_at",
        "reviewed_by",
        "reviewed_at",
    )
    readonly_fields = fields
    show_full_result_count = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[InboundMessage]:
        return access.inbound_for(request.user).select_related("account", "request")

    @admin.display(description=_("sender"))
    def masked_sender(self, obj: InboundMessage) -> str:
        kind = str(obj.data.get("identity_kind") or "")
        return identity_shown(kind, obj.sender, obj.sender_handle)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Call)
class CallAdmin(_CallAdmin):
    """Calls the telephony system reported, for the lines within the user's reach."""

    list_display = ("started_at", "account", "status", "outcome", "duration_seconds", "agent")
    list_filter = ("status", "outcome")
    ordering = ("-started_at", "-pk")
    date_hierarchy = "started_at"
    fields = (
        "public_id",
        "account",
        "status",
        "outcome",
        "agent",
        "extension",
        "request",
        "started_at",
        "answered_at",
        "ended_at",
        "duration_seconds",
        "logged_at",
    )
    readonly_fields = fields
    show_full_result_count = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Call]:
        return access.calls_for(request.user).select_related("account", "agent", "request")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
