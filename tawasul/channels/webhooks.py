"""Webhooks: partners told of request events by signed HTTP POSTs.

A partner (`ApiClient`) subscribes a URL to some event types, optionally only for
requests under one entity. When a service writes a request `Event`, the same
transaction writes one `WebhookDelivery` per matching active subscription (the
outbox pattern of decision 0004): a rolled-back change sends nothing, a crash
after commit loses nothing. After commit the drain task is woken; a sweep every
minute delivers retries and whatever a missed wake-up left behind. Deliveries are
claimed by a conditional UPDATE with a lease, like the outbox, so any number of
workers may drain at once (at least once, never zero times).

Each event maps to at most one type (`EVENT_TYPES`); internal events (notes,
reveals, SLA steps, category and priority changes) are never sent. The payload
names the request by tracking number and codes only: no person, no staff name,
no message text.

Receiving: every POST carries
    X-Tawasul-Event: request.answered
    X-Tawasul-Delivery: <uuid, the payload's "id"; the same on retries>
    X-Tawasul-Timestamp: <unix seconds of this attempt>
    X-Tawasul-Signature: sha256=<hex HMAC-SHA256(secret, f"{timestamp}.{body}")>
A receiver checks it with `webhook_verify` (or the same few lines in its own
language), rejects old timestamps, and de-duplicates on the delivery id. Any 2xx
answer counts as delivered; anything else is retried with exponential backoff up
to `TAWASUL_WEBHOOK_MAX_ATTEMPTS`, then the delivery is failed (it can be sent
again from the admin or the partner API).
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import ipaddress
import json
import logging
import secrets
import socket
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tawasul.api.models import ClientSubmission
from tawasul.cases.models import Event, EventKind
from tawasul.channels.delivery import outbox_backoff
from tawasul.channels.models import (
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookEventType,
    WebhookSubscription,
)
from tawasul.core.errors import Conflict, InvalidInput, NotFound
from tawasul.core.secrets import SecretUnreadable, secret_decrypt, secret_encrypt
from tawasul.directory.models import Entity

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

    from tawasul.api.models import ApiClient
    from tawasul.cases.models import Request

logger = logging.getLogger(__name__)

T = WebhookEventType
K = EventKind
EVENT_TYPES: dict[str, WebhookEventType] = {
    K.SUBMITTED: T.REQUEST_CREATED,
    K.ASSIGNED: T.REQUEST_ASSIGNED,
    K.CLAIMED: T.REQUEST_ASSIGNED,
    K.STARTED: T.REQUEST_STATUS_CHANGED,
    K.INFO_REQUESTED: T.REQUEST_STATUS_CHANGED,
    K.REPLIED: T.REQUEST_MESSAGE,
    K.BENEFICIARY_REPLIED: T.REQUEST_MESSAGE,
    K.ANSWERED: T.REQUEST_ANSWERED,
    K.OBJECTED: T.REQUEST_OBJECTED,
    K.ACCEPTED: T.REQUEST_CLOSED,
    K.CLOSED_ON_EXPIRY: T.REQUEST_CLOSED,
    K.OBJECTION_REJECTED: T.REQUEST_CLOSED,
    K.MERGED: T.REQUEST_CLOSED,
    K.CANCELLED: T.REQUEST_CLOSED,
    K.REOPENED: T.REQUEST_REOPENED,
    K.FORWARDED: T.REQUEST_FORWARDED,
    K.RETURNED: T.REQUEST_FORWARDED,
}
"""Which request events a partner hears about; every other kind is internal."""

CLOSE_REASONS: dict[str, str] = {
    K.ACCEPTED: "accepted",
    K.CLOSED_ON_EXPIRY: "objection_window_ended",
    K.OBJECTION_REJECTED: "objection_rejected",
    K.MERGED: "merged",
    K.CANCELLED: "cancelled",
}
CACHE_KEY = "webhooks:active-subscriptions:v2"
CACHE_SECONDS = 60
MAX_SUBSCRIPTIONS_PER_CLIENT = 20
MAX_URL = 500
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
CLAIM_LEASE_MARGIN = timedelta(minutes=1)
SIGNATURE_PREFIX = "sha256="
DEFAULT_TOLERANCE = 300
RESPONSE_READ_LIMIT = 64 * 1024


# --- subscriptions ----------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedSubscription:
    """A new subscription and its signing secret (shown once)."""

    secret: str
    subscription: WebhookSubscription


def webhook_url_clean(url: str) -> str:
    """An absolute https URL (http only for this machine, for tests), without credentials."""
    url = (url or "").strip()
    if not url.isprintable():
        raise _invalid_url(_("Enter a valid URL."))
    try:
        URLValidator(schemes=["http", "https"])(url)
        parts = urlsplit(url)
        _port = parts.port  # a port out of range raises here
    except (ValidationError, ValueError):
        raise _invalid_url(_("Enter a valid URL.")) from None
    host = (parts.hostname or "").lower()
    if len(url) > MAX_URL or parts.username or parts.password:
        raise _invalid_url(_("The URL must be at most 500 characters, without a user or password."))
    private = settings.TAWASUL_WEBHOOK_ALLOW_PRIVATE
    if parts.scheme != "https" and not (private and host in LOCAL_HOSTS):
        raise _invalid_url(_("The URL must start with https://."))
    if not private and not _public_host(host):
        raise _invalid_url(_("The URL must point to a public address on the internet."))
    return url


def _public_host(host: str) -> bool:
    """False for this machine and private, link-local or reserved addresses (SSRF guard).

    A name is checked when it is resolved, at each delivery (`_post`).
    """
    if host in LOCAL_HOSTS:
        return False
    try:
        return ipaddress.ip_address(host.strip("[]")).is_global
    except ValueError:
        return True  # a name: checked against what it resolves to when sending


def _resolves_to_public(host: str, port: int) -> bool:
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except OSError:
        return True  # unresolvable: the connection fails and is retried as usual
    return all(ipaddress.ip_address(info[4][0]).is_global for info in infos)


def _invalid_url(message: Any) -> InvalidInput:
    return InvalidInput(message, code="invalid_url", details={"field": "url"})


def webhook_event_types_clean(values: Iterable[str]) -> list[str]:
    types = sorted({str(value).strip() for value in values})
    unknown = [value for value in types if value not in T.values]
    if not types or unknown:
        raise InvalidInput(
            _("Choose one or more event types from the list."),
            code="unknown_event_type",
            details={"field": "event_types", "unknown": unknown, "allowed": list(T.values)},
        )
    return types


def webhook_subscription_create(
    *, client: ApiClient, url: str, event_types: Iterable[str], entity: Entity | None = None
) -> IssuedSubscription:
    """Subscribe `url`; the signing secret is returned once and stored encrypted."""
    url = webhook_url_clean(url)
    types = webhook_event_types_clean(event_types)
    reach = client.entity
    if entity is not None and reach is not None and not entity.path.startswith(reach.path):
        raise InvalidInput(
            _("This entity is outside the client's own entity."),
            code="entity_out_of_reach",
            details={"field": "entity"},
        )
    secret = f"whsec_{secrets.token_urlsafe(32)}"
    with transaction.atomic():
        if client.webhook_subscriptions.count() >= MAX_SUBSCRIPTIONS_PER_CLIENT:
            raise Conflict(
                _("This client has too many webhook subscriptions. Delete one first."),
                code="too_many_subscriptions",
                details={"limit": MAX_SUBSCRIPTIONS_PER_CLIENT},
            )
        subscription = WebhookSubscription.objects.create(
            client=client,
            url=url,
            event_types=types,
            entity=entity,
            secret_encrypted=secret_encrypt(secret),
        )
        webhooks_cache_clear()
    return IssuedSubscription(secret=secret, subscription=subscription)


def webhook_subscription_set_active(
    *, subscription: WebhookSubscription, active: bool
) -> WebhookSubscription:
    with transaction.atomic():
        subscription.is_active = active
        subscription.save(update_fields=["is_active"])
        webhooks_cache_clear()
    return subscription


def webhook_subscription_delete(*, subscription: WebhookSubscription) -> None:
    """Remove the subscription and its delivery log."""
    with transaction.atomic():
        subscription.delete()
        webhooks_cache_clear()


def webhooks_cache_clear() -> None:
    """Forget the cached list now and again after commit (no stale copy of this transaction)."""
    cache.delete(CACHE_KEY)
    transaction.on_commit(lambda: cache.delete(CACHE_KEY), robust=True)


def webhook_entity_by_code(code: str | None) -> Entity | None:
    if code is None or code == "":
        return None
    entity = None
    if code.isascii() and code.isprintable() and len(code) <= 60:
        entity = Entity.objects.filter(code=code, is_active=True).first()
    if entity is None:
        raise InvalidInput(_("Unknown entity."), code="entity_unknown", details={"field": "entity"})
    return entity


# --- selectors (a client sees only its own) -------------------------------------------------


def webhook_subscriptions_of(client: ApiClient) -> QuerySet[WebhookSubscription]:
    return (
        WebhookSubscription.objects.filter(client=client)
        .select_related("entity")
        .order_by("-created_at", "-pk")
    )


def webhook_subscription_for_client(client: ApiClient, public_id: uuid.UUID) -> WebhookSubscription:
    found = webhook_subscriptions_of(client).filter(public_id=public_id).first()
    if found is None:
        raise NotFound(_("No such webhook subscription."))
    return found


def webhook_deliveries_of(
    subscription: WebhookSubscription, *, status: str | None = None, limit: int = 50
) -> list[WebhookDelivery]:
    rows = subscription.deliveries.order_by("-created_at", "-pk")
    if status:
        rows = rows.filter(status=status)
    return list(rows[:limit])


def webhook_delivery_for_client(client: ApiClient, public_id: uuid.UUID) -> WebhookDelivery:
    found = WebhookDelivery.objects.filter(public_id=public_id, subscription__client=client).first()
    if found is None:
        raise NotFound(_("No such webhook delivery."))
    return found


# --- writing deliveries with the event ------------------------------------------------------


@dataclass(frozen=True)
class ActiveSubscription:
    pk: int
    types: tuple[str, ...]
    path: str  # the subscription's own entity filter ("" = none)
    client_id: int
    reach: str | None  # the client's entity path; None = only the client's own submissions


def _active_subscriptions() -> list[ActiveSubscription]:
    """Every active subscription with its client's reach; cached for a minute."""
    cached: list[ActiveSubscription] | None = cache.get(CACHE_KEY)
    if cached is None:
        rows = WebhookSubscription.objects.filter(
            is_active=True, client__revoked_at__isnull=True
        ).values_list("pk", "event_types", "entity__path", "client_id", "client__entity__path")
        cached = [
            ActiveSubscription(pk, tuple(types), path or "", client_id, reach)
            for pk, types, path, client_id, reach in rows
        ]
        cache.set(CACHE_KEY, cached, CACHE_SECONDS)
    return cached


