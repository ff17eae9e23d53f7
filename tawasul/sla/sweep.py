"""The SLA sweep: warn, mark breaches and escalate, each step exactly once.

The queue is the `sla_next_at` column (partial index `req_sla_next`): a request
is in it while a step is ahead. For each due request the sweep computes the
next step, then *claims* it with a conditional UPDATE on (pk, sla_next_at,
sla_stage, resolution_due): only the sweep whose UPDATE changes the row performs
the step (writes the event, queues the e-mails and moves `sla_next_at`). A
batch is one transaction (one commit and one outbox wake-up for up to `limit`
steps; a commit per step made a million-row sweep cost ~2 ms a step), and its
events are inserted together: a failure rolls the whole batch back, claims
included, and the next run takes it again. Another sweep on another machine that read the same row
updates nothing and moves on, and so does a sweep racing a service that has
just paused, answered or restarted the clock. Running twice at the same `now`
does nothing the second time.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from tawasul.cases.models import Event, EventKind, Request, SlaStage, SlaState
from tawasul.cases.workflow import TRANSITIONS, Action, next_status
from tawasul.channels.outbox import notify_staff
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
    lost: int = 0  # claimed by another sweep, or changed by a service meanwhile

    @property
    def steps(self) -> int:
        return self.warned + self.breached + self.escalated


@dataclass
class _SweepCache:
    """Per-run memo of calendars and recipients, keyed by entity (a few dozen at most)."""

    calendars: dict[int, WorkingCalendar] = field(default_factory=dict)
    supervisors: dict[int, list[AbstractBaseUser]] = field(default_factory=dict)


def sla_due_requests(*, now: datetime) -> QuerySet[Request]:
    """The sweep's queue: requests whose next step is due, earliest first (index scan)."""
    return Request.objects.filter(sla_next_at__lte=now).order_by("sla_next_at")


def sla_sweep(*, now: datetime | None = None, limit: int = 500) -> SweepCounts:
    """Perform up to `limit` due steps (a request late by several steps takes them in order)."""
    now = now or timezone.now()
    counts, cache = SweepCounts(), _SweepCache()
    with transaction.atomic():  # one commit (and one outbox wake-up) per batch, not per step
        while counts.steps + counts.lost < limit:
            batch = _load(
                sla_due_requests(now=now).values_list("pk", flat=True)[
                    : limit - counts.steps - counts.lost
                ]
            )
            if not batch:
                break
            before = counts.steps
            events: list[Event] = []
            for request in batch:
                _step(request, now=now, counts=counts, cache=cache, events=events)
            Event.objects.bulk_create(events)
            if counts.steps == before:
                break
    if counts.steps or counts.lost:
        logger.info(
            "SLA sweep: %s warned, %s breached, %s escalated, %s lost",
            counts.warned,
            counts.breached,
            counts.escalated,
            counts.lost,
        )
    return counts


def _load(pks: Iterable[int]) -> list[Request]:
    ids = list(pks)
    rows = Request.objects.select_related("entity", "sla_policy", "assignee").in_bulk(ids)
    return [rows[pk] for pk in ids if pk in rows]


def _step(
    request: Request,
    *,
    now: datetime,
    counts: SweepCounts,
    cache: _SweepCache,
    events: list[Event],
) -> None:
    """Claim and perform the request's next step inside the batch's transaction; its event
    joins `events`, written with the batch's others before the batch commits."""
    if request.sla_stage not in _STEPS or request.sla_next_at is None:
        return
    stage, kind, template = _STEPS[request.sla_stage]
    claim = {
        "pk": request.pk,
        "sla_next_at": request.sla_next_at,
        "sla_stage": request.sla_stage,
        "resolution_due": request.resolution_due,
    }
    changes = _advance(request, stage=stage, now=now, cache=cache)
    if not Request.objects.filter(**claim).update(**changes):
        counts.lost += 1
        return
    recipients = _recipients(request, stage=stage, cache=cache)
    queued = notify_staff(request=request, users=recipients, template=template)
    data: dict[str, Any] = {"due": _iso(request.resolution_due), "notified": len(queued)}
    parent = _parent_centre_entity(request.entity) if stage == SlaStage.ESCALATED else None
    if stage == SlaStage.ESCALATED:
        data["to_entity"] = parent.pk if parent is not None else None
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
    if parent is not None and settings.TAWASUL_SLA_ESCALATION_REASSIGN:
        Event.objects.bulk_create(events)  # the step's event before the forward's
        events.clear()
        _reassign(request, to_entity=parent)
    setattr(counts, stage.value, getattr(counts, stage.value) + 1)


def _advance(
    request: Request, *, stage: SlaStage, now: datetime, cache: _SweepCache
) -> dict[str, Any]:
    """Move the in-memory row to `stage`; return the columns the claim sets."""
    request.sla_stage = stage
    if stage == SlaStage.BREACHED and request.sla_resolution_state == SlaState.RUNNING:
        request.sla_resolution_state = SlaState.BREACHED
    calendar = cache.calendars.get(request.entity_id)
    if calendar is None:
        calendar = cache.calendars[request.entity_id] = request_calendar(request, around=now)
    request.sla_next_at = sla_step_after(
        request, calendar=calendar, targets=request_targets(request), now=now
    )
    return {
        "sla_stage": request.sla_stage,
        "sla_resolution_state": request.sla_resolution_state,
        "sla_next_at": request.sla_next_at,
    }


def _recipients(request: Request, *, stage: SlaStage, cache: _SweepCache) -> list[AbstractBaseUser]:
    """Warning: the assignee (the supervisors when unassigned); breach: the centre's
    supervisors and managers; escalation: those of the parent entity's centre."""
    if stage == SlaStage.WARNED and request.assignee is not None:
        return [request.assignee]
    entity = request.entity
    if stage == SlaStage.ESCALATED:
        parent = _parent_centre_entity(entity)
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


def _parent_centre_entity(entity: Entity) -> Entity | None:
    """The entity of the nearest active centre strictly above `entity`."""
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
