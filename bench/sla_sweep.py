"""Benchmark: one SLA sweep over many open requests, a small share of them due.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/tawasul_bench \\
        .venv/bin/python -m bench.sla_sweep --requests 1000000

Migrates the database, empties its requests (it refuses to unless the database
name contains "bench", or with --force), loads N open requests (PostgreSQL:
COPY; SQLite: bulk_create in batches) of which --due-percent have their next
SLA step due now, prints the `EXPLAIN ANALYZE` plan of the sweep's selection
query (one batch of 500, as the periodic job asks), sweeps every due request in
such batches, and appends a dated row to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import sqlite3
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

BATCH = 500  # what the periodic job asks of each `sla_sweep` call
HEADER = (
    "| date | machine | database | requests | due | steps | selection ms (LIMIT 500) "
    "| sweep s | steps/s |\n"
    "|---|---|---|---:|---:|---:|---:|---:|---:|\n"
)


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    name = str(connection.settings_dict["NAME"])
    if "bench" not in name and not args.force:
        print(f"Refusing to empty the requests of {name!r}: use a *bench* database or --force.")
        return 2
    from bench.data import database_ensure

    database_ensure()
    call_command("migrate", verbosity=0)
    now = _now()
    due = round(args.requests * args.due_percent / 100)
    started = time.perf_counter()
    _load(args.requests, due, now=now, seed=args.seed)
    print(
        f"loaded {args.requests:,} requests ({due:,} due) in {time.perf_counter() - started:.1f} s"
    )
    plan, selection_ms = _plan(now=now, limit=BATCH)
    print(plan)
    counts, seconds = _sweep(now=now)
    print(
        f"sweep: {counts.steps:,} steps ({counts.warned:,} warned) "
        f"in {seconds:.2f} s = {counts.steps / seconds:,.0f} steps/s"
    )
    _record(args.requests, due, counts.steps, selection_ms, seconds)
    return 0


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1_000_000)
    parser.add_argument("--due-percent", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--force", action="store_true", help="empty a non-bench database")
    return parser.parse_args(argv)


def _now() -> dt.datetime:
    from django.utils import timezone

    return timezone.now().replace(microsecond=0)


# --- data ---------------------------------------------------------------------------------


def _fixtures() -> dict[str, Any]:
    """One region with a centre and a supervisor (with an e-mail), a category, a beneficiary."""
    from django.contrib.auth import get_user_model

    from tawasul.beneficiaries.models import Beneficiary
    from tawasul.cases.models import Category
    from tawasul.directory.models import CareCentre, Entity, EntityKind, Role, StaffGrant

    root = Entity.objects.filter(depth=1).first() or Entity.objects.add_root(
        instance=Entity(code="bench-moe", name_ar="الوزارة", name_en="Ministry", kind="ministry")
    )
    region = Entity.objects.filter(code="bench-region").first() or Entity.objects.add_child(
        root,
        instance=Entity(
            code="bench-region", name_ar="منطقة", name_en="Region", kind=EntityKind.REGION
        ),
    )
    CareCentre.objects.get_or_create(
        entity=region, defaults={"name_ar": "مركز", "name_en": "Centre"}
    )
    category = Category.objects.filter(code="bench-category").first() or Category.objects.add_root(
        instance=Category(code="bench-category", name_ar="تصنيف", name_en="Category")
    )
    user, _created = get_user_model().objects.get_or_create(
        username="bench-supervisor", defaults={"email": "bench-supervisor@moe.example"}
    )
    StaffGrant.objects.get_or_create(user=user, entity=region, role=Role.SUPERVISOR)
    beneficiary = Beneficiary.objects.first()
    if beneficiary is None:
        from tawasul.beneficiaries.services import beneficiary_register

        beneficiary = beneficiary_register(
            full_name="مستفيد تجريبي", national_id="1000000008", mobile="0551234567", consent=True
        )
    return {"entity_id": region.pk, "category_id": category.pk, "beneficiary_id": beneficiary.pk}


def _rows(count: int, due: int, *, now: dt.datetime, seed: int) -> Iterator[dict[str, Any]]:
    """Open requests: `due` of them with a step due now, the rest later (random order)."""
    from bench.data import tracking_numbers
    from tawasul.cases.models import SlaStage, SlaState

    rng = random.Random(seed)
    numbers = tracking_numbers(rng)
    due_positions = set(rng.sample(range(count), due))
    minute, day = dt.timedelta(minutes=1), dt.timedelta(days=1)
    for index in range(count):
        created = now - rng.randint(0, 10 * 24 * 60) * minute
        next_at = (
            now - rng.randint(1, 600) * minute
            if index in due_positions
            else now + rng.randint(1, 30 * 24 * 60) * minute
        )
        yield {
            "tracking_number": next(numbers),
            "created_at": created,
            "updated_at": created,
            "first_response_due": created + day,
            "resolution_due": next_at + 2 * day,
            "sla_next_at": next_at,
            "sla_stage": SlaStage.NONE,
            "sla_first_response_state": SlaState.RUNNING,
            "sla_resolution_state": SlaState.RUNNING,
            "sla_resolution_minutes": 2100,
        }


def _load(count: int, due: int, *, now: dt.datetime, seed: int) -> None:
    """Replace the requests with `count` open ones (`bench.data`'s writer: COPY, indexes
    rebuilt after, on PostgreSQL)."""
    from django.db import connection, transaction

    from bench.data import Writer, dataset_forget
    from tawasul.cases.models import Request

    dataset_forget()  # this database no longer holds `bench.data`'s dataset
    writer = Writer()
    with transaction.atomic():
        _empty()
        fixed = {**_fixtures(), "kind": "complaint", "channel": "portal", "status": "new"}
        fields = [f for f in Request._meta.concrete_fields if not f.primary_key]
        template = {f.attname: f.get_default() for f in fields}
        template.update(subject="طلب", description="وصف الطلب", **fixed)
        rows = ({**template, **row} for row in _rows(count, due, now=now, seed=seed))
        if connection.vendor == "postgresql":
            writer.foreign_keys_off()
            writer.indexes_drop(["cases_request"])
            names = [f.attname for f in fields]
            writer.write(
                "cases_request",
                [f.column for f in fields],
                ([_copy_value(row[name]) for name in names] for row in rows),
            )
            writer.indexes_create()
        else:
            _bulk(rows)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def _empty() -> None:
    from django.db import connection

    from tawasul.cases.models import Event, Request
    from tawasul.channels.models import OutboxMessage

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE cases_request CASCADE")
        return
    OutboxMessage.objects.all().delete()
    Event.objects.all()._raw_delete(Event.objects.db)  # append-only model: bench reset only
    Request.objects.all().delete()


def _copy_value(value: Any) -> Any:
    if isinstance(value, list | dict):
        import json

        return json.dumps(value)
    return value


def _bulk(rows: Iterator[dict[str, Any]], batch: int = 5000) -> None:
    from tawasul.cases.models import Request

    chunk: list[Request] = []
    for row in rows:
        chunk.append(Request(**row))
        if len(chunk) == batch:
            Request.objects.bulk_create(chunk)
            chunk = []
    if chunk:
        Request.objects.bulk_create(chunk)


# --- measure -------------------------------------------------------------------------------


def _plan(*, now: dt.datetime, limit: int) -> tuple[str, float]:
    """The plan of the sweep's selection query, and its time in milliseconds."""
    from django.db import connection

    from tawasul.sla.sweep import sla_due_requests

    query = sla_due_requests(now=now).values_list("pk", flat=True)[:limit]
    started = time.perf_counter()
    rows = len(list(query))
    elapsed = (time.perf_counter() - started) * 1000
    options = {"analyze": True, "buffers": True} if connection.vendor == "postgresql" else {}
    plan = query.explain(**options)
    return f"selection query ({rows:,} rows, {elapsed:.1f} ms):\n{query.query}\n\n{plan}", elapsed


