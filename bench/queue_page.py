"""Benchmark: the console's queue page on a large table.

    createdb -h 127.0.0.1 -U postgres tawasul_c1bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/tawasul_c1bench \\
        .venv/bin/python -m bench.queue_page --requests 100000

Migrates, loads N requests over ~50 entities (bulk_create; refuses unless the
database name contains "bench"), then, for a central supervisor and a regional
agent, times `client.get` of each queue page (median of 5 after a warm-up) and
prints its query count and the EXPLAIN of each queue's page query.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
from datetime import timedelta


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
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from tawasul.beneficiaries.models import Beneficiary
    from tawasul.cases.models import Category, Request, SlaStage, SlaState, Status
    from tawasul.core.ids import tracking_number_new
    from tawasul.directory.models import Entity, Role, StaffGrant

    user_model = get_user_model()
    if Request.objects.count() >= count:
        return {
            "central": user_model.objects.get(username="bench_central"),
            "regional": user_model.objects.get(username="bench_regional"),
        }
    root = Entity.objects.filter(depth=1).first() or Entity.objects.add_root(
        instance=Entity(code="bench-moe", name_ar="وزارة", name_en="Ministry", kind="ministry")
    )
    regions = list(Entity.objects.filter(depth=2))
    for index in range(len(regions), 50):
        regions.append(
            Entity.objects.add_child(
                root,
                instance=Entity(
                    code=f"bench-r{index}",
                    name_ar=f"إدارة {index}",
                    name_en=f"Region {index}",
                    kind="region",
                ),
            )
        )
    category = Category.objects.first() or Category.objects.add_root(
        instance=Category(code="bench", name_ar="عام", name_en="General")
    )
    beneficiary = Beneficiary.objects.first() or Beneficiary.objects.create(
        full_name="Bench", mobile="+966551234567", kind="parent"
    )
    central, _c = user_model.objects.get_or_create(username="bench_central")
    regional, _r = user_model.objects.get_or_create(username="bench_regional")
    StaffGrant.objects.get_or_create(user=central, entity=root, role=Role.SUPERVISOR)
    StaffGrant.objects.get_or_create(user=regional, entity=regions[3], role=Role.AGENT)
    now = timezone.now()
    rng = random.Random(7)
    statuses = [
        Status.NEW,
        Status.ASSIGNED,
        Status.IN_PROGRESS,
        Status.AWAITING_BENEFICIARY,
        Status.ANSWERED,
        Status.CLOSED,
        Status.CLOSED,
        Status.CLOSED,
    ]
    batch: list[Request] = []
    have = Request.objects.count()
    for index in range(have, count):
        status = rng.choice(statuses)
        due = now + timedelta(hours=rng.randint(-200, 400))
        batch.append(
            Request(
                tracking_number=tracking_number_new(),
                kind="complaint",
                category=category,
                channel="portal",
                priority=rng.choice(["low", "normal", "high", "urgent"]),
                status=status,
                beneficiary=beneficiary,
                entity=rng.choice(regions),
                assignee=regional if index % 40 == 0 else None,
                subject=f"Bench request {index}",
                description="x" * 40,
                resolution_due=due,
                sla_resolution_state=SlaState.BREACHED if due < now else SlaState.RUNNING,
                sla_stage=SlaStage.BREACHED if due < now else SlaStage.NONE,
            )
        )
        if len(batch) == 5000:
            Request.objects.bulk_create(batch)
            batch = []
    if batch:
        Request.objects.bulk_create(batch)
    # Spread submission times over two years (auto_now_add set them all to now).
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE cases_request SET created_at = now() - (id % 730) * interval '1 day'"
            " - (id % 86400) * interval '1 second'"
        )
        cursor.execute("ANALYZE cases_request")
    return {"central": central, "regional": regional}


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
