"""Domain errors: what went wrong, in words a person can read in Arabic and English.

Services raise these; delivery layers (views, API, commands) turn them into
the right status code and show `message` in the active language. `messages()`
gives both languages at once for the JSON error shape.
"""

from __future__ import annotations

from typing import Any

from django.utils.functional import Promise
from django.utils.translation import override


class DomainError(Exception):
    """Base of every error a service raises on purpose."""

    code = "domain_error"
    status = 400

    def __init__(
        self,
        message: str | Promise,
        *,
        code: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        self.message = message
        if code:
            self.code = code
        self.details = details or {}
        super().__init__(str(message))

    def messages(self) -> dict[str, str]:
        """The message in Arabic and in English."""
        result = {}
        for language in ("ar", "en"):
            with override(language):
                result[language] = str(self.message)
        return result

    def __str__(self) -> str:
        return str(self.message)


class InvalidInput(DomainError):
    code = "invalid"
    status = 422


class IllegalTransition(DomainError):
    code = "illegal_transition"
    status = 409


class Conflict(DomainError):
    code = "conflict"
    status = 409


class AccessDenied(DomainError):
    code = "forbidden"
    status = 403


class NotFound(DomainError):
    code = "not_found"
    status = 404


class RateLimited(DomainError):
    code = "rate_limited"
    status = 429