def _submitters(request: Request) -> set[int]:
    return set(
        ClientSubmission.objects.filter(request_id=request.pk).values_list("client_id", flat=True)
    )


def webhooks_enqueue_for_event(event: Event) -> int:
    """Write the event's deliveries, in the event's transaction; return how many.

    A client hears of the requests under its own entity (`ApiClient.entity`) and of
    those it submitted itself; a subscription's entity narrows that further.
    Costs nothing (cache hit) or one small query when nobody subscribes.
    """
    event_type = EVENT_TYPES.get(event.kind)
    if event_type is None:
        return 0
    request = event.request
    here = request.entity.path
    matching = [
        sub
        for sub in _active_subscriptions()
        if event_type in sub.types and here.startswith(sub.path)
    ]
    if any(sub.reach is None or not here.startswith(sub.reach) for sub in matching):
        submitters = _submitters(request)
    else:
        submitters = set()
    candidates = [
        sub.pk
        for sub in matching
        if (sub.reach is not None and here.startswith(sub.reach)) or sub.client_id in submitters
    ]
    if not candidates:
        return 0
    subscriptions = list(
        WebhookSubscription.objects.filter(
            pk__in=candidates, is_active=True, client__revoked_at__isnull=True
        ).values_list("pk", flat=True)
    )
    if not subscriptions:
        return 0
    body = webhook_payload(event=event, event_type=event_type)
    now = timezone.now()
    rows = [_delivery(pk, event, event_type, body, now) for pk in sorted(subscriptions)]
    WebhookDelivery.objects.bulk_create(rows)
    webhooks_wake_after_commit()
    return len(rows)


