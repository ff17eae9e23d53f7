"""Benchmark: request intake through the HTTP API against the machine's own limit.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/tawasul_bench \\
        .venv/bin/python -m bench.intake --seconds 30 --clients 8

Migrates the database (PostgreSQL, name containing "bench"; refuses otherwise),
loads the demo ministry's directory, taxonomy and staff if it has no entities,
and issues a partner key (`requests:create`, a huge rate limit). Then, for each
worker class asked for, starts `gunicorn config.wsgi` on 127.0.0.1 as in
production (`-w $(nproc)`, DEBUG=0, Redis for the rate-limit cache and the queue,
DB_CONN_MAX_AGE=60) and drives it from this process with C keep-alive clients
for a fixed time, each POSTing /api/v1/partner/requests with its own
Idempotency-Key and a marker in the subject. Afterwards it checks that every 201
exists exactly once, reads each web worker's peak RSS, starts a Huey consumer to
drain the outbox the submissions wrote and reads its peak RSS, and measures the
physical reference (pgbench -N and psycopg single-row INSERTs, same clients and
time). Prints a table and appends a dated row to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import platform
import signal
import socket
import subprocess
import sys
import time
import zlib
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.http_load import LoadResult, Target, load_run, server_answers
from bench.pg_reference import (
    Server,
    database_ensure,
    database_url_for,
    pgbench_tps,
    psycopg_inserts_per_second,
)

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SECTION = "## Intake (`bench/intake.py`)"
HEADER = (
    "| date | machine | database | server | clients | seconds | requests/s | p50 ms | p99 ms "
    "| errors | lost | duplicated | pgbench TPS | psycopg inserts/s | ratio (pgbench / psycopg) "
    "| web RSS MiB | worker RSS MiB |\n"
    "|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|\n"
)
PGBENCH_DATABASE = "tawasul_bench_pgbench"
HOST = "127.0.0.1"
DRAIN_TIMEOUT = 300.0


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    database_url = os.environ.get("DATABASE_URL", "")
    if (
        not database_url.startswith(("postgres://", "postgresql://"))
        or "bench" not in (database_url.rsplit("/", 1)[-1])
    ):
        print("Refusing: set DATABASE_URL to a PostgreSQL database whose name contains 'bench'.")
        return 2
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    signal.signal(signal.SIGTERM, _interrupted)
    fixture = _prepare()
    floors = _floors()
    env = _server_env(database_url)
    runs = [
        _intake_run(fixture, env, worker_class=kind, clients=args.clients, seconds=args.seconds)
        for kind in _worker_classes(args.worker_class)
    ]
    best = max(runs, key=lambda run: run.per_second)
    worker_rss = _huey_drain(env, run_ids=[run.run for run in runs])
    forgotten = _forget(*floors)
    print(f"removed the {forgotten:,} requests the runs wrote (the dataset is as it was)")
    reference = _reference(database_url, clients=args.clients, seconds=args.seconds)
    _report(runs, best, worker_rss, reference, clients=args.clients, seconds=args.seconds)
    return 0


def _floors() -> tuple[int, int]:
    """The highest request and beneficiary ids before the runs."""
    from django.db.models import Max

    from tawasul.beneficiaries.models import Beneficiary
    from tawasul.cases.models import Request

    return (
        Request.objects.aggregate(top=Max("pk"))["top"] or 0,
        Beneficiary.objects.aggregate(top=Max("pk"))["top"] or 0,
    )


def _forget(requests_above: int, beneficiaries_above: int) -> int:
    """Delete every row the runs wrote (requests and people above the floors, and what
    points at them), so the shared dataset stays as `bench.data` left it: otherwise each
    run piles thousands of new open requests on top of the queues the reads measure."""
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")  # no FK triggers
        for table, column in _pointing_at(cursor, "cases_event"):
            cursor.execute(
                f"DELETE FROM {table} WHERE {column} IN "  # noqa: S608 (catalogue names)
                "(SELECT id FROM cases_event WHERE request_id > %s)",
                [requests_above],
            )
        for table, column in _pointing_at(cursor, "cases_request"):
            if table != "cases_request":
                cursor.execute(f"DELETE FROM {table} WHERE {column} > %s", [requests_above])  # noqa: S608
        cursor.execute("DELETE FROM cases_request WHERE id > %s", [requests_above])
        forgotten = int(cursor.rowcount)
        for table, column in _pointing_at(cursor, "beneficiaries_beneficiary"):
            cursor.execute(f"DELETE FROM {table} WHERE {column} > %s", [beneficiaries_above])  # noqa: S608
        cursor.execute("DELETE FROM beneficiaries_beneficiary WHERE id > %s", [beneficiaries_above])
    return forgotten


def _pointing_at(cursor: Any, table: str) -> list[tuple[str, str]]:
    """(table, column) of every foreign key that references `table`."""
    cursor.execute(
        "SELECT c.conrelid::regclass::text, a.attname FROM pg_constraint c "
        "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey) "
        "WHERE c.confrelid = %s::regclass AND c.contype = 'f'",
        [table],
    )
    return [(str(name), str(column)) for name, column in cursor.fetchall()]


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument(
        "--worker-class",
        choices=("sync", "gthread", "both"),
        default="both",
        help="gunicorn worker class; with both, the better one goes in RESULTS.md",
    )
    return parser.parse_args(argv)


def _worker_classes(choice: str) -> list[str]:
    return ["sync", "gthread"] if choice == "both" else [choice]


def _interrupted(signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


# --- data ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fixture:
    api_key: str
    category_id: int
    kind: str


def directory_ensure() -> None:
    """Migrate, and load the demo ministry's directory, taxonomy and staff if it has none."""
    from django.core.management import call_command
    from django.db import transaction

    from tawasul.demo import loader
    from tawasul.directory.models import Entity

    call_command("migrate", verbosity=0)
    if not Entity.objects.exists():
        with transaction.atomic():
            entities = loader.ministry_load()
            loader.taxonomy_load()
            loader.staff_load(entities)
        print(f"loaded the demo ministry: {len(entities)} entities")


