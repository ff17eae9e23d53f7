"""What every list of the API shares: strict query parameters and keyset cursors.

A cursor is the (created_at, id) of the last row of a page, base64-encoded JSON:
opaque to clients, stable under inserts, and as fast on page 1,000 as on page 1.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, Protocol, TypeVar

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from tawasul.core.errors import InvalidInput


def ensure_known_parameters(request: HttpRequest, names: Iterable[str]) -> None:
    """An unknown query parameter is a mistake (a typo in `limit`?): say so rather than
    silently ignore it."""
    unknown = sorted(set(request.GET) - set(names))
    if unknown:
        raise InvalidInput(
            _("Unknown query parameter."),
            code="unknown_parameter",
            details={"field": unknown[0], "fields": unknown[:10]},
        )


def cursor_encode(created_at: datetime, pk: int) -> str:
    raw = json.dumps([created_at.isoformat(), pk]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def cursor_decode(cursor: str) -> tuple[datetime, int]:
    """The (created_at, id) a cursor names; 422 `invalid_cursor` for anything else."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        stamp, pk = json.loads(raw)
        created_at = datetime.fromisoformat(stamp)
        if created_at.tzinfo is None or not isinstance(pk, int) or isinstance(pk, bool):
            raise ValueError(cursor)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise InvalidInput(
            _("This cursor is not valid. Start again from the first page."),
            code="invalid_cursor",
            details={"field": "cursor"},
        ) from None
    return created_at, pk


class _Timestamped(Protocol):
    pk: Any
    created_at: datetime


Row = TypeVar("Row", bound=_Timestamped)


def keyset_page(rows: Sequence[Row], limit: int) -> tuple[list[Row], str | None]:
    """A page from `limit + 1` rows fetched after the cursor, and the next page's cursor
    (None at the end)."""
    page = list(rows[:limit])
    more = len(rows) > limit
    return page, cursor_encode(page[-1].created_at, page[-1].pk) if more and page else None
