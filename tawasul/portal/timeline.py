"""What a beneficiary may see of a request's history: the public timeline.

Public events and public messages only, never an internal note or an internal
event, and never a staff member's name: staff speak as "Beneficiary care team".
Three queries whatever the length of the history (events, messages, attachments).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from tawasul.cases.models import (
    Attachment,
    Channel,
    Event,
    EventKind,
    Message,
    Request,
    Visibility,
)


@dataclass(frozen=True)
class TimelineItem:
    """One line of the public timeline, oldest first."""

    kind: str  # an EventKind value
    at: datetime
    by_beneficiary: bool
    body: str = ""
    attachments: tuple[Attachment, ...] = ()
    channel: str = ""  # the channel the message came in by or went out through

    @property
    def channel_label(self) -> Promise | str:
        return Channel(self.channel).label if self.channel in Channel.values else ""

    @property
    def label(self) -> Promise | str:
        return EventKind(self.kind).label if self.kind in EventKind.values else self.kind

    @property
    def who(self) -> Promise:
        return _("You") if self.by_beneficiary else _("Beneficiary care team")


def _public_attachments(request: Request) -> dict[int | None, list[Attachment]]:
    """Attachments by message id; those sent with the request itself under None."""
    rows = Attachment.objects.filter(request=request).filter(
        Q(message__visibility=Visibility.PUBLIC) | Q(message__isnull=True, from_beneficiary=True)
    )
    grouped: dict[int | None, list[Attachment]] = {}
    for attachment in rows.order_by("uploaded_at", "pk"):
        grouped.setdefault(attachment.message_id, []).append(attachment)
    return grouped


def _message_id(event: Event) -> int | None:
    value = event.data.get("message") if isinstance(event.data, dict) else None
    return value if isinstance(value, int) else None


def public_timeline(request: Request) -> list[TimelineItem]:
    """The request's history as its beneficiary may see it."""
    events = list(
        Event.objects.filter(request=request, is_public=True).order_by("created_at", "pk")
    )
    messages = {
        message.pk: message
        for message in Message.objects.filter(request=request, visibility=Visibility.PUBLIC)
    }
    attachments = _public_attachments(request)
    items: list[TimelineItem] = []
    shown: set[int] = set()
    for event in events:
        message = messages.get(_message_id(event) or 0)
        if message is not None:
            shown.add(message.pk)
        files = attachments.get(message.pk) if message is not None else None
        if event.kind == EventKind.SUBMITTED:
            files = attachments.get(None)
        items.append(
            TimelineItem(
                kind=event.kind,
                at=event.created_at,
                by_beneficiary=event.by_beneficiary,
                body=message.body if message is not None else "",
                attachments=tuple(files or ()),
                channel=message.channel if message is not None else "",
            )
        )
    for message in messages.values():  # a public message no event points to
        if message.pk not in shown:
            items.append(
                TimelineItem(
                    kind=EventKind.BENEFICIARY_REPLIED
                    if message.from_beneficiary
                    else EventKind.REPLIED,
                    at=message.created_at,
                    by_beneficiary=message.from_beneficiary,
                    body=message.body,
                    attachments=tuple(attachments.get(message.pk, ())),
                    channel=message.channel,
                )
            )
    items.sort(key=lambda item: item.at)
    return items
