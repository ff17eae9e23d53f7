"""Inbound messages, whatever the channel: kept first, then turned into a request or a reply.

Every adapter (an IMAP mailbox, a mail provider's webhook, a social platform's webhook,
an SMS gateway's inbound webhook) parses what it received into an `Incoming` and calls
`inbound_receive`. The message is written as an `InboundMessage` in its own transaction
before anything else, unique per account and platform id, so a replay does nothing and a
failure later loses nothing. Then `inbound_process` decides, in one transaction:

- an automatic reply, a bounce, a loop or our own echo → `ignored` (the adapter says so);
- a reply on an existing request (its tracking number in the subject or text, an e-mail
  that answers one of ours, or the same person writing again on the same account while
  their request from it is still open) → the beneficiary's reply on that request;
- anything else → a new request at the account's care centre;
- whatever cannot become either (no sender, no text, a number that is someone else's
  request, a refused input) → `review`: the review queue in the console, where staff open
  a request from it, add it to one, or dismiss it.

The sender is recognised across channels by `beneficiary_for_identity`: an e-mail, a mobile
or a platform user id already linked to a beneficiary is theirs; otherwise a beneficiary is
registered for it. Logs carry ids, counts and reason codes only: never an address or a text.
"""

from __future__ import annotations

import logging
import re
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tawasul.beneficiaries.models import Beneficiary, ContactChannel
from tawasul.cases.attachments import CheckedFile, attachment_check
from tawasul.cases.models import OPEN_STATUSES, Category, Channel, Kind, Request, Status
from tawasul.channels.models import (
    EMAIL_KINDS,
    SOCIAL_KINDS,
    ChannelAccount,
    ChannelIdentity,
    ChannelKind,
    IdentityKind,
    InboundMessage,
    InboundStatus,
    OutboxMessage,
)
from tawasul.channels.outbox import recipient_masked
from tawasul.core.errors import DomainError, InvalidInput
from tawasul.core.ids import tracking_number_parse
from tawasul.core.validators import mobile_clean

logger = logging.getLogger(__name__)

# A tracking number as people write it: 11 digits, Latin or Arabic-Indic, maybe grouped.
_NUMBER_CANDIDATE = re.compile(r"(?<![0-9٠-٩])[0-9٠-٩](?:[\s\-.]?[0-9٠-٩]){10}(?![0-9٠-٩])")
SUBJECT_MAX = 200
BODY_MAX = 5000
REQUEST_TEXT_MIN = 10


class Reason:
    """Why a message was ignored or waits for review (stored codes, shown translated)."""

    AUTO_REPLY = "auto_reply"
    BOUNCE = "bounce"
    LOOP = "loop"
    ECHO = "echo"  # our own message, echoed back by the platform
    NO_SENDER = "no_sender"
    EMPTY = "empty"
    TOO_SHORT = "too_short"
    NOT_THEIRS = "not_theirs"  # a tracking number of someone else's request
    REFUSED = "refused"  # the request service refused it (details in `data`)
    ERROR = "error"  # anything unexpected: kept for a person to look at
    MALFORMED = "malformed"
    AFTER_ANSWER = "after_answer"  # written on an answered request (accept or object instead)


REASON_LABELS: dict[str, Any] = {
    Reason.AUTO_REPLY: _("Automatic reply"),
    Reason.BOUNCE: _("Delivery failure notice (bounce)"),
    Reason.LOOP: _("Mail loop"),
    Reason.ECHO: _("Our own message echoed back"),
    Reason.NO_SENDER: _("No usable sender address"),
    Reason.EMPTY: _("No text"),
    Reason.TOO_SHORT: _("Too short to become a request"),
    Reason.NOT_THEIRS: _("Quotes a request of another person"),
    Reason.REFUSED: _("Refused by the request checks"),
    Reason.ERROR: _("Could not be processed"),
    Reason.MALFORMED: _("Malformed message"),
    Reason.AFTER_ANSWER: _("Written after the answer: the beneficiary may accept or object"),
}


