"""The staff queues: which requests each work list holds, filtered, sorted and paged.

Every queue starts from `access.requests_for(user, …)`, so a queue never holds a
request out of the user's reach. Pages use keyset pagination on the sort's
columns (never OFFSET) and counts are capped, so a page costs the same number of
queries and about the same time whatever the size of the table.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import Case, F, IntegerField, Q, QuerySet, Value, When
from django.db.models.expressions import OrderBy
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from tawasul.cases.models import (
    OPEN_STATUSES,
    Category,
    Priority,
    Request,
    SlaStage,
    SlaState,
    Status,
)
from tawasul.cases.search import search_filter
from tawasul.core.ids import tracking_number_parse
from tawasul.directory import access
from tawasul.directory.access import Permission
from tawasul.directory.models import Entity
from tawasul.sla.business_time import business_minutes_add
from tawasul.sla.calendars import DEFAULT_CALENDAR
from tawasul.sla.selectors import working_day_minutes

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

    User = AbstractBaseUser | AnonymousUser

COUNT_CAP = 1000
PAGE_SIZE = 50


class Queue(StrEnum):
    MINE = "mine"
    UNASSIGNED = "unassigned"
    SUBTREE = "subtree"
    AT_RISK = "at_risk"
    OVERDUE = "overdue"
    WAITING = "waiting"
    ANSWERED = "answered"


QUEUE_LABELS: dict[Queue, Any] = {
    Queue.MINE: _("Mine"),
    Queue.UNASSIGNED: _("Unassigned"),
    Queue.SUBTREE: _("All in my entities"),
    Queue.AT_RISK: _("At risk"),
    Queue.OVERDUE: _("Overdue"),
    Queue.WAITING: _("Waiting on beneficiary"),
    Queue.ANSWERED: _("Answered"),
}

# Being worked by staff (answered requests wait on the beneficiary's acceptance).
_WORKED = tuple(sorted(OPEN_STATUSES - {Status.ANSWERED, Status.AWAITING_BENEFICIARY}))
_OPEN = tuple(sorted(OPEN_STATUSES))
IN_HAND = tuple(sorted(OPEN_STATUSES - {Status.ANSWERED}))  # on the centre's desk: the backlog
OPEN_FILTER = "open"  # the `status` filter's value for "in hand (not yet answered)"
_LATE_STAGES = (SlaStage.BREACHED, SlaStage.ESCALATED)


def at_risk_cutoff(now: datetime) -> datetime:
    """One working day (of the default calendar) from now."""
    return business_minutes_add(DEFAULT_CALENDAR, now, working_day_minutes(DEFAULT_CALENDAR))


def queue_requests(
    *, user: User, queue: Queue | str, now: datetime | None = None
) -> QuerySet[Request]:
    """The requests of one queue, within the user's reach (unordered)."""
    queue = Queue(queue)
    permission = Permission.WORK if queue is Queue.UNASSIGNED else Permission.VIEW
    return access.requests_for(user, permission).filter(
        queue_condition(queue, user, now or timezone.now())
    )


def queue_condition(queue: Queue, user: User, now: datetime) -> Q:
    """The condition of one of the console's queues, before the access layer's scope:
    a figure counting a queue's requests filters by it, so it counts what the queue lists."""
    late = (
        Q(sla_stage__in=_LATE_STAGES)
        | Q(sla_resolution_state=SlaState.BREACHED)
        | Q(sla_resolution_state=SlaState.RUNNING, resolution_due__lt=now)
    )
    soon = Q(sla_stage=SlaStage.WARNED) | Q(
        sla_stage=SlaStage.NONE, resolution_due__gte=now, resolution_due__lte=at_risk_cutoff(now)
    )
    conditions: dict[Queue, Any] = {
        Queue.MINE: lambda: Q(assignee_id=user.pk, status__in=_OPEN),
        Queue.UNASSIGNED: lambda: Q(
            assignee__isnull=True, status__in=(Status.NEW, Status.ASSIGNED)
        ),
        Queue.SUBTREE: Q,
        Queue.AT_RISK: lambda: Q(status__in=_WORKED, sla_resolution_state=SlaState.RUNNING) & soon,
        Queue.OVERDUE: lambda: Q(status__in=_WORKED) & late,
        Queue.WAITING: lambda: Q(status=Status.AWAITING_BENEFICIARY),
        Queue.ANSWERED: lambda: Q(status=Status.ANSWERED),
    }
    condition: Q = conditions[queue]()
    return condition


