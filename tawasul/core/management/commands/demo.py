"""`tawasul demo`: load the demo ministry into an empty database (docs/demo.md)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tawasul.demo.loader import DEMO_PASSWORD, DemoSummary, demo_is_loaded, demo_load


class Command(BaseCommand):
    help = (
        "Load the demo ministry: real entities, categories, staff for every role, "
        "beneficiaries and requests in every state. Only into an empty database."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing (and succeed) when the database already holds entities.",
        )
        parser.add_argument(
            "--requests",
            type=int,
            default=2000,
            help="How many demo requests to create (default 2000).",
        )
        parser.add_argument(
            "--seed", type=int, default=2026, help="Random seed (the same seed, the same demo)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if demo_is_loaded():
            if options["if_empty"]:
                self.stdout.write("The database already holds data: the demo was not loaded.")
                return
            raise CommandError(
                "The database already holds data; the demo loads only into an empty one. "
                "Use --if-empty to skip quietly, or start from a new database "
                "(make clean, or drop it) to load the demo again."
            )
        if options["requests"] < 0:
            raise CommandError("--requests must be zero or more.")
        self.stdout.write("Loading the demo ministry…")
        summary = demo_load(requests=options["requests"], seed=options["seed"])
        self._report(summary)

    def _report(self, summary: DemoSummary) -> None:
        write = self.stdout.write
        write(
            f"Demo loaded in {summary.seconds:.1f} s: {summary.entities} entities, "
            f"{summary.centres} care centres, {summary.categories} categories, "
            f"{summary.staff} staff accounts, {summary.beneficiaries} beneficiaries."
        )
        total = sum(summary.requests_by_status.values())
        write(f"{total} requests by status:")
        for status, count in summary.requests_by_status.items():
            write(f"  {status:<22} {count:>6}")
        write(
            f"Staff sign in at /admin/ with the password {DEMO_PASSWORD} "
            "(accounts: docs/demo.md; superuser: admin)."
        )
        self.stdout.write(self.style.SUCCESS("Done."))
