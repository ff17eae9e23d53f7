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


# --- quality review -----------------------------------------------------------------------


class QualityCriterion(models.Model):
    """One line of the quality rubric, weighted against the others."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name_ar = models.CharField(_("name (Arabic)"), max_length=120)
    name_en = models.CharField(_("name (English)"), max_length=120)
    weight = models.PositiveSmallIntegerField(
        _("weight"), default=1, validators=[MinValueValidator(1)]
    )
    active = models.BooleanField(_("active"), default=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("quality criterion")
        verbose_name_plural = _("quality criteria")
        ordering = ["order", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(weight__gte=1), name="quality_weight_positive"
            )
        ]

    def __str__(self) -> str:
        return self.code


class QualityReview(models.Model):
    """A quality officer's scoring of one answer: at most one per officer per answer.

    `total` is the weighted average of the criteria scores, 1–5 scaled to 0–100.
    Reviews sharing a `calibration_group` are compared in the calibration view.
    """

    request = models.ForeignKey(
        Request, on_delete=models.PROTECT, related_name="quality_reviews", verbose_name=_("request")
    )
    answer_event = models.ForeignKey(
        Event,
        on_delete=models.PROTECT,
        related_name="quality_reviews",
        limit_choices_to={"kind": EventKind.ANSWERED},
        verbose_name=_("answer"),
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="quality_reviews_given",
        verbose_name=_("reviewer"),
    )
    calibration_group = models.PositiveIntegerField(_("calibration round"), null=True, blank=True)
    total = models.DecimalField(
        _("total score"),
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    comment = models.TextField(_("comment"), max_length=COMMENT_MAX, blank=True)
    created_at = models.DateTimeField(_("reviewed at"), auto_now_add=True)

    class Meta:
        verbose_name = _("quality review")
        verbose_name_plural = _("quality reviews")
        constraints = [
            models.UniqueConstraint(
                fields=["answer_event", "reviewer"], name="quality_review_once_per_reviewer"
            ),
            models.CheckConstraint(
                condition=models.Q(total__gte=0, total__lte=100), name="quality_total_0_to_100"
            ),
        ]
        indexes = [
            models.Index(fields=["calibration_group"], name="quality_review_calibration"),
        ]

    def __str__(self) -> str:
        return f"{self.answer_event_id}: {self.total}"


class QualityScore(models.Model):
    """One criterion's score (1–5) within a review."""

    review = models.ForeignKey(
        QualityReview, on_delete=models.CASCADE, related_name="scores", verbose_name=_("review")
    )
    criterion = models.ForeignKey(
        QualityCriterion,
        on_delete=models.PROTECT,
        related_name="scores",
        verbose_name=_("criterion"),
    )
    score = models.PositiveSmallIntegerField(
        _("score"), validators=[MinValueValidator(SCORE_MIN), MaxValueValidator(SCORE_MAX)]
    )

    class Meta:
        verbose_name = _("quality score")
        verbose_name_plural = _("quality scores")
        constraints = [
            models.UniqueConstraint(fields=["review", "criterion"], name="quality_score_unique"),
            models.CheckConstraint(
                condition=models.Q(score__gte=SCORE_MIN, score__lte=SCORE_MAX),
                name="quality_score_1_to_5",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.review_id} {self.criterion_id}: {self.score}"


class SampleReason(models.TextChoices):
    RANDOM = "random", _("Random sample")
    OBJECTED = "objected", _("Objected to")
    LOW_RATED = "low_rated", _("Rated low")


class QualitySample(models.Model):
    """An answer picked for quality review in one ISO week (e.g. "2026-W48").

    Whether it has been reviewed is derived from its answer's reviews.
    """

    answer_event = models.ForeignKey(
        Event,
        on_delete=models.PROTECT,
        related_name="quality_samples",
        limit_choices_to={"kind": EventKind.ANSWERED},
        verbose_name=_("answer"),
    )
    centre = models.ForeignKey(
        "directory.Entity",
        on_delete=models.PROTECT,
        related_name="quality_samples",
        verbose_name=_("centre"),
    )
    week = models.CharField(_("week"), max_length=8)
    reason = models.CharField(_("reason"), max_length=10, choices=SampleReason.choices)
    created_at = models.DateTimeField(_("sampled at"), auto_now_add=True)

    class Meta:
        verbose_name = _("quality sample")
        verbose_name_plural = _("quality samples")
        constraints = [
            models.UniqueConstraint(fields=["answer_event", "week"], name="quality_sample_once"),
        ]
        indexes = [models.Index(fields=["week", "centre"], name="quality_sample_week")]

    def __str__(self) -> str:
        return f"{self.week} {self.answer_event_id}: {self.reason}"
