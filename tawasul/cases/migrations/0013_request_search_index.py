"""Fill `Request.search_text` and index it for the queues' search (decision 0011).

Not atomic: the fill commits batch by batch (`search_reindex`, 2,000 requests a
transaction), and PostgreSQL builds its index CONCURRENTLY, so a large table stays
writable meanwhile. Run again after a failure, it recomputes and rewrites only what
differs.

- PostgreSQL: `pg_trgm` and `btree_gin` (both shipped with PostgreSQL and trusted;
  created if missing, never dropped on the way back: they may serve others) and one GIN
  index on `(entity_id, search_text gin_trgm_ops)`, which serves `search_text LIKE
  '%word%'` alone (ministry-wide) or within one entity: a centre's search intersects its
  entities with the word inside the index instead of ANDing two large bitmaps (at
  1,000,000 requests a common word in the Riyadh centre: 92 ms → 17 ms for the capped
  count, decision 0011). The trigram index on `UPPER(subject)` (0006) served the old
  subject-only search and nothing else now: it goes, one index less per write.
- SQLite: an FTS5 table with the trigram tokenizer, `cases_request_search`, keyed by
  the request's id and kept by triggers (`tawasul.cases.search`).
"""

from __future__ import annotations

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

from tawasul.cases.search import search_index_create, search_index_drop, search_reindex

SEARCH_INDEX = "req_search_trgm"
SUBJECT_INDEX = "req_subject_trgm"


def search_text_fill(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    search_reindex(using=schema_editor.connection.alias)


def search_index_forwards(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        search_index_create(connection)
        return
    with connection.cursor() as cursor:
        cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        cursor.execute("CREATE EXTENSION IF NOT EXISTS btree_gin")
        cursor.execute(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {SEARCH_INDEX} ON cases_request "
            "USING gin (entity_id, search_text gin_trgm_ops)"
        )
        cursor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {SUBJECT_INDEX}")


def search_index_backwards(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        search_index_drop(connection)
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {SUBJECT_INDEX} ON cases_request "
            "USING gin (UPPER(subject::text) gin_trgm_ops)"
        )
        cursor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {SEARCH_INDEX}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("cases", "0012_request_search_text")]

    operations = [
        migrations.RunPython(search_text_fill, migrations.RunPython.noop, atomic=False),
        migrations.RunPython(search_index_forwards, search_index_backwards, atomic=False),
    ]