# --- filters ----------------------------------------------------------------------------


class SlaFilter(StrEnum):
    RUNNING = "running"
    WARNED = "warned"
    BREACHED = "breached"
    PAUSED = "paused"
    MET = "met"


@dataclass(frozen=True)
class QueueFilters:
    """Cleaned filter values (from `console.queue_forms.QueueFilterForm`)."""

    status: str = ""
    kind: str = ""
    category: Category | None = None
    channel: str = ""
    priority: str = ""
    entity: Entity | None = None
    submitted_from: date | None = None
    submitted_to: date | None = None
    sla: str = ""
    q: str = ""


def _local_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _sla_condition(sla: str) -> Q:
    return {
        SlaFilter.RUNNING: Q(sla_resolution_state=SlaState.RUNNING, sla_stage=SlaStage.NONE),
        SlaFilter.WARNED: Q(sla_stage=SlaStage.WARNED),
        SlaFilter.BREACHED: Q(sla_stage__in=_LATE_STAGES)
        | Q(sla_resolution_state=SlaState.BREACHED),
        SlaFilter.PAUSED: Q(sla_resolution_state=SlaState.PAUSED),
        SlaFilter.MET: Q(sla_resolution_state=SlaState.MET),
    }[SlaFilter(sla)]


def queue_filter(requests: QuerySet[Request], filters: QueueFilters) -> QuerySet[Request]:
    """Narrow a queue by the filter form's values (each one optional)."""
    if filters.status == OPEN_FILTER:
        requests = requests.filter(status__in=IN_HAND)
    exact = {
        "status": "" if filters.status == OPEN_FILTER else filters.status,
        "kind": filters.kind,
        "channel": filters.channel,
        "priority": filters.priority,
    }
    requests = requests.filter(**{name: value for name, value in exact.items() if value})
    if filters.category is not None:
        requests = requests.filter(
            category__in=Category.objects.filter(path__startswith=filters.category.path).values(
                "pk"
            )
        )
    if filters.entity is not None:
        requests = requests.filter(
            entity__in=Entity.objects.filter(path__startswith=filters.entity.path).values("pk")
        )
    if filters.submitted_from is not None:
        requests = requests.filter(created_at__gte=_local_midnight(filters.submitted_from))
    if filters.submitted_to is not None:
        next_day = filters.submitted_to + timedelta(days=1)
        requests = requests.filter(created_at__lt=_local_midnight(next_day))
    if filters.sla:
        requests = requests.filter(_sla_condition(filters.sla))
    if filters.q:
        digits = tracking_number_parse(filters.q)
        requests = (
            requests.filter(tracking_number=digits)
            if digits
            else search_filter(requests, filters.q)
        )
    return requests


def queue_count(requests: QuerySet[Request], cap: int = COUNT_CAP) -> int:
    """How many requests, counting at most `cap` + 1 (a LIMIT subquery, never a full COUNT)."""
    return requests.order_by().values("pk")[: cap + 1].count()


def queue_counts(user: User) -> dict[Queue, int]:
    """The capped count of each of the user's queues (the console's tabs, the API's list).

    Seven counts cost 20–100 ms on a million requests, on every page, so they are
    kept in the shared cache for `TAWASUL_QUEUE_COUNTS_SECONDS` per user: a tab may
    lag other people's work by that long. The user's own work forgets them at once
    (`queue_counts_forget`, called when a service writes an event); the list the
    user is looking at is always counted live by its page.
    """
    seconds = settings.TAWASUL_QUEUE_COUNTS_SECONDS
    key = _counts_key(user.pk)
    if seconds > 0:
        kept = cache.get(key)
        if isinstance(kept, dict) and set(kept) == {queue.value for queue in Queue}:
            return {Queue(name): int(count) for name, count in kept.items()}
    counts = {queue: queue_count(queue_requests(user=user, queue=queue)) for queue in Queue}
    if seconds > 0:
        cache.set(key, {queue.value: count for queue, count in counts.items()}, seconds)
    return counts


def queue_counts_forget(*user_ids: int | None) -> None:
    """Drop the kept counts of these users (after their work, or work handed to them)."""
    keys = [_counts_key(pk) for pk in set(user_ids) if pk is not None]
    if keys:
        cache.delete_many(keys)


