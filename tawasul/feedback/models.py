"""What beneficiaries tell us about the answers they got."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from tawasul.cases.models import Event, EventKind, Request

SCORE_MIN = 1
SCORE_MAX = 5
COMMENT_MAX = 1000


class SatisfactionResponse(models.Model):
    """One beneficiary's rating of one answer (CSAT 1–5): at most one per answer."""

    request = models.ForeignKey(
        Request,
        on_delete=models.PROTECT,
        related_name="satisfaction_responses",
        verbose_name=_("request"),
    )
    answer_event = models.ForeignKey(
        Event,
        on_delete=models.PROTECT,
        related_name="satisfaction_responses",
        limit_choices_to={"kind": EventKind.ANSWERED},
        verbose_name=_("answer"),
        help_text=_("The “answered” event this rating is about."),
    )
    score = models.PositiveSmallIntegerField(
        _("score"), validators=[MinValueValidator(SCORE_MIN), MaxValueValidator(SCORE_MAX)]
    )
    resolved = models.BooleanField(_("resolved"))
    comment = models.TextField(_("comment"), max_length=COMMENT_MAX, blank=True)
    created_at = models.DateTimeField(_("rated at"), auto_now_add=True)

    class Meta:
        verbose_name = _("satisfaction response")
        verbose_name_plural = _("satisfaction responses")
        constraints = [
            models.UniqueConstraint(fields=["answer_event"], name="satisfaction_one_per_answer"),
            models.CheckConstraint(
                condition=models.Q(score__gte=SCORE_MIN, score__lte=SCORE_MAX),
                name="satisfaction_score_1_to_5",
            ),
        ]
        indexes = [models.Index(fields=["request", "created_at"], name="satisfaction_request")]

    def __str__(self) -> str:
        return f"{self.request_id}: {self.score}"


class ObjectionOutcome(models.TextChoices):
    PENDING = "pending", _("Pending review")
    UPHELD = "upheld", _("Upheld")
    REJECTED = "rejected", _("Rejected")


class Objection(models.Model):
    """A beneficiary's objection (اعتراض) to one answer: at most one per answer.

    Reviewed by a supervisor of `reviewer_entity` who did not write the answer,
    within `review_due` (business time of the reviewing entity's calendar).
    """

    request = models.ForeignKey(
        Request, on_delete=models.PROTECT, related_name="objections", verbose_name=_("request")
    )
    answer_event = models.ForeignKey(
        Event,
        on_delete=models.PROTECT,
        related_name="objections",
        limit_choices_to={"kind": EventKind.ANSWERED},
        verbose_name=_("answer"),
        help_text=_("The “answered” event this objection is about."),
    )
    reason = models.TextField(_("reason"))
    reviewer_entity = models.ForeignKey(
        "directory.Entity",
        on_delete=models.PROTECT,
        related_name="objections_to_review",
        verbose_name=_("reviewing entity"),
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="objections_reviewed",
        verbose_name=_("reviewer"),
    )
    review_due = models.DateTimeField(_("review due"))
    outcome = models.CharField(
        _("outcome"),
        max_length=10,
        choices=ObjectionOutcome.choices,
        default=ObjectionOutcome.PENDING,
    )
    justification = models.TextField(_("justification"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="objections_decided",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    overdue_notified_at = models.DateTimeField(_("overdue notice sent at"), null=True, blank=True)
    created_at = models.DateTimeField(_("filed at"), auto_now_add=True)

    class Meta:
        verbose_name = _("objection")
        verbose_name_plural = _("objections")
        constraints = [
            models.UniqueConstraint(fields=["answer_event"], name="objection_one_per_answer"),
        ]
        indexes = [
            # The review queue and the overdue sweep: pending objections by due date.
            models.Index(
                fields=["review_due", "id"],
                name="objection_pending_due",
                condition=models.Q(outcome="pending"),
            ),
            models.Index(fields=["request", "created_at"], name="objection_request"),
        ]

    def __str__(self) -> str:
        return f"{self.request_id}: {self.outcome}"
