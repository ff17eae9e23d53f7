"""`tawasul report_sample`: write a sample of the minister's monthly report (PDF and XLSX)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone, translation

from tawasul.insights.periods import Grain, period_containing
from tawasul.insights.report_models import Report, ReportKind
from tawasul.insights.reports import report_figures, report_pdf, report_xlsx
from tawasul.insights.summary import insights_summarise


class Command(BaseCommand):
    help = "Write a sample ministry-wide report (this month so far) to var/reports/ (no row)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--grain", default=Grain.MONTH.value, choices=[g.value for g in Grain])
        parser.add_argument("--on", help="a day of the period (default: today)")
        parser.add_argument("--out", default=str(Path(settings.VAR_DIR) / "reports"))

    def handle(self, *args: Any, **options: Any) -> None:
        today = timezone.localdate()
        grain = Grain(options["grain"])
        day = dt.date.fromisoformat(options["on"]) if options["on"] else today
        period = period_containing(grain, day)
        insights_summarise(first=period.previous().first, last=period.last)
        report = Report(
            kind=ReportKind.ON_DEMAND, grain=grain, first=period.first, last=period.last
        )
        with translation.override(settings.LANGUAGE_CODE):
            figures = report_figures(report=report, now=timezone.now())
            pdf, xlsx = report_pdf(figures), report_xlsx(figures)
        out = Path(options["out"])
        out.mkdir(parents=True, exist_ok=True)
        stem = f"sample-{grain.value}-{period.first.isoformat()}"
        (out / f"{stem}.pdf").write_bytes(pdf)
        (out / f"{stem}.xlsx").write_bytes(xlsx)
        self.stdout.write(f"{out / stem}.pdf and .xlsx ({period.label})")
