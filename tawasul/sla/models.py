"""SLA policies: the targets of the service-level document, matched per request.

The clocks themselves are columns of `cases.Request` (so the sweep can query
them through an index); this module only holds the editable policies.
"""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from tawasul.cases.models import Category, Kind, Priority
from tawasul.core.models import BilingualNameMixin
from tawasul.directory.models import CareCentre

WORKING_DAY_MINUTES = 420  # the default calendar's day: 08:00–15:00


class SlaPolicy(BilingualNameMixin, models.Model):
    """Targets in business minutes for the requests it matches (most specific wins)."""

    centre = models.ForeignKey(
        CareCentre,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="sla_policies",
        verbose_name=_("care centre"),
        help_text=_("Empty: every centre."),
    )
    kind = models.CharField(
        _("kind"),
        max_length=12,
        choices=Kind.choices,
        blank=True,
        help_text=_("Empty: every kind of request."),
    )
    category = models.ForeignKey(
        Category,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="sla_policies",
        verbose_name=_("category"),
        help_text=_("Matches this category and every category under it. Empty: all."),
    )
    priority = models.CharField(
        _("priority"),
        max_length=8,
        choices=Priority.choices,
        blank=True,
        help_text=_("Empty: every priority."),
    )
    first_response_minutes = models.PositiveIntegerField(
        _("first response target (business minutes)"),
        default=WORKING_DAY_MINUTES,
        validators=[MinValueValidator(1)],
    )
    resolution_minutes = models.PositiveIntegerField(
        _("resolution target (business minutes)"),
        default=5 * WORKING_DAY_MINUTES,
        validators=[MinValueValidator(1)],
    )
    objection_review_minutes = models.PositiveIntegerField(
        _("objection review target (business minutes)"),
        default=10 * WORKING_DAY_MINUTES,
        validators=[MinValueValidator(1)],
    )
    warning_percent = models.PositiveSmallIntegerField(
        _("warning threshold (%)"),
        default=75,
        validators=[MinValueValidator(1), MaxValueValidator(99)],
        help_text=_("Warn the assignee when this share of the resolution target has passed."),
    )
    escalation_minutes = models.PositiveIntegerField(
        _("escalation delay after breach (business minutes)"),
        default=WORKING_DAY_MINUTES,
        help_text=_("After a breach, escalate to the parent entity's centre after this delay."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.name