def _delivery(
    subscription_id: int, event: Event, event_type: str, body: dict[str, Any], now: datetime
) -> WebhookDelivery:
    public_id = uuid.uuid4()
    return WebhookDelivery(
        public_id=public_id,
        subscription_id=subscription_id,
        event=event,
        event_type=event_type,
        payload={"id": str(public_id), **body},
        next_attempt_at=now,
    )


def webhook_payload(*, event: Event, event_type: str) -> dict[str, Any]:
    """What a partner is told (without the per-delivery `id`): codes, never people."""
    request = event.request
    occurred = event.created_at.astimezone(UTC) if event.created_at else timezone.now()
    return {
        "type": event_type,
        "occurred_at": occurred.isoformat().replace("+00:00", "Z"),
        "request": _request_facts(request, event),
        "data": {
            "from_status": event.from_status or None,
            "to_status": event.to_status or None,
            **_event_facts(event),
        },
    }


def _request_facts(request: Request, event: Event) -> dict[str, Any]:
    return {
        "tracking_number": request.tracking_number,
        "status": event.to_status or request.status,
        "kind": request.kind,
        "category": request.category.code,
        "entity": request.entity.code,
        "priority": request.priority,
        "channel": request.channel,
    }


def _event_facts(event: Event) -> dict[str, Any]:
    data = event.data or {}
    if event.kind in (K.FORWARDED, K.RETURNED):
        source, target = data.get("from_entity"), data.get("to_entity")
        codes: dict[Any, str] = dict(
            Entity.objects.filter(pk__in=[source, target]).values_list("pk", "code")
        )
        return {
            "from_entity": codes.get(source),
            "to_entity": codes.get(target),
            "returned": event.kind == K.RETURNED,
        }
    if event.kind in (K.REPLIED, K.BENEFICIARY_REPLIED):
        author = "beneficiary" if event.kind == K.BENEFICIARY_REPLIED else "staff"
        return {"message_id": data.get("message"), "author": author}
    if event.kind == K.ANSWERED:
        return {"resolution_code": data.get("resolution_code") or None}
    if event.kind in CLOSE_REASONS:
        facts: dict[str, Any] = {"reason": CLOSE_REASONS[event.kind]}
        if event.kind == K.MERGED:
            facts["merged_into"] = data.get("tracking_number")
        return facts
    return {}


