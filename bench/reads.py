"""Benchmark: the read paths at scale, server time measured in process.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/tawasul_bench \\
        .venv/bin/python -m bench.reads

Runs against the dataset of `bench.data` (it refuses a database without one).
Each case is a `django.test.Client` request (or, for the dashboards, the ORM query
a dashboard would run), repeated --repeat times after one warm-up: p50 and p99
of the server time, the query count (`CaptureQueriesContext`) and the target of
issue 9. Staff calls use a personal access token (API) or a logged-in session
(console), the beneficiary's a token from `beneficiary_tokens_issue`. Prints the
table, the peak RSS of the process, and appends a dated block to RESULTS.md;
`--explain` also prints the plan of every query slower than 50 ms.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import resource
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

STAFF_API = "/api/v1/staff/requests"
# The queues' text search (decision 0011), as typed, with how common each is in the
# generated 1,000,000 requests (subject, description and thread): a common word (14 %), two
# words found together in ~0.1 %, a common word typed with other spellings (أ for ا, ه for
# ة; 3 %, none in the Riyadh centre), a rare place name typed with a hamza the data writes
# without (حائل → حايل, 0.1 % of the ministry, none in the Riyadh centre), a word found
# nowhere, and a two-letter word (23 %; no trigram to look up, so no index).
SEARCHES = (
    ("تأخر", ""),
    ("تأخر الرياضيات", " (two words)"),
    ("المكافأه", " (variant spelling)"),
    ("حائل", " (rare, variant spelling)"),
    ("زلزال", " (nowhere)"),
    ("رد", " (two letters)"),
)


@dataclass
class Case:
    name: str
    target_p50_ms: float | None
    target_p99_ms: float | None
    call: Callable[[], Any]


@dataclass
class Figure:
    name: str
    p50: float
    p99: float
    queries: int
    target: str
    met: bool | None
    slowest_sql: str = ""
    slowest_sql_ms: float = 0.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--explain", action="store_true")
    parser.add_argument("--only", default="", help="run the cases whose name contains this")
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.conf import settings

    from bench.data import dataset_loaded

    loaded = dataset_loaded()
    if loaded is None:
        print("No generated dataset here: run `python -m bench.data` first.")
        return 2
    settings.ALLOWED_HOSTS = ["*"]
    cases = [case for case in cases_build() if args.only in case.name]
    figures = [measure(case, repeat=args.repeat, explain=args.explain) for case in cases]
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    table = _table(figures)
    print(table)
    print(f"peak RSS of this process: {peak_mib:,.0f} MiB")
    if not args.no_record:
        _record(table, requests=loaded[0], peak_mib=peak_mib, repeat=args.repeat)
    return 0


# --- the cases ------------------------------------------------------------------------------


def cases_build() -> list[Case]:
    """Every read path of issue 9 with typical filters, for a regional agent and the centre."""
    from django.contrib.auth import get_user_model
    from django.db.models import Count
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    from tawasul.api.credentials import beneficiary_tokens_issue, personal_token_create
    from tawasul.beneficiaries.models import Beneficiary
    from tawasul.cases.models import Category, Request

    users = get_user_model().objects
    regional, central = (
        users.get(username="riyadh.agent1"),
        users.get(username="central.supervisor"),
    )
    tokens = {
        user.pk: personal_token_create(user=user, name="bench", scopes=["requests:read"]).secret
        for user in (regional, central)
    }
    sessions = {user.pk: Client() for user in (regional, central)}
    for user in (regional, central):
        sessions[user.pk].force_login(user)
    category = (
        Category.objects.filter(depth=2)
        .annotate(n=Count("requests"))
        .order_by("-n")
        .values_list("pk", flat=True)
        .first()
    )
    today = timezone.localdate()
    last_month = {"from": (today - dt.timedelta(days=30)).isoformat(), "to": today.isoformat()}
    filters: list[tuple[str, Any, dict[str, Any]]] = [
        ("my centre's open", regional, {"queue": "subtree", "status": "open"}),
        ("overdue (centre)", regional, {"queue": "overdue"}),
        ("overdue (ministry)", central, {"queue": "overdue"}),
        ("one category, last month", central, {"category": category, **last_month}),
        *(
            (f"Arabic text q={word}{note} ({scope})", user, {"q": word})
            for word, note in SEARCHES
            for scope, user in (("centre", regional), ("ministry", central))
        ),
        ("all, newest (ministry)", central, {}),
    ]
    cases: list[Case] = []
    api_client = Client()
    for label, user, query in filters:
        search = "q" in query
        p50 = 150.0 if search else 50.0
        p99 = None if search else 250.0
        console_query = {k: v for k, v in query.items() if k != "queue"}
        queue = query.get("queue", "subtree")
        url = reverse("console:queue", args=[queue])
        session = sessions[user.pk]
        cases.append(Case(f"console {label}", p50, p99, _get(session, url, console_query)))
        auth = {"HTTP_AUTHORIZATION": f"Bearer {tokens[user.pk]}"}
        cases.append(Case(f"API {label}", p50, p99, _get(api_client, STAFF_API, query, **auth)))
    rng = random.Random(9)
    numbers = list(
        Request.objects.filter(pk__in=[rng.randrange(1, 100_000) for _ in range(60)]).values_list(
            "tracking_number", flat=True
        )
    )
    cases.append(
        Case(
            "API staff lookup q=<tracking number>",
            20.0,
            None,
            _rotating(api_client, STAFF_API, numbers, central, tokens),
        )
    )
    beneficiary = Beneficiary.objects.get(pk=Request.objects.get(pk=4321).beneficiary_id)
    own = list(beneficiary.requests.values_list("tracking_number", flat=True))
    access = beneficiary_tokens_issue(beneficiary=beneficiary).access
    mine = {"HTTP_AUTHORIZATION": f"Bearer {access}"}
    cases.append(
        Case(
            f"API tracking lookup /me/requests/{{tn}} ({len(own)} own)",
            20.0,
            None,
            _cycle(api_client, [f"/api/v1/me/requests/{tn}" for tn in own], **mine),
        )
    )
    cases.append(
        Case(
            'API "my requests" /me/requests',
            50.0,
            250.0,
            _get(api_client, "/api/v1/me/requests", {}, **mine),
        )
    )
    cases.append(Case("dashboard: entity × status × month", 1000.0, None, dashboard_counts))
    cases.append(Case("dashboard: SLA compliance by entity", 1000.0, None, dashboard_compliance))
    insights = reverse("console:insights")
    for grain in ("week", "month", "year", "hijri_month", "hijri_year"):
        cases.append(
            Case(
                f"console insights page, one {grain} (ministry)",
                1000.0,
                None,
                _get(sessions[central.pk], insights, {"grain": grain}),
            )
        )
    return cases


def _get(client: Any, url: str, query: dict[str, Any], **extra: Any) -> Callable[[], Any]:
    def call() -> Any:
        response = client.get(url, query, **extra)
        assert response.status_code == 200, (url, query, response.status_code)
        return response

    return call


def _cycle(client: Any, urls: list[str], **extra: Any) -> Callable[[], Any]:
    state = {"next": 0}

    def call() -> Any:
        url = urls[state["next"] % len(urls)]
        state["next"] += 1
        response = client.get(url, **extra)
        assert response.status_code == 200, (url, response.status_code)
        return response

    return call


def _rotating(
    client: Any, url: str, numbers: list[str], user: Any, tokens: dict[int, str]
) -> Callable[[], Any]:
    state = {"next": 0}
    auth = {"HTTP_AUTHORIZATION": f"Bearer {tokens[user.pk]}"}

    def call() -> Any:
        number = numbers[state["next"] % len(numbers)]
        state["next"] += 1
        response = client.get(url, {"q": number}, **auth)
        assert response.status_code == 200, (number, response.status_code)
        assert response.json()["count"] == 1, number
        return response

    return call


def dashboard_counts() -> list[dict[str, Any]]:
    """Requests by entity, status and month of submission (two years), as a dashboard asks."""
    from django.db.models import Count
    from django.db.models.functions import TruncMonth

    from tawasul.cases.models import Request

    return list(
        Request.objects.annotate(month=TruncMonth("created_at"))
        .values("entity_id", "status", "month")
        .annotate(n=Count("id"))
        .order_by("entity_id", "status", "month")
    )


def dashboard_compliance() -> list[dict[str, Any]]:
    """Share of answered requests answered within their resolution target, by entity."""
    from django.db.models import Count, Q

    from tawasul.cases.models import Request, SlaState

    return list(
        Request.objects.filter(answered_at__isnull=False)
        .values("entity_id")
        .annotate(
            met=Count("id", filter=Q(sla_resolution_state=SlaState.MET)),
            answered=Count("id"),
        )
        .order_by("entity_id")
    )


# --- measuring ------------------------------------------------------------------------------


def measure(case: Case, *, repeat: int, explain: bool) -> Figure:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    case.call()  # warm-up: caches, prepared plans, the first login
    timings: list[float] = []
    queries = 0
    slowest: tuple[float, str] = (0.0, "")
    for _run in range(repeat):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            case.call()
            timings.append((time.perf_counter() - started) * 1000)
        queries = len(captured)
        for query in captured.captured_queries:
            seconds = float(query["time"])
            if seconds * 1000 > slowest[0]:
                slowest = (seconds * 1000, query["sql"])
    timings.sort()
    p50 = statistics.median(timings)
    p99 = timings[min(len(timings) - 1, round(0.99 * (len(timings) - 1)))]
    met, target = _judge(case, p50, p99)
    figure = Figure(case.name, p50, p99, queries, target, met, slowest[1], slowest[0])
    print(f"{case.name:48} p50 {p50:8.1f} ms  p99 {p99:8.1f} ms  {queries:2} queries", flush=True)
    if explain and slowest[0] > 50:
        _explain(slowest[1], slowest[0])
    return figure


def _judge(case: Case, p50: float, p99: float) -> tuple[bool | None, str]:
    parts, met = [], True
    if case.target_p50_ms is not None:
        parts.append(f"p50 ≤ {case.target_p50_ms:.0f}")
        met = met and p50 <= case.target_p50_ms
    if case.target_p99_ms is not None:
        parts.append(f"p99 ≤ {case.target_p99_ms:.0f}")
        met = met and p99 <= case.target_p99_ms
    return (met if parts else None), ", ".join(parts)


def _explain(sql: str, ms: float) -> None:
    from django.db import connection

    if connection.vendor != "postgresql" or "%s" in sql:
        print(f"  slowest query {ms:.0f} ms: {sql[:300]}")
        return
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
        plan = "\n    ".join(row[0] for row in cursor.fetchall())
    print(f"  slowest query {ms:.0f} ms:\n    {sql[:400]}\n    {plan}")


# --- reporting ------------------------------------------------------------------------------


def _table(figures: list[Figure]) -> str:
    lines = [
        "| case | p50 ms | p99 ms | queries | target ms | met |",
        "|---|---:|---:|---:|---|---|",
    ]
    for f in figures:
        verdict = "—" if f.met is None else ("yes" if f.met else "**no**")
        lines.append(
            f"| {f.name} | {f.p50:,.1f} | {f.p99:,.1f} | {f.queries} | {f.target} | {verdict} |"
        )
    return "\n".join(lines)


def _record(table: str, *, requests: int, peak_mib: float, repeat: int) -> None:
    from django.utils import timezone

    from bench.results import results_add
    from bench.sla_sweep import _database, _machine

    block = (
        f"\n### {timezone.localdate().isoformat()} · {_machine()} · {_database()} · "
        f"{requests:,} requests · {repeat} runs each · peak RSS {peak_mib:,.0f} MiB\n\n"
        f"{table}\n"
    )
    intro = (
        "Server time in process (Django test `Client`), p50/p99 over the runs after one "
        "warm-up; queries per call.\n"
    )
    results_add(section="## Read paths (`bench/reads.py`)", text=block, intro=intro)


if __name__ == "__main__":
    sys.exit(main())
