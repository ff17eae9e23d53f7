"""What every inbound webhook checks before it is believed: the account it names, the
signature over the exact bytes received, and the time it claims (a replay window).
Idempotency is the inbound store's (`InboundMessage` is unique per platform message id)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import time
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime

from django.conf import settings
from django.http import JsonResponse

from tawasul.channels.errors import WebhookRefused
from tawasul.channels.models import ChannelAccount

logger = logging.getLogger(__name__)


def account_for_webhook(public_id: str | uuid.UUID, *kinds: str) -> ChannelAccount:
    """The active account of one of `kinds` with this public id, else `WebhookRefused` (404:
    nothing tells a prober whether the account exists but is off)."""
    try:
        key = public_id if isinstance(public_id, uuid.UUID) else uuid.UUID(str(public_id))
    except ValueError:
        raise WebhookRefused("unknown account", status=404) from None
    account = (
        ChannelAccount.objects.select_related("centre")
        .filter(public_id=key, kind__in=kinds, is_active=True)
        .first()
    )
    if account is None:
        raise WebhookRefused("unknown account", status=404)
    return account


def webhook_refusal(error: WebhookRefused, *, channel: str, account: object = None) -> JsonResponse:
    """The answer to a refused webhook, `{"error": <code>}` with its status, and one log line
    (the channel, the account's row id if known, the code: never the payload)."""
    logger.info("%s webhook refused: account=%s code=%s", channel, account, error.code)
    return JsonResponse({"error": error.code}, status=error.status)


def hmac_sha256(secret: str, body: bytes) -> bytes:
    return hmac.new(secret.encode(), body, hashlib.sha256).digest()


def hmac_sha256_hex(secret: str, body: bytes) -> str:
    return hmac_sha256(secret, body).hex()


def hmac_sha256_base64(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac_sha256(secret, body)).decode("ascii")


def signature_check(*, given: str | None, expected: str, secret: str) -> None:
    """Refuse unless a secret is configured and `given` equals `expected` (constant time)."""
    if not secret:
        raise WebhookRefused("the account has no signing secret", code="bad_signature")
    if not given or not hmac.compare_digest(given.strip().encode(), expected.encode()):
        raise WebhookRefused("bad signature", code="bad_signature")


def epoch_seconds(value: object) -> float | None:
    """A provider's Unix time — seconds or milliseconds, a number or digits — in seconds;
    None if it is none of these."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds / 1000 if seconds > 10_000_000_000 else seconds


def epoch_datetime(value: object) -> datetime | None:
    """`epoch_seconds` as an aware datetime (UTC); None if unreadable or out of range."""
    seconds = epoch_seconds(value)
    if seconds is None:
        return None
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def timestamp_check(seconds: float | int | str | None, *, now: float | None = None) -> None:
    """Refuse a message claiming a time outside the window (`TAWASUL_WEBHOOK_WINDOW_SECONDS`)
    around now: an old message replayed, or a clock far off."""
    claimed = epoch_seconds(seconds)
    if claimed is None:
        raise WebhookRefused("missing or bad timestamp", status=400)
    current = time.time() if now is None else now
    if abs(current - claimed) > settings.TAWASUL_WEBHOOK_WINDOW_SECONDS:
        raise WebhookRefused("timestamp outside the window", code="stale")


# --- our own signature: SMS gateways' relays and the telephony system ----------------------

TIMESTAMP_HEADER = "X-Tawasul-Timestamp"
SIGNATURE_HEADER = "X-Tawasul-Signature"


def tawasul_signature(secret: str, timestamp: str, body: bytes) -> str:
    """`sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">`: what a sender of our signed webhooks
    puts in `X-Tawasul-Signature` (the time is signed with the body, so it cannot be moved)."""
    return "sha256=" + hmac_sha256_hex(secret, timestamp.encode() + b"." + body)


def tawasul_signed_check(headers: Mapping[str, str], *, secret: str, body: bytes) -> None:
    """Refuse unless the signed time is within the window (a missing or unreadable one: 400)
    and the signature over it and the exact body matches."""
    timestamp = (headers.get(TIMESTAMP_HEADER) or "").strip()
    timestamp_check(timestamp)
    signature_check(
        given=headers.get(SIGNATURE_HEADER),
        expected=tawasul_signature(secret, timestamp, body),
        secret=secret,
    )
