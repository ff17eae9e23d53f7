"""The transactional outbox: messages to send, written with the change that causes them."""

from __future__ import annotations

import uuid

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from tawasul.core.secrets import secret_decrypt, secret_encrypt


class OutboxChannel(models.TextChoices):
    SMS = "sms", _("SMS")
    EMAIL = "email", _("E-mail")


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

    class Meta:
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox messages")
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="outbox_due")]

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


# The settings (not secret) each kind of account needs to work; the secret (a password, an
# access token, an app secret) is kept apart, encrypted.
CHANNEL_REQUIRED_SETTINGS: dict[str, tuple[str, ...]] = {
    ChannelKind.IMAP: ("host", "username"),
    ChannelKind.EMAIL_WEBHOOK: ("provider",),
    ChannelKind.X: ("account_id",),
    ChannelKind.INSTAGRAM: ("page_id",),
    ChannelKind.FACEBOOK: ("page_id",),
    ChannelKind.WHATSAPP: ("phone_number_id",),
    ChannelKind.TELEGRAM: ("bot_username",),
    ChannelKind.SMS: ("url", "sender"),
    ChannelKind.CTI: (),
}


class ChannelAccount(models.Model):
    """One account the ministry is reached through — a mailbox, a social media account, an
    SMS gateway, the telephony system — and the care centre that receives its traffic.

    Its secret is stored encrypted (`tawasul.core.secrets`: Fernet under a key derived
    from SECRET_KEY) and never shown again once saved; `settings` holds what is not
    secret (host, user name, page or phone number id, sender name)."""

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
        missing = [
            key
            for key in CHANNEL_REQUIRED_SETTINGS.get(self.kind, ())
            if not str(self.settings.get(key) or "").strip()
        ]
        if missing:
            raise ValidationError(
                {
                    "settings": _("This kind of account needs: %(keys)s.")
                    % {"keys": ", ".join(missing)}
                }
            )

    def secret_set(self, plain: str) -> None:
        """Keep a new secret, encrypted ("" forgets it)."""
        self.secret_encrypted = secret_encrypt(plain) if plain else ""

    def secret(self) -> str:
        """The secret in the clear, for the adapter that logs in with it ("" if none)."""
        return secret_decrypt(self.secret_encrypted) if self.secret_encrypted else ""

    @property
    def has_secret(self) -> bool:
        return bool(self.secret_encrypted)