def webhooks_wake_after_commit() -> None:
    """Ask a worker to drain webhook deliveries once the transaction commits (once per
    transaction; the minute sweep covers a queue that cannot be reached)."""
    connection = transaction.get_connection()
    if connection.in_atomic_block and any(
        entry[1] is _enqueue_drain for entry in connection.run_on_commit
    ):
        return
    transaction.on_commit(_enqueue_drain, robust=True)


def _enqueue_drain() -> None:
    from tawasul.channels.tasks import webhook_drain_task

    webhook_drain_task()


# --- signing ---------------------------------------------------------------------------------


def webhook_signature(secret: str, timestamp: int | str, body: bytes) -> str:
    """`sha256=` and the hex HMAC-SHA256 of `f"{timestamp}.{body}"` under the secret."""
    message = f"{timestamp}.".encode() + body
    return SIGNATURE_PREFIX + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def webhook_verify(
    secret: str,
    timestamp: str | int,
    body: bytes | str,
    signature: str,
    tolerance: int = DEFAULT_TOLERANCE,
    *,
    now: float | None = None,
) -> bool:
    """For receivers: True if `signature` signs `body` at `timestamp` with `secret`, and the
    timestamp is within `tolerance` seconds of now (a replayed old POST is refused).

    Pass the raw body bytes as received, and the `X-Tawasul-Timestamp` and
    `X-Tawasul-Signature` headers as they are.
    """
    try:
        sent_at = int(str(timestamp))
    except ValueError:
        return False
    current = time.time() if now is None else now
    if abs(current - sent_at) > tolerance:
        return False
    raw = body.encode() if isinstance(body, str) else body
    expected = webhook_signature(secret, sent_at, raw)
    return hmac.compare_digest(expected.encode(), str(signature).strip().encode())


