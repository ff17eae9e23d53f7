"""The machine's own limit: what PostgreSQL commits per second on this machine.

Two references, each with the same client count and time as the intake run:

* `pgbench -N` (simple-update: three statements and a commit per transaction) on a
  scratch database that `pgbench -i` fills first;
* single-row INSERT transactions through psycopg (autocommit) from C threads,
  which is the floor for anything written in Python on top of the same driver.
"""

from __future__ import annotations

import re
import subprocess
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

PGBENCH = "/usr/bin/pgbench"
PGBENCH_SCALE = 10
ROW_TEXT = "شكوى بخصوص تأخر إصدار شهادة التخرج من المدرسة الثانوية، مرجع " * 3


@dataclass(frozen=True)
class Server:
    host: str
    port: int
    user: str

    @classmethod
    def of(cls, database_url: str) -> Server:
        parts = urlsplit(database_url)
        return cls(parts.hostname or "127.0.0.1", parts.port or 5432, parts.username or "postgres")

    def args(self) -> list[str]:
        return ["-h", self.host, "-p", str(self.port), "-U", self.user]


def database_url_for(database_url: str, name: str) -> str:
    """The same server, another database."""
    parts = urlsplit(database_url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


def database_ensure(database_url: str, name: str) -> None:
    """Create database `name` on the server of `database_url` unless it exists."""
    with psycopg.connect(database_url, autocommit=True) as connection:
        found = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
        if found.fetchone() is None:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _run(command: list[str]) -> str:
    done = subprocess.run(command, check=True, capture_output=True, text=True)  # noqa: S603
    return done.stdout


def pgbench_tps(server: Server, database: str, *, clients: int, seconds: int, jobs: int) -> float:
    """`pgbench -N` TPS (without initial connection time) after a fresh `pgbench -i`."""
    _run([PGBENCH, *server.args(), "-i", "-q", "-s", str(PGBENCH_SCALE), database])
    load = ["-N", "-c", str(clients), "-j", str(jobs), "-T", str(seconds)]
    output = _run([PGBENCH, *server.args(), *load, database])
    found = re.search(r"tps = ([\d.]+) \(without initial connection time\)", output)
    if found is None:
        raise RuntimeError(f"pgbench printed no TPS:\n{output}")
    return float(found.group(1))


def psycopg_inserts_per_second(conninfo: str, *, clients: int, seconds: float) -> float:
    """Single-row INSERT transactions per second from `clients` threads, autocommit."""
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute(
            "CREATE TABLE IF NOT EXISTS intake_reference ("
            "id bigserial PRIMARY KEY, body text NOT NULL, "
            "created_at timestamptz NOT NULL DEFAULT now())"
        )
        connection.execute("TRUNCATE intake_reference")
    counts = [0] * clients
    barrier = threading.Barrier(clients + 1)
    deadline: list[float] = []

    def insert_loop(index: int) -> None:
        with psycopg.connect(conninfo, autocommit=True) as connection:
            barrier.wait()
            while time.perf_counter() < deadline[0]:
                connection.execute("INSERT INTO intake_reference (body) VALUES (%s)", (ROW_TEXT,))
                counts[index] += 1

    threads = [threading.Thread(target=insert_loop, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    deadline.append(time.perf_counter() + seconds)
    started = time.perf_counter()
    barrier.wait()
    for thread in threads:
        thread.join()
    return sum(counts) / (time.perf_counter() - started)
