"""The SLA sweep: warn, mark breaches and escalate, each step exactly once.

The queue is the `sla_next_at` column (partial index `req_sla_next`): a request
is in it while a step is ahead. A batch is one transaction that works in sets:

1. one SELECT takes up to `limit` due rows, earliest first, and *locks* them
   (`FOR UPDATE SKIP LOCKED` on PostgreSQL; on SQLite the transaction holds the
   database's one write lock from BEGIN, settings' `transaction_mode`), so what
   it reads stays true until the commit;
2. the next step of each row is computed in Python (calendars and recipients
   memoised per entity);
3. one UPDATE moves every row (`bulk_update`), one INSERT writes the e-mails to
   the outbox, one INSERT the events; one commit and one outbox wake-up.

Another sweep on another machine skips the locked rows and takes the next ones;
a service that pauses, answers or restarts a clock locks the row too, so it
waits for the batch or the batch waits for it and then reads its result. A
failure rolls the whole batch back and the next run takes it again; running
twice at the same `now` does nothing the second time. A request late by several
steps takes them in order, one per round of the loop (still locked by us).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.db.models import F, Field, QuerySet
from django.utils import timezone

from tawasul.cases.models import Event, EventKind, Request, SlaStage, SlaState
from tawasul.cases.workflow import TRANSITIONS, Action, next_status
from tawasul.channels.models import OutboxMessage
from tawasul.channels.outbox import outbox_wake_after_commit, staff_messages
from tawasul.directory.models import CareCentre, Entity, Role, StaffGrant
from tawasul.sla.business_time import WorkingCalendar
from tawasul.sla.clocks import request_calendar, request_targets, sla_step_after

logger = logging.getLogger(__name__)

SUPERVISING_ROLES = (Role.SUPERVISOR, Role.CENTRE_MANAGER)
_STEPS: dict[str, tuple[SlaStage, EventKind, str]] = {
    SlaStage.NONE: (SlaStage.WARNED, EventKind.SLA_WARNED, "sla_warning"),
    SlaStage.WARNED: (SlaStage.BREACHED, EventKind.SLA_BREACHED, "sla_breached"),
    SlaStage.BREACHED: (SlaStage.ESCALATED, EventKind.SLA_ESCALATED, "sla_escalated"),
}


@dataclass
class SweepCounts:
    warned: int = 0
    breached: int = 0
    escalated: int = 0

    @property
    def steps(self) -> int:
        return self.warned + self.breached + self.escalated


@dataclass
class _SweepCache:
    """Per-run memo of calendars and recipients, keyed by entity (a few dozen at most)."""

    calendars: dict[int, WorkingCalendar] = field(default_factory=dict)
    supervisors: dict[int, list[AbstractBaseUser]] = field(default_factory=dict)
    parents: dict[int, Entity | None] = field(default_factory=dict)


def sla_due_requests(*, now: datetime) -> QuerySet[Request]:
    """The sweep's queue: requests whose next step is due, earliest first (index scan)."""
    return Request.objects.filter(sla_next_at__lte=now).order_by("sla_next_at")


def sla_sweep(*, now: datetime | None = None, limit: int = 500) -> SweepCounts:
    """Perform up to `limit` due steps in one transaction (see the module's docstring)."""
    now = now or timezone.now()
    counts, cache = SweepCounts(), _SweepCache()
    with transaction.atomic():
        while counts.steps < limit:
            batch = _claim(now=now, limit=limit - counts.steps)
            if not batch:
                break
            _perform(batch, now=now, counts=counts, cache=cache)
    if counts.steps:
        logger.info(
            "SLA sweep: %s warned, %s breached, %s escalated",
            counts.warned,
            counts.breached,
            counts.escalated,
        )
    return counts


def _claim(*, now: datetime, limit: int) -> list[Request]:
    """Lock and read up to `limit` due requests (rows another sweep holds are skipped)."""
    return list(
        sla_due_requests(now=now)
        .filter(sla_stage__in=list(_STEPS))
        .select_for_update(skip_locked=True, of=("self",))
        .select_related("entity", "sla_policy", "assignee")[:limit]
    )


def _perform(
    batch: list[Request], *, now: datetime, counts: SweepCounts, cache: _SweepCache
) -> None:
    """Take each locked request's next step: one UPDATE, one outbox INSERT, one event INSERT
    (an escalation that hands the request up adds its forward)."""
    events: list[Event] = []
    messages: list[OutboxMessage] = []
    handed_up: list[tuple[Request, Entity]] = []
    for request in batch:
        stage, kind, template = _STEPS[request.sla_stage]
        _advance(request, stage=stage, now=now, cache=cache)
        queued = staff_messages(
            request=request,
            users=_recipients(request, stage=stage, cache=cache),
            template=template,
        )
        messages.extend(queued)
        data: dict[str, Any] = {"due": _iso(request.resolution_due), "notified": len(queued)}
        if stage == SlaStage.ESCALATED:
            parent = _parent_centre_entity(request.entity, cache=cache)
            data["to_entity"] = parent.pk if parent is not None else None
            if parent is not None and settings.TAWASUL_SLA_ESCALATION_REASSIGN:
                handed_up.append((request, parent))
        events.append(
            Event(
                request_id=request.pk,
                kind=kind,
                from_status=request.status,
                to_status=request.status,
                is_public=False,
                data=data,
            )
        )
        setattr(counts, stage.value, getattr(counts, stage.value) + 1)
    _update(batch)
    OutboxMessage.objects.bulk_create(messages)
    if messages:
        outbox_wake_after_commit()
    Event.objects.bulk_create(events)  # the steps' events before any forward's
    for request, parent in handed_up:
        _reassign(request, to_entity=parent)


