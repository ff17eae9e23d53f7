"""Schemas shared by the API's routers."""

from __future__ import annotations

from typing import Any

from ninja import Schema


class Bilingual(Schema):
    ar: str
    en: str


class ErrorOut(Schema):
    """Every error: a stable code, the message in Arabic and English, and details."""

    code: str
    message: Bilingual
    details: dict[str, Any]


# The error statuses an operation may answer with, for `response={…}`.
ERROR_STATUSES = (400, 401, 403, 404, 409, 413, 415, 422, 429)
ERRORS: dict[int, type[Schema]] = dict.fromkeys(ERROR_STATUSES, ErrorOut)