@dataclass(frozen=True)
class IncomingFile:
    name: str
    content: bytes


@dataclass
class Incoming:
    """What an adapter parsed out of one received message."""

    external_id: str
    sender: str  # e-mail address, E.164 mobile, or the platform's user id
    identity_kind: str  # IdentityKind
    sender_name: str = ""
    sender_handle: str = ""
    subject: str = ""
    body: str = ""
    is_public: bool = False
    # e-mail: message_id, in_reply_to, references; social: conversation, reply_to_id
    thread: dict[str, Any] = field(default_factory=dict)
    files: Sequence[IncomingFile] = ()
    raw: bytes = b""
    raw_name: str = "message"
    data: dict[str, Any] = field(default_factory=dict)
    ignore_reason: str = ""  # set by the adapter: auto_reply, bounce, loop, echo
    review_reason: str = ""  # set by the adapter: it could not read the message (malformed)
    received_at: datetime | None = None


def channel_of(account: ChannelAccount) -> str:
    """The request channel of an account's traffic (counted in the statistics)."""
    if account.kind in EMAIL_KINDS:
        return Channel.EMAIL
    if account.kind in SOCIAL_KINDS:
        return Channel.SOCIAL
    if account.kind == ChannelKind.SMS:
        return Channel.SMS
    return Channel.CALL_CENTRE


# --- receiving ------------------------------------------------------------------------------


def inbound_receive(account: ChannelAccount, incoming: Incoming) -> tuple[InboundMessage, bool]:
    """Keep the message (once per account and platform id), then process it.

    Returns the row and whether it was new; a replay returns the row already kept and
    does nothing else.
    """
    external_id = (incoming.external_id or "").strip()[:255]
    if not external_id:
        raise InvalidInput(_("The message has no id."), code="message_id_missing")
    existing = InboundMessage.objects.filter(account=account, external_id=external_id).first()
    if existing is not None:
        return existing, False
    message = InboundMessage(
        account=account,
        external_id=external_id,
        sender=(incoming.sender or "").strip()[:254],
        sender_name=" ".join((incoming.sender_name or "").split())[:150],
        sender_handle=(incoming.sender_handle or "").strip()[:100],
        subject=" ".join((incoming.subject or "").split())[:SUBJECT_MAX],
        body=(incoming.body or "").strip(),
        is_public=incoming.is_public,
        thread=incoming.thread,
        data={**incoming.data, "identity_kind": incoming.identity_kind},
        received_at=incoming.received_at or timezone.now(),
    )
    try:
        with transaction.atomic():
            if incoming.raw:
                message.raw.save(incoming.raw_name, ContentFile(incoming.raw), save=False)
            message.save()
    except IntegrityError:  # the same message, received at the same moment by another worker
        return InboundMessage.objects.get(account=account, external_id=external_id), False
    inbound_process(
        message,
        files=incoming.files,
        ignore_reason=incoming.ignore_reason,
        review_reason=incoming.review_reason,
    )
    return message, True


def inbound_process(
    message: InboundMessage,
    *,
    files: Sequence[IncomingFile] = (),
    ignore_reason: str = "",
    review_reason: str = "",
) -> InboundMessage:
    """Turn a kept message into a request or a reply, or set it aside (ignored, review)."""
    if ignore_reason:
        return _settle(message, InboundStatus.IGNORED, ignore_reason)
    if review_reason:
        return _settle(message, InboundStatus.REVIEW, review_reason)
    try:
        with transaction.atomic():
            outcome = _process(message, files)
    except DomainError as error:
        message.request = message.message = None  # rolled back with the transaction
        message.data = {**message.data, "refused": str(error.code)}
        return _settle(message, InboundStatus.REVIEW, Reason.REFUSED)
    except Exception as error:  # keep the message for a person; never lose it
        message.request = message.message = None
        # where it failed, not the error's text: a database error quotes the values it held
        where = traceback.extract_tb(error.__traceback__)[-1] if error.__traceback__ else None
        logger.error(
            "inbound %s: processing failed (%s at %s:%s)",
            message.public_id,
            type(error).__name__,
            where.filename.rsplit("/", 2)[-1] if where else "?",
            where.lineno if where else "?",
        )
        return _settle(message, InboundStatus.REVIEW, Reason.ERROR)
    if isinstance(outcome, str):
        return _settle(message, InboundStatus.REVIEW, outcome)
    return message


