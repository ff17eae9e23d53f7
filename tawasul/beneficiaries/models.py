"""Beneficiaries: the people who send requests. Only what service needs is kept."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from tawasul.core.validators import mobile_masked


class BeneficiaryKind(models.TextChoices):
    STUDENT = "student", _("Student")
    PARENT = "parent", _("Parent")
    TEACHER = "teacher", _("Teacher")
    EMPLOYEE = "employee", _("Employee")
    OTHER = "other", _("Other")


class ContactChannel(models.TextChoices):
    SMS = "sms", _("SMS")
    EMAIL = "email", _("E-mail")


class Beneficiary(models.Model):
    """A person served by the ministry.

    Personal data is minimised: the national ID is kept because it identifies a
    person across channels; a mobile or an e-mail is needed to tell them about
    their requests; nothing else is collected.
    """

    national_id = models.CharField(
        _("national ID / iqama"), max_length=10, unique=True, null=True, blank=True
    )
    full_name = models.CharField(_("full name"), max_length=150)
    mobile = models.CharField(_("mobile"), max_length=16, blank=True, db_index=True)
    email = models.EmailField(_("e-mail"), blank=True, db_index=True)
    kind = models.CharField(
        _("kind"), max_length=12, choices=BeneficiaryKind.choices, default=BeneficiaryKind.OTHER
    )
    language = models.CharField(
        _("preferred language"),
        max_length=2,
        default="ar",
        choices=[("ar", "العربية"), ("en", "English")],
    )
    preferred_contact = models.CharField(
        _("preferred contact"),
        max_length=8,
        choices=ContactChannel.choices,
        default=ContactChannel.SMS,
    )
    consent_at = models.DateTimeField(_("privacy notice accepted at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("beneficiary")
        verbose_name_plural = _("beneficiaries")

    def __str__(self) -> str:
        return f"{self.full_name} ({self.masked_mobile or self.masked_national_id})"

    @property
    def masked_mobile(self) -> str:
        return mobile_masked(self.mobile)

    @property
    def masked_national_id(self) -> str:
        nid = self.national_id or ""
        return f"{nid[:1]}{'•' * 6}{nid[-3:]}" if nid else ""


class CodePurpose(models.TextChoices):
    SIGN_IN = "sign_in", _("Sign in")
    TRACK = "track", _("Track one request")


class SignInCode(models.Model):
    """A one-time code sent to a mobile or an e-mail address.

    Neither the code nor the address is stored: only keyed digests (HMAC with the
    secret key), enough to check a code and to count requests per address.
    """

    public_id = models.CharField(max_length=32, unique=True)
    purpose = models.CharField(_("purpose"), max_length=8, choices=CodePurpose.choices)
    channel = models.CharField(_("channel"), max_length=8, choices=ContactChannel.choices)
    destination_digest = models.CharField(max_length=64)
    code_digest = models.CharField(max_length=64)
    request = models.ForeignKey(
        "cases.Request", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    expires_at = models.DateTimeField(_("expires at"))
    consumed_at = models.DateTimeField(_("used at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("one-time code")
        verbose_name_plural = _("one-time codes")
        indexes = [
            models.Index(fields=["destination_digest", "created_at"], name="code_destination"),
        ]

    def __str__(self) -> str:
        return f"{self.purpose} {self.public_id[:6]}…"
