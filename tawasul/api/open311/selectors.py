"""What Open311 shows: services (our categories) and the public face of requests.

Public data only. A request is listed only if it came in through Open311, and
only its progress is shown: the category, the receiving entity, the status, the
dates and the resolution's label. Nothing the person wrote (their subject and
description may name them or others) and nothing about the person is ever shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Prefetch, QuerySet

from tawasul.cases.models import OPEN_STATUSES, Category, Channel, Event, Kind, Request, Status
from tawasul.directory.models import Entity

MAX_RESULTS = 1000


def services_active() -> list[Category]:
    """The active categories, in tree order."""
    return list(Category.objects.filter(is_active=True).order_by("path"))


def service_roots(categories: list[Category]) -> dict[str, Category]:
    """The top-level category of each category, by path (one query)."""
    step = Category.steplen
    paths = {category.path[:step] for category in categories}
    return {root.path: root for root in Category.objects.filter(path__in=paths)}


def service_for_code(code: str) -> Category | None:
    return Category.objects.filter(code=code, is_active=True).first()


def service_kinds(category: Category) -> list[str]:
    """The kinds of request a category takes, in the order of `Kind`."""
    return [kind for kind in Kind.values if category.allows(kind)]


def entities_receiving() -> list[Entity]:
    return list(Entity.objects.filter(is_active=True).order_by("path"))


@dataclass(frozen=True)
class RequestFilter:
    """The filters of `GET requests`; `tracking_numbers`, when given, override the rest."""

    tracking_numbers: list[str] | None = None
    service_codes: list[str] = field(default_factory=list)
    start: datetime | None = None
    end: datetime | None = None
    statuses: list[str] = field(default_factory=list)


def requests_open311() -> QuerySet[Request]:
    """Every request that came in through Open311, with what its public face needs."""
    return Request.objects.filter(channel=Channel.OPEN311).select_related("category", "entity")


def requests_public(
    query: RequestFilter, *, offset: int = 0, limit: int = MAX_RESULTS, notes: bool = False
) -> list[Request]:
    """The Open311 requests matching the filters, newest first, one page of them."""
    requests = requests_open311()
    if query.tracking_numbers is not None:
        requests = requests.filter(tracking_number__in=query.tracking_numbers)
    else:
        requests = _filtered(requests, query)
    if notes:
        public_events = Event.objects.filter(is_public=True).order_by("created_at", "id")
        requests = requests.prefetch_related(
            Prefetch("events", queryset=public_events, to_attr="public_events")
        )
    return list(requests.order_by("-created_at", "-id")[offset : offset + limit])


def _filtered(requests: QuerySet[Request], query: RequestFilter) -> QuerySet[Request]:
    if query.service_codes:
        requests = requests.filter(category__code__in=query.service_codes)
    if query.start is not None:
        requests = requests.filter(created_at__gte=query.start)
    if query.end is not None:
        requests = requests.filter(created_at__lte=query.end)
    if query.statuses == ["open"]:
        requests = requests.filter(status__in=OPEN_STATUSES)
    elif query.statuses == ["closed"]:
        requests = requests.exclude(status__in=OPEN_STATUSES)
    return requests


def request_public(tracking_number: str) -> Request | None:
    return requests_open311().filter(tracking_number=tracking_number).first()


def is_closed(request: Request) -> bool:
    return request.status in (Status.CLOSED, Status.CANCELLED)
