"""Reads that may go to the read replica (docs/decisions/0010-read-replica.md).

Code that tolerates data a few seconds old (dashboards, reports, open statistics) runs
inside `reads_from_replica()`, as a `with` block or a decorator. `ReplicaRouter` then
sends its reads to the "replica" alias — only when that alias is configured
(`TAWASUL_REPLICA_DATABASE_URL`) and never inside a transaction on the default database,
so a request always reads its own writes. Every write goes to the default database.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections

REPLICA = "replica"

_replica_reads: ContextVar[bool] = ContextVar("tawasul_replica_reads", default=False)


@contextmanager
def reads_from_replica() -> Iterator[None]:
    """Let the reads of this block (or decorated function) go to the replica. Per thread
    and per task; a fresh context each time, so one decorated view serves many threads.
    A queryset runs where it is evaluated: evaluate it inside the block."""
    token = _replica_reads.set(True)
    try:
        yield
    finally:
        _replica_reads.reset(token)


class ReplicaRouter:
    """Reads inside `reads_from_replica()` to the replica; everything else to default."""

    def __init__(self, alias: str = REPLICA) -> None:
        self.alias = alias

    def db_for_read(self, model: type[Any], **hints: Any) -> str | None:
        if (
            _replica_reads.get()
            and self.alias in connections.settings
            and not connections[DEFAULT_DB_ALIAS].in_atomic_block  # read your own writes
        ):
            return self.alias
        return None

    def db_for_write(self, model: type[Any], **hints: Any) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool | None:
        aliases = {DEFAULT_DB_ALIAS, self.alias}
        if obj1._state.db in aliases and obj2._state.db in aliases:
            return True
        return None

    def allow_migrate(
        self, db: str, app_label: str, model_name: str | None = None, **hints: Any
    ) -> bool | None:
        """The replica's schema arrives by replication, never by `migrate`."""
        return False if db == self.alias else None
