"""Benchmark: the console's queue page on a large table.

    createdb -h 127.0.0.1 -U postgres tawasul_c1bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/tawasul_c1bench \\
        .venv/bin/python -m bench.queue_page --requests 100000

Migrates, loads `bench.data`'s dataset of N requests unless it is there (it
refuses unless the database name contains "bench"), then, for a central supervisor and a regional
agent, times `client.get` of each queue page (median of 5 after a warm-up) and
prints its query count and the EXPLAIN of each queue's page query.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=100_000)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    if "bench" not in str(connection.settings_dict["NAME"]):
        print("Refusing: use a *bench* database.")
        return 2
    settings.ALLOWED_HOSTS = ["*"]
    call_command("migrate", verbosity=0)
    users = _load(args.requests)
    _measure(users)
    return 0


def _load(count: int) -> dict[str, object]:
    """`bench.data`'s dataset of `count` requests (loaded unless already there)."""
    from django.contrib.auth import get_user_model

    from bench.data import dataset_load, dataset_loaded

    loaded = dataset_loaded()
    if loaded is None or loaded[0] != count:
        print(dataset_load(requests=count, seed=2026).report())
    users = get_user_model().objects
    return {
        "central": users.get(username="central.supervisor"),
        "regional": users.get(username="riyadh.agent1"),
    }


def _measure(users: dict[str, object]) -> None:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from tawasul.cases.queues import Queue, queue_page, queue_requests

    for who, user in users.items():
        client = Client()
        client.force_login(user)  # type: ignore[arg-type]
        for queue in Queue:
            for sort in ("-created", "due"):
                url = reverse("console:queue", args=[queue.value]) + f"?sort={sort}"
                client.get(url)
                timings = []
                for _run in range(5):
                    with CaptureQueriesContext(connection) as captured:
                        started = time.perf_counter()
                        response = client.get(url)
                        timings.append((time.perf_counter() - started) * 1000)
                    assert response.status_code == 200
                print(
                    f"{who:8} {queue.value:10} sort={sort:8} queries={len(captured):2} "
                    f"median={statistics.median(timings):7.1f} ms"
                )
        for queue in Queue:
            qs = queue_requests(user=user, queue=queue)  # type: ignore[arg-type]
            page = queue_page(qs)
            del page
            ordered = qs.order_by("-created_at", "-id")[:51]
            plan = ordered.explain()
            index_lines = [
                line.strip() for line in plan.splitlines() if "Index" in line or "Seq Scan" in line
            ]
            print(f"EXPLAIN {who} {queue.value}: " + " | ".join(index_lines[:4]))


if __name__ == "__main__":
    raise SystemExit(main())