def _settle(message: InboundMessage, status: str, reason: str) -> InboundMessage:
    message.status, message.reason = status, reason
    message.processed_at = timezone.now()
    message.save(update_fields=["status", "reason", "processed_at", "data", "request"])
    logger.info("inbound %s: %s (%s)", message.public_id, status, reason)
    return message


def _process(message: InboundMessage, files: Sequence[IncomingFile]) -> InboundMessage | str:
    """The work of `inbound_process` inside its transaction; a reason code sends the message
    to review."""
    identity_kind = str(message.data.get("identity_kind") or "")
    if not message.sender or not identity_kind:
        return Reason.NO_SENDER
    checked, refused = files_checked(files)
    if refused:
        message.data = {**message.data, "files_refused": refused}
    text = message.body[:BODY_MAX]
    if not text and not checked:
        return Reason.EMPTY
    beneficiary = beneficiary_for_identity(
        kind=identity_kind,
        value=message.sender,
        name=message.sender_name,
        handle=message.sender_handle,
    )
    request = request_referenced(message)
    if request is not None and request.beneficiary_id != beneficiary.pk:
        if not _answers_our_message(message, request):
            return Reason.NOT_THEIRS
        beneficiary = request.beneficiary
    if request is None:
        request = _conversation_request(message, beneficiary)
    if request is not None and request.status in (Status.ANSWERED, Status.OBJECTED):
        message.request = request  # for the reviewer: which request it was written on
        return Reason.AFTER_ANSWER
    if request is not None and request.status in OPEN_STATUSES:
        return _as_reply(message, request, beneficiary, text, checked)
    return _as_request(message, beneficiary, text, checked, follows=request)


def _as_reply(
    message: InboundMessage,
    request: Request,
    beneficiary: Beneficiary,
    text: str,
    checked: list[CheckedFile],
) -> InboundMessage | str:
    from tawasul.cases.services import request_beneficiary_reply

    reply = request_beneficiary_reply(
        request=request,
        beneficiary=beneficiary,
        body=text or str(_("(files only)")),
        attachments=checked,
        channel=channel_of(message.account),
    )
    message.status, message.reason = InboundStatus.PROCESSED, "reply"
    message.request, message.message = request, reply
    message.processed_at = timezone.now()
    message.save(update_fields=["status", "reason", "request", "message", "processed_at", "data"])
    logger.info("inbound %s: reply on request %s", message.public_id, request.pk)
    return message


def _as_request(
    message: InboundMessage,
    beneficiary: Beneficiary,
    text: str,
    checked: list[CheckedFile],
    *,
    follows: Request | None,
) -> InboundMessage | str:
    from tawasul.cases.services import request_submit
    from tawasul.channels.outbox import notify_beneficiary

    if len(text) < REQUEST_TEXT_MIN and not checked:
        return Reason.TOO_SHORT
    account = message.account
    kind = account.setting("kind", Kind.INQUIRY)
    description = text if len(text) >= REQUEST_TEXT_MIN else f"{text} ({_('files attached')})"
    if follows is not None:
        description += "\n\n" + str(_("Follows up request %(number)s.")) % {
            "number": follows.tracking_display
        }
    request = request_submit(
        beneficiary=beneficiary,
        kind=kind,
        category=channel_category(account, kind),
        subject=subject_for(message),
        description=description[:BODY_MAX],
        channel=channel_of(account),
        entity=account.centre.entity_id,
        attachments=checked,
        notify=False,
    )
    message.status, message.reason = InboundStatus.PROCESSED, "request"
    message.request = request
    message.processed_at = timezone.now()
    message.save(update_fields=["status", "reason", "request", "processed_at", "data"])
    # acknowledged once the message is linked, so the acknowledgement takes its way back
    if message.is_public:
        _acknowledge_in_public(message, request)
    else:
        notify_beneficiary(request=request, template="acknowledgement")
    logger.info("inbound %s: new request %s", message.public_id, request.pk)
    return message


