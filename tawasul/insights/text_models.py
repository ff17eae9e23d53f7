"""Models of the Arabic text understanding: trained classifiers, the suggestions they
made (and what staff did with them), and the emerging issues the central centre was told of.

A `TextModel` is one trained classifier version for one target (the category or the
competent entity): its file (joblib, under `TAWASUL_MODEL_DIR`), what it was trained
on, its held-out figures and the confidence below which it abstains. One version per
target is active. A `Suggestion` records what a model proposed for a request, with its
confidence (or that it abstained), and later what staff chose: agreeing, or correcting
it — the training signal of the next version. An `EmergingIssue` is one detected rise
(a category or an entity, in one period) that has been announced, so each is announced
once.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tawasul.cases.models import Category, Request
from tawasul.directory.models import Entity

__all__ = [
    "EmergingIssue",
    "IssueDimension",
    "Suggestion",
    "SuggestionOutcome",
    "TextModel",
    "TextTarget",
]


class TextTarget(models.TextChoices):
    CATEGORY = "category", _("Category")
    ENTITY = "entity", _("Competent entity")


class TextModel(models.Model):
    target = models.CharField(_("predicts"), max_length=10, choices=TextTarget.choices)
    version = models.PositiveIntegerField(_("version"))
    path = models.CharField(_("file"), max_length=300)
    trained_at = models.DateTimeField(_("trained at"))
    train_seconds = models.FloatField(_("training time (s)"), default=0)
    samples = models.PositiveIntegerField(_("training requests"), default=0)
    labels = models.PositiveIntegerField(_("labels"), default=0)
    # held-out figures: accuracy, macro_f1, coverage (share not abstained), accuracy and
    # macro-F1 of the covered requests, n
    metrics = models.JSONField(_("held-out figures"), default=dict, blank=True)
    threshold = models.FloatField(_("abstain below confidence"), default=0.5)
    is_active = models.BooleanField(_("active"), default=False)

    class Meta:
        verbose_name = _("text classifier")
        verbose_name_plural = _("text classifiers")
        ordering = ["target", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["target", "version"], name="textmodel_version"),
            models.UniqueConstraint(
                fields=["target"],
                condition=models.Q(is_active=True),
                name="textmodel_one_active",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_target_display()} v{self.version}"


class SuggestionOutcome(models.TextChoices):
    PENDING = "pending", _("Not decided yet")
    ACCEPTED = "accepted", _("Accepted")
    CORRECTED = "corrected", _("Corrected by staff")


class Suggestion(models.Model):
    """What a model proposed for one request (one row a target and request)."""

    request = models.ForeignKey(Request, on_delete=models.CASCADE, related_name="suggestions")
    model = models.ForeignKey(TextModel, on_delete=models.SET_NULL, null=True, related_name="+")
    target = models.CharField(_("predicts"), max_length=10, choices=TextTarget.choices)
    category = models.ForeignKey(
        Category, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    entity = models.ForeignKey(
        Entity, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    confidence = models.FloatField(_("confidence"))
    abstained = models.BooleanField(_("abstained"), default=False)
    created_at = models.DateTimeField(_("suggested at"), auto_now_add=True)
    outcome = models.CharField(
        _("outcome"),
        max_length=10,
        choices=SuggestionOutcome.choices,
        default=SuggestionOutcome.PENDING,
    )
    # what staff chose in the end (the label of the next training)
    final_category = models.ForeignKey(
        Category, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    final_entity = models.ForeignKey(
        Entity, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        verbose_name = _("suggestion")
        verbose_name_plural = _("suggestions")
        constraints = [
            models.UniqueConstraint(fields=["request", "target"], name="suggestion_once"),
        ]
        indexes = [models.Index(fields=["outcome", "decided_at"], name="suggestion_outcome")]

    def __str__(self) -> str:
        return f"{self.request_id} {self.target} {self.confidence:.2f}"


class IssueDimension(models.TextChoices):
    CATEGORY = "category", _("Category")
    ENTITY = "entity", _("Entity")


class EmergingIssue(models.Model):
    """A rise detected and announced: a category or an entity whose requests in a period
    stand well above what its own history (and season) predicts."""

    dimension = models.CharField(_("of"), max_length=10, choices=IssueDimension.choices)
    key = models.CharField(_("category or entity id"), max_length=20)
    grain = models.CharField(_("period"), max_length=12)
    first = models.DateField(_("first day"))
    last = models.DateField(_("last day"))
    observed = models.PositiveIntegerField(_("requests"))
    expected = models.FloatField(_("expected"))
    score = models.FloatField(_("spike score"))
    # top terms and example tracking numbers of the clusters found in its requests
    detail = models.JSONField(_("detail"), default=dict, blank=True)
    detected_at = models.DateTimeField(_("detected at"), auto_now_add=True)
    announced_at = models.DateTimeField(_("announced at"), null=True, blank=True)

    class Meta:
        verbose_name = _("emerging issue")
        verbose_name_plural = _("emerging issues")
        ordering = ["-first", "-score"]
        constraints = [
            models.UniqueConstraint(
                fields=["dimension", "key", "grain", "first"], name="emerging_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.dimension} {self.key} {self.first}"
