"""`Idempotency-Key`: a retried call returns the first response and changes nothing.

The record is inserted in the same transaction as the work it guards. A
concurrent retry with the same key waits on the unique index until the first
call commits, then finds the stored response and replays it; if the first call
fails, its record rolls back with it and the retry runs afresh.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tawasul.api.models import IdempotencyRecord
from tawasul.core.errors import Conflict, InvalidInput

HEADER = "Idempotency-Key"
MAX_KEY = 100
Produced = tuple[int, dict[str, Any]]


def _fingerprint(request: HttpRequest) -> str:
    digest = hashlib.sha256(f"{request.method} {request.path}\n".encode())
    if (request.content_type or "").startswith("multipart/"):
        for name in sorted(request.POST):
            for value in request.POST.getlist(name):
                digest.update(f"{name}={value}\n".encode())
        for name in sorted(request.FILES):
            for upload in request.FILES.getlist(name):
                digest.update(f"{name}:{upload.name}:".encode())
                for chunk in upload.chunks():
                    digest.update(chunk)
                upload.seek(0)
    else:
        digest.update(request.body)
    return digest.hexdigest()


def _key(request: HttpRequest) -> str:
    key = request.headers.get(HEADER, "").strip()
    if len(key) > MAX_KEY or not key.isprintable() or not key.isascii():
        raise InvalidInput(
            _("The Idempotency-Key header must be at most 100 printable ASCII characters."),
            code="invalid_idempotency_key",
            details={"header": HEADER},
        )
    return key


def idempotent(
    request: HttpRequest,
    *,
    owner: str,
    produce: Callable[[], Produced],
    response: HttpResponse | None = None,
) -> Produced:
    """Run `produce` once per (owner, key); replay its (status, body) on retries."""
    key = _key(request)
    if not key:
        return produce()
    fingerprint = _fingerprint(request)
    try:
        with transaction.atomic():
            record = IdempotencyRecord.objects.create(owner=owner, key=key, fingerprint=fingerprint)
            status, body = produce()
            record.status_code = status
            record.body = body
            record.save(update_fields=["status_code", "body"])
            return status, body
    except IntegrityError:
        existing = IdempotencyRecord.objects.filter(owner=owner, key=key).first()
        if existing is None:
            raise
    if existing.fingerprint != fingerprint:
        raise InvalidInput(
            _("This Idempotency-Key was used for a different call."),
            code="idempotency_key_reused",
            details={"header": HEADER},
        )
    if not existing.status_code:
        raise Conflict(_("The first call with this key is still running."), code="in_progress")
    if response is not None:
        response["Idempotent-Replayed"] = "true"
    return existing.status_code, existing.body


def idempotency_purge(*, now: Any = None) -> int:
    """Forget records older than the replay window."""
    cutoff = (now or timezone.now()) - timedelta(hours=settings.TAWASUL_API_IDEMPOTENCY_HOURS)
    deleted, _rows = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
