"""Writing to the outbox. The drain (delivery) is in `tawasul.channels.delivery`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from tawasul.channels.models import EMAIL_KINDS, ChannelKind, OutboxChannel, OutboxMessage
from tawasul.core.validators import mobile_masked

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

    from tawasul.cases.models import Message, Request


def notify_beneficiary(
    *,
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    message: Message | None = None,
    routed: bool = True,
) -> OutboxMessage | None:
    """Queue `template` for the request's beneficiary: back through the channel account
    they last wrote to us by on this request (their mailbox, their direct messages, their
    SMS), else on their preferred channel.

    Call inside the service's transaction: the row commits or rolls back with
    the change. After commit the drain job is asked to run at once. `context`
    adds to what the template may use (e.g. a survey link); `message` is the staff
    message (reply, question, answer) whose text goes with it on a channel the
    beneficiary wrote from, recorded on the message as the channel it went out by. Without
    `routed` no way back is looked for (a request just submitted has none yet: saves a read).
    """
    from tawasul.channels.inbound import channel_of, reply_route

    route = reply_route(request) if routed else None
    if route is not None:
        kind = route.account.kind
        sent_back = OutboxMessage.objects.create(
            channel=OutboxChannel.EMAIL
            if kind in EMAIL_KINDS
            else OutboxChannel.SMS
            if kind == ChannelKind.SMS
            else OutboxChannel.SOCIAL,
            recipient=route.recipient,
            account=route.account,
            thread=route.thread,
            template=template,
            language=request.beneficiary.language,
            context={
                **(context or {}),
                "tracking_number": request.tracking_number,
                **({"message": message.pk} if message is not None else {}),
            },
            request=request,
            next_attempt_at=timezone.now(),
        )
        if message is not None:
            type(message).objects.filter(pk=message.pk).update(channel=channel_of(route.account))
        outbox_wake_after_commit()
        return sent_back
    beneficiary = request.beneficiary
    if beneficiary.preferred_contact == OutboxChannel.EMAIL and beneficiary.email:
        channel, recipient = OutboxChannel.EMAIL, beneficiary.email
    elif beneficiary.mobile:
        channel, recipient = OutboxChannel.SMS, beneficiary.mobile
    elif beneficiary.email:
        channel, recipient = OutboxChannel.EMAIL, beneficiary.email
    else:
        return None
    queued = OutboxMessage.objects.create(
        channel=channel,
        recipient=recipient,
        template=template,
        language=beneficiary.language,
        context={**(context or {}), "tracking_number": request.tracking_number},
        request=request,
        next_attempt_at=timezone.now(),
    )
    outbox_wake_after_commit()
    return queued


def notify_address(
    *,
    channel: str,
    recipient: str,
    template: str,
    language: str,
    context: dict[str, str],
    sensitive: bool = False,
) -> OutboxMessage:
    """Queue `template` to an address that is not (yet) a beneficiary's, e.g. a sign-in code.

    With `sensitive`, the context is wiped from the row as soon as it is sent.
    """
    message = OutboxMessage.objects.create(
        channel=channel,
        recipient=recipient,
        template=template,
        language=language if language in ("ar", "en") else "ar",
        context={**context, SENSITIVE_KEY: True} if sensitive else context,
        next_attempt_at=timezone.now(),
    )
    outbox_wake_after_commit()
    return message


SENSITIVE_KEY = "_sensitive"


def notify_staff(
    *, request: Request, users: Iterable[AbstractBaseUser], template: str
) -> list[OutboxMessage]:
    """Queue `template` by e-mail to each staff member about a request (once per person).

    Staff without an e-mail address are skipped. Call inside the transaction of
    the change, like `notify_beneficiary`.
    """
    messages = OutboxMessage.objects.bulk_create(
        staff_messages(request=request, users=users, template=template)
    )
    if messages:
        outbox_wake_after_commit()
    return messages


def staff_messages(
    *, request: Request, users: Iterable[AbstractBaseUser], template: str
) -> list[OutboxMessage]:
    """The unsaved e-mails `notify_staff` writes, for a caller that writes many requests'
    messages in one INSERT (the SLA sweep); it must then call `outbox_wake_after_commit`."""
    messages: list[OutboxMessage] = []
    seen: set[str] = set()
    now = timezone.now()
    for user in users:
        email = (getattr(user, "email", "") or "").strip()
        if not email or email.lower() in seen or not user.is_active:
            continue
        seen.add(email.lower())
        messages.append(
            OutboxMessage(
                channel=OutboxChannel.EMAIL,
                recipient=email,
                template=template,
                language=settings.LANGUAGE_CODE,
                context={"tracking_number": request.tracking_number},
                request=request,
                next_attempt_at=now,
            )
        )
    return messages


def outbox_wake_after_commit() -> None:
    """Ask a worker to drain the outbox once the current transaction commits.

    Nothing is enqueued for a rolled-back transaction. If the queue cannot be
    reached the error is logged and the commit stands: the periodic sweep
    delivers the message instead. One wake-up per transaction is enough, however
    many messages it writes (a savepoint rolled back takes its wake-up with it).
    """
    connection = transaction.get_connection()
    if connection.in_atomic_block and any(
        entry[1] is _enqueue_drain for entry in connection.run_on_commit
    ):
        return
    transaction.on_commit(_enqueue_drain, robust=True)


def _enqueue_drain() -> None:
    from tawasul.channels.tasks import outbox_drain_task

    outbox_drain_task()


def outbox_discard_pending(*, request_ids: list[int]) -> int:
    """Drop unsent notifications of these requests (used when loading demo data)."""
    from tawasul.channels.models import OutboxStatus

    deleted, _ = OutboxMessage.objects.filter(
        request_id__in=request_ids, status=OutboxStatus.PENDING
    ).delete()
    return deleted


def recipient_masked(*, channel: str, recipient: str) -> str:
    """The recipient with most of it hidden, for lists and screens."""
    if channel == OutboxChannel.SMS:
        return mobile_masked(recipient)
    local, _at, domain = recipient.partition("@")
    if not domain:
        return "•" * len(local)
    return f"{local[:1]}{'•' * max(len(local) - 1, 1)}@{domain}"
