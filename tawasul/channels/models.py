"""The transactional outbox: messages to send, written with the change that causes them."""

from __future__ import annotations

import json
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tawasul.core.secrets import secret_decrypt, secret_encrypt


class OutboxChannel(models.TextChoices):
    SMS = "sms", _("SMS")
    EMAIL = "email", _("E-mail")
    SOCIAL = "social", _("Social media message")


class OutboxStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class OutboxMessage(models.Model):
    """One notification to deliver. Written in the same transaction as its cause,
    so a rolled-back change sends nothing and a crash after commit loses nothing:
    the drain job retries until it is sent or has failed too often."""

    channel = models.CharField(_("channel"), max_length=8, choices=OutboxChannel.choices)
    recipient = models.CharField(_("recipient"), max_length=254)
    template = models.CharField(_("template"), max_length=60)
    language = models.CharField(_("language"), max_length=2, default="ar")
    context = models.JSONField(_("context"), default=dict)
    request = models.ForeignKey(
        "cases.Request", on_delete=models.CASCADE, null=True, blank=True, related_name="outbox"
    )
    status = models.CharField(
        _("status"), max_length=8, choices=OutboxStatus.choices, default=OutboxStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"))
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    provider_message_id = models.CharField(_("provider message id"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    # Sent through a channel account (the mailbox, social account or SMS gateway the request
    # came in by); empty: the platform's own SMTP server or SMS gateway.
    account = models.ForeignKey(
        "channels.ChannelAccount",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="outbox",
        verbose_name=_("channel account"),
    )
    # How the reply joins the conversation: e-mail In-Reply-To and References, or the
    # platform's message to answer and whether the answer is public (a mention's).
    thread = models.JSONField(_("thread"), default=dict, blank=True)
    # What the provider said afterwards (a delivery receipt): delivered, read, failed …
    receipt_status = models.CharField(_("delivery receipt"), max_length=20, blank=True)
    receipt_at = models.DateTimeField(_("receipt at"), null=True, blank=True)

    class Meta:
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox messages")
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="outbox_due"),
            # delivery receipts find their message by the provider's id
            models.Index(
                fields=["provider_message_id"],
                name="outbox_provider_id",
                condition=~models.Q(provider_message_id=""),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.template} · {self.channel} · {self.get_status_display()}"


# --- Webhooks: partners told of request events by signed HTTP POSTs ---------------------


class WebhookEventType(models.TextChoices):
    """What a partner may subscribe to; `tawasul.channels.webhooks` maps request events."""

    REQUEST_CREATED = "request.created", _("Request created")
    REQUEST_STATUS_CHANGED = "request.status_changed", _("Request status changed")
    REQUEST_ASSIGNED = "request.assigned", _("Request assigned")
    REQUEST_ANSWERED = "request.answered", _("Request answered")
    REQUEST_OBJECTED = "request.objected", _("Objection to an answer")
    REQUEST_CLOSED = "request.closed", _("Request closed or cancelled")
    REQUEST_REOPENED = "request.reopened", _("Request reopened")
    REQUEST_FORWARDED = "request.forwarded", _("Request forwarded")
    REQUEST_MESSAGE = "request.message", _("Public message")


class WebhookSubscription(models.Model):
    """A partner's standing order: POST these events (of this subtree) to this URL."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    client = models.ForeignKey(
        "api.ApiClient",
        on_delete=models.CASCADE,
        related_name="webhook_subscriptions",
        verbose_name=_("API client"),
    )
    url = models.URLField(_("URL"), max_length=500)
    event_types = models.JSONField(_("event types"), default=list)
    entity = models.ForeignKey(
        "directory.Entity",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("entity"),
        help_text=_("Only events of requests under this entity. Empty: every request."),
    )
    secret_encrypted = models.TextField(editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("webhook subscription")
        verbose_name_plural = _("webhook subscriptions")

    def __str__(self) -> str:
        return f"{self.client_id} → {self.url}"


class WebhookDeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")


class WebhookDelivery(models.Model):
    """One event to POST to one subscription; written in the event's transaction."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    subscription = models.ForeignKey(
        WebhookSubscription,
        on_delete=models.CASCADE,
        related_name="deliveries",
        verbose_name=_("subscription"),
    )
    event = models.ForeignKey(
        "cases.Event", on_delete=models.CASCADE, related_name="+", verbose_name=_("event")
    )
    event_type = models.CharField(_("event type"), max_length=32, choices=WebhookEventType.choices)
    payload = models.JSONField(_("payload"))
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=WebhookDeliveryStatus.choices,
        default=WebhookDeliveryStatus.PENDING,
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"))
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_response_status = models.PositiveSmallIntegerField(
        _("last response status"), null=True, blank=True
    )
    last_error = models.CharField(_("last error"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="webhook_due"),
            models.Index(fields=["subscription", "-created_at"], name="webhook_log"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} · {self.get_status_display()}"


# --- channel accounts (issue 10) ---------------------------------------------------------------


class ChannelKind(models.TextChoices):
    IMAP = "imap", _("E-mail mailbox (IMAP)")
    EMAIL_WEBHOOK = "email_webhook", _("E-mail provider webhook")
    X = "x", _("X (direct messages and mentions)")
    INSTAGRAM = "instagram", _("Instagram messaging")
    FACEBOOK = "facebook", _("Facebook Messenger")
    WHATSAPP = "whatsapp", _("WhatsApp Cloud API")
    TELEGRAM = "telegram", _("Telegram bot")
    SMS = "sms", _("SMS gateway")
    CTI = "cti", _("Call-centre telephony (CTI)")


# The settings (not secret) each kind of account needs to work; the secrets (a password, an
# access token, an app secret) are kept apart, encrypted.
CHANNEL_REQUIRED_SETTINGS: dict[str, tuple[str, ...]] = {
    ChannelKind.IMAP: ("host", "username"),
    ChannelKind.EMAIL_WEBHOOK: ("provider",),
    ChannelKind.X: ("account_id",),
    ChannelKind.INSTAGRAM: ("page_id",),
    ChannelKind.FACEBOOK: ("page_id",),
    ChannelKind.WHATSAPP: ("phone_number_id",),
    ChannelKind.TELEGRAM: ("bot_username",),
    ChannelKind.SMS: ("sender",),
    ChannelKind.CTI: (),
}
# A generic HTTP gateway (the SMS default provider) needs its endpoint; a named provider's
# address is known (`api_base` overrides it).
SMS_HTTP_REQUIRED = ("url",)

# The named secrets each kind uses; the first is its main one (`secret()` without a name).
CHANNEL_SECRET_NAMES: dict[str, tuple[str, ...]] = {
    ChannelKind.IMAP: ("password",),
    ChannelKind.EMAIL_WEBHOOK: ("webhook_secret",),
    ChannelKind.X: ("access_token", "consumer_secret"),
    ChannelKind.INSTAGRAM: ("access_token", "app_secret", "verify_token"),
    ChannelKind.FACEBOOK: ("access_token", "app_secret", "verify_token"),
    ChannelKind.WHATSAPP: ("access_token", "app_secret", "verify_token"),
    ChannelKind.TELEGRAM: ("bot_token", "webhook_secret"),
    ChannelKind.SMS: ("api_token", "webhook_secret"),
    ChannelKind.CTI: ("webhook_secret",),
}
SECRET_NAMES = tuple(
    dict.fromkeys(name for names in CHANNEL_SECRET_NAMES.values() for name in names)
)

# Where a request that came through an account is answered: by e-mail, by SMS, or by the
# platform's direct message.
EMAIL_KINDS = frozenset({ChannelKind.IMAP, ChannelKind.EMAIL_WEBHOOK})
SOCIAL_KINDS = frozenset(
    {
        ChannelKind.X,
        ChannelKind.INSTAGRAM,
        ChannelKind.FACEBOOK,
        ChannelKind.WHATSAPP,
        ChannelKind.TELEGRAM,
    }
)


class ChannelAccount(models.Model):
    """One account the ministry is reached through — a mailbox, a social media account, an
    SMS gateway, the telephony system — and the care centre that receives its traffic.

    Its secrets are stored encrypted (`tawasul.core.secrets`: Fernet under a key derived
    from SECRET_KEY, one JSON object of named secrets) and never shown again once saved;
    `settings` holds what is not secret (host, user name, page or phone number id, sender
    name); `state` is the adapter's own bookkeeping (an IMAP mailbox's last UID)."""

    # In the account's webhook addresses (/channels/<kind>/<public_id>/…), never its row id.
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(_("name"), max_length=80, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=ChannelKind.choices)
    centre = models.ForeignKey(
        "directory.CareCentre",
        on_delete=models.PROTECT,
        related_name="channel_accounts",
        verbose_name=_("receiving care centre"),
    )
    settings = models.JSONField(
        _("settings"),
        default=dict,
        blank=True,
        help_text=_("What is not secret: host, user name, page or phone number id, sender."),
    )
    secret_encrypted = models.TextField(blank=True, editable=False)
    state = models.JSONField(_("state"), default=dict, blank=True, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("channel account")
        verbose_name_plural = _("channel accounts")
        ordering = ["kind", "name"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.name}"

    def clean(self) -> None:
        if not isinstance(self.settings, dict):
            raise ValidationError({"settings": _("The settings must be a JSON object.")})
        required = CHANNEL_REQUIRED_SETTINGS.get(self.kind, ())
        if self.kind == ChannelKind.SMS and self.setting("provider", "http") == "http":
            required = (*SMS_HTTP_REQUIRED, *required)
        missing = [key for key in required if not str(self.settings.get(key) or "").strip()]
        if missing:
            raise ValidationError(
                {
                    "settings": _("This kind of account needs: %(keys)s.")
                    % {"keys": ", ".join(missing)}
                }
            )

    def setting(self, key: str, default: str = "") -> str:
        value = self.settings.get(key) if isinstance(self.settings, dict) else None
        return default if value is None else str(value)

    def _secrets(self) -> dict[str, str]:
        if not self.secret_encrypted:
            return {}
        plain = secret_decrypt(self.secret_encrypted)
        try:
            values = json.loads(plain)
        except ValueError:  # an account saved before secrets were named: its main one
            return {self._main_secret_name(): plain}
        return values if isinstance(values, dict) else {}

    def _main_secret_name(self) -> str:
        return CHANNEL_SECRET_NAMES.get(self.kind, ("secret",))[0]

    def secrets_set(self, values: dict[str, str]) -> None:
        """Keep these named secrets, encrypted: a value replaces the stored one, an empty
        value forgets it, a name not given keeps what is stored."""
        kept = self._secrets()
        for name, value in values.items():
            if value:
                kept[name] = value
            else:
                kept.pop(name, None)
        self.secret_encrypted = secret_encrypt(json.dumps(kept)) if kept else ""

    def secret_set(self, plain: str) -> None:
        """Keep a new main secret, encrypted ("" forgets it)."""
        self.secrets_set({self._main_secret_name(): plain})

    def secret(self, name: str = "") -> str:
        """A secret in the clear, for the adapter that logs in or verifies with it ("" if
        none); without a name, the kind's main one."""
        return self._secrets().get(name or self._main_secret_name(), "")

    def secret_names_set(self) -> list[str]:
        return sorted(self._secrets())

    @property
    def has_secret(self) -> bool:
        return bool(self.secret_encrypted)


# --- inbound messages and the review queue (issue 10) --------------------------------------


class InboundStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    PROCESSED = "processed", _("Became a request or a reply")
    IGNORED = "ignored", _("Ignored (automatic reply, bounce or loop)")
    REVIEW = "review", _("Awaiting review")
    DISMISSED = "dismissed", _("Dismissed after review")


class InboundMessage(models.Model):
    """One message that came in through a channel account, kept before anything is done with
    it: it becomes a request or a reply on one (`processed`), is recognised as an automatic
    reply, a bounce or a loop (`ignored`), or waits for a person in the review queue
    (`review`). Unique per account and platform message id, so a replayed webhook or a
    mailbox read twice does nothing more."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    account = models.ForeignKey(
        ChannelAccount,
        on_delete=models.PROTECT,
        related_name="inbound",
        verbose_name=_("channel account"),
    )
    external_id = models.CharField(_("platform message id"), max_length=255)
    sender = models.CharField(_("sender"), max_length=254)
    sender_name = models.CharField(_("sender name"), max_length=150, blank=True)
    sender_handle = models.CharField(_("sender handle"), max_length=100, blank=True)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("text"), blank=True)
    is_public = models.BooleanField(_("public post"), default=False)
    thread = models.JSONField(_("thread"), default=dict, blank=True)
    raw = models.FileField(_("original"), upload_to="inbound/%Y/%m", max_length=200, blank=True)
    data = models.JSONField(_("details"), default=dict, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=InboundStatus.choices, default=InboundStatus.RECEIVED
    )
    reason = models.CharField(_("reason"), max_length=40, blank=True)
    request = models.ForeignKey(
        "cases.Request",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="inbound",
        verbose_name=_("request"),
    )
    message = models.ForeignKey(
        "cases.Message",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("message"),
    )
    received_at = models.DateTimeField(_("received at"), default=timezone.now)
    processed_at = models.DateTimeField(_("processed at"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reviewed by"),
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("inbound message")
        verbose_name_plural = _("inbound messages")
        constraints = [
            models.UniqueConstraint(fields=["account", "external_id"], name="inbound_once")
        ]
        indexes = [
            models.Index(fields=["status", "-received_at"], name="inbound_status"),
            models.Index(fields=["request", "-received_at"], name="inbound_request"),
        ]

    def __str__(self) -> str:
        return f"{self.account_id}/{self.external_id[:40]} · {self.get_status_display()}"


# --- one person across channels ------------------------------------------------------------


class IdentityKind(models.TextChoices):
    EMAIL = "email", _("E-mail")
    MOBILE = "mobile", _("Mobile")
    X = "x", _("X")
    INSTAGRAM = "instagram", _("Instagram")
    FACEBOOK = "facebook", _("Facebook")
    WHATSAPP = "whatsapp", _("WhatsApp")
    TELEGRAM = "telegram", _("Telegram")


class ChannelIdentity(models.Model):
    """An address a beneficiary is known by on a channel: an e-mail, a mobile, a platform's
    user id. A message from any of them is theirs; staff may link one by hand."""

    beneficiary = models.ForeignKey(
        "beneficiaries.Beneficiary",
        on_delete=models.CASCADE,
        related_name="identities",
        verbose_name=_("beneficiary"),
    )
    kind = models.CharField(_("kind"), max_length=10, choices=IdentityKind.choices)
    value = models.CharField(_("address or user id"), max_length=254)
    handle = models.CharField(_("handle"), max_length=100, blank=True)
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("linked by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_seen_at = models.DateTimeField(_("last seen at"), null=True, blank=True)

    class Meta:
        verbose_name = _("channel identity")
        verbose_name_plural = _("channel identities")
        constraints = [
            models.UniqueConstraint(fields=["kind", "value"], name="identity_once"),
        ]
        indexes = [models.Index(fields=["beneficiary", "kind"], name="identity_beneficiary")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.handle or self.value[:3] + '…'}"


# --- the call centre ------------------------------------------------------------------------


class CallStatus(models.TextChoices):
    RINGING = "ringing", _("Ringing")
    ANSWERED = "answered", _("Answered")
    ENDED = "ended", _("Ended")
    MISSED = "missed", _("Missed")


class CallOutcome(models.TextChoices):
    NONE = "", _("Not recorded")
    RESOLVED = "resolved", _("Answered during the call")
    REQUEST_OPENED = "request_opened", _("Request opened")
    FOLLOW_UP = "follow_up", _("Follow-up on a request")
    TRANSFERRED = "transferred", _("Transferred")
    ABANDONED = "abandoned", _("Caller hung up")


class Call(models.Model):
    """A call the telephony system told us about (CTI): who called, which agent took it,
    how long it lasted and what came of it; shown on the request it is linked to."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    account = models.ForeignKey(
        ChannelAccount, on_delete=models.PROTECT, related_name="calls", verbose_name=_("line")
    )
    call_id = models.CharField(_("telephony call id"), max_length=100)
    caller = models.CharField(_("caller number"), max_length=16)
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="calls",
        verbose_name=_("agent"),
    )
    extension = models.CharField(_("extension"), max_length=20, blank=True)
    beneficiary = models.ForeignKey(
        "beneficiaries.Beneficiary",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="calls",
        verbose_name=_("beneficiary"),
    )
    request = models.ForeignKey(
        "cases.Request",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="calls",
        verbose_name=_("request"),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=CallStatus.choices, default=CallStatus.RINGING
    )
    outcome = models.CharField(
        _("outcome"), max_length=16, choices=CallOutcome.choices, blank=True, default=""
    )
    started_at = models.DateTimeField(_("started at"))
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    duration_seconds = models.PositiveIntegerField(_("duration (seconds)"), null=True, blank=True)
    logged_at = models.DateTimeField(_("logged on the request at"), null=True, blank=True)

    class Meta:
        verbose_name = _("call")
        verbose_name_plural = _("calls")
        constraints = [
            models.UniqueConstraint(fields=["account", "call_id"], name="call_once"),
        ]
        indexes = [
            models.Index(fields=["agent", "status", "-started_at"], name="call_agent"),
        ]

    def __str__(self) -> str:
        return f"{self.call_id} · {self.get_status_display()}"
