"""Supervisors' and the central centre's figures: team workload, unassigned ageing,
volume and backlog by entity. Every figure is an aggregate query over the requests
the user may reach through `directory.access`; no query per agent or per entity.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tawasul.cases.models import Event, EventKind, Request
from tawasul.cases.queues import IN_HAND, Queue, queue_condition, queue_requests
from tawasul.cases.services import request_assign
from tawasul.core.errors import DomainError
from tawasul.directory import access
from tawasul.directory.access import ROLE_PERMISSIONS, Permission
from tawasul.directory.models import Entity, StaffGrant

User = AbstractBaseUser | AnonymousUser
P = Permission

# Still on the centre's desk (an answer waiting for the beneficiary's acceptance is not).
WORKING_STATUSES = IN_HAND  # the backlog: what the queue filter status=open lists
UNASSIGNED_LISTED = 100


def day_start(now: dt.datetime) -> dt.datetime:
    """Midnight of `now`'s day in Riyadh (the ministry's time zone)."""
    local = timezone.localtime(now, timezone.get_default_timezone())
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def open_q() -> Q:
    return Q(status__in=WORKING_STATUSES)


def _in_queue(user: User, queue: Queue, now: dt.datetime) -> Q:
    """Requests of one of the console's queues: a figure counts exactly what its
    drill-down lists (`cases.queues` holds the at-risk and overdue conditions)."""
    return Q(pk__in=queue_requests(user=user, queue=queue, now=now).values("pk"))


# --- team workload -----------------------------------------------------------------


@dataclass(frozen=True)
class AgentLoad:
    user_id: int
    name: str
    open: int
    overdue: int
    answered: int


def team_members(user: User) -> QuerySet[AbstractBaseUser]:
    """Active staff holding a working role on an entity under the user's ASSIGN reach."""
    work_roles = [role for role, perms in ROLE_PERMISSIONS.items() if P.WORK in perms]
    grants = StaffGrant.objects.filter(
        role__in=work_roles, entity__in=access.entities_for(user, P.ASSIGN).values("pk")
    )
    return (
        get_user_model()
        .objects.filter(is_active=True, pk__in=grants.values("user_id"))
        .order_by("username")
    )


def team_workload(
    *,
    user: User,
    now: dt.datetime | None = None,
    answered_counts: Mapping[int, int] | None = None,
) -> list[AgentLoad]:
    """Per team member (and anyone else holding requests there): open requests, overdue,
    and answers given since midnight in Riyadh — or `answered_counts` by user id when the
    caller has them (the dashboards read a period's from their summary). Four queries
    whatever the team's size."""
    now = now or timezone.now()
    scope = access.requests_for(user, P.ASSIGN)
    # Overdue requests are in hand too: only the open rows are read (a partial index).
    loads = {
        row["assignee"]: row
        for row in scope.filter(open_q(), assignee__isnull=False)
        .order_by()
        .values("assignee")
        .annotate(
            open=Count("pk"),
            overdue=Count("pk", filter=queue_condition(Queue.OVERDUE, user, now)),
        )
    }
    # The answers each listed person gave, wherever the request is now: a person's work
    # (read through the insights' partial index on answer events, not the request table).
    members = list(team_members(user).values_list("pk", flat=True))
    answered = (
        answered_counts
        if answered_counts is not None
        else {
            row["actor_user"]: row["n"]
            for row in Event.objects.filter(
                created_at__gte=day_start(now),
                kind=EventKind.ANSWERED,
                actor_user__in=[*members, *loads],
            )
            .order_by()
            .values("actor_user")
            .annotate(n=Count("pk"))
        }
    )
    people = get_user_model().objects.filter(
        Q(pk__in=members) | Q(pk__in=list(loads), is_active=True)
    )
    rows = [
        AgentLoad(
            user_id=person.pk,
            name=_display_name(person),
            open=loads.get(person.pk, {}).get("open", 0),
            overdue=loads.get(person.pk, {}).get("overdue", 0),
            answered=answered.get(person.pk, 0),
        )
        for person in people
    ]
    return sorted(rows, key=lambda row: (-row.open, row.name))


def _display_name(person: AbstractBaseUser) -> str:
    full = getattr(person, "get_full_name", lambda: "")()
    return str(full or person.get_username())


# --- unassigned ageing -------------------------------------------------------------


class AgeBucket(StrEnum):
    UNDER_1 = "lt1"
    FROM_1_TO_3 = "1to3"
    FROM_3_TO_7 = "3to7"
    OVER_7 = "gt7"


AGE_BUCKET_LABELS = {
    AgeBucket.UNDER_1: _("Under 1 day"),
    AgeBucket.FROM_1_TO_3: _("1–3 days"),
    AgeBucket.FROM_3_TO_7: _("3–7 days"),
    AgeBucket.OVER_7: _("Over 7 days"),
}


def age_bucket(created_at: dt.datetime, now: dt.datetime) -> AgeBucket:
    """The age bucket of a request, in calendar days (24-hour periods) since submission."""
    age = now - created_at
    if age < dt.timedelta(days=1):
        return AgeBucket.UNDER_1
    if age < dt.timedelta(days=3):
        return AgeBucket.FROM_1_TO_3
    if age < dt.timedelta(days=7):
        return AgeBucket.FROM_3_TO_7
    return AgeBucket.OVER_7


@dataclass(frozen=True)
class Unassigned:
    buckets: dict[AgeBucket, int]
    oldest: list[Request]

    @property
    def total(self) -> int:
        return sum(self.buckets.values())


