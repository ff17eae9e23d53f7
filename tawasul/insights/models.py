"""The dashboards' summary table, and the periodic reports' models (`report_models`).

`DailySummary` holds, for each local day and entity, how many requests were submitted
(in all, by kind, by channel, by top-level category) and how many were answered, with
their SLA outcomes — one row a day and entity (about 60,000 rows for two years of a
ministry with 86 entities). The dashboards add these rows up instead of scanning the
request table; `tawasul.insights.summary` writes them.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from tawasul.directory.models import Entity
from tawasul.insights.report_models import *  # noqa: F403 (the reports' models live there)
from tawasul.insights.text_models import *  # noqa: F403 (the text models' rows live there)


class SummaryFields(models.Model):
    """The measures of a summary row, for a day (`DailySummary`) or a month (`MonthlySummary`,
    `day` being the month's first day)."""

    day = models.DateField(_("day"))
    entity = models.ForeignKey(
        Entity, on_delete=models.CASCADE, related_name="+", verbose_name=_("entity")
    )
    submitted = models.PositiveIntegerField(_("submitted"), default=0)
    # {"kind": {"complaint": 3, …}, "channel": {…}, "category": {"<top-level id>": 2, …}}
    submitted_by = models.JSONField(_("submitted by kind, channel and category"), default=dict)
    answered = models.PositiveIntegerField(_("answered"), default=0)
    resolution_met = models.PositiveIntegerField(_("answered within target"), default=0)
    resolution_breached = models.PositiveIntegerField(_("answered late"), default=0)
    first_response_met = models.PositiveIntegerField(_("first response within target"), default=0)
    first_response_breached = models.PositiveIntegerField(_("first response late"), default=0)
    # answers to requests that had been forwarded or returned at least once
    answered_transferred = models.PositiveIntegerField(_("answered after a transfer"), default=0)
    # answers settled at the first contact: never transferred, no information asked of the
    # beneficiary, never reopened or objected to
    answered_first_contact = models.PositiveIntegerField(
        _("answered at the first contact"), default=0
    )
    # requests the entity forwarded to another entity that day (SLA escalations included)
    forwarded = models.PositiveIntegerField(_("forwarded"), default=0)
    # of the entity's forwards, those returned to it that day as misrouted
    misrouted = models.PositiveIntegerField(_("returned as misrouted"), default=0)
    # answers by the staff member who gave them: {"<user id>": n, …}
    answered_by = models.JSONField(_("answers by staff member"), default=dict)
    # answers by working days taken: {"1": n, "3": n, "5": n, "10": n, "more": n}
    answer_days = models.JSONField(_("answers by working days taken"), default=dict)
    summarised_at = models.DateTimeField(_("summarised at"))

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.day} · {self.entity_id}"


class MonthlySummary(SummaryFields):
    """The daily rows of a month added up: what a quarter's or a year's dashboard reads."""

    class Meta:
        verbose_name = _("monthly summary")
        verbose_name_plural = _("monthly summaries")
        constraints = [
            models.UniqueConstraint(fields=["day", "entity"], name="summary_month_entity"),
        ]


class DailySummary(SummaryFields):
    class Meta:
        verbose_name = _("daily summary")
        verbose_name_plural = _("daily summaries")
        constraints = [
            models.UniqueConstraint(fields=["day", "entity"], name="summary_day_entity"),
        ]
