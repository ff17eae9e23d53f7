"""Scale data: the demo ministry with N requests over two years, their events and messages.

    createdb -h 127.0.0.1 -U postgres tawasul_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/tawasul_bench \\
        .venv/bin/python -m bench.data --requests 1000000

Migrates; loads the demo ministry's directory, calendar, taxonomy and staff
(`tawasul.demo.loader`) unless present; then replaces every request, event,
message and beneficiary with generated ones: ~1 beneficiary per 4 requests
(valid national IDs and mobiles), requests spread over the demo entities as the
demo weighs them (the big regions first), kinds, channels and priorities with
the demo's shares, two years of submission dates, Arabic subjects and
descriptions filled from `tawasul.demo.texts`, statuses by age (old requests
closed, a recent open backlog, some of it overdue), SLA columns consistent with
the status (the central centre's business calendar, default targets), valid
unique tracking numbers, events for the submission and every status change,
replies for answered requests, and each request's search text (its subject,
description and messages normalised, as the services write it).

PostgreSQL: COPY with the secondary indexes dropped and rebuilt after, foreign
key triggers off during the load (`session_replication_role = replica`), then
VACUUM (ANALYZE), as autovacuum would have left tables of that age. SQLite:
INSERT in batches (use a smaller N). Refuses a database whose name lacks "bench"
unless --force. `--if-loaded` skips everything when the database already holds
exactly N generated requests with the same seed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import json
import math
import os
import random
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

MARKER_TABLE = "bench_dataset"
BENEFICIARIES_PER_REQUEST = 0.25
TEXT_POOL = 20_000
CHUNK = 50_000
DAYS = 730
MINUTE = dt.timedelta(minutes=1)
FORWARD_SHARE = 0.06  # requests that reached their entity by a forward
MISROUTED_SHARE = 0.015  # requests forwarded away and returned as misrouted
# Tables the generator replaces (children first) and those it loads, in load order.
REPLACED = ("cases_message", "cases_event", "cases_request", "beneficiaries_beneficiary")
_STATUS_PATHS: dict[str, tuple[tuple[str, str, str], ...]] = {
    # (event kind, from status, to status) after "submitted"
    "new": (),
    "assigned": (("assigned", "new", "assigned"),),
    "in_progress": (("assigned", "new", "assigned"), ("started", "assigned", "in_progress")),
    "awaiting_beneficiary": (
        ("assigned", "new", "assigned"),
        ("started", "assigned", "in_progress"),
        ("info_requested", "in_progress", "awaiting_beneficiary"),
    ),
    "answered": (
        ("claimed", "new", "assigned"),
        ("started", "assigned", "in_progress"),
        ("answered", "in_progress", "answered"),
    ),
    "objected": (
        ("assigned", "new", "assigned"),
        ("started", "assigned", "in_progress"),
        ("answered", "in_progress", "answered"),
        ("objected", "answered", "objected"),
    ),
    "closed": (
        ("assigned", "new", "assigned"),
        ("started", "assigned", "in_progress"),
        ("answered", "in_progress", "answered"),
        ("accepted", "answered", "closed"),
    ),
    "cancelled": (("cancelled", "new", "cancelled"),),
}
# Shares of the open statuses in the backlog, and of the two ends of a finished request.
_OPEN_SHARES = (
    ("new", 16),
    ("assigned", 14),
    ("in_progress", 26),
    ("awaiting_beneficiary", 12),
    ("answered", 22),
    ("objected", 10),
)
_DONE_SHARES = (("closed", 92), ("cancelled", 8))


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    _django_setup()
    from django.core.management import call_command
    from django.db import connection

    database_ensure()

    name = str(connection.settings_dict["NAME"])
    if "bench" not in name and not args.force:
        print(f"Refusing to replace the requests of {name!r}: use a *bench* database or --force.")
        return 2
    call_command("migrate", verbosity=0)
    if args.if_loaded and dataset_loaded() == (args.requests, args.seed):
        print(f"{name}: {args.requests:,} requests already loaded (seed {args.seed}).")
        _summary_ensure()
        return 0
    summary = dataset_load(requests=args.requests, seed=args.seed)
    print(summary.report())
    return 0


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--requests", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--force", action="store_true", help="replace data of a non-bench db")
    parser.add_argument(
        "--if-loaded", action="store_true", help="do nothing if N requests are already loaded"
    )
    return parser.parse_args(argv)


def _django_setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def database_ensure() -> None:
    """PostgreSQL: create the configured database if it does not exist yet."""
    from django.db import connection

    settings = connection.settings_dict
    if connection.vendor != "postgresql":
        return
    import psycopg
    from psycopg import sql

    params = {
        "dbname": "postgres",
        "host": settings["HOST"] or None,
        "port": settings["PORT"] or None,
        "user": settings["USER"] or None,
        "password": settings["PASSWORD"] or None,
    }
    with psycopg.connect(**{k: v for k, v in params.items() if v}, autocommit=True) as admin:
        found = admin.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [settings["NAME"]]
        ).fetchone()
        if found is None:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(settings["NAME"])))
            print(f"created database {settings['NAME']}")


# --- the dataset marker ------------------------------------------------------------------


def dataset_loaded() -> tuple[int, int] | None:
    """(requests, seed) of the generated dataset in this database, if any (and intact)."""
    from django.db import connection

    from tawasul.cases.models import Request

    if MARKER_TABLE not in connection.introspection.table_names():
        return None
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT requests, seed FROM {MARKER_TABLE}")  # noqa: S608
        row = cursor.fetchone()
    if row is None or Request.objects.filter(pk__lte=row[0]).count() != row[0]:
        return None
    return int(row[0]), int(row[1])


def dataset_forget() -> None:
    """Mark the database as holding no generated dataset (before replacing its requests)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {MARKER_TABLE}")


