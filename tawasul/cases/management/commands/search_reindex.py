"""`tawasul search_reindex`: recompute every request's search text (decision 0011).

Needed after the normaliser changes, or after rows were written around the services
(a bulk load, a restored dump). Writes only the requests whose text differs; on SQLite
it also rebuilds the FTS5 table and puts back any missing trigger.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from tawasul.cases.search import search_reindex


class Command(BaseCommand):
    help = "Recompute the normalised search text of every request (changed rows only)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--batch", type=int, default=2000, help="requests per transaction (default 2000)"
        )
        parser.add_argument("--database", default="default", help="database alias")

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        verbose = options["verbosity"] > 1

        def progress(seen: int, written: int) -> None:
            if verbose:
                self.stdout.write(f"  {seen:,} requests read, {written:,} rewritten")

        written = search_reindex(
            using=options["database"], batch=max(options["batch"], 1), progress=progress
        )
        seconds = time.perf_counter() - started
        self.stdout.write(f"{written:,} requests' search text rewritten in {seconds:.1f} s")