def _sweep(*, now: dt.datetime) -> tuple[Any, float]:
    """Sweep every due request in batches of BATCH, as the periodic job does."""
    from tawasul.sla.sweep import SweepCounts, sla_sweep

    total = SweepCounts()
    started = time.perf_counter()
    while True:
        counts = sla_sweep(now=now, limit=BATCH)
        total.warned += counts.warned
        total.breached += counts.breached
        total.escalated += counts.escalated
        if counts.steps < BATCH:
            return total, time.perf_counter() - started


def _record(requests: int, due: int, steps: int, selection_ms: float, seconds: float) -> None:
    from django.utils import timezone

    from bench.results import results_add

    row = (
        f"| {timezone.localdate().isoformat()} | {_machine()} | {_database()} | {requests:,} | "
        f"{due:,} | {steps:,} | {selection_ms:.1f} | {seconds:.2f} | {steps / seconds:,.0f} |"
    )
    results_add(section="## SLA sweep (`bench/sla_sweep.py`)", text=row, intro=HEADER, row=True)


def _machine() -> str:
    memory = "?"
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        kib = int(meminfo.read_text().split("MemTotal:")[1].split()[0])
        memory = f"{kib / 1024 / 1024:.0f} GiB"
    return f"{os.cpu_count()} CPU, {memory} RAM, {platform.machine()}"


def _database() -> str:
    from django.db import connection

    if connection.vendor != "postgresql":
        return f"SQLite {sqlite3.sqlite_version}"
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return f"PostgreSQL {cursor.fetchone()[0].split()[0]}"


if __name__ == "__main__":
    sys.exit(main())