def _dataset_remember(requests: int, seed: int) -> None:
    from django.db import connection

    dataset_forget()
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {MARKER_TABLE} (requests integer, seed integer)")
        cursor.execute(f"INSERT INTO {MARKER_TABLE} VALUES (%s, %s)", [requests, seed])  # noqa: S608


# --- the directory --------------------------------------------------------------------------


@dataclass
class Directory:
    """What the generator needs of the demo ministry (loaded once, reused after)."""

    entities: dict[str, Any]
    topics: list[Any]
    staff: dict[str, list[int]]  # entity code -> user ids of its agents
    staff_entity: dict[int, str] = field(default_factory=dict)  # entity id -> nearest team


def directory_load() -> Directory:
    """The demo ministry's entities, calendar, taxonomy and staff, loaded if missing."""
    from django.db import transaction

    from tawasul.cases.models import Category
    from tawasul.demo import loader
    from tawasul.demo.walk import Topic
    from tawasul.directory.models import Entity, StaffGrant

    if not Entity.objects.filter(code="moe").exists():
        with transaction.atomic():
            entities = loader.ministry_load()
            topics = loader.taxonomy_load()
            loader.staff_load(entities)
    else:
        entities = {entity.code: entity for entity in Entity.objects.all()}
        topics = []
        from tawasul.demo import taxonomy

        leaves = {c.code: c for c in Category.objects.filter(depth=2)}
        for code, _ar, _en, kinds, scope, children in sorted(taxonomy.CATEGORIES):
            for child_code, _child_ar, _child_en in sorted(children):
                topics.append(
                    Topic(category=leaves[child_code], top_code=code, scope=scope, kinds=kinds)
                )
    staff: dict[str, list[int]] = {code: [] for code in loader.TEAM_ENTITIES}
    for grant in StaffGrant.objects.select_related("entity").filter(role="agent"):
        if grant.entity.code in staff:
            staff[grant.entity.code].append(grant.user_id)
    return Directory(entities=entities, topics=topics, staff=staff)


def _team_of(directory: Directory, entity: Any) -> str:
    """The demo team that works an entity's requests: its own, else the nearest above."""
    if entity.pk not in directory.staff_entity:
        by_path = {e.path: e.code for e in directory.entities.values() if e.code in directory.staff}
        step = len(entity.path) // entity.depth
        chosen = "moe"
        for end in range(len(entity.path), 0, -step):
            if entity.path[:end] in by_path:
                chosen = by_path[entity.path[:end]]
                break
        directory.staff_entity[entity.pk] = chosen
    return directory.staff_entity[entity.pk]


