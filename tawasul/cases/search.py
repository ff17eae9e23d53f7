"""Finding requests by what they say, whatever Arabic spelling was typed (decision 0011).

Each request keeps a shadow column, `Request.search_text`: its subject, its description
and every message of its thread, internal notes included, each normalised
(`normalise_arabic`) and case-folded, separated by spaces. `request_submit` writes it
with the request and every message written through the services appends its own text
(`search_text_append`); `tawasul search_reindex` recomputes it when the normaliser
changes.

A query is normalised the same way and cut into words (runs of letters and digits); a
word of one character is ignored. Every remaining word must occur somewhere in the text
(AND of substrings), so "الطلاب" finds "والطلاب" and "معلم" finds "للمعلمين" without a
stemmer. PostgreSQL answers `LIKE '%word%'` through a GIN index on `(entity_id,
search_text gin_trgm_ops)` (`req_search_trgm`: trigrams, and a centre's entities
narrowed inside the index); SQLite matches words of three characters or more in an FTS5
trigram table kept by triggers (`cases_request_search`, keyed by the request's id) and
the shorter ones with LIKE.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.db import connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.functions import Collate

from tawasul.cases.models import Request
from tawasul.core.arabic import normalise_arabic

FTS_TABLE = "cases_request_search"
TRIGRAM = 3  # the shortest word an index of trigrams can look up
_WORD = re.compile(r"\w+")

# SQLite: a standalone FTS5 table (its own copy of the text, rowid = the request's id), so
# a row can always be deleted by id whatever the request row holds; triggers keep it.
_SQLITE_TABLE = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS cases_request_search "
    "USING fts5(search_text, tokenize='trigram')"
)
_SQLITE_TRIGGERS = (
    """CREATE TRIGGER IF NOT EXISTS cases_request_search_insert AFTER INSERT ON cases_request
    BEGIN
        INSERT INTO cases_request_search(rowid, search_text) VALUES (new.id, new.search_text);
    END""",
    """CREATE TRIGGER IF NOT EXISTS cases_request_search_update AFTER UPDATE OF search_text
    ON cases_request WHEN old.search_text IS NOT new.search_text BEGIN
        UPDATE cases_request_search SET search_text = new.search_text WHERE rowid = old.id;
    END""",
    """CREATE TRIGGER IF NOT EXISTS cases_request_search_delete AFTER DELETE ON cases_request
    BEGIN
        DELETE FROM cases_request_search WHERE rowid = old.id;
    END""",
)
_SQLITE_TRIGGER_NAMES = tuple(f"{FTS_TABLE}_{name}" for name in ("insert", "update", "delete"))


# --- the text ---------------------------------------------------------------------------


def search_text_of(*parts: str) -> str:
    """The searchable form of some texts: each normalised and case-folded, space-joined."""
    folded = (normalise_arabic(part).casefold() for part in parts)
    return " ".join(part for part in folded if part)


def search_text_append(request: Request, text: str) -> None:
    """Add a new message's text to the request's search text (the row is the caller's,
    locked): one UPDATE of one column."""
    added = search_text_of(text)
    if not added:
        return
    request.search_text = f"{request.search_text} {added}" if request.search_text else added
    request.save(update_fields=["search_text"])


def search_words(text: str) -> list[str]:
    """The words a query looks for: normalised, case-folded, two characters or more,
    each once, in the order typed."""
    words = _WORD.findall(normalise_arabic(text).casefold())
    return list(dict.fromkeys(word for word in words if len(word) >= 2))


# --- the query --------------------------------------------------------------------------


def search_filter(requests: QuerySet[Request], text: str) -> QuerySet[Request]:
    """The requests whose text holds every word of `text` (none to look for: all of them).

    Words of three characters or more go through the text index. Shorter ones have no
    trigram to look up: a LIKE on the rows the rest of the query chose, on PostgreSQL under
    `COLLATE "C"` (the same matching), which keeps it out of the trigram index's reach —
    as an index condition it made the index read itself whole, once per entity of the
    user's scope (decision 0011)."""
    words = search_words(text)
    indexed = [word for word in words if len(word) >= TRIGRAM]
    short = [word for word in words if len(word) < TRIGRAM]
    postgres = connections[requests.db].vendor == "postgresql"
    if indexed and not postgres:
        matching = RawSQL(  # noqa: S611 -- fixed SQL, the user's words are a bound parameter
            f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s",  # noqa: S608
            [fts_query(indexed)],
        )
        requests = requests.filter(pk__in=matching)
    elif indexed:
        for word in indexed:  # LIKE '%word%', Django escaping %, _ and \
            requests = requests.filter(search_text__contains=word)
    if short:
        column = "search_text_c" if postgres else "search_text"
        if postgres:
            requests = requests.alias(search_text_c=Collate("search_text", "C"))
        for word in short:
            requests = requests.filter(**{f"{column}__contains": word})
    return requests