def _counts_key(user_id: Any) -> str:
    return f"queue-counts:{user_id}"


# --- sorting and keyset pages ---------------------------------------------------------------


class Sort(StrEnum):
    CREATED = "created"
    NEWEST = "-created"
    DUE = "due"
    DUE_LAST = "-due"
    PRIORITY = "priority"


@dataclass(frozen=True)
class _Key:
    """One column of a sort: its name, direction, and whether it may be null (sorted last)."""

    name: str
    descending: bool
    kind: str  # "datetime" | "int"
    nullable: bool = False


_PRIORITY_RANK = Case(
    When(priority=Priority.URGENT, then=Value(0)),
    When(priority=Priority.HIGH, then=Value(1)),
    When(priority=Priority.NORMAL, then=Value(2)),
    default=Value(3),
    output_field=IntegerField(),
)

SORT_KEYS: dict[Sort, tuple[_Key, ...]] = {
    Sort.CREATED: (_Key("created_at", False, "datetime"), _Key("id", False, "int")),
    Sort.NEWEST: (_Key("created_at", True, "datetime"), _Key("id", True, "int")),
    Sort.DUE: (_Key("resolution_due", False, "datetime", nullable=True), _Key("id", False, "int")),
    Sort.DUE_LAST: (
        _Key("resolution_due", True, "datetime", nullable=True),
        _Key("id", True, "int"),
    ),
    Sort.PRIORITY: (
        _Key("priority_rank", False, "int"),
        _Key("created_at", True, "datetime"),
        _Key("id", True, "int"),
    ),
}


def _order(key: _Key, reverse: bool) -> OrderBy:
    descending = key.descending != reverse
    # Nulls sit at the end of the forward order, so at the start of the reversed one.
    nulls = {"nulls_first": True} if reverse else {"nulls_last": True}
    expression = F(key.name)
    if not key.nullable:
        return expression.desc() if descending else expression.asc()
    return expression.desc(**nulls) if descending else expression.asc(**nulls)


def _strictly_after(key: _Key, value: Any, reverse: bool) -> Q:
    descending = key.descending != reverse
    if value is None:  # in the null block: forward nothing follows it, reversed every value does
        return Q(pk__in=[]) if not reverse else Q(**{f"{key.name}__isnull": False})
    condition = Q(**{f"{key.name}__{'lt' if descending else 'gt'}": value})
    if key.nullable and not reverse:
        condition |= Q(**{f"{key.name}__isnull": True})
    return condition


def _equal(key: _Key, value: Any) -> Q:
    return Q(**{f"{key.name}__isnull": True}) if value is None else Q(**{key.name: value})


def _beyond(keys: Sequence[_Key], values: Sequence[Any], reverse: bool) -> Q:
    """Rows strictly beyond the cursor in the (possibly reversed) sort order."""
    condition = Q(pk__in=[])
    for index, key in enumerate(keys):
        step = _strictly_after(key, values[index], reverse)
        for previous, value in zip(keys[:index], values[:index], strict=True):
            step &= _equal(previous, value)
        condition |= step
    return condition


def cursor_encode(keys: Sequence[_Key], row: Request) -> str:
    values = []
    for key in keys:
        value = getattr(row, key.name)
        values.append(value.isoformat() if isinstance(value, datetime) else value)
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def cursor_decode(keys: Sequence[_Key], token: str) -> list[Any] | None:
    """The cursor's values, or None for a token a query cannot use as it is: not one of
    ours, or with a date that does not exist, a date without a time zone, or a number
    out of the database's range (console and API alike answer "first page" / 422)."""
    try:
        raw = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    if not isinstance(raw, list) or len(raw) != len(keys):
        return None
    values: list[Any] = []
    for key, value in zip(keys, raw, strict=True):
        try:
            decoded = _cursor_value(key, value)
        except (ValueError, OverflowError):
            return None
        if decoded is _INVALID:
            return None
        values.append(decoded)
    return values


_INVALID = object()


def _cursor_value(key: _Key, value: Any) -> Any:
    if value is None:
        return None if key.nullable else _INVALID
    if key.kind == "int":
        usable = isinstance(value, int) and not isinstance(value, bool)
        return value if usable and -_BIGINT < value < _BIGINT else _INVALID
    moment = parse_datetime(value) if key.kind == "datetime" and isinstance(value, str) else None
    if moment is None or timezone.is_naive(moment):
        return _INVALID
    moment.astimezone(timezone.get_fixed_timezone(0))  # OverflowError at the calendar's ends
    return moment