# --- texts ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Draft:
    """What a request is about: kind, leaf category, owning entity and its Arabic text."""

    kind: str
    category_id: int
    entity_id: int
    team: str
    subject: str
    description: str


def drafts_make(directory: Directory, rng: random.Random, count: int) -> list[Draft]:
    """`count` varied drafts, written as the demo writes its requests (`demo.walk`)."""
    from tawasul.demo.walk import _KIND_SHARES, RequestDriver, World, _weighted

    world = World(
        rng=rng,
        entities=directory.entities,
        central=directory.entities["moe"],
        teams={},
        topics=directory.topics,
        beneficiaries=[],
    )
    driver = RequestDriver(world)
    drafts = []
    for _index in range(count):
        kind = _weighted(rng, _KIND_SHARES)
        topic, subject, body = driver._pick(kind)
        driver.given = {"topic": topic.category.name_ar}
        destination = driver._destination(topic)
        owner = world.central if driver._to_central(topic) else destination
        subject, body = driver._compose(subject, body, destination)
        drafts.append(
            Draft(
                kind=kind,
                category_id=topic.category.pk,
                entity_id=owner.pk,
                team=_team_of(directory, owner),
                subject=subject,
                description=body,
            )
        )
    return drafts


# --- rows ----------------------------------------------------------------------------------


def tracking_numbers(rng: random.Random) -> Iterator[str]:
    """Valid (Damm-checked), unique, random tracking numbers without a leading zero."""
    from tawasul.core.ids import damm_digit

    seen: set[str] = set()
    while True:
        body = str(rng.randrange(10**9, 10**10))
        if body not in seen:
            seen.add(body)
            yield body + str(damm_digit(body))


def luhn_national_ids(rng: random.Random, count: int) -> list[str]:
    """`count` distinct valid national IDs (85 %, 1…) and iqamas (15 %, 2…)."""
    from tawasul.demo.loader import luhn_complete

    numbers: set[str] = set()
    while len(numbers) < count:
        numbers.add(("2" if rng.random() < 0.15 else "1") + f"{rng.randrange(10**8):08d}")
    return [luhn_complete(prefix) for prefix in sorted(numbers)]


def beneficiary_rows(rng: random.Random, count: int, now: dt.datetime) -> Iterator[list[Any]]:
    from tawasul.demo import texts
    from tawasul.demo.loader import _KINDS, _MOBILE_PREFIXES

    kinds = [kind for kind, _share in _KINDS]
    weights = [share for _kind, share in _KINDS]
    for pk, national_id in enumerate(luhn_national_ids(rng, count), start=1):
        created = now - rng.randint(DAYS * 24 * 60, (DAYS + 365) * 24 * 60) * MINUTE
        email = f"user{pk}@example.com" if rng.random() < 0.12 else ""
        yield [
            pk,
            national_id,
            texts.person_name(rng, female=rng.random() < 0.5),
            f"+966{rng.choice(_MOBILE_PREFIXES)[1:]}{rng.randrange(10**6, 10**7)}",
            email,
            rng.choices(kinds, weights)[0],
            "en" if rng.random() < 0.04 else "ar",
            "email" if email else "sms",
            created,
            created,
        ]


BENEFICIARY_COLUMNS = (
    "id",
    "national_id",
    "full_name",
    "mobile",
    "email",
    "kind",
    "language",
    "preferred_contact",
    "consent_at",
    "created_at",
)
REQUEST_COLUMNS = (
    "id",
    "tracking_number",
    "kind",
    "category_id",
    "channel",
    "priority",
    "status",
    "beneficiary_id",
    "entity_id",
    "assignee_id",
    "subject",
    "description",
    "resolution",
    "resolution_code",
    "cancel_reason",
    "transfer_count",
    "created_at",
    "updated_at",
    "first_response_at",
    "answered_at",
    "closed_at",
    "first_response_due",
    "resolution_due",
    "sla_resolution_minutes",
    "sla_first_response_state",
    "sla_resolution_state",
    "sla_paused_at",
    "sla_remaining_minutes",
    "sla_stage",
    "sla_next_at",
    "search_text",
)
_TRANSFER_COLUMN = REQUEST_COLUMNS.index("transfer_count")
EVENT_COLUMNS = (
    "request_id",
    "kind",
    "from_status",
    "to_status",
    "actor_user_id",
    "by_beneficiary",
    "is_public",
    "data",
    "created_at",
)
MESSAGE_COLUMNS = (
    "request_id",
    "author_user_id",
    "from_beneficiary",
    "visibility",
    "body",
    "created_at",
)