def _prepare() -> Fixture:
    from django.utils import timezone

    from tawasul.api.credentials import api_client_create
    from tawasul.directory.models import Entity

    directory_ensure()
    receiving = Entity.objects.filter(centre__isnull=False, depth__gt=1).order_by("pk").first()
    issued = api_client_create(
        name=f"bench-intake-{timezone.now():%Y%m%d-%H%M%S-%f}",
        scopes=["requests:create"],
        rate_limit_per_minute=2_000_000_000,
        entity=receiving,
    )
    category_id, kind = _category_and_kind()
    return Fixture(api_key=issued.secret, category_id=category_id, kind=kind)


def _category_and_kind() -> tuple[int, str]:
    from tawasul.cases.models import Category, Kind

    for category in Category.objects.filter(is_active=True, numchild=0).order_by("pk"):
        for kind in (Kind.COMPLAINT, *Kind.values):
            if category.allows(kind):
                return category.pk, str(kind)
    raise RuntimeError("no active category takes any kind of request")


def _body_of(fixture: Fixture, marker: str) -> dict[str, object]:
    digits = f"{zlib.crc32(marker.encode()) % 10_000_000:07d}"
    return {
        "person": {"full_name": "ولي أمر تجريبي", "mobile": f"055{digits}"},
        "kind": fixture.kind,
        "category_id": fixture.category_id,
        "subject": f"[{marker}] تأخر إصدار شهادة التخرج",
        "description": (
            "تقدمت بطلب إصدار شهادة التخرج لابني منذ ثلاثة أسابيع ولم يصلني أي رد حتى الآن، "
            "وأرجو التكرم بمتابعة الطلب وإفادتي بالموعد المتوقع للاستلام."
        ),
        "channel": "call_centre",
    }


# --- the server ---------------------------------------------------------------------------


def _server_env(database_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        DEBUG="0",
        ALLOWED_HOSTS=HOST,
        DB_CONN_MAX_AGE="60",
        LOG_LEVEL="WARNING",
    )
    env.setdefault("REDIS_URL", "redis://127.0.0.1:6379/9")
    env.setdefault("HUEY_NAME", "tawasul-bench-intake")
    env.setdefault("CACHE_PREFIX", "tawasul-bench-intake")
    return env