def _acknowledge_in_public(message: InboundMessage, request: Request) -> None:
    """A public mention gets a public answer that carries no personal data and asks the
    person to continue in a private message (where the request is answered)."""
    from tawasul.channels.outbox import outbox_wake_after_commit

    OutboxMessage.objects.create(
        channel="social",
        account=message.account,
        recipient=message.sender,
        template="mention_ack",
        language=request.beneficiary.language,
        context={"tracking_number": request.tracking_number},
        request=request,
        thread={"reply_to_id": message.external_id, "public": True, **message.thread},
        next_attempt_at=timezone.now(),
    )
    outbox_wake_after_commit()


# --- what a message refers to ------------------------------------------------------------------


def tracking_numbers_in(text: str) -> list[str]:
    """Valid tracking numbers written in a text (subject or body), in order, once each."""
    found: list[str] = []
    for candidate in _NUMBER_CANDIDATE.findall(text or ""):
        digits = tracking_number_parse(candidate)
        if digits and digits not in found:
            found.append(digits)
    return found


def request_referenced(message: InboundMessage) -> Request | None:
    """The request a message answers: one of ours it replies to (e-mail threading headers),
    or the first tracking number in its subject, then its text, that exists."""
    refs = [
        str(ref)
        for ref in [message.thread.get("in_reply_to"), *(message.thread.get("references") or [])]
        if ref
    ]
    if refs:
        sent = (
            OutboxMessage.objects.filter(provider_message_id__in=refs[:50], request__isnull=False)
            .select_related("request")
            .order_by("-pk")
            .first()
        )
        if sent is not None and sent.request is not None:
            return sent.request
    for number in tracking_numbers_in(message.subject) + tracking_numbers_in(message.body[:2000]):
        request = Request.objects.filter(tracking_number=number).first()
        if request is not None:
            return request
    return None


def _answers_our_message(message: InboundMessage, request: Request) -> bool:
    """The message replies (by its threading headers) to what we sent this very address
    about this request: the person answering is the one we wrote to."""
    refs = [
        str(ref)
        for ref in [message.thread.get("in_reply_to"), *(message.thread.get("references") or [])]
        if ref
    ]
    return bool(refs) and (
        OutboxMessage.objects.filter(
            request=request, provider_message_id__in=refs[:50], recipient__iexact=message.sender
        ).exists()
    )


def _conversation_request(message: InboundMessage, beneficiary: Beneficiary) -> Request | None:
    """On a chat channel (social, SMS), the same person writing again on the same account
    continues their latest request from it: a reply while it is open, else a new request
    that says which one it follows up."""
    if message.account.kind in EMAIL_KINDS or message.is_public:
        return None
    since = timezone.now() - timedelta(days=settings.TAWASUL_CHANNEL_CONVERSATION_DAYS)
    earlier = (
        InboundMessage.objects.filter(
            account=message.account,
            sender=message.sender,
            request__isnull=False,
            request__beneficiary=beneficiary,
            received_at__gte=since,
        )
        .exclude(pk=message.pk)
        .select_related("request")
        .order_by("-received_at")
        .first()
    )
    return earlier.request if earlier is not None else None


# --- who wrote --------------------------------------------------------------------------------


