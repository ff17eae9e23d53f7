"""A trigram index for the queues' free-text search (`q=`, `subject__icontains`).

Django writes `icontains` on PostgreSQL as `UPPER(subject) LIKE UPPER('%…%')`, so the
index is on that expression, with `gin_trgm_ops` (pg_trgm). Arabic text search over a
million requests was a parallel sequential scan (1.1-1.9 s, bench/RESULTS.md); the
expression index also gives the planner statistics on `UPPER(subject)`, so a common
word is found by walking the newest rows and a rare one through the index. PostgreSQL
only (the extension needs a role allowed to create it); SQLite keeps scanning.
"""

from __future__ import annotations

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

INDEX = "req_subject_trgm"


def trigram_index_create(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON cases_request "
        "USING gin (UPPER(subject::text) gin_trgm_ops)"
    )


def trigram_index_drop(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("cases", "0005_low_rating_event")]

    operations = [migrations.RunPython(trigram_index_create, trigram_index_drop)]
