"""The transactional outbox: messages to send, written with the change that causes them."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


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