def identity_value(kind: str, value: str) -> str:
    """The canonical form an identity is stored and matched by: an e-mail lower-cased, a
    number in E.164 (a Saudi mobile checked as such), a platform id as given."""
    value = (value or "").strip()
    if kind == IdentityKind.EMAIL:
        return value.lower()
    if kind in (IdentityKind.MOBILE, IdentityKind.WHATSAPP):
        digits = "".join(char for char in value if char in "0123456789")
        if digits.startswith("00"):  # the international prefix, as some gateways write it
            digits = digits[2:]
        for candidate in (value, f"+{digits}"):
            try:
                return mobile_clean(candidate)
            except InvalidInput:
                continue
        return f"+{digits}" if digits else ""
    return value


def identity_shown(kind: str, value: str, handle: str = "", *, revealed: bool = False) -> str:
    """An address as staff see it (console, admin): e-mail and mobile masked, a platform user by
    their handle (else the first characters of their id); in full once revealed."""
    if not value:
        return ""
    if revealed:
        return f"{handle} ({value})" if handle else value
    if kind == IdentityKind.EMAIL or "@" in value:
        return recipient_masked(channel="email", recipient=value)
    if kind in (IdentityKind.MOBILE, IdentityKind.WHATSAPP):
        return recipient_masked(channel="sms", recipient=value)
    if handle:
        return handle
    return value[:2] + "•" * max(min(len(value) - 2, 8), 1)


def _saudi_mobile(value: str) -> str:
    try:
        return mobile_clean(value)
    except InvalidInput:
        return ""


def beneficiary_for_identity(
    *, kind: str, value: str, name: str = "", handle: str = ""
) -> Beneficiary:
    """The beneficiary an address belongs to: a linked identity, else a beneficiary with this
    e-mail or mobile, else a new one registered for it; the identity is linked (or its last
    use noted) either way."""
    value = identity_value(kind, value)
    now = timezone.now()
    identity = ChannelIdentity.objects.filter(kind=kind, value=value).select_related("beneficiary")
    known = identity.first()
    if known is not None:
        ChannelIdentity.objects.filter(pk=known.pk).update(last_seen_at=now)
        return known.beneficiary
    beneficiary = _beneficiary_with_contact(kind, value)
    if beneficiary is None:
        beneficiary = Beneficiary.objects.create(
            full_name=(name or handle or "—")[:150],
            email=value if kind == IdentityKind.EMAIL else "",
            mobile=_saudi_mobile(value)
            if kind in (IdentityKind.MOBILE, IdentityKind.WHATSAPP)
            else "",
            preferred_contact=ContactChannel.EMAIL
            if kind == IdentityKind.EMAIL
            else ContactChannel.SMS,
        )
    try:
        with transaction.atomic():
            ChannelIdentity.objects.create(
                beneficiary=beneficiary,
                kind=kind,
                value=value,
                handle=handle[:100],
                last_seen_at=now,
            )
    except IntegrityError:  # linked meanwhile by another worker: theirs wins
        return (
            ChannelIdentity.objects.select_related("beneficiary")
            .get(kind=kind, value=value)
            .beneficiary
        )
    return beneficiary


def _beneficiary_with_contact(kind: str, value: str) -> Beneficiary | None:
    people = Beneficiary.objects.order_by("pk")
    if kind == IdentityKind.EMAIL:
        return people.filter(email__iexact=value).first()
    if kind in (IdentityKind.MOBILE, IdentityKind.WHATSAPP) and _saudi_mobile(value):
        return people.filter(mobile=value).first()
    return None


def identity_link(
    *, beneficiary: Beneficiary, kind: str, value: str, by: AbstractBaseUser, handle: str = ""
) -> ChannelIdentity:
    """Staff link an address to a beneficiary by hand. An address already linked to another
    beneficiary moves to this one (what it sent from now on is theirs)."""
    if kind not in IdentityKind.values:
        raise InvalidInput(
            _("Unknown kind of address."), code="identity_kind", details={"field": "kind"}
        )
    value = identity_value(kind, value)
    if not value or len(value) > 254:
        raise InvalidInput(
            _("Enter the address or user id."), code="identity_value", details={"field": "value"}
        )
    with transaction.atomic():
        identity, _created = ChannelIdentity.objects.select_for_update().get_or_create(
            kind=kind,
            value=value,
            defaults={"beneficiary": beneficiary, "linked_by_id": by.pk, "handle": handle[:100]},
        )
        if identity.beneficiary_id != beneficiary.pk:
            identity.beneficiary = beneficiary
            identity.linked_by_id = by.pk
            identity.save(update_fields=["beneficiary", "linked_by"])
    logger.info(
        "identity %s linked to beneficiary %s by user %s", identity.pk, beneficiary.pk, by.pk
    )
    return identity


