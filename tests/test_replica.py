"""The read replica (docs/decisions/0010-read-replica.md): reads inside
`reads_from_replica()` go to the "replica" alias, everything else to default.

CI configures the replica as a test mirror of the default database
(`TAWASUL_REPLICA_DATABASE_URL` set to the same URL): Django then points the "replica"
alias at the test database through a second connection. A plain `django_db` test runs
inside a transaction on default that the replica's connection cannot see, so every test
that reads rows across the two connections is transactional and names both aliases.
"""

from __future__ import annotations

import datetime as dt
import re
import runpy
import threading
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connections, router, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tawasul.beneficiaries.models import Beneficiary
from tawasul.cases.models import Request
from tawasul.core.replica import ReplicaRouter, reads_from_replica
from tawasul.insights.periods import Grain, period_containing
from tawasul.insights.selectors import insights_headline
from tawasul.insights.summary import insights_summarise
from tests.conftest import Ministry, Staff
from tests.insights_data import answered_on, submitted_on

SETTINGS_FILE = Path(settings.BASE_DIR) / "config" / "settings.py"
BOTH = ["default", "replica"]

needs_replica = pytest.mark.skipif(
    "replica" not in settings.DATABASES,
    reason="no replica alias: set TAWASUL_REPLICA_DATABASE_URL (CI sets it to DATABASE_URL)",
)


