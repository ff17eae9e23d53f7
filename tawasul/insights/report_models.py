"""Models of the periodic reports: a generated report and the staff subscribed to them.

A `Report` is one PDF (with its XLSX appendix) for one period and one scope — the whole
ministry (`entity` empty), for the minister, or one entity's subtree, for its
management. The weekly and monthly reports are made once per period and scope (two
partial unique constraints, since an empty entity never equals another); reports made
on demand may repeat. Its files live in the default storage under `reports/` and are
served only through the console, after the access check. `tawasul.insights.reports`
writes these rows.

Preparing a report is tracked by three timers: `queued_at` (when it was last put in the
queue), `started_at` (when a worker last claimed it) and `finished_at`; `attempts`
counts the claims. A recovery sweep reads them to requeue a report whose worker died
or whose queue message was lost, and to retry a failed weekly or monthly one.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tawasul.directory.models import Entity
from tawasul.insights.periods import GRAIN_LABELS, Grain, ReportPeriod

__all__ = [
    "REPORT_STALLED",
    "Report",
    "ReportKind",
    "ReportStatus",
    "ReportSubscription",
    "report_file_path",
]


class ReportKind(models.TextChoices):
    WEEKLY = "weekly", _("Weekly report")
    MONTHLY = "monthly", _("Monthly report")
    ON_DEMAND = "on_demand", _("Report on demand")


PERIODIC_KINDS = (ReportKind.WEEKLY, ReportKind.MONTHLY)


# Only reports made this recently are retried by themselves: a report of a long-past
# period, mailed days late, would mislead more than it helps (staff may still retry it).
REPORT_RETRY_WITHIN = dt.timedelta(days=2)


class ReportStatus(models.TextChoices):
    QUEUED = "queued", _("Waiting to be prepared")
    RUNNING = "running", _("Being prepared")
    DONE = "done", _("Ready")
    FAILED = "failed", _("Could not be prepared")


# The error recorded on a report whose workers kept stopping before they finished.
REPORT_STALLED = "stalled"


def report_file_path(instance: Report, filename: str) -> str:
    return f"reports/{instance.first:%Y/%m}/{filename}"


class Report(models.Model):
    kind = models.CharField(_("kind"), max_length=10, choices=ReportKind.choices)
    grain = models.CharField(
        _("period"), max_length=12, choices=[(g.value, label) for g, label in GRAIN_LABELS.items()]
    )
    first = models.DateField(_("first day"))
    last = models.DateField(_("last day"))
    entity = models.ForeignKey(
        Entity,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("entity"),
        help_text=_("Empty: the whole ministry."),
    )
    status = models.CharField(
        _("status"), max_length=8, choices=ReportStatus.choices, default=ReportStatus.QUEUED
    )
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    pdf = models.FileField(_("PDF"), upload_to=report_file_path, max_length=200, blank=True)
    xlsx = models.FileField(
        _("spreadsheet appendix"), upload_to=report_file_path, max_length=200, blank=True
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("requested by"),
    )
    error = models.TextField(_("error"), blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    queued_at = models.DateTimeField(_("queued at"), default=timezone.now)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("report")
        verbose_name_plural = _("reports")
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "first", "entity"],
                condition=Q(kind__in=PERIODIC_KINDS, entity__isnull=False),
                name="report_periodic_once_per_entity",
            ),
            models.UniqueConstraint(
                fields=["kind", "first"],
                condition=Q(kind__in=PERIODIC_KINDS, entity__isnull=True),
                name="report_periodic_once_for_ministry",
            ),
        ]
        indexes = [models.Index(fields=["-created_at", "-id"], name="report_archive")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.first} – {self.last}"

    @property
    def period(self) -> ReportPeriod:
        return ReportPeriod(Grain(self.grain), self.first, self.last)

    @property
    def in_progress(self) -> bool:
        return self.status in (ReportStatus.QUEUED, ReportStatus.RUNNING)

    @property
    def stalled(self) -> bool:
        """Failed because every worker that took it stopped before finishing."""
        return self.status == ReportStatus.FAILED and self.error == REPORT_STALLED

    @property
    def retries_by_itself(self) -> bool:
        """A failed weekly or monthly report the recovery sweep will try again."""
        return (
            self.status == ReportStatus.FAILED
            and self.kind in PERIODIC_KINDS
            and self.attempts < settings.TAWASUL_REPORT_MAX_ATTEMPTS
            and self.created_at >= timezone.now() - REPORT_RETRY_WITHIN
        )


class ReportSubscription(models.Model):
    """A staff member's wish to receive the weekly and/or monthly report of a scope by
    e-mail (a link to the console, never the figures). One per person."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="report_subscription",
        verbose_name=_("user"),
    )
    entity = models.ForeignKey(
        Entity,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("entity"),
        help_text=_("Empty: the whole ministry."),
    )
    weekly = models.BooleanField(_("weekly report"), default=False)
    monthly = models.BooleanField(_("monthly report"), default=False)
    active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("report subscription")
        verbose_name_plural = _("report subscriptions")

    def __str__(self) -> str:
        return f"{self.user_id} · {self.entity_id or '*'}"