# --- what a new request gets ------------------------------------------------------------------


def files_checked(files: Sequence[IncomingFile]) -> tuple[list[CheckedFile], list[dict[str, str]]]:
    """The files that pass the attachment checks, and what was refused (name and reason
    code): a refused file never stops the message (the original keeps it)."""
    checked: list[CheckedFile] = []
    refused: list[dict[str, str]] = []
    for incoming in files[: settings.TAWASUL_CHANNEL_FILES_MAX]:
        try:
            checked.append(attachment_check(name=incoming.name, content=incoming.content))
        except InvalidInput as error:
            refused.append({"name": incoming.name[:150], "reason": str(error.code)})
    refused.extend(
        {"name": extra.name[:150], "reason": "too_many_files"}
        for extra in files[settings.TAWASUL_CHANNEL_FILES_MAX :]
    )
    return checked, refused


def channel_category(account: ChannelAccount, kind: str) -> Category:
    """The category a request from this account starts in (staff recategorise it, helped by
    the classifier's suggestion): the account's own, else the platform's, else the first
    active category that takes this kind."""
    for code in (account.setting("category"), settings.TAWASUL_CHANNEL_CATEGORY):
        if code:
            found = Category.objects.filter(code=code, is_active=True).first()
            if found is not None and found.allows(kind):
                return found
    for category in Category.objects.filter(is_active=True).order_by("path"):
        if category.allows(kind):
            return category
    raise InvalidInput(_("No category takes this kind of request."), code="category_required")


def subject_for(message: InboundMessage) -> str:
    """The request's subject: the e-mail's (without reply prefixes), else the first words."""
    subject = re.sub(r"^\s*((re|fwd?|رد|إعادة توجيه)\s*[:：]\s*)+", "", message.subject, flags=re.I)
    subject = subject.strip()
    if len(subject) >= 3:
        return subject[:SUBJECT_MAX]
    words = " ".join(message.body.split())
    if len(words) > 80:
        words = words[:80].rsplit(" ", 1)[0] + "…"
    return words if len(words) >= 3 else str(_("Message received"))


# --- the way back ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    """Where the answers of a request go: the account it came in by and the sender there."""

    account: ChannelAccount
    recipient: str
    thread: dict[str, Any]


def reply_route(request: Request) -> Route | None:
    """The latest channel the beneficiary wrote to us by on this request, if it can carry
    answers (an active account; a public mention is answered by private message)."""
    latest = (
        InboundMessage.objects.filter(request=request, status=InboundStatus.PROCESSED)
        .exclude(sender="")
        .select_related("account")
        .order_by("-received_at", "-pk")
        .first()
    )
    if latest is None or not latest.account.is_active or latest.account.kind == ChannelKind.CTI:
        return None
    thread: dict[str, Any] = {}
    if latest.account.kind in EMAIL_KINDS:
        own = latest.thread.get("message_id") or (
            latest.external_id if latest.external_id.startswith("<") else ""
        )
        references = [str(ref) for ref in latest.thread.get("references") or []][-20:]
        if own:
            thread = {"in_reply_to": own, "references": [*references, own]}
        thread["subject"] = latest.subject
    else:
        thread = {
            key: latest.thread[key] for key in ("conversation", "chat_id") if key in latest.thread
        }
    return Route(account=latest.account, recipient=latest.sender, thread=thread)