def _die_with_parent() -> None:
    """In the child: receive SIGTERM if this benchmark dies without cleaning up."""
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@contextmanager
def _process(
    command: list[str], env: dict[str, str], log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """Run `command` in its own process group; stop the whole group on the way out."""
    with log.open("wb") as output:
        process = subprocess.Popen(  # noqa: S603
            command,
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent,  # noqa: PLW1509
        )
        try:
            yield process
        finally:
            _stop(process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _log_path(name: str) -> Path:
    from django.conf import settings

    return Path(settings.VAR_DIR) / f"bench-intake-{name}.log"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def _gunicorn(port: int, worker_class: str) -> list[str]:
    command = [str(BIN / "gunicorn"), "config.wsgi", "-b", f"{HOST}:{port}"]
    command += ["-w", str(os.cpu_count() or 1), "-k", worker_class]
    if worker_class == "gthread":
        command += ["--threads", "4"]
    return command


def _wait_until_answering(process: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + 60
    while not server_answers(HOST, port):
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"gunicorn did not start; see {log}")
        time.sleep(0.2)


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


# --- one intake run -----------------------------------------------------------------------


@dataclass(frozen=True)
class IntakeRun:
    worker_class: str
    run: str
    load: LoadResult
    new_requests: int
    lost: int
    duplicated: int
    unacknowledged: int
    worker_rss: list[float]

    @property
    def per_second(self) -> float:
        return self.load.created / self.load.seconds if self.load.seconds else 0.0


def _intake_run(
    fixture: Fixture, env: dict[str, str], *, worker_class: str, clients: int, seconds: int
) -> IntakeRun:
    from tawasul.cases.models import Request

    port = _free_port()
    run = f"i{time.time_ns() // 1_000_000 % 10**10}{worker_class[0]}"
    log = _log_path(f"gunicorn-{worker_class}")
    before = Request.objects.count()
    with _process(_gunicorn(port, worker_class), env, log) as server:
        _wait_until_answering(server, port, log)
        target = Target(HOST, port, fixture.api_key, lambda marker: _body_of(fixture, marker))
        print(f"gunicorn {worker_class}: {clients} clients for {seconds} s on port {port} ...")
        load = load_run(target, clients=clients, seconds=seconds, run=run)
        worker_rss = [_peak_rss_mib(pid) for pid in _children(server.pid)]
    lost, duplicated, unacknowledged = _exactly_once(load, run)
    return IntakeRun(
        worker_class=worker_class,
        run=run,
        load=load,
        new_requests=Request.objects.count() - before,
        lost=lost,
        duplicated=duplicated,
        unacknowledged=unacknowledged,
        worker_rss=worker_rss,
    )


def _exactly_once(load: LoadResult, run: str) -> tuple[int, int, int]:
    """(lost, duplicated, unacknowledged) for the run's markers.

    Lost: a 201 whose tracking number is not in the database under its marker.
    Duplicated: a marker or an answered tracking number found more than once.
    Unacknowledged: a row whose call got no 201 (a transport error after commit).
    """
    from tawasul.cases.models import Request

    rows = Request.objects.filter(subject__startswith=f"[{run}-").values_list(
        "subject", "tracking_number"
    )
    by_marker: dict[str, list[str]] = {}
    for subject, tracking_number in rows:
        by_marker.setdefault(subject[1:].split("]", 1)[0], []).append(tracking_number)
    answered = Counter(load.accepted.values())
    lost = sum(1 for m, number in load.accepted.items() if by_marker.get(m) != [number])
    duplicated = sum(len(numbers) - 1 for numbers in by_marker.values())
    duplicated += sum(count - 1 for count in answered.values())
    unacknowledged = sum(1 for marker in by_marker if marker not in load.accepted)
    return lost, duplicated, unacknowledged


# --- the queue worker ---------------------------------------------------------------------


@dataclass(frozen=True)
class Drain:
    rss_mib: float
    sent: int
    left: int
    seconds: float


def _pending(run_ids: list[str]) -> tuple[int, int]:
    """(pending, all) outbox messages of the runs' requests."""
    from django.db.models import Q

    from tawasul.channels.models import OutboxMessage, OutboxStatus

    of_runs = Q()
    for run in run_ids:
        of_runs |= Q(request__subject__startswith=f"[{run}-")
    messages = OutboxMessage.objects.filter(of_runs)
    return messages.filter(status=OutboxStatus.PENDING).count(), messages.count()


def _huey_drain(env: dict[str, str], *, run_ids: list[str]) -> Drain:
    """Start `tawasul run_huey`, let it drain the runs' outbox, read its peak RSS."""
    log = _log_path("huey")
    started = time.monotonic()
    with _process([str(BIN / "tawasul"), "run_huey"], env, log) as consumer:
        pending, total = _pending(run_ids)
        print(f"huey: draining {pending:,} of {total:,} outbox messages ...")
        while pending and time.monotonic() - started < DRAIN_TIMEOUT:
            time.sleep(1)
            if consumer.poll() is not None:
                raise RuntimeError(f"run_huey stopped; see {log}")
            pending, total = _pending(run_ids)
        seconds = time.monotonic() - started
        rss = _peak_rss_mib(consumer.pid)
    return Drain(rss_mib=rss, sent=total - pending, left=pending, seconds=seconds)


# --- the physical reference ---------------------------------------------------------------


@dataclass(frozen=True)
class Reference:
    pgbench_tps: float
    inserts_per_second: float


def _reference(database_url: str, *, clients: int, seconds: int) -> Reference:
    server = Server.of(database_url)
    database_ensure(database_url, PGBENCH_DATABASE)
    jobs = max(1, min(clients, os.cpu_count() or 1))
    print(f"pgbench -N: {clients} clients, {jobs} threads, {seconds} s ...")
    tps = pgbench_tps(server, PGBENCH_DATABASE, clients=clients, seconds=seconds, jobs=jobs)
    print(f"psycopg single-row INSERTs: {clients} threads, {seconds} s ...")
    inserts = psycopg_inserts_per_second(
        database_url_for(database_url, PGBENCH_DATABASE), clients=clients, seconds=seconds
    )
    return Reference(pgbench_tps=tps, inserts_per_second=inserts)


# --- the report ---------------------------------------------------------------------------


def _report(
    runs: list[IntakeRun],
    best: IntakeRun,
    drain: Drain,
    reference: Reference,
    *,
    clients: int,
    seconds: int,
) -> None:
    print()
    print(
        "| server | requests | requests/s | p50 ms | p99 ms | errors | lost | duplicated "
        "| unacknowledged | new rows | web RSS MiB (each worker) |"
    )
    print("|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---|")
    for run in runs:
        print(
            f"| {_server_name(run)} | {run.load.created:,} | {run.per_second:,.1f} "
            f"| {run.load.percentile(0.5):.1f} | {run.load.percentile(0.99):.1f} "
            f"| {_errors(run.load)} | {run.lost} | {run.duplicated} | {run.unacknowledged} "
            f"| {run.new_requests:,} | {', '.join(f'{rss:.0f}' for rss in run.worker_rss)} |"
        )
    print()
    print(
        f"pgbench -N TPS: {reference.pgbench_tps:,.0f}; psycopg INSERT/s: "
        f"{reference.inserts_per_second:,.0f}; intake ({_server_name(best)}) = "
        f"{_ratios(best, reference)} of them (target: >= 50 % of pgbench)"
    )
    print(
        f"huey consumer: peak RSS {drain.rss_mib:.0f} MiB; drained {drain.sent:,} messages "
        f"in {drain.seconds:.0f} s ({drain.left:,} left)"
    )
    _record(best, drain, reference, clients=clients, seconds=seconds)


def _server_name(run: IntakeRun) -> str:
    threads = " --threads 4" if run.worker_class == "gthread" else ""
    return f"gunicorn -w {os.cpu_count()} -k {run.worker_class}{threads}"


def _errors(load: LoadResult) -> str:
    failed = {status: count for status, count in load.statuses.items() if status != "201"}
    return ", ".join(f"{status}: {count}" for status, count in sorted(failed.items())) or "0"


def _ratios(run: IntakeRun, reference: Reference) -> str:
    return (
        f"{run.per_second / reference.pgbench_tps:.0%} / "
        f"{run.per_second / reference.inserts_per_second:.0%}"
    )


def _record(
    run: IntakeRun, drain: Drain, reference: Reference, *, clients: int, seconds: int
) -> None:
    from django.utils import timezone

    row = (
        f"| {timezone.localdate().isoformat()} | {_machine()} | {_database()} "
        f"| {_server_name(run)} | {clients} | {seconds} | {run.per_second:,.1f} "
        f"| {run.load.percentile(0.5):.1f} | {run.load.percentile(0.99):.1f} "
        f"| {_errors(run.load)} | {run.lost} | {run.duplicated} "
        f"| {reference.pgbench_tps:,.0f} | {reference.inserts_per_second:,.0f} "
        f"| {_ratios(run, reference)} | {max(run.worker_rss, default=0):.0f} "
        f"| {drain.rss_mib:.0f} |\n"
    )
    from bench.results import results_add

    results_add(section=SECTION, text=row, intro=HEADER, row=True)


def _machine() -> str:
    kib = int(Path("/proc/meminfo").read_text().split("MemTotal:")[1].split()[0])
    return f"{os.cpu_count()} CPU, {kib / 1024 / 1024:.0f} GiB RAM, {platform.machine()}"


def _database() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return f"PostgreSQL {cursor.fetchone()[0].split()[0]}"


if __name__ == "__main__":
    sys.exit(main())
