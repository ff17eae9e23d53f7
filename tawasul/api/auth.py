"""Who is calling: a beneficiary's app token, a staff token or a partner key.

Each authenticator also applies the caller's rate limit, so every authenticated
endpoint is limited without remembering to say so. Scopes are checked here too:
an endpoint states the scope it needs in its `auth=`.
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from ninja.security import APIKeyHeader, HttpBearer

from tawasul.api import credentials
from tawasul.api.models import ApiClient, BeneficiaryToken, PersonalAccessToken, Scope
from tawasul.core.errors import AccessDenied, RateLimited


def rate_limit(*, bucket: str, per_minute: int) -> None:
    """A fixed one-minute window per caller, counted in the shared cache (Redis)."""
    window = int(time.time() // 60)
    key = f"api-rate:{bucket}:{window}"
    cache.add(key, 0, timeout=90)
    try:
        count = cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.set(key, 1, timeout=90)
        count = 1
    if count > per_minute:
        raise RateLimited(
            _("Too many calls. Wait a minute and try again."),
            code="rate_limited",
            details={"limit_per_minute": per_minute, "retry_after": 60 - int(time.time() % 60)},
        )


def _ensure_scope(granted: list[str], needed: Scope | None) -> None:
    if needed is not None and needed not in granted:
        raise AccessDenied(
            _("This credential does not have the scope this call needs."),
            code="insufficient_scope",
            details={"scope": str(needed)},
        )


class BeneficiaryAuth(HttpBearer):
    """`Authorization: Bearer twa_…` — an access token from the sign-in code exchange."""

    openapi_scheme = "bearer"

    def authenticate(self, request: HttpRequest, token: str) -> BeneficiaryToken | None:
        found = credentials.beneficiary_token_for(token)
        if found is None:
            return None
        rate_limit(bucket=f"b{found.beneficiary_id}", per_minute=settings.TAWASUL_API_RATE)
        return found


class StaffAuth(HttpBearer):
    """`Authorization: Bearer twp_…` — a staff member's personal access token."""

    def __init__(self, scope: Scope | None = None) -> None:
        super().__init__()
        self.scope = scope

    def authenticate(self, request: HttpRequest, token: str) -> PersonalAccessToken | None:
        found = credentials.personal_token_for(token)
        if found is None:
            return None
        rate_limit(bucket=f"u{found.user_id}", per_minute=settings.TAWASUL_API_RATE)
        _ensure_scope(found.scopes, self.scope)
        return found


class PartnerAuth(APIKeyHeader):
    """`X-API-Key: twk_…` — a partner system's key, with its own scopes and rate."""

    param_name = "X-API-Key"

    def __init__(self, scope: Scope | None = None) -> None:
        super().__init__()
        self.scope = scope

    def authenticate(self, request: HttpRequest, key: str | None) -> ApiClient | None:
        client = credentials.api_client_for_key(key or "")
        if client is None:
            return None
        rate_limit(bucket=f"k{client.pk}", per_minute=client.rate_limit_per_minute)
        _ensure_scope(client.scopes, self.scope)
        return client


def beneficiary_of(request: HttpRequest) -> Any:
    """The signed-in beneficiary of an app call."""
    token: BeneficiaryToken = request.auth  # type: ignore[attr-defined]
    return token.beneficiary


def staff_of(request: HttpRequest) -> Any:
    """The staff user of a personal-token call."""
    token: PersonalAccessToken = request.auth  # type: ignore[attr-defined]
    return token.user


def client_of(request: HttpRequest) -> ApiClient:
    client: ApiClient = request.auth  # type: ignore[attr-defined]
    return client


beneficiary_auth = BeneficiaryAuth()
