"""Extended statistics for the dashboards' counts by entity × status × month.

Without them PostgreSQL multiplies the three columns' distinct counts, expects about
one group per request, and sorts the whole table on disk (2.4 s on a million
requests); with them it expects the ~10,000 real groups and hashes them in memory
(0.7 s, bench/RESULTS.md). The month is the expression Django writes for
`TruncMonth("created_at")` in the project's time zone, so the statistics are built
for the `TIME_ZONE` of the day of the migration; a later change of time zone only
loses the estimate, never a result. PostgreSQL only.
"""

from __future__ import annotations

from django.conf import settings
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

NAME = "req_dashboard_groups"


def statistics_create(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    zone = schema_editor.quote_value(settings.TIME_ZONE)
    schema_editor.execute(
        f"CREATE STATISTICS IF NOT EXISTS {NAME} (ndistinct) ON entity_id, status, "
        f"(DATE_TRUNC('month', created_at AT TIME ZONE {zone})) FROM cases_request"
    )
    schema_editor.execute("ANALYZE cases_request")  # the statistics exist once analysed


def statistics_drop(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP STATISTICS IF EXISTS {NAME}")


class Migration(migrations.Migration):
    dependencies = [("cases", "0007_open_created_index")]

    operations = [migrations.RunPython(statistics_create, statistics_drop)]