_MOVED = ("sla_stage", "sla_resolution_state", "sla_next_at")


def _update(batch: list[Request]) -> None:
    """Write the batch's moved columns in one `UPDATE … FROM (VALUES …)` (PostgreSQL and
    SQLite ≥ 3.33 both have it; `bulk_update`'s CASE of 500 branches per column cost
    ~1.5 ms of Python a row)."""
    fields: list[Field[Any, Any]] = [
        field for field in Request._meta.concrete_fields if field.name in _MOVED
    ]
    quote = connection.ops.quote_name
    table = quote(Request._meta.db_table)
    cast = "::timestamptz" if connection.vendor == "postgresql" else ""
    sets = ", ".join(
        f"{quote(field.column)} = v.column{index + 2}{cast if field.name == 'sla_next_at' else ''}"
        for index, field in enumerate(fields)
    )
    row = "(" + ", ".join(["%s"] * (len(fields) + 1)) + ")"
    params: list[Any] = []
    for request in batch:
        params.append(request.pk)
        params.extend(
            field.get_db_prep_value(getattr(request, field.attname), connection) for field in fields
        )
    with connection.cursor() as cursor:
        cursor.execute(  # identifiers from the model, values as parameters
            f"UPDATE {table} SET {sets} FROM (VALUES {', '.join([row] * len(batch))}) AS v "  # noqa: S608
            f"WHERE {table}.{quote('id')} = v.column1",
            params,
        )


def _advance(request: Request, *, stage: SlaStage, now: datetime, cache: _SweepCache) -> None:
    """Move the in-memory row to `stage` and to its next step's moment."""
    request.sla_stage = stage
    if stage == SlaStage.BREACHED and request.sla_resolution_state == SlaState.RUNNING:
        request.sla_resolution_state = SlaState.BREACHED
    calendar = cache.calendars.get(request.entity_id)
    if calendar is None:
        calendar = cache.calendars[request.entity_id] = request_calendar(request, around=now)
    request.sla_next_at = sla_step_after(
        request, calendar=calendar, targets=request_targets(request), now=now
    )


def _recipients(request: Request, *, stage: SlaStage, cache: _SweepCache) -> list[AbstractBaseUser]:
    """Warning: the assignee (the supervisors when unassigned); breach: the centre's
    supervisors and managers; escalation: those of the parent entity's centre."""
    if stage == SlaStage.WARNED and request.assignee is not None:
        return [request.assignee]
    entity = request.entity
    if stage == SlaStage.ESCALATED:
        parent = _parent_centre_entity(entity, cache=cache)
        if parent is None:
            return []
        entity = parent
    if entity.pk not in cache.supervisors:
        cache.supervisors[entity.pk] = centre_supervisors(entity)
    return cache.supervisors[entity.pk]


def centre_supervisors(entity: Entity) -> list[AbstractBaseUser]:
    """Supervisors and managers of the entity's centre: those granted on the entity itself,
    else on its nearest ancestor that has any (one query)."""
    grants = (
        StaffGrant.objects.filter(
            role__in=SUPERVISING_ROLES,
            entity__path__in=_path_and_ancestors(entity.path),
            user__is_active=True,
        )
        .select_related("user", "entity")
        .order_by("-entity__depth", "user_id")
    )
    nearest: int | None = None
    users: list[AbstractBaseUser] = []
    for grant in grants:
        nearest = grant.entity.depth if nearest is None else nearest
        if grant.entity.depth == nearest and grant.user not in users:
            users.append(grant.user)
    return users


def _parent_centre_entity(entity: Entity, *, cache: _SweepCache) -> Entity | None:
    """The entity of the nearest active centre strictly above `entity` (memoised per run)."""
    if entity.pk not in cache.parents:
        cache.parents[entity.pk] = _nearest_centre_above(entity)
    return cache.parents[entity.pk]


def _nearest_centre_above(entity: Entity) -> Entity | None:
    centre = (
        CareCentre.objects.filter(
            entity__path__in=_path_and_ancestors(entity.path)[:-1], is_active=True
        )
        .select_related("entity")
        .order_by("-entity__depth")
        .first()
    )
    return centre.entity if centre is not None else None


def _reassign(request: Request, *, to_entity: Entity) -> None:
    """Hand an escalated request to the parent centre (`TAWASUL_SLA_ESCALATION_REASSIGN`)."""
    if request.status not in TRANSITIONS[Action.FORWARD]:
        return
    previous = request.status
    request.status = next_status(Action.FORWARD, previous)
    Request.objects.filter(pk=request.pk).update(
        entity=to_entity,
        assignee=None,
        status=request.status,
        transfer_count=F("transfer_count") + 1,
        updated_at=timezone.now(),
    )
    Event.objects.create(
        request_id=request.pk,
        kind=EventKind.FORWARDED,
        from_status=previous,
        to_status=request.status,
        data={
            "from_entity": request.entity_id,
            "to_entity": to_entity.pk,
            "reason": "sla_escalation",
        },
    )


def _path_and_ancestors(path: str) -> list[str]:
    step = Entity.steplen
    return [path[:end] for end in range(step, len(path) + 1, step)]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
