"""The review queue: what staff do with a message that could not become a request by itself.

A message lands in review (`InboundStatus.REVIEW`) when it has no sender, no text, is too
short, quotes someone else's request or was refused by the request checks. A person then
does one of three things, each a service here:

- `inbound_review_open`: open a request from it, for the sender, at the chosen entity;
- `inbound_review_attach`: add it as the beneficiary's reply on a request the staff member
  may work on (the sender's address is then linked to that request's beneficiary);
- `inbound_review_dismiss`: set it aside with a note.

Each runs in one transaction, locks the message's row and checks again that it is still
awaiting review (two people acting on it at once: the second is told it is done), and
records who decided and when. Reads for the console (the queue, a beneficiary's history
across channels) are the selectors at the end; every one goes through
`tawasul.directory.access`. Logs carry ids only.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from tawasul.beneficiaries.models import Beneficiary
from tawasul.cases.models import Category, Message, Request
from tawasul.channels.inbound import (
    BODY_MAX,
    REQUEST_TEXT_MIN,
    beneficiary_for_identity,
    channel_of,
    identity_link,
    subject_for,
)
from tawasul.channels.models import ChannelIdentity, InboundMessage, InboundStatus
from tawasul.core.errors import AccessDenied, Conflict, InvalidInput, NotFound
from tawasul.directory import access
from tawasul.directory.access import Permission
from tawasul.directory.models import Entity

logger = logging.getLogger(__name__)

User = AbstractBaseUser
P = Permission
NOTE_MIN, NOTE_MAX = 3, 1000
HISTORY_LIMIT = 200


class ReviewAction:
    """What the review decided (kept in the message's `data["review"]["action"]`)."""

    OPENED = "opened"
    ATTACHED = "attached"
    DISMISSED = "dismissed"


# --- the three outcomes -------------------------------------------------------------------


def inbound_review_open(
    message: InboundMessage,
    *,
    by: User,
    kind: str,
    category: Category | int,
    entity: Entity | int | None = None,
) -> Request:
    """Open a request from a message awaiting review, for its sender, at `entity` (by
    default the entity of the account's receiving centre), taken by `by`."""
    from tawasul.cases.services import request_submit

    _ensure_may_review(by, message)
    with transaction.atomic():
        locked = _locked_in_review(message)
        beneficiary = _sender_beneficiary(locked)
        account = locked.account
        request = request_submit(
            beneficiary=beneficiary,
            kind=kind,
            category=category,
            subject=subject_for(locked),
            description=_description(locked, beneficiary),
            channel=channel_of(account),
            entity=entity if entity is not None else account.centre.entity_id,
            by=by,
            notify=not locked.is_public,
        )
        _decided(locked, by=by, action=ReviewAction.OPENED, request=request)
    logger.info("inbound %s: request %s opened on review by user %s", locked.pk, request.pk, by.pk)
    return request


def inbound_review_attach(message: InboundMessage, *, by: User, request: Request) -> Message:
    """Add a message awaiting review to `request` as its beneficiary's reply, and link the
    sender's address to that beneficiary (what they send from it is theirs from now on)."""
    from tawasul.cases.services import request_beneficiary_reply

    _ensure_may_review(by, message)
    access.ensure_can(by, P.WORK, request)
    with transaction.atomic():
        locked = _locked_in_review(message)
        beneficiary = request.beneficiary
        reply = request_beneficiary_reply(
            request=request,
            beneficiary=beneficiary,
            body=_reply_text(locked),
            channel=channel_of(locked.account),
        )
        linked = _link_sender(locked, beneficiary, by=by)
        _decided(
            locked,
            by=by,
            action=ReviewAction.ATTACHED,
            request=request,
            reply=reply,
            extra={"identity_linked": linked},
        )
    logger.info(
        "inbound %s: added to request %s on review by user %s", locked.pk, request.pk, by.pk
    )
    return reply


def inbound_review_dismiss(message: InboundMessage, *, by: User, note: str) -> InboundMessage:
    """Set a message awaiting review aside, saying why (kept with the message)."""
    note = " ".join((note or "").split())
    if not NOTE_MIN <= len(note) <= NOTE_MAX:
        raise InvalidInput(
            _("Say in a few words why the message is dismissed."),
            code="note_length",
            details={"field": "note", "min": NOTE_MIN, "max": NOTE_MAX},
        )
    _ensure_may_review(by, message)
    with transaction.atomic():
        locked = _locked_in_review(message)
        _decided(locked, by=by, action=ReviewAction.DISMISSED, extra={"note": note})
    logger.info("inbound %s: dismissed on review by user %s", locked.pk, by.pk)
    return locked


def request_identity_link(
    *, request: Request, by: User, kind: str, value: str, handle: str = ""
) -> ChannelIdentity:
    """Staff who may work on a request link an address (e-mail, mobile, platform user id)
    to its beneficiary by hand: one person across channels."""
    access.ensure_can(by, P.WORK, request)
    return identity_link(
        beneficiary=request.beneficiary, kind=kind, value=value, by=by, handle=handle.strip()
    )


# --- the parts ----------------------------------------------------------------------------


def _ensure_may_review(by: User, message: InboundMessage) -> None:
    """The staff member may act on the message (WORK on its account's centre): else
    AccessDenied if they may only see it, NotFound if it is out of their reach."""
    if access.inbound_for(by, P.WORK).filter(pk=message.pk).exists():
        return
    if access.inbound_for(by, P.VIEW).filter(pk=message.pk).exists():
        raise AccessDenied(_("You may read this message but not act on it."))
    raise NotFound(_("No such message."))


def _locked_in_review(message: InboundMessage) -> InboundMessage:
    """The message's row, locked to the end of the transaction, still awaiting review."""
    locked = (
        InboundMessage.objects.select_for_update()
        .select_related("account__centre")
        .get(pk=message.pk)
    )
    if locked.status != InboundStatus.REVIEW:
        raise Conflict(
            _("This message is no longer awaiting review: someone has already dealt with it."),
            code="not_in_review",
        )
    return locked


def _sender_beneficiary(message: InboundMessage) -> Beneficiary:
    kind = str(message.data.get("identity_kind") or "")
    if not message.sender or not kind:
        raise InvalidInput(
            _("This message has no sender: add it to a request or dismiss it."),
            code="no_sender",
        )
    return beneficiary_for_identity(
        kind=kind,
        value=message.sender,
        name=message.sender_name,
        handle=message.sender_handle,
    )


def _description(message: InboundMessage, beneficiary: Beneficiary) -> str:
    """The message's text as the request's description, with a note, in the beneficiary's
    language, where it was short or empty or came with files that could not be attached."""
    text = message.body[:BODY_MAX].strip()
    notes: list[str] = []
    refused = message.data.get("files_refused") or []
    with translation.override(beneficiary.language or "ar"):
        if not text:
            notes.append(str(_("(A message without text, opened as a request after review.)")))
        elif len(text) < REQUEST_TEXT_MIN:
            notes.append(str(_("(A short message, opened as a request after review.)")))
        if refused:
            notes.append(
                str(_("Files sent with the message could not be attached: {count}.")).format(
                    count=len(refused)
                )
            )
    description = "\n\n".join([part for part in [text, *notes] if part])
    return description[:BODY_MAX]


def _reply_text(message: InboundMessage) -> str:
    text = message.body[:BODY_MAX].strip()
    return text or str(_("(A message without text; see the original in the review queue.)"))


def _link_sender(message: InboundMessage, beneficiary: Beneficiary, *, by: User) -> bool:
    """Link the sender's address to the beneficiary; False when there is none to link."""
    kind = str(message.data.get("identity_kind") or "")
    if not message.sender or not kind:
        return False
    try:
        identity_link(
            beneficiary=beneficiary,
            kind=kind,
            value=message.sender,
            by=by,
            handle=message.sender_handle,
        )
    except InvalidInput:  # an address that cannot be an identity: the reply stands without
        logger.info("inbound %s: sender not linkable (%s)", message.pk, kind)
        return False
    return True


def _decided(
    message: InboundMessage,
    *,
    by: User,
    action: str,
    request: Request | None = None,
    reply: Message | None = None,
    extra: dict[str, Any] | None = None,
) -> None:
    message.status = (
        InboundStatus.DISMISSED if action == ReviewAction.DISMISSED else InboundStatus.PROCESSED
    )
    message.reviewed_by_id = by.pk
    message.reviewed_at = timezone.now()
    if request is not None:
        message.request = request
    if reply is not None:
        message.message = reply
    message.data = {**message.data, "review": {"action": action, **(extra or {})}}
    message.save(
        update_fields=["status", "reviewed_by", "reviewed_at", "request", "message", "data"]
    )


# --- reads for the console ----------------------------------------------------------------


def inbound_queue(
    user: AbstractBaseUser | AnonymousUser,
    *,
    status: str = InboundStatus.REVIEW,
    account: int | None = None,
    reason: str = "",
) -> QuerySet[InboundMessage]:
    """Inbound messages within the user's reach, newest first, filtered by status ("":
    any), account and reason code."""
    rows = access.inbound_for(user)
    if status:
        rows = rows.filter(status=status)
    if account is not None:
        rows = rows.filter(account_id=account)
    if reason:
        rows = rows.filter(reason=reason)
    return rows.select_related("account").order_by("-received_at", "-pk")


def inbound_for_staff(user: AbstractBaseUser | AnonymousUser, *, public_id: Any) -> InboundMessage:
    """One inbound message within the user's reach (NotFound otherwise)."""
    found = (
        access.inbound_for(user)
        .select_related("account__centre__entity", "reviewed_by")
        .filter(public_id=public_id)
        .first()
    )
    if found is None:
        raise NotFound(_("No such message."))
    return found


def review_count(user: AbstractBaseUser | AnonymousUser, *, cap: int) -> int:
    """How many messages await review within the user's reach (at most `cap` + 1)."""
    return (
        access.inbound_for(user).filter(status=InboundStatus.REVIEW).values("pk")[: cap + 1].count()
    )


@dataclass(frozen=True)
class History:
    """A beneficiary across channels, as one staff member may see them."""

    beneficiary: Beneficiary
    identities: list[ChannelIdentity]
    requests: list[Request]
    out_of_reach: int
    inbound: list[InboundMessage]


def beneficiary_history(
    user: AbstractBaseUser | AnonymousUser, *, request: Request, limit: int = HISTORY_LIMIT
) -> History:
    """The requests of `request`'s beneficiary the user may see (and how many others there
    are), their addresses, and the messages they sent by any channel within reach, newest
    first. Reached through a request the user may see, never by beneficiary id."""
    beneficiary = request.beneficiary
    visible = access.requests_for(user).filter(beneficiary=beneficiary)
    requests = list(
        visible.select_related("entity", "category").order_by("-created_at", "-pk")[:limit]
    )
    all_count = Request.objects.filter(beneficiary=beneficiary).count()
    seen_count = len(requests) if len(requests) < limit else visible.count()
    identities = list(beneficiary.identities.order_by("kind", "pk"))
    theirs = Q(request__beneficiary=beneficiary)
    for identity in identities[:50]:
        theirs |= Q(sender__iexact=identity.value)
    inbound = list(
        access.inbound_for(user)
        .filter(theirs)
        .select_related("account", "request")
        .order_by("-received_at", "-pk")[:limit]
    )
    return History(
        beneficiary=beneficiary,
        identities=identities,
        requests=requests,
        out_of_reach=max(all_count - seen_count, 0),
        inbound=inbound,
    )
