"""The health endpoint: what a load balancer and an operator poll."""

from __future__ import annotations

from django.db import connection


def test_healthz_reports_database_and_queue(client, db):
    # Given an anonymous caller
    # When it asks for the health of the service
    response = client.get("/healthz")

    # Then both the database and the queue answer
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == {"ok": True, "vendor": connection.vendor}
    assert body["queue"]["ok"] is True
    assert body["queue"]["backend"] in ("SqliteHuey", "RedisHuey")
    assert isinstance(body["queue"]["pending"], int)


def test_healthz_needs_no_login_and_is_not_cached(client, db):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert "no-cache" in response["Cache-Control"]


def test_healthz_is_read_only(client, db):
    assert client.post("/healthz").status_code == 405