class Clock:
    """Business-time arithmetic of the central calendar, memoised to the quarter hour."""

    def __init__(self, now: dt.datetime) -> None:
        from tawasul.directory.models import Entity
        from tawasul.sla.calendars import working_calendar_for_entity
        from tawasul.sla.policies import sla_targets_of

        self.calendar = working_calendar_for_entity(
            Entity.objects.get(code="moe"), around=now - dt.timedelta(days=DAYS // 2)
        )
        self.targets = sla_targets_of(None)

    @functools.cache  # noqa: B019 -- one Clock per load, a few hundred thousand keys
    def add(self, start: dt.datetime, minutes: int) -> dt.datetime:
        from tawasul.sla.business_time import business_minutes_add

        return business_minutes_add(self.calendar, start, minutes)

    def after(self, start: dt.datetime, minutes: int) -> dt.datetime:
        """`start` plus business minutes, computed from the start's quarter hour."""
        quarter = start.replace(minute=start.minute - start.minute % 15, second=0, microsecond=0)
        return self.add(quarter, minutes)


@functools.lru_cache(maxsize=TEXT_POOL * 4)
def _search_text(text: str) -> str:
    """One text's searchable form, kept: the generator draws from a pool of a few
    thousand subjects, descriptions and replies."""
    from tawasul.cases.search import search_text_of

    return search_text_of(text)


def _cumulative(pairs: Sequence[tuple[str, int]]) -> tuple[list[str], list[int]]:
    """Values and cumulative weights, for `random.choices(..., cum_weights=...)`."""
    values, weights, total = [], [], 0
    for value, weight in pairs:
        total += weight
        values.append(str(value))
        weights.append(total)
    return values, weights


@dataclass
class Generated:
    request: list[Any]
    events: list[list[Any]]
    messages: list[list[Any]]


class RequestMaker:
    """One request row, its events and its messages, consistent with its status and age."""

    def __init__(
        self,
        *,
        rng: random.Random,
        now: dt.datetime,
        directory: Directory,
        drafts: Sequence[Draft],
        beneficiaries: int,
    ) -> None:
        from tawasul.demo import texts
        from tawasul.demo.walk import _CHANNELS, _PRIORITIES

        self.rng, self.now, self.directory, self.drafts = rng, now, directory, drafts
        self.beneficiaries = beneficiaries
        self.clock = Clock(now)
        self.numbers = tracking_numbers(rng)
        self.channels, self.channel_weights = _cumulative(_CHANNELS)
        self.priorities, self.priority_weights = _cumulative(_PRIORITIES)
        self.open_statuses = _cumulative(_OPEN_SHARES)
        self.done_statuses = _cumulative(_DONE_SHARES)
        self.answers = [a for group in texts.ANSWERS.values() for a in group]
        self.replies = list(texts.REPLIES)
        self.questions = [question for question, _variants in texts.QUESTIONS]

    def created_at(self) -> dt.datetime:
        """Two years of submissions, more on working days and in the daytime (Riyadh)."""
        rng = self.rng
        while True:
            day = self.now - dt.timedelta(days=int(rng.random() ** 1.15 * DAYS))
            weekday = (day + dt.timedelta(hours=3)).isoweekday()
            if weekday not in (5, 6) or rng.random() < 0.35:
                break
        hour = min(23, max(0, int(rng.gauss(13, 4))))
        local = day.replace(hour=0, minute=0, second=0, microsecond=0) + dt.timedelta(
            hours=hour - 3, minutes=rng.randrange(60), seconds=rng.randrange(60)
        )
        return min(local, self.now - MINUTE)

    def status_for(self, age_days: float) -> str:
        """Old requests are finished; a backlog builds up over the last weeks."""
        rng = self.rng
        open_share = 0.015 + 0.75 * math.exp(-age_days / 12)
        values, weights = self.open_statuses if rng.random() < open_share else self.done_statuses
        return str(rng.choices(values, cum_weights=weights)[0])

    def make(self, pk: int) -> Generated:
        rng, now = self.rng, self.now
        draft = self.drafts[rng.randrange(len(self.drafts))]
        created = self.created_at()
        status = self.status_for((now - created).total_seconds() / 86400)
        targets = self.clock.targets
        resolution_minutes = targets.resolution_minutes
        first_due = self.clock.after(created, targets.first_response_minutes)
        due = self.clock.after(created, resolution_minutes)
        lead = resolution_minutes * (100 - targets.warning_percent) // 100
        warn_at = self.clock.after(created, resolution_minutes - lead)
        agents = self.directory.staff[draft.team]
        agent = rng.choice(agents) if agents else None
        priority = str(rng.choices(self.priorities, cum_weights=self.priority_weights)[0])
        row: dict[str, Any] = {
            "status": status,
            "assignee_id": None if status in ("new", "cancelled") else agent,
            "first_response_at": None,
            "answered_at": None,
            "closed_at": None,
            "resolution": "",
            "resolution_code": "",
            "cancel_reason": "",
            "sla_first_response_state": "running",
            "sla_resolution_state": "running",
            "sla_paused_at": None,
            "sla_remaining_minutes": None,
            "sla_stage": "none",
            "sla_next_at": None,
        }
        # How long the centre takes: most within the target, a tail well beyond it.
        span = (due - created) * (rng.lognormvariate(-0.6, 0.7))
        moments = self._moments(created, span, status)
        self._sla(
            row=row,
            status=status,
            created=created,
            first_due=first_due,
            due=due,
            warn_at=warn_at,
            moments=moments,
        )
        updated = max([created, *[m for m in moments.values() if m is not None]])
        request = [
            pk,
            next(self.numbers),
            draft.kind,
            draft.category_id,
            str(rng.choices(self.channels, cum_weights=self.channel_weights)[0]),
            priority,
            status,
            rng.randrange(1, self.beneficiaries + 1),
            draft.entity_id,
            row["assignee_id"],
            draft.subject,
            draft.description,
            row["resolution"],
            row["resolution_code"],
            row["cancel_reason"],
            0,
            created,
            updated,
            row["first_response_at"],
            row["answered_at"],
            row["closed_at"],
            first_due,
            due,
            resolution_minutes,
            row["sla_first_response_state"],
            row["sla_resolution_state"],
            row["sla_paused_at"],
            row["sla_remaining_minutes"],
            row["sla_stage"],
            row["sla_next_at"],
        ]
        events, messages = self._timeline(
            pk=pk, status=status, created=created, moments=moments, agent=agent, row=row, due=due
        )
        request[_TRANSFER_COLUMN] = self._transfers(pk, draft.entity_id, created, events)
        # What `request_submit` and each message's service write (tawasul.cases.search).
        texts = (draft.subject, draft.description, *(message[4] for message in messages))
        request.append(" ".join(filter(None, map(_search_text, texts))))
        return Generated(request=request, events=events, messages=messages)

    def _transfers(
        self, pk: int, entity_id: int, created: dt.datetime, events: list[list[Any]]
    ) -> int:
        """About 6 % of requests reach their entity by a forward from another one; 1.5 %
        are forwarded away and returned as misrouted (the insights' routing figures)."""
        rng = self.rng
        draw = rng.random()
        if draw >= FORWARD_SHARE + MISROUTED_SHARE:
            return 0
        other = entity_id
        while other == entity_id:
            other = self.drafts[rng.randrange(len(self.drafts))].entity_id
        at = min(self.now, created + rng.randrange(10, 240) * MINUTE)
        if draw < FORWARD_SHARE:
            data = json.dumps({"from_entity": other, "to_entity": entity_id, "reason": "اختصاص"})
            events.append([pk, "forwarded", "new", "new", None, False, True, data, at])
            return 1
        there = json.dumps({"from_entity": entity_id, "to_entity": other, "reason": "اختصاص"})
        back = json.dumps({"from_entity": other, "to_entity": entity_id, "reason": "خارج الاختصاص"})
        events.append([pk, "forwarded", "new", "new", None, False, True, there, at])
        later = min(self.now, at + rng.randrange(30, 24 * 60) * MINUTE)
        events.append([pk, "returned", "new", "new", None, False, True, back, later])
        return 2

    def _moments(self, created: dt.datetime, span: dt.timedelta, status: str) -> dict[str, Any]:
        """When each step of the walk happened (never after now)."""
        rng, now = self.rng, self.now
        assigned = min(now, created + span * 0.1 + rng.randrange(5, 240) * MINUTE)
        started = min(now, assigned + span * 0.1 + rng.randrange(5, 120) * MINUTE)
        answered = min(now, max(started + MINUTE, created + span))
        closed = min(now, answered + rng.randrange(60, 7 * 24 * 60) * MINUTE)
        objected = min(now, answered + rng.randrange(60, 3 * 24 * 60) * MINUTE)
        asked = min(now, started + rng.randrange(10, 600) * MINUTE)
        cancelled = min(now, created + rng.randrange(10, 3 * 24 * 60) * MINUTE)
        return {
            "assigned": assigned,
            "claimed": assigned,
            "started": started,
            "info_requested": asked if status == "awaiting_beneficiary" else None,
            "answered": answered,
            "objected": objected if status == "objected" else None,
            "accepted": closed if status == "closed" else None,
            "cancelled": cancelled if status == "cancelled" else None,
        }

    def _sla(
        self,
        *,
        row: dict[str, Any],
        status: str,
        created: dt.datetime,
        first_due: dt.datetime,
        due: dt.datetime,
        warn_at: dt.datetime,
        moments: dict[str, Any],
    ) -> None:
        """The SLA columns as `sla.clocks` and `sla.sweep` would have left them by now."""
        now = self.now
        worked = status not in ("new", "cancelled")
        if worked and status not in ("assigned",):
            row["first_response_at"] = moments["started"]
            row["sla_first_response_state"] = "met" if moments["started"] <= due else "breached"
        if status == "cancelled":
            row["closed_at"] = moments["cancelled"]
            row["cancel_reason"] = "طلب مكرر"
            row["sla_first_response_state"] = row["sla_resolution_state"] = "stopped"
            return
        if status in ("answered", "objected", "closed"):
            answered = moments["answered"]
            row["answered_at"] = answered
            row["resolution"] = self.rng.choice(self.answers)
            row["resolution_code"] = "resolved"
            late = answered > due
            row["sla_resolution_state"] = "breached" if late else "met"
            row["sla_stage"] = self._stage_at(answered, due, warn_at)
            if status == "closed":
                row["closed_at"] = moments["accepted"]
            return
        if status == "awaiting_beneficiary":
            asked = moments["info_requested"]
            minutes = int((due - asked).total_seconds() // 60 * 420 // 1440)
            row["sla_resolution_state"] = "paused"
            row["sla_paused_at"], row["sla_remaining_minutes"] = asked, minutes
            row["sla_stage"] = self._stage_at(asked, due, warn_at)
            return
        # Running: the sweep has taken every step due by now.
        stage = self._stage_at(now, due, warn_at)
        row["sla_stage"] = stage
        row["sla_resolution_state"] = (
            "breached" if stage in ("breached", "escalated") else "running"
        )
        row["sla_next_at"] = {
            "none": warn_at,
            "warned": due,
            "breached": self.clock.after(due, self.clock.targets.escalation_minutes),
            "escalated": None,
        }[stage]
        if status == "new" and first_due < now:
            row["sla_first_response_state"] = "running"

    def _stage_at(self, at: dt.datetime, due: dt.datetime, warn_at: dt.datetime) -> str:
        if at < warn_at:
            return "none"
        if at < due:
            return "warned"
        if at < self.clock.after(due, self.clock.targets.escalation_minutes):
            return "breached"
        return "escalated"

    def _timeline(
        self,
        *,
        pk: int,
        status: str,
        created: dt.datetime,
        moments: dict[str, Any],
        agent: int | None,
        row: dict[str, Any],
        due: dt.datetime,
    ) -> tuple[list[list[Any]], list[list[Any]]]:
        rng = self.rng
        events = [[pk, "submitted", "", "new", None, True, True, "{}", created]]
        messages: list[list[Any]] = []
        for kind, before, after in _STATUS_PATHS[status]:
            at = moments[kind]
            actor = None if kind == "cancelled" else agent
            events.append([pk, kind, before, after, actor, kind in ("objected",), True, "{}", at])
            if kind == "info_requested":
                messages.append([pk, agent, False, "public", rng.choice(self.questions), at])
            elif kind == "answered":
                messages.append([pk, agent, False, "public", row["resolution"], at])
            elif kind == "started" and rng.random() < 0.3:
                messages.append([pk, agent, False, "internal", rng.choice(self.replies), at])
        stage = row["sla_stage"]
        if stage in ("warned", "breached", "escalated"):
            data = json.dumps({"due": due.isoformat(), "notified": 1})
            late = [("sla_warned", "warned"), ("sla_breached", "breached")]
            late += [("sla_escalated", "escalated")]
            reached = {"warned": 1, "breached": 2, "escalated": 3}[stage]
            for kind, _stage in late[:reached]:
                events.append([pk, kind, status, status, None, False, False, data, due])
        return events, messages


# --- writing -------------------------------------------------------------------------------


class Writer:
    """Rows into tables: COPY on PostgreSQL, batched INSERTs on SQLite."""

    def __init__(self) -> None:
        from django.db import connection

        self.connection = connection
        self.postgres = connection.vendor == "postgresql"
        self.dropped: list[str] = []

    def write(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        return (
            self._copy(table, columns, rows)
            if self.postgres
            else self._insert(table, columns, rows)
        )

    def _copy(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        self.connection.ensure_connection()
        raw = self.connection.connection
        count = 0
        with (
            raw.cursor() as cursor,
            cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
                count += 1
        return count

    def _insert(
        self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]], batch: int = 5000
    ) -> int:
        marks = ", ".join(["%s"] * len(columns))
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608
        count, chunk = 0, []
        with self.connection.cursor() as cursor:
            for row in rows:
                chunk.append(row)
                if len(chunk) == batch:
                    cursor.executemany(sql, chunk)
                    count, chunk = count + len(chunk), []
            if chunk:
                cursor.executemany(sql, chunk)
                count += len(chunk)
        return count

    def empty(self, tables: Sequence[str]) -> None:
        with self.connection.cursor() as cursor:
            if self.postgres:
                cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
                return
            for table in tables:
                cursor.execute(f"DELETE FROM {table}")  # noqa: S608 -- bench reset only

    def indexes_drop(self, tables: Sequence[str]) -> None:
        """PostgreSQL: drop the secondary (non-constraint) indexes, keeping their definitions."""
        if not self.postgres:
            return
        with self.connection.cursor() as cursor:
            cursor.execute(
                "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = ANY(%s) "
                "AND i.schemaname = 'public' AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
                "WHERE c.conname = i.indexname)",
                [list(tables)],
            )
            for name, definition in cursor.fetchall():
                cursor.execute(f'DROP INDEX "{name}"')
                self.dropped.append(definition)

    def foreign_keys_off(self) -> None:
        """PostgreSQL, inside the load's transaction: no foreign-key trigger per row (the
        generator writes consistent keys; pending deferred checks would also forbid the
        CREATE INDEX after)."""
        if self.postgres:
            with self.connection.cursor() as cursor:
                cursor.execute("SET LOCAL session_replication_role = replica")

    def indexes_create(self) -> None:
        with self.connection.cursor() as cursor:
            for definition in self.dropped:
                cursor.execute(definition)
        self.dropped = []

    def sequences_reset(self, tables: Sequence[str]) -> None:
        if not self.postgres:
            return
        with self.connection.cursor() as cursor:
            for table in tables:
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                    f"COALESCE((SELECT max(id) FROM {table}), 1))"
                )


@dataclass
class Summary:
    requests: int = 0
    beneficiaries: int = 0
    events: int = 0
    messages: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    overdue_open: int = 0
    seconds: dict[str, float] = field(default_factory=dict)

    def report(self) -> str:
        timings = ", ".join(f"{step} {seconds:.1f} s" for step, seconds in self.seconds.items())
        statuses = ", ".join(f"{s} {n:,}" for s, n in sorted(self.by_status.items()))
        return (
            f"loaded {self.requests:,} requests, {self.beneficiaries:,} beneficiaries, "
            f"{self.events:,} events, {self.messages:,} messages "
            f"in {sum(self.seconds.values()):.1f} s ({timings})\n"
            f"statuses: {statuses}; open and overdue: {self.overdue_open:,}"
        )


def dataset_load(*, requests: int, seed: int) -> Summary:
    """Replace the requests, events, messages and beneficiaries with generated ones."""
    from django.db import connection, transaction
    from django.utils import timezone

    from tawasul.insights.summary import insights_summarise_all

    summary = Summary()
    rng = random.Random(seed)
    now = timezone.now().replace(microsecond=0)
    writer = Writer()
    step = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal step
        summary.seconds[name] = time.perf_counter() - step
        print(f"{name}: {summary.seconds[name]:.1f} s", flush=True)
        step = time.perf_counter()

    directory = directory_load()
    drafts = drafts_make(directory, rng, min(TEXT_POOL, max(200, requests // 5)))
    lap("directory and texts")
    dataset_forget()
    beneficiaries = max(1, round(requests * BENEFICIARIES_PER_REQUEST))
    maker = RequestMaker(
        rng=rng, now=now, directory=directory, drafts=drafts, beneficiaries=beneficiaries
    )
    with transaction.atomic():
        writer.empty(REPLACED)
        writer.indexes_drop(REPLACED)
        writer.foreign_keys_off()
        lap("empty")
        summary.beneficiaries = writer.write(
            "beneficiaries_beneficiary",
            BENEFICIARY_COLUMNS,
            beneficiary_rows(rng, beneficiaries, now),
        )
        lap("beneficiaries")

        started = time.perf_counter()
        for first in range(1, requests + 1, CHUNK):
            made = [maker.make(pk) for pk in range(first, min(first + CHUNK, requests + 1))]
            summary.requests += writer.write(
                "cases_request", REQUEST_COLUMNS, _requests(made, summary)
            )
            summary.events += writer.write(
                "cases_event", EVENT_COLUMNS, (e for m in made for e in m.events)
            )
            summary.messages += writer.write(
                "cases_message", MESSAGE_COLUMNS, (e for m in made for e in m.messages)
            )
            rate = summary.requests / (time.perf_counter() - started)
            print(f"  {summary.requests:,} requests ({rate:,.0f}/s)", flush=True)
        lap("requests, events, messages")
        writer.indexes_create()
        lap("indexes")
    writer.sequences_reset(REPLACED)
    _dataset_remember(requests, seed)
    with connection.cursor() as cursor:  # as autovacuum would leave a table of this age
        cursor.execute("VACUUM (ANALYZE)" if connection.vendor == "postgresql" else "ANALYZE")
    lap("vacuum and analyze")
    insights_summarise_all()
    lap("dashboards' daily summary")
    return summary


def _summary_ensure() -> None:
    """Build the dashboards' daily summary if this dataset has none yet (loaded before the
    summary existed)."""
    from tawasul.insights.models import DailySummary
    from tawasul.insights.summary import insights_summarise_all

    if not DailySummary.objects.exists():
        started = time.perf_counter()
        rows = insights_summarise_all()
        print(f"dashboards' daily summary: {rows:,} rows in {time.perf_counter() - started:.1f} s")


def _requests(made: list[Generated], summary: Summary) -> Iterator[list[Any]]:
    for generated in made:
        row = generated.request
        status = row[6]
        summary.by_status[status] = summary.by_status.get(status, 0) + 1
        if row[25] == "breached" and status not in ("answered", "objected", "closed"):
            summary.overdue_open += 1
        yield row


if __name__ == "__main__":
    sys.exit(main())