@dataclass
class QueuePage:
    rows: list[Request] = field(default_factory=list)
    next_cursor: str | None = None
    previous_cursor: str | None = None


def queue_page(
    requests: QuerySet[Request],
    *,
    sort: Sort | str = Sort.NEWEST,
    after: str = "",
    before: str = "",
    size: int = PAGE_SIZE,
) -> QueuePage:
    """One page of requests after (or before) a cursor: two queries, whatever the page."""
    keys = SORT_KEYS[Sort(sort)]
    if Sort(sort) is Sort.PRIORITY:
        requests = requests.annotate(priority_rank=_PRIORITY_RANK)
    reverse = bool(before) and not after
    cursor = cursor_decode(keys, after or before) if (after or before) else None
    if cursor is not None:
        requests = requests.filter(_beyond(keys, cursor, reverse))
    ordered = requests.order_by(*(_order(key, reverse) for key in keys))
    # A deferred join: the page's keys first, on the request table alone (an index walk
    # or a top-N sort of narrow rows), then those rows with what they show. Joined
    # first, PostgreSQL fetched every match's related rows before sorting (1,862 for a
    # category's month, 54 ms against 8 ms).
    chosen = list(ordered.values_list("pk", flat=True)[: size + 1])
    found = requests.filter(pk__in=chosen).select_related("category", "entity", "assignee")
    by_pk = {row.pk: row for row in found} if chosen else {}
    rows = [by_pk[pk] for pk in chosen if pk in by_pk]
    more = len(rows) > size
    rows = rows[:size]
    if reverse:
        rows.reverse()
    page = QueuePage(rows=rows)
    if rows:
        if more or (reverse and cursor is not None):
            page.next_cursor = cursor_encode(keys, rows[-1])
        if (more and reverse) or (not reverse and cursor is not None):
            page.previous_cursor = cursor_encode(keys, rows[0])
    return page


# --- SLA badge from the row's own columns ---------------------------------------------------


@dataclass(frozen=True)
class SlaBadge:
    code: str  # none | running | warned | breached | paused | met | stopped
    label: Any


_BADGE_LABELS = {
    "none": _("No clock"),
    "running": _("On track"),
    "warned": _("At risk"),
    "breached": _("Overdue"),
    "paused": _("Paused"),
    "met": _("Met"),
    "stopped": _("Stopped"),
}


def sla_badge(request: Request, *, now: datetime) -> SlaBadge:
    """The resolution clock's state for a list row, without any query."""
    state = request.sla_resolution_state
    if state in (SlaState.MET, SlaState.PAUSED, SlaState.STOPPED):
        code = str(state)
    elif state == SlaState.BREACHED or request.sla_stage in _LATE_STAGES:
        code = "breached"
    elif state == SlaState.RUNNING:
        if request.resolution_due is not None and request.resolution_due < now:
            code = "breached"
        else:
            code = "warned" if request.sla_stage == SlaStage.WARNED else "running"
    else:
        code = "none"
    return SlaBadge(code=code, label=_BADGE_LABELS[code])


# --- for the staff API: the assignee filter and a strict cursor check ------------------------

UNASSIGNED = "none"
ME = "me"
_BIGINT = 2**63


def queue_filter_assignee(
    requests: QuerySet[Request], *, user: User, assignee: str
) -> QuerySet[Request]:
    """Narrow a queue to one assignee: `me`, `none` (nobody), a user id or a username."""
    assignee = assignee.strip()
    if not assignee:
        return requests
    if assignee == ME:
        return requests.filter(assignee_id=user.pk)
    if assignee == UNASSIGNED:
        return requests.filter(assignee__isnull=True)
    if assignee.isascii() and assignee.isdigit():
        return (
            requests.filter(assignee_id=int(assignee))
            if int(assignee) < _BIGINT
            else requests.none()
        )
    return requests.filter(assignee__username=assignee)


def cursor_valid(sort: Sort | str, token: str) -> bool:
    """Whether `token` is a cursor of this sort that a query can use as it is."""
    return cursor_decode(SORT_KEYS[Sort(sort)], token) is not None