def _settings_with(monkeypatch: pytest.MonkeyPatch, **environ: str) -> dict:
    """The settings module's names, evaluated afresh with these environment variables."""
    for name in ("DATABASE_URL", "TAWASUL_REPLICA_DATABASE_URL", "DB_CONN_MAX_AGE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(SETTINGS_FILE))


# --- configuration --------------------------------------------------------------------------


def test_without_the_variable_there_is_no_replica_and_no_router(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    names = _settings_with(monkeypatch, DATABASE_URL="postgres://db.example/tawasul")
    assert list(names["DATABASES"]) == ["default"]
    assert "DATABASE_ROUTERS" not in names


def test_the_variable_adds_a_replica_mirrored_in_tests_and_the_router(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    names = _settings_with(
        monkeypatch,
        DATABASE_URL="postgres://db.example/tawasul",
        TAWASUL_REPLICA_DATABASE_URL="postgres://replica.example/tawasul",
        DB_CONN_MAX_AGE="60",
    )
    replica = names["DATABASES"]["replica"]
    assert (replica["HOST"], replica["NAME"]) == ("replica.example", "tawasul")
    assert replica["CONN_MAX_AGE"] == names["DATABASES"]["default"]["CONN_MAX_AGE"] == 60
    assert replica["TEST"] == {"MIRROR": "default"}
    assert names["DATABASE_ROUTERS"] == ["tawasul.core.replica.ReplicaRouter"]


def test_a_sqlite_replica_keeps_the_file_settings_but_never_takes_the_write_lock(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'tawasul.sqlite3'}"
    names = _settings_with(monkeypatch, DATABASE_URL=url, TAWASUL_REPLICA_DATABASE_URL=url)
    default, replica = names["DATABASES"]["default"], names["DATABASES"]["replica"]
    assert replica["OPTIONS"]["init_command"] == default["OPTIONS"]["init_command"]
    assert replica["OPTIONS"]["timeout"] == default["OPTIONS"]["timeout"]
    assert (default["OPTIONS"]["transaction_mode"], replica["OPTIONS"]["transaction_mode"]) == (
        "IMMEDIATE",
        "DEFERRED",
    )


# --- the router's decisions -----------------------------------------------------------------


def test_without_a_replica_alias_reads_stay_on_default() -> None:
    absent = ReplicaRouter(alias="no_such_alias")
    with reads_from_replica():
        assert absent.db_for_read(Request) is None
    assert absent.db_for_write(Request) == "default"


@needs_replica
def test_reads_go_to_the_replica_only_inside_the_block() -> None:
    replicas = ReplicaRouter()
    assert replicas.db_for_read(Request) is None
    with reads_from_replica():
        assert replicas.db_for_read(Request) == "replica"
        with reads_from_replica():
            assert replicas.db_for_read(Request) == "replica"
        assert replicas.db_for_read(Request) == "replica"  # the inner block restored it
    assert replicas.db_for_read(Request) is None


@needs_replica
def test_the_decorator_form_lets_each_call_read_from_the_replica() -> None:
    @reads_from_replica()
    def where_reads_go() -> str | None:
        return ReplicaRouter().db_for_read(Request)

    assert [where_reads_go(), where_reads_go()] == ["replica", "replica"]
    assert ReplicaRouter().db_for_read(Request) is None


@needs_replica
def test_the_block_belongs_to_its_own_thread() -> None:
    seen: list[str | None] = []
    with reads_from_replica():
        other = threading.Thread(target=lambda: seen.append(ReplicaRouter().db_for_read(Request)))
        other.start()
        other.join()
    assert seen == [None]


@needs_replica
@pytest.mark.django_db(transaction=True, databases=BOTH)
def test_inside_a_transaction_reads_stay_on_default() -> None:
    with reads_from_replica():
        assert router.db_for_read(Request) == "replica"
        with transaction.atomic():
            # read your own writes: the replica has not seen this transaction
            assert router.db_for_read(Request) == "default"
            get_user_model().objects.create(username="uncommitted")
            replica_users = get_user_model().objects.using("replica")
            assert not replica_users.filter(username="uncommitted").exists()
            assert get_user_model().objects.filter(username="uncommitted").exists()


@needs_replica
def test_writes_always_go_to_default() -> None:
    with reads_from_replica():
        assert router.db_for_write(Request) == "default"
        assert ReplicaRouter().db_for_write(Request) == "default"


@needs_replica
def test_rows_of_either_alias_may_be_related() -> None:
    on_default, on_replica, elsewhere = (get_user_model()() for _ in range(3))
    on_default._state.db, on_replica._state.db, elsewhere._state.db = "default", "replica", "x"
    assert ReplicaRouter().allow_relation(on_default, on_replica) is True
    assert ReplicaRouter().allow_relation(on_default, elsewhere) is None


@needs_replica
def test_migrate_never_migrates_the_replica() -> None:
    assert router.allow_migrate_model("replica", Request) is False
    assert router.allow_migrate_model("default", Request) is True
    assert router.allow_migrate("replica", "cases") is False
    assert ReplicaRouter().allow_migrate("default", "cases") is None


# --- real queries through a second connection ------------------------------------------------


@needs_replica
@pytest.mark.django_db(transaction=True, databases=BOTH)
def test_a_read_in_the_block_runs_on_the_replica_connection() -> None:
    get_user_model().objects.create(username="written_on_default")
    with (
        CaptureQueriesContext(connections["default"]) as on_default,
        CaptureQueriesContext(connections["replica"]) as on_replica,
        reads_from_replica(),
    ):
        found = get_user_model().objects.filter(username="written_on_default").count()

    assert found == 1
    assert [q["sql"] for q in on_replica.captured_queries if "auth_user" in q["sql"]]
    assert on_default.captured_queries == []


@needs_replica
@pytest.mark.django_db(transaction=True, databases=BOTH)
def test_a_write_in_the_block_goes_to_default() -> None:
    with (
        CaptureQueriesContext(connections["default"]) as on_default,
        CaptureQueriesContext(connections["replica"]) as on_replica,
        reads_from_replica(),
    ):
        user = get_user_model().objects.create(username="written_in_the_block")
        user.first_name = "Sara"
        user.save(update_fields=["first_name"])

    assert user._state.db == "default"
    statements = [q["sql"].split()[0].upper() for q in on_default.captured_queries]
    assert "INSERT" in statements
    assert "UPDATE" in statements
    assert on_replica.captured_queries == []


RIYADH = ZoneInfo("Asia/Riyadh")
NOW = dt.datetime(2026, 11, 26, 10, 0, tzinfo=RIYADH)  # a Thursday
THIS_WEEK = period_containing(Grain.WEEK, NOW.date())  # 22–28 November


@needs_replica
@pytest.mark.django_db(transaction=True, databases=BOTH)
def test_the_headline_reads_the_same_figures_through_the_replica(
    ministry: Ministry, staff: Staff, sara: Beneficiary, khalid: Beneficiary
) -> None:
    """Given this week's and last week's requests, summarised, on default; when the
    headline is read in the block; then every query ran on the replica and the figures
    are those read on default."""
    this_week = [
        submitted_on(
            sara, ministry.riyadh, when=NOW - dt.timedelta(days=d), category=ministry.exams
        )
        for d in (0, 1, 2)
    ]
    submitted_on(khalid, ministry.makkah, when=NOW, category=ministry.exams, kind="inquiry")
    last_week = submitted_on(
        sara, ministry.riyadh, when=NOW - dt.timedelta(days=8), category=ministry.exams
    )
    answered_on(this_week[0], staff.riyadh_agent, when=NOW, met=True)
    answered_on(this_week[1], staff.riyadh_agent, when=NOW, met=False)
    answered_on(last_week, staff.riyadh_agent, when=NOW - dt.timedelta(days=8), met=True)
    insights_summarise(first=THIS_WEEK.previous().first, last=THIS_WEEK.last)

    on_default = insights_headline(user=None, period=THIS_WEEK)
    with (
        CaptureQueriesContext(connections["default"]) as default_queries,
        CaptureQueriesContext(connections["replica"]) as replica_queries,
        reads_from_replica(),
    ):
        on_replica = insights_headline(user=None, period=THIS_WEEK)

    assert on_replica == on_default
    assert (on_replica.submitted.current, on_replica.submitted.previous) == (4, 1)
    assert (on_replica.answered.current, on_replica.answered.previous) == (2, 1)
    assert on_replica.resolution_compliance.current == 50.0
    assert on_replica.backlog == 2
    assert len(replica_queries.captured_queries) >= 4
    assert default_queries.captured_queries == []


@needs_replica
@pytest.mark.django_db(transaction=True, databases=BOTH)
def test_the_dashboard_and_open_statistics_read_the_replica(
    client: Any, ministry: Ministry, staff: Staff, sara: Beneficiary
) -> None:
    """The console's dashboard and the open statistics run their figures — the raw JSON
    sums too — on the replica; signing in and the session stay on the primary."""
    for days in (0, 1):
        submitted_on(
            sara, ministry.riyadh, when=NOW - dt.timedelta(days=days), category=ministry.exams
        )
    insights_summarise(first=THIS_WEEK.previous().first, last=THIS_WEEK.last)
    client.force_login(staff.central_supervisor)

    for url, query in (
        (reverse("console:insights"), {"grain": "week", "on": NOW.date().isoformat()}),
        (reverse("portal:statistics_json"), {"grain": "month", "on": NOW.date().isoformat()}),
    ):
        with (
            CaptureQueriesContext(connections["default"]) as default_queries,
            CaptureQueriesContext(connections["replica"]) as replica_queries,
        ):
            response = client.get(url, query)
        assert response.status_code == 200
        on_replica = " ".join(q["sql"] for q in replica_queries.captured_queries)
        on_default = " ".join(q["sql"] for q in default_queries.captured_queries)
        assert "insights_dailysummary" in on_replica
        assert re.search(r"jsonb?_each", on_replica)  # the volume sums, raw SQL
        assert "insights_dailysummary" not in on_default
        assert "cases_request" not in on_default
