"""What beneficiaries tell us about the answers they got."""

from __future__ import annotations

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
