"""Credentials of the API and what it must remember between calls.

No secret is stored: tokens and keys are random strings shown once; only their
SHA-256 digest and a short public prefix (to recognise them in lists) are kept.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Scope(models.TextChoices):
    """What a staff token or a partner key may do."""

    REQUESTS_READ = "requests:read", _("Read requests")
    REQUESTS_WRITE = "requests:write", _("Act on requests")
    REQUESTS_CREATE = "requests:create", _("Submit requests on a person's behalf")
    WEBHOOKS = "webhooks", _("Manage webhook subscriptions")


class Credential(models.Model):
    """Shared fields of every stored credential."""

    prefix = models.CharField(_("prefix"), max_length=16, db_index=True)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    class Meta:
        abstract = True


class ApiClient(Credential):
    """A partner system (call-centre software, another government system) and its key."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    scopes = models.JSONField(_("scopes"), default=list, blank=True)
    rate_limit_per_minute = models.PositiveIntegerField(_("requests per minute"), default=600)
    entity = models.ForeignKey(
        "directory.Entity",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("receiving entity"),
        help_text=_("Requests this client submits go to this entity unless it names another."),
    )
    contact = models.CharField(_("technical contact"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("API client")
        verbose_name_plural = _("API clients")

    def __str__(self) -> str:
        return self.name


class PersonalAccessToken(Credential):
    """A staff member's token for the API; acts with the member's own grants."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="api_tokens",
        verbose_name=_("user"),
    )
    name = models.CharField(_("name"), max_length=120)
    scopes = models.JSONField(_("scopes"), default=list, blank=True)

    class Meta:
        verbose_name = _("personal access token")
        verbose_name_plural = _("personal access tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class TokenKind(models.TextChoices):
    ACCESS = "access", _("Access")
    REFRESH = "refresh", _("Refresh")


class BeneficiaryToken(Credential):
    """An access or refresh token of the mobile app, issued after a sign-in code.

    Refresh tokens rotate: each is used once; presenting a used one again revokes
    its whole family (every token issued from the same sign-in).
    """

    beneficiary = models.ForeignKey(
        "beneficiaries.Beneficiary",
        on_delete=models.CASCADE,
        related_name="api_tokens",
        verbose_name=_("beneficiary"),
    )
    kind = models.CharField(_("kind"), max_length=8, choices=TokenKind.choices)
    family = models.CharField(max_length=32, db_index=True)
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("app token")
        verbose_name_plural = _("app tokens")

    def __str__(self) -> str:
        return f"{self.kind} {self.prefix}…"


class IdempotencyRecord(models.Model):
    """The first response to a call made with an `Idempotency-Key`, replayed on retries."""

    owner = models.CharField(max_length=40)
    key = models.CharField(max_length=100)
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(default=0)
    body = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("idempotency record")
        verbose_name_plural = _("idempotency records")
        constraints = [
            models.UniqueConstraint(fields=["owner", "key"], name="idempotency_owner_key"),
        ]

    def __str__(self) -> str:
        return f"{self.owner} {self.key}"


class ClientSubmission(models.Model):
    """Which partner client submitted a request (so it may read it back)."""

    client = models.ForeignKey(ApiClient, on_delete=models.CASCADE, related_name="submissions")
    request = models.OneToOneField(
        "cases.Request", on_delete=models.CASCADE, related_name="client_submission"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("client submission")
        verbose_name_plural = _("client submissions")

    def __str__(self) -> str:
        return f"{self.client_id} → {self.request_id}"
