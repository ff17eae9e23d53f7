"""`tawasul insights_summarise`: rewrite the dashboards' daily summary."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from tawasul.insights.summary import insights_summarise, insights_summarise_all


class Command(BaseCommand):
    help = "Rewrite the daily summary behind the dashboards (default: the last 35 days)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--all", action="store_true", help="every day since the first request")
        parser.add_argument("--since", help="from this day (YYYY-MM-DD) to today")
        parser.add_argument("--days", type=int, default=35, help="the last N days (default 35)")

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        today = timezone.localdate()
        if options["all"]:
            written = insights_summarise_all()
        else:
            try:
                first = (
                    dt.date.fromisoformat(options["since"])
                    if options["since"]
                    else today - dt.timedelta(days=max(options["days"], 1) - 1)
                )
            except ValueError as error:
                raise CommandError("--since must be a date such as 2026-01-31") from error
            written = insights_summarise(first=first, last=today)
        seconds = time.perf_counter() - started
        self.stdout.write(f"{written:,} summary rows written in {seconds:.1f} s")