def fts_query(words: Iterable[str]) -> str:
    """An FTS5 query that every word must match as a substring: each word a quoted
    string (a quote doubled), so no operator, prefix star or column filter gets in."""
    return " AND ".join('"' + word.replace('"', '""') + '"' for word in words)


# --- keeping it current ------------------------------------------------------------------


def search_reindex(
    *,
    using: str = "default",
    batch: int = 2000,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Recompute every request's search text from its subject, description and messages,
    in batches of `batch` requests, each in its own transaction; write only the rows
    whose text changed. Returns how many were written; `progress(seen, written)` is called
    after each batch. Raw SQL on the tables, so the migration that adds the column can
    use it as it is."""
    connection = connections[using]
    last, seen, written = 0, 0, 0
    while True:
        with transaction.atomic(using=using), connection.cursor() as cursor:
            cursor.execute(
                "SELECT id, subject, description, search_text FROM cases_request "
                "WHERE id > %s ORDER BY id LIMIT %s",
                [last, batch],
            )
            rows = cursor.fetchall()
            if not rows:
                break
            bodies = _bodies(cursor, rows[0][0], rows[-1][0])
            changed = [
                (pk, text)
                for pk, subject, description, current in rows
                if (text := search_text_of(subject, description, *bodies.get(pk, ()))) != current
            ]
            _texts_write(cursor, changed)
        last, seen, written = rows[-1][0], seen + len(rows), written + len(changed)
        if progress is not None:
            progress(seen, written)
    search_index_repair(connection, rebuild=True)
    return written


def _bodies(cursor: Any, first: int, last: int) -> dict[int, list[str]]:
    cursor.execute(
        "SELECT request_id, body FROM cases_message WHERE request_id BETWEEN %s AND %s "
        "ORDER BY request_id, created_at, id",
        [first, last],
    )
    bodies: dict[int, list[str]] = defaultdict(list)
    for pk, body in cursor.fetchall():
        bodies[pk].append(body)
    return bodies


def _texts_write(cursor: Any, changed: Sequence[tuple[int, str]], chunk: int = 400) -> None:
    for start in range(0, len(changed), chunk):
        part = changed[start : start + chunk]
        values = ", ".join(["(%s, %s)"] * len(part))
        cursor.execute(
            "UPDATE cases_request SET search_text = CAST(v.column2 AS text) "  # noqa: S608
            f"FROM (VALUES {values}) AS v WHERE cases_request.id = CAST(v.column1 AS bigint)",
            [value for row in part for value in row],
        )


def search_index_create(connection: BaseDatabaseWrapper) -> None:
    """SQLite: the FTS5 table, its triggers and its rows (the migration's forward step).
    Other databases: nothing (PostgreSQL's trigram index is the migration's own SQL)."""
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute(_SQLITE_TABLE)
    search_index_repair(connection, rebuild=True)


def search_index_repair(connection: BaseDatabaseWrapper, *, rebuild: bool = False) -> bool:
    """SQLite, where the FTS5 table exists: put back missing triggers and refill the table
    from the requests if any was missing (or if `rebuild`). Returns whether it refilled.

    Runs after every `migrate` (`CasesConfig.ready`): to alter a column Django rebuilds a
    SQLite table under a new name, which drops the old table's triggers."""
    if connection.vendor != "sqlite":
        return False
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE name IN (%s, %s, %s, %s)",
            [FTS_TABLE, *_SQLITE_TRIGGER_NAMES],
        )
        present = {name for (name,) in cursor.fetchall()}
        if FTS_TABLE not in present:  # before the migration that makes it, or after its reverse
            return False
        if not rebuild and present.issuperset(_SQLITE_TRIGGER_NAMES):
            return False
        for statement in _SQLITE_TRIGGERS:
            cursor.execute(statement)
        cursor.execute(f"DELETE FROM {FTS_TABLE}")  # noqa: S608
        cursor.execute(
            f"INSERT INTO {FTS_TABLE}(rowid, search_text) "  # noqa: S608
            "SELECT id, search_text FROM cases_request"
        )
    return True


def search_index_drop(connection: BaseDatabaseWrapper) -> None:
    """SQLite: remove the FTS5 table and its triggers (the migration's reverse)."""
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        for name in _SQLITE_TRIGGER_NAMES:
            cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
        cursor.execute(f"DROP TABLE IF EXISTS {FTS_TABLE}")
