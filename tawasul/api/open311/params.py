"""Reading Open311 parameters: an empty parameter is the same as an absent one.

Every problem with a parameter is an `Open311Error` carrying the HTTP status the
specification gives it (404 unknown service, request or token; 403 missing or
bad `api_key`; 400 everything else).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, time, timedelta

from django.http import QueryDict
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.functional import Promise
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from tawasul.core.ids import tracking_number_parse

MAX_DAYS = 90
MAX_PAGE = 100_000
MAX_IDS = 1000
YEARS = (2000, 2999)  # dates outside are mistakes (and would overflow the window)


class Open311Error(Exception):
    """An error to answer in Open311's shape with this status."""

    def __init__(self, status: int, description: str | Promise) -> None:
        super().__init__(str(description))
        self.status = status
        self.description = description


def bad(description: str | Promise) -> Open311Error:
    return Open311Error(400, description)


def _invalid(name: str) -> Open311Error:
    return bad(format_lazy(_("The parameter “{name}” is not valid."), name=name))


class Params:
    """The parameters of a call (query string or form), stripped; empty means absent."""

    def __init__(self, data: QueryDict) -> None:
        self.data = data

    def get(self, name: str) -> str | None:
        value = (self.data.get(name) or "").strip()
        if "\x00" in value:
            raise _invalid(name)
        return value or None

    def names(self) -> list[str]:
        return list(self.data.keys())

    def number(self, name: str, *, low: float, high: float) -> float | None:
        text = self.get(name)
        if text is None:
            return None
        try:
            value = float(text)
        except ValueError:
            raise _invalid(name) from None
        if not math.isfinite(value) or not low <= value <= high:
            raise _invalid(name)
        return value

    def integer(self, name: str, *, default: int, low: int, high: int) -> int:
        text = self.get(name)
        if text is None:
            return default
        if not text.isascii() or not text.isdigit() or not low <= int(text) <= high:
            raise _invalid(name)
        return int(text)

    def flag(self, name: str) -> bool:
        text = (self.get(name) or "false").lower()
        if text not in ("true", "false"):
            raise _invalid(name)
        return text == "true"

    def listed(self, name: str) -> list[str] | None:
        """A comma-separated list (empty items dropped); None when absent."""
        text = self.get(name)
        if text is None:
            return None
        return [item.strip() for item in text.split(",") if item.strip()]

    def instant(self, name: str) -> datetime | None:
        """An ISO 8601 date or date-time; without a zone it is taken as UTC."""
        text = self.get(name)
        if text is None:
            return None
        try:
            moment = parse_datetime(text)
            day = None if moment else parse_date(text)
        except ValueError:
            raise _invalid(name) from None
        if moment is None and day is not None:
            moment = datetime.combine(day, time.min)
        if moment is None or not YEARS[0] <= moment.year <= YEARS[1]:
            raise _invalid(name)
        return moment if timezone.is_aware(moment) else moment.replace(tzinfo=UTC)


def date_window(
    start: datetime | None, end: datetime | None, *, now: datetime
) -> tuple[datetime, datetime]:
    """The period to search: at most 90 days; the last 90 days when neither end is given."""
    span = timedelta(days=MAX_DAYS)
    if start is not None and end is not None:
        if end < start:
            raise bad(_("The end_date must not be before the start_date."))
        if end - start > span:
            raise bad(_("The period from start_date to end_date may be at most 90 days."))
        return start, end
    if start is not None:
        return start, start + span
    if end is not None:
        return end - span, end
    return now - span, now


STATUSES = ("open", "closed")


def statuses(params: Params) -> list[str]:
    """`status` as a sorted list of open/closed; both (or none) means no filter."""
    values = sorted(set(params.listed("status") or []))
    if any(value not in STATUSES for value in values):
        raise _invalid("status")
    return [] if len(values) == len(STATUSES) else values


def tracking_numbers(params: Params) -> list[str] | None:
    """`service_request_id` as tracking numbers; numbers that cannot exist are dropped."""
    values = params.listed("service_request_id")
    if values is None:
        return None
    if len(values) > MAX_IDS:
        raise _invalid("service_request_id")
    return [digits for value in values if (digits := tracking_number_parse(value))]