def webhook_body(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


# --- draining --------------------------------------------------------------------------------


@dataclass
class WebhookDrainCounts:
    claimed: int = 0
    delivered: int = 0
    retrying: int = 0
    failed: int = 0


class WebhookRefused(Exception):
    """The receiver answered, but not with 2xx."""

    def __init__(self, status: int) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status


class WebhookUnusable(Exception):
    """Sending again cannot help (subscription off, client revoked, secret unreadable)."""


def webhook_backoff(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failure: 1, 2, 4 … minutes, at most 6 hours."""
    return outbox_backoff(attempts)


def _claimable(now: datetime) -> Q:
    return Q(status=WebhookDeliveryStatus.PENDING, next_attempt_at__lte=now) | Q(
        status=WebhookDeliveryStatus.SENDING, claimed_until__lt=now
    )


def _lease(limit: int) -> timedelta:
    """Long enough to send the whole batch even if every receiver times out."""
    return timedelta(seconds=settings.TAWASUL_WEBHOOK_TIMEOUT * limit) + CLAIM_LEASE_MARGIN


def webhook_claim(*, limit: int, now: datetime) -> list[int]:
    """Claim up to `limit` due deliveries for this worker; return the ids it won."""
    candidates = list(
        WebhookDelivery.objects.filter(_claimable(now))
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    lease = now + _lease(limit)
    return [
        pk
        for pk in candidates
        if WebhookDelivery.objects.filter(_claimable(now), pk=pk).update(
            status=WebhookDeliveryStatus.SENDING,
            claimed_until=lease,
            attempts=F("attempts") + 1,
        )
        == 1
    ]


def webhook_drain(*, limit: int = 20) -> int:
    """POST due deliveries; return how many were delivered."""
    claimed = webhook_claim(limit=limit, now=timezone.now())
    if not claimed:
        return 0
    counts = WebhookDrainCounts(claimed=len(claimed))
    deliveries = WebhookDelivery.objects.filter(pk__in=claimed).select_related(
        "subscription", "subscription__client"
    )
    for delivery in deliveries.order_by("pk"):
        try:
            status = webhook_send(delivery)
        except Exception as error:  # one bad receiver must not stop the others
            _record_failure(delivery, error, counts)
        else:
            _record_delivered(delivery, status, counts)
    logger.info(
        "webhook drain: claimed=%d delivered=%d retrying=%d failed=%d",
        counts.claimed,
        counts.delivered,
        counts.retrying,
        counts.failed,
    )
    return counts.delivered


def webhook_send(delivery: WebhookDelivery) -> int:
    """POST the delivery, signed; return the 2xx status or raise."""
    subscription = delivery.subscription
    if not subscription.is_active or subscription.client.revoked_at is not None:
        raise WebhookUnusable("subscription inactive or client revoked")
    try:
        secret = secret_decrypt(subscription.secret_encrypted)
    except SecretUnreadable as error:
        raise WebhookUnusable("secret unreadable") from error
    body = webhook_body(delivery.payload)
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "Tawasul-Webhooks/1",
        "X-Tawasul-Event": delivery.event_type,
        "X-Tawasul-Delivery": str(delivery.public_id),
        "X-Tawasul-Timestamp": str(timestamp),
        "X-Tawasul-Signature": webhook_signature(secret, timestamp, body),
    }
    status = _post(subscription.url, body, headers)
    if not 200 <= status < 300:
        raise WebhookRefused(status)
    return status


class WebhookAddressRefused(Exception):
    """The subscribed name now resolves to a private address: not sent (SSRF guard)."""


def _post(url: str, body: bytes, headers: dict[str, str]) -> int:
    """One POST with `http.client`: no redirects followed, bounded wait and read."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    if not settings.TAWASUL_WEBHOOK_ALLOW_PRIVATE and not _resolves_to_public(host, port):
        raise WebhookAddressRefused(host)
    connection_class = (
        http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    )
    connection = connection_class(
        parts.hostname or "", parts.port, timeout=settings.TAWASUL_WEBHOOK_TIMEOUT
    )
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        response.read(RESPONSE_READ_LIMIT)
        return response.status
    finally:
        connection.close()


def _mine(delivery: WebhookDelivery) -> Q:
    """Still this worker's claim (not re-claimed after the lease ran out)."""
    return Q(
        pk=delivery.pk,
        status=WebhookDeliveryStatus.SENDING,
        claimed_until=delivery.claimed_until,
    )


def _record_delivered(delivery: WebhookDelivery, status: int, counts: WebhookDrainCounts) -> None:
    WebhookDelivery.objects.filter(_mine(delivery)).update(
        status=WebhookDeliveryStatus.DELIVERED,
        delivered_at=timezone.now(),
        claimed_until=None,
        last_response_status=status,
        last_error="",
    )
    counts.delivered += 1


def _record_failure(
    delivery: WebhookDelivery, error: Exception, counts: WebhookDrainCounts
) -> None:
    if (
        isinstance(error, WebhookUnusable)
        or delivery.attempts >= settings.TAWASUL_WEBHOOK_MAX_ATTEMPTS
    ):
        status, next_attempt_at = WebhookDeliveryStatus.FAILED, delivery.next_attempt_at
        counts.failed += 1
    else:
        status = WebhookDeliveryStatus.PENDING
        next_attempt_at = timezone.now() + webhook_backoff(delivery.attempts)
        counts.retrying += 1
    WebhookDelivery.objects.filter(_mine(delivery)).update(
        status=status,
        next_attempt_at=next_attempt_at,
        claimed_until=None,
        last_response_status=error.status if isinstance(error, WebhookRefused) else None,
        last_error=webhook_error_summary(error),
    )


def webhook_error_summary(error: Exception) -> str:
    """The error's class, and our own text where we wrote it (never a URL or a body)."""
    summary = type(error).__name__
    if isinstance(error, WebhookRefused | WebhookUnusable):
        summary = f"{summary}: {error}"
    return summary[:200]


# --- sending again ----------------------------------------------------------------------------


def webhooks_redeliver(*, delivery_ids: Iterable[int], by: AbstractBaseUser | None = None) -> int:
    """Send these deliveries again now (same id and payload), with a fresh set of attempts.

    Deliveries being sent at this moment are left alone. Returns how many were
    rescheduled; the drain is woken after commit.
    """
    ids = sorted(set(delivery_ids))
    with transaction.atomic():
        count = WebhookDelivery.objects.filter(
            pk__in=ids,
            status__in=[
                WebhookDeliveryStatus.PENDING,
                WebhookDeliveryStatus.FAILED,
                WebhookDeliveryStatus.DELIVERED,
            ],
        ).update(
            status=WebhookDeliveryStatus.PENDING,
            next_attempt_at=timezone.now(),
            attempts=0,
            claimed_until=None,
        )
        if count:
            webhooks_wake_after_commit()
    logger.info(
        "webhook redeliver: %d of %d deliveries rescheduled by user %s",
        count,
        len(ids),
        by.pk if by is not None else "-",
    )
    return count


def webhook_delivery_redeliver(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """A partner asks for one delivery again; refused while it is being sent or while
    its subscription is off."""
    if not delivery.subscription.is_active:
        raise Conflict(
            _("The subscription is inactive. Activate it first."), code="subscription_inactive"
        )
    if not webhooks_redeliver(delivery_ids=[delivery.pk]):
        raise Conflict(_("This delivery is being sent right now."), code="in_progress")
    delivery.refresh_from_db()
    return delivery
