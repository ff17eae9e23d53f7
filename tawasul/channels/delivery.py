"""Draining the outbox: claim due rows, send them, record the outcome.

Any number of workers on any number of machines may drain at once. A row is
claimed by one conditional UPDATE (status → sending, with a lease in
`claimed_until`) that only succeeds while the row is still claimable, so two
workers never both claim it. A worker that dies mid-send leaves its rows in
`sending`; once the lease has passed they are claimable again (delivery is
at-least-once: such a row may go out twice, never zero times).

Each claim counts as an attempt, so a message that keeps killing its worker
still ends in `failed`. Failures back off exponentially. Logs carry counts and
error classes only: never a number, an address or a text.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import F, Q
from django.template import TemplateDoesNotExist
from django.utils import timezone

from tawasul.channels.email_out import email_send
from tawasul.channels.errors import ChannelDeliveryError, ChannelRejected
from tawasul.channels.models import ChannelAccount, OutboxChannel, OutboxMessage, OutboxStatus
from tawasul.channels.notifications import UnknownNotification
from tawasul.channels.outbox import SENSITIVE_KEY, outbox_wake_after_commit
from tawasul.channels.senders import account_send
from tawasul.channels.sms import (
    SmsDeliveryError,
    SmsGateway,
    sms_account_render,
    sms_default_route,
)

logger = logging.getLogger(__name__)

CLAIM_LEASE = timedelta(minutes=5)
BACKOFF_FIRST = timedelta(minutes=1)
BACKOFF_MAX = timedelta(hours=6)
_PERMANENT = (UnknownNotification, TemplateDoesNotExist, ChannelRejected)


@dataclass
class DrainCounts:
    claimed: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0


def outbox_backoff(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed attempt: 1, 2, 4, 8 … minutes, at most 6 hours."""
    return min(BACKOFF_FIRST * 2 ** max(attempts - 1, 0), BACKOFF_MAX)


def _claimable(now: datetime) -> Q:
    return Q(status=OutboxStatus.PENDING, next_attempt_at__lte=now) | Q(
        status=OutboxStatus.SENDING, claimed_until__lt=now
    )


def outbox_claim(*, limit: int, now: datetime) -> list[int]:
    """Claim up to `limit` due rows for this worker; return the ids it won."""
    candidates = list(
        OutboxMessage.objects.filter(_claimable(now))
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    lease = now + CLAIM_LEASE
    return [
        pk
        for pk in candidates
        if OutboxMessage.objects.filter(_claimable(now), pk=pk).update(
            status=OutboxStatus.SENDING, claimed_until=lease, attempts=F("attempts") + 1
        )
        == 1
    ]


def outbox_drain(*, limit: int = 100) -> int:
    """Send due outbox messages; return how many were sent."""
    now = timezone.now()
    claimed = outbox_claim(limit=limit, now=now)
    if not claimed:
        return 0
    counts = DrainCounts(claimed=len(claimed))
    messages = OutboxMessage.objects.filter(pk__in=claimed).select_related("request", "account")
    sms_route: tuple[SmsGateway, ChannelAccount | None] | None = None
    for message in messages.order_by("pk"):
        try:
            if message.account_id is not None:
                provider_id = account_send(message)
            elif message.channel == OutboxChannel.SMS:
                sms_route = sms_route or sms_default_route()
                provider_id = _send_sms(message, *sms_route)
            else:
                provider_id = _send_email(message)
        except Exception as error:  # one bad message must not stop the others
            _record_failure(message, error, counts)
        else:
            _record_sent(message, provider_id, counts)
    logger.info(
        "outbox drain: claimed=%d sent=%d retrying=%d failed=%d",
        counts.claimed,
        counts.sent,
        counts.retrying,
        counts.failed,
    )
    return counts.sent


def _send_sms(message: OutboxMessage, gateway: SmsGateway, account: ChannelAccount | None) -> str:
    """An SMS not routed to an account: through the default SMS account (its texts), else
    the platform's gateway."""
    return gateway.send(to=message.recipient, text=sms_account_render(account, message))


def _send_email(message: OutboxMessage) -> str:
    return email_send(message)


def _mine(message: OutboxMessage) -> Q:
    """Still this worker's claim (not re-claimed after our lease ran out)."""
    return Q(pk=message.pk, status=OutboxStatus.SENDING, claimed_until=message.claimed_until)


def _record_sent(message: OutboxMessage, provider_id: str, counts: DrainCounts) -> None:
    scrubbed: dict[str, object] = {"context": {}} if message.context.get(SENSITIVE_KEY) else {}
    OutboxMessage.objects.filter(_mine(message)).update(
        **scrubbed,
        status=OutboxStatus.SENT,
        sent_at=timezone.now(),
        claimed_until=None,
        last_error="",
        provider_message_id=provider_id[:100],
    )
    counts.sent += 1


def _record_failure(message: OutboxMessage, error: Exception, counts: DrainCounts) -> None:
    permanent = isinstance(error, _PERMANENT)
    scrubbed: dict[str, object] = {}
    if permanent or message.attempts >= settings.TAWASUL_OUTBOX_MAX_ATTEMPTS:
        status, next_attempt_at = OutboxStatus.FAILED, message.next_attempt_at
        scrubbed = {"context": {}} if message.context.get(SENSITIVE_KEY) else {}
        counts.failed += 1
    else:
        status = OutboxStatus.PENDING
        next_attempt_at = timezone.now() + outbox_backoff(message.attempts)
        counts.retrying += 1
    OutboxMessage.objects.filter(_mine(message)).update(
        **scrubbed,
        status=status,
        next_attempt_at=next_attempt_at,
        claimed_until=None,
        last_error=outbox_error_summary(error, recipient=message.recipient),
    )


def outbox_error_summary(error: Exception, *, recipient: str) -> str:
    """The error's class and, where we wrote the text ourselves, its summary.

    Other exceptions' texts may quote the address (an SMTP refusal does), so
    only their class is kept; the recipient is scrubbed as a last guard.
    """
    summary = type(error).__name__
    if isinstance(
        error,
        SmsDeliveryError | UnknownNotification | TemplateDoesNotExist | ChannelDeliveryError,
    ):
        summary = f"{summary}: {error}"
    if recipient:
        summary = summary.replace(recipient, "[recipient]")
    return summary[:500]


def outbox_retry(*, message_ids: Iterable[int], by: AbstractBaseUser | None = None) -> int:
    """Make pending or failed messages due now, with a fresh set of attempts.

    Sent messages and messages being sent are left alone. Returns how many were
    rescheduled; the drain is woken after commit.
    """
    ids = sorted(set(message_ids))
    with transaction.atomic():
        count = OutboxMessage.objects.filter(
            pk__in=ids, status__in=[OutboxStatus.PENDING, OutboxStatus.FAILED]
        ).update(
            status=OutboxStatus.PENDING,
            next_attempt_at=timezone.now(),
            attempts=0,
            claimed_until=None,
        )
        if count:
            outbox_wake_after_commit()
    logger.info(
        "outbox retry: %d of %d messages rescheduled by user %s",
        count,
        len(ids),
        by.pk if by is not None else "-",
    )
    return count
