"""Writing to the outbox. The drain (delivery) is in `tawasul.channels.delivery`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from tawasul.channels.models import OutboxChannel, OutboxMessage

if TYPE_CHECKING:
    from tawasul.cases.models import Request


def notify_beneficiary(*, request: Request, template: str) -> OutboxMessage | None:
    """Queue `template` for the request's beneficiary on their preferred channel.

    Call inside the service's transaction: the row commits or rolls back with
    the change. After commit the drain job is asked to run at once.
    """
    beneficiary = request.beneficiary
    if beneficiary.preferred_contact == OutboxChannel.EMAIL and beneficiary.email:
        channel, recipient = OutboxChannel.EMAIL, beneficiary.email
    elif beneficiary.mobile:
        channel, recipient = OutboxChannel.SMS, beneficiary.mobile
    elif beneficiary.email:
        channel, recipient = OutboxChannel.EMAIL, beneficiary.email
    else:
        return None
    message = OutboxMessage.objects.create(
        channel=channel,
        recipient=recipient,
        template=template,
        language=beneficiary.language,
        context={"tracking_number": request.tracking_number},
        request=request,
        next_attempt_at=timezone.now(),
    )
    transaction.on_commit(_wake_drain)
    return message


def _wake_drain() -> None:
    from tawasul.channels.tasks import outbox_drain_task

    outbox_drain_task()


def outbox_discard_pending(*, request_ids: list[int]) -> int:
    """Drop unsent notifications of these requests (used when loading demo data)."""
    from tawasul.channels.models import OutboxStatus

    deleted, _ = OutboxMessage.objects.filter(
        request_id__in=request_ids, status=OutboxStatus.PENDING
    ).delete()
    return deleted