def unassigned_ageing(*, user: User, now: dt.datetime | None = None) -> Unassigned:
    """Unassigned open requests within the user's ASSIGN reach: counts per age bucket
    (calendar days) and the oldest ones first. Two queries."""
    now = now or timezone.now()
    pending = access.requests_for(user, P.ASSIGN).filter(
        assignee__isnull=True, status__in=WORKING_STATUSES
    )
    one, three, seven = (now - dt.timedelta(days=days) for days in (1, 3, 7))
    counts = pending.order_by().aggregate(
        lt1=Count("pk", filter=Q(created_at__gt=one)),
        from1=Count("pk", filter=Q(created_at__lte=one, created_at__gt=three)),
        from3=Count("pk", filter=Q(created_at__lte=three, created_at__gt=seven)),
        gt7=Count("pk", filter=Q(created_at__lte=seven)),
    )
    buckets = {
        AgeBucket.UNDER_1: counts["lt1"],
        AgeBucket.FROM_1_TO_3: counts["from1"],
        AgeBucket.FROM_3_TO_7: counts["from3"],
        AgeBucket.OVER_7: counts["gt7"],
    }
    oldest = list(
        pending.select_related("entity", "category").order_by("created_at", "id")[
            :UNASSIGNED_LISTED
        ]
    )
    return Unassigned(buckets=buckets, oldest=oldest)


def requests_of_agent(*, user: User, agent_id: int) -> list[Request]:
    """An agent's open requests within the user's ASSIGN reach (to reassign them)."""
    return list(
        access.requests_for(user, P.ASSIGN)
        .filter(assignee_id=agent_id, status__in=WORKING_STATUSES)
        .select_related("entity", "category")
        .order_by("created_at", "id")[:UNASSIGNED_LISTED]
    )


# --- the central centre's view -------------------------------------------------------


class Period(StrEnum):
    TODAY = "today"
    WEEK = "7d"
    MONTH = "30d"


PERIOD_LABELS = {
    Period.TODAY: _("Today"),
    Period.WEEK: _("Last 7 days"),
    Period.MONTH: _("Last 30 days"),
}


PERIOD_DAYS = {Period.TODAY: 1, Period.WEEK: 7, Period.MONTH: 30}


def period_start(period: Period, now: dt.datetime) -> dt.datetime:
    """Midnight (Riyadh) of the period's first day: today, or the last 7 or 30 days
    counting today, so the queue's `from` date lists exactly the same requests."""
    return day_start(now) - dt.timedelta(days=PERIOD_DAYS[period] - 1)


@dataclass(frozen=True)
class EntityFigures:
    entity_id: int
    name: str
    volume: int
    backlog: int
    at_risk: int
    overdue: int


@dataclass(frozen=True)
class Oversight:
    since: dt.datetime
    rows: list[EntityFigures]
    total: EntityFigures


def oversight_by_entity(
    *, user: User, period: Period = Period.WEEK, now: dt.datetime | None = None
) -> Oversight:
    """Per entity the user may view: requests submitted since the period's start, the
    backlog (open on the centre's desk), at risk and overdue (as the console's queues of
    those names define them); sorted by backlog. Two queries whatever the number of
    entities."""
    now = now or timezone.now()
    since = period_start(period, now)
    figures = list(
        access.requests_for(user, P.VIEW)
        .order_by()
        .values("entity")
        .annotate(
            volume=Count("pk", filter=Q(created_at__gte=since)),
            backlog=Count("pk", filter=open_q()),
            at_risk=Count("pk", filter=_in_queue(user, Queue.AT_RISK, now)),
            overdue=Count("pk", filter=_in_queue(user, Queue.OVERDUE, now)),
        )
        .filter(Q(volume__gt=0) | Q(backlog__gt=0))
    )
    names = Entity.objects.in_bulk([row["entity"] for row in figures])
    rows = [
        EntityFigures(
            entity_id=row["entity"],
            name=names[row["entity"]].name if row["entity"] in names else str(row["entity"]),
            volume=row["volume"],
            backlog=row["backlog"],
            at_risk=row["at_risk"],
            overdue=row["overdue"],
        )
        for row in figures
    ]
    rows.sort(key=lambda row: (-row.backlog, -row.volume, row.name))
    total = EntityFigures(
        entity_id=0,
        name=str(_("Total")),
        volume=sum(row.volume for row in rows),
        backlog=sum(row.backlog for row in rows),
        at_risk=sum(row.at_risk for row in rows),
        overdue=sum(row.overdue for row in rows),
    )
    return Oversight(since=since, rows=rows, total=total)


# --- bulk assignment ---------------------------------------------------------------


@dataclass(frozen=True)
class BulkFailure:
    label: str
    message: str


@dataclass(frozen=True)
class BulkAssignResult:
    assigned: list[str]
    failed: list[BulkFailure]


def requests_bulk_assign(
    *, request_ids: list[int], assignee: AbstractBaseUser, by: AbstractBaseUser
) -> BulkAssignResult:
    """Assign each request to `assignee`, one transaction per request (`request_assign`):
    one refusal (out of reach, closed, agent out of scope) does not undo the others."""
    assigned: list[str] = []
    failed: list[BulkFailure] = []
    for pk in sorted(set(request_ids)):
        label = f"#{pk}"
        try:
            target = access.request_for_staff(by, pk=pk, permission=P.ASSIGN)
            label = target.tracking_display
            request_assign(request=target, assignee=assignee, by=by)
        except DomainError as error:
            failed.append(BulkFailure(label=label, message=str(error.message)))
        else:
            assigned.append(label)
    return BulkAssignResult(assigned=assigned, failed=failed)
