"""Operational endpoints."""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from huey.contrib.djhuey import HUEY


def _database_state() -> dict[str, object]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:
        return {"ok": False, "error": type(error).__name__}
    return {"ok": True, "vendor": connection.vendor}


def _queue_state() -> dict[str, object]:
    try:
        pending = HUEY.pending_count()
    except Exception as error:
        return {"ok": False, "error": type(error).__name__}
    return {"ok": True, "backend": type(HUEY).__name__, "pending": pending}


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """The state of the database and the queue: 200 when both answer, 503 otherwise."""
    database, queue = _database_state(), _queue_state()
    healthy = bool(database["ok"] and queue["ok"])
    return JsonResponse(
        {"status": "ok" if healthy else "degraded", "database": database, "queue": queue},
        status=200 if healthy else 503,
    )
