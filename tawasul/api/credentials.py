"""Issue, check and revoke API credentials.

A credential is `<kind prefix>_<random>`; the random part has 256 bits. Only its
SHA-256 digest is stored, so a database leak reveals no usable token.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tawasul.api.models import (
    ApiClient,
    BeneficiaryToken,
    Credential,
    PersonalAccessToken,
    Scope,
    TokenKind,
)
from tawasul.core.errors import InvalidInput

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from tawasul.beneficiaries.models import Beneficiary
    from tawasul.directory.models import Entity

KEY_PREFIX = "twk"  # partner API key
PAT_PREFIX = "twp"  # staff personal access token
ACCESS_PREFIX = "twa"  # beneficiary access token
REFRESH_PREFIX = "twr"  # beneficiary refresh token
STAFF_SCOPES = frozenset({Scope.REQUESTS_READ, Scope.REQUESTS_WRITE})
PARTNER_SCOPES = frozenset(Scope)


def credential_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _new_secret(kind: str) -> tuple[str, str]:
    """A new credential and its public prefix (kind plus six characters)."""
    raw = f"{kind}_{secrets.token_urlsafe(32)}"
    return raw, raw[:10]


def scopes_clean(values: Iterable[str], allowed: frozenset[Scope]) -> list[str]:
    scopes = sorted({str(value).strip() for value in values if str(value).strip()})
    unknown = [scope for scope in scopes if scope not in allowed]
    if unknown:
        raise InvalidInput(
            _("Unknown scope. Choose from the list of scopes."),
            code="unknown_scope",
            details={"field": "scopes", "unknown": unknown, "allowed": sorted(allowed)},
        )
    return scopes


def _live(credential: Credential | None, now: datetime) -> bool:
    return (
        credential is not None
        and credential.revoked_at is None
        and (credential.expires_at is None or credential.expires_at > now)
    )


def _touch(credential: Credential, now: datetime) -> None:
    """Record use at most once a minute (no write on every call)."""
    last = credential.last_used_at
    if last is None or now - last > timedelta(minutes=1):
        type(credential)._default_manager.filter(pk=credential.pk).update(last_used_at=now)
        credential.last_used_at = now


# --- Partner keys -------------------------------------------------------------------


@dataclass(frozen=True)
class Issued:
    """A newly issued credential: the secret (shown once) and its stored row."""

    secret: str
    record: Credential


def api_client_create(
    *,
    name: str,
    scopes: Iterable[str] = (),
    rate_limit_per_minute: int = 600,
    entity: Entity | None = None,
    contact: str = "",
) -> Issued:
    name = name.strip()
    if not name:
        raise InvalidInput(_("A name is required."), code="required", details={"field": "name"})
    if ApiClient.objects.filter(name=name).exists():
        raise InvalidInput(
            _("A client with this name exists already."),
            code="duplicate_name",
            details={"field": "name"},
        )
    raw, prefix = _new_secret(KEY_PREFIX)
    client = ApiClient.objects.create(
        name=name,
        prefix=prefix,
        digest=credential_digest(raw),
        scopes=scopes_clean(scopes, PARTNER_SCOPES),
        rate_limit_per_minute=max(1, rate_limit_per_minute),
        entity=entity,
        contact=contact,
    )
    return Issued(secret=raw, record=client)


def api_client_rotate(*, client: ApiClient) -> Issued:
    """A new key for the client; the old one stops working at once."""
    raw, prefix = _new_secret(KEY_PREFIX)
    client.prefix = prefix
    client.digest = credential_digest(raw)
    client.revoked_at = None
    client.save(update_fields=["prefix", "digest", "revoked_at"])
    return Issued(secret=raw, record=client)


def api_client_for_key(raw: str) -> ApiClient | None:
    if not raw.startswith(f"{KEY_PREFIX}_"):
        return None
    now = timezone.now()
    client = (
        ApiClient.objects.select_related("entity").filter(digest=credential_digest(raw)).first()
    )
    if client is None or not _live(client, now):
        return None
    _touch(client, now)
    return client


# --- Staff personal access tokens ---------------------------------------------------


def personal_token_create(
    *, user: User, name: str, scopes: Iterable[str], days: int | None = 90
) -> Issued:
    name = name.strip()
    if not name:
        raise InvalidInput(_("A name is required."), code="required", details={"field": "name"})
    raw, prefix = _new_secret(PAT_PREFIX)
    token = PersonalAccessToken.objects.create(
        user=user,
        name=name,
        prefix=prefix,
        digest=credential_digest(raw),
        scopes=scopes_clean(scopes, STAFF_SCOPES),
        expires_at=timezone.now() + timedelta(days=days) if days else None,
    )
    return Issued(secret=raw, record=token)


def personal_token_for(raw: str) -> PersonalAccessToken | None:
    if not raw.startswith(f"{PAT_PREFIX}_"):
        return None
    now = timezone.now()
    token = (
        PersonalAccessToken.objects.select_related("user")
        .filter(digest=credential_digest(raw))
        .first()
    )
    if token is None or not _live(token, now) or not token.user.is_active:
        return None
    _touch(token, now)
    return token


def credential_revoke(credential: Credential) -> None:
    if credential.revoked_at is None:
        credential.revoked_at = timezone.now()
        credential.save(update_fields=["revoked_at"])


# --- Beneficiary app tokens ---------------------------------------------------------


@dataclass(frozen=True)
class TokenPair:
    access: str
    refresh: str
    access_expires_at: datetime
    refresh_expires_at: datetime


def _lifetimes() -> tuple[timedelta, timedelta]:
    return (
        timedelta(minutes=settings.TAWASUL_API_ACCESS_MINUTES),
        timedelta(days=settings.TAWASUL_API_REFRESH_DAYS),
    )


def _issue_pair(beneficiary: Beneficiary, family: str) -> TokenPair:
    now = timezone.now()
    access_life, refresh_life = _lifetimes()
    access, access_prefix = _new_secret(ACCESS_PREFIX)
    refresh, refresh_prefix = _new_secret(REFRESH_PREFIX)
    BeneficiaryToken.objects.bulk_create(
        [
            BeneficiaryToken(
                beneficiary=beneficiary,
                kind=TokenKind.ACCESS,
                family=family,
                prefix=access_prefix,
                digest=credential_digest(access),
                expires_at=now + access_life,
            ),
            BeneficiaryToken(
                beneficiary=beneficiary,
                kind=TokenKind.REFRESH,
                family=family,
                prefix=refresh_prefix,
                digest=credential_digest(refresh),
                expires_at=now + refresh_life,
            ),
        ]
    )
    return TokenPair(
        access=access,
        refresh=refresh,
        access_expires_at=now + access_life,
        refresh_expires_at=now + refresh_life,
    )


def beneficiary_tokens_issue(*, beneficiary: Beneficiary) -> TokenPair:
    """A new pair after a verified sign-in code: a new family."""
    return _issue_pair(beneficiary, secrets.token_hex(16))


def _invalid_refresh() -> InvalidInput:
    return InvalidInput(
        _("This refresh token is not valid any more. Sign in again."),
        code="invalid_refresh_token",
        details={"field": "refresh"},
    )


def beneficiary_tokens_refresh(*, refresh: str) -> TokenPair:
    """Exchange a refresh token for a new pair; a reused token revokes its family."""
    now = timezone.now()
    with transaction.atomic():
        token = (
            BeneficiaryToken.objects.select_for_update()
            .select_related("beneficiary")
            .filter(digest=credential_digest(refresh), kind=TokenKind.REFRESH)
            .first()
        )
        if token is None:
            raise _invalid_refresh()
        if token.used_at is not None:
            _family_revoke(token.family, now)
            reused = True
        elif not _live(token, now):
            raise _invalid_refresh()
        else:
            reused = False
            token.used_at = now
            token.save(update_fields=["used_at"])
            pair = _issue_pair(token.beneficiary, token.family)
    if reused:  # the revocation must stay committed: raise after the block
        raise _invalid_refresh()
    return pair


def _family_revoke(family: str, now: datetime) -> int:
    return BeneficiaryToken.objects.filter(family=family, revoked_at__isnull=True).update(
        revoked_at=now
    )


def beneficiary_token_for(raw: str) -> BeneficiaryToken | None:
    if not raw.startswith(f"{ACCESS_PREFIX}_"):
        return None
    now = timezone.now()
    token = (
        BeneficiaryToken.objects.select_related("beneficiary")
        .filter(digest=credential_digest(raw), kind=TokenKind.ACCESS)
        .first()
    )
    return token if _live(token, now) else None


def beneficiary_sign_out(*, token: BeneficiaryToken) -> int:
    """Revoke every token of the sign-in the access token belongs to."""
    return _family_revoke(token.family, timezone.now())
