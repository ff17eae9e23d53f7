"""E-mail out: every e-mail of the outbox, over SMTP, bilingual, threaded.

One function sends them all (`email_send`): the platform's own notifications (from
`DEFAULT_FROM_EMAIL` through Django's configured backend) and the messages routed back
through the mailbox a beneficiary wrote to (`email_send_routed`: from that mailbox's
address, over its own SMTP server when its settings name one).

Threading is what keeps one request one conversation in the beneficiary's mail client:

- every e-mail gets a Message-ID on our domain, kept as the outbox row's provider id (the
  inbound side recognises a reply to it by its In-Reply-To/References);
- every e-mail about a request carries a stable References root: the first e-mail we sent
  this address about the request, and answers the last one;
- a routed message answers the beneficiary's own e-mail (`message.thread`, set by the core
  from it): In-Reply-To their Message-ID, References their chain, subject `Re: <theirs>`
  with the tracking number in brackets, so a reply finds its request even without headers.

Every e-mail says `X-Tawasul-Loop: 1` (the inbound side ignores mail carrying it); pure
notifications also say `Auto-Submitted: auto-generated` (RFC 3834: no auto-reply to them),
but not a staff reply, answer or question, which a person is expected to answer.

Failures: a refused recipient or a 5xx answer → `ChannelRejected` (failed at once); a
4xx answer, a disconnect, a timeout → `ChannelDeliveryError` (tried again with backoff).
Their summaries never quote the server's text, which may contain the address.
"""

from __future__ import annotations

import re
import smtplib
import uuid
from email.utils import parseaddr
from typing import Any

from django.conf import settings
from django.core.mail import BadHeaderError, EmailMultiAlternatives, get_connection
from django.core.mail.backends.base import BaseEmailBackend

from tawasul.channels.errors import ChannelDeliveryError, ChannelRejected
from tawasul.channels.models import (
    EMAIL_KINDS,
    ChannelAccount,
    OutboxChannel,
    OutboxMessage,
    OutboxStatus,
)
from tawasul.channels.notifications import notification_language, notification_render_email
from tawasul.core.ids import tracking_number_display

LOOP_HEADER = "X-Tawasul-Loop"
# Notifications that carry what a person on the staff wrote: the beneficiary may answer them.
STAFF_WRITTEN = frozenset({"replied", "answered", "info_requested"})
REFERENCES_MAX = 20
SMTP_SECURITY_PORTS = {"starttls": 587, "ssl": 465, "none": 25}
_MESSAGE_ID = re.compile(r"^<[^<>\s@]+@[^<>\s@]+>$")
_REPLY_PREFIX = re.compile(r"^\s*((re|aw|fwd?|رد|إعادة توجيه)\s*[:：]\s*)+", re.IGNORECASE)
_NAME_UNSAFE = re.compile(r'[",<>\r\n]')


def email_send_routed(message: OutboxMessage) -> str:
    """Send a message routed to an e-mail account (`senders.account_send`)."""
    if message.account is None or message.account.kind not in EMAIL_KINDS:
        raise ChannelRejected("the message is not routed to an e-mail account")
    return email_send(message)


def email_send(message: OutboxMessage) -> str:
    """Send one outbox e-mail; return its Message-ID (kept as the provider message id)."""
    account = message.account if message.account_id is not None else None
    if not message.recipient.strip():
        raise ChannelRejected("the message has no recipient")
    thread = message.thread if account is not None and isinstance(message.thread, dict) else {}
    rendered = notification_render_email(message)
    from_header, address = email_from(account)
    message_id = email_message_id(address)
    headers = {
        "Message-ID": message_id,
        LOOP_HEADER: "1",
        "Content-Language": notification_language(message),
        **email_threading_headers(message, thread),
    }
    if message.template not in STAFF_WRITTEN:
        headers["Auto-Submitted"] = "auto-generated"
    email = EmailMultiAlternatives(
        subject=email_subject(message, rendered.subject, thread),
        body=rendered.text,
        from_email=from_header,
        to=[message.recipient.strip()],
        reply_to=[address] if account is not None else None,
        headers=headers,
        connection=email_connection(account),
    )
    email.attach_alternative(rendered.html, "text/html")
    _deliver(email)
    return message_id


# --- who sends, and how -------------------------------------------------------------------


def email_account_address(account: ChannelAccount) -> str:
    """The mailbox's own address: its `address` setting, else its user name if that is one."""
    for candidate in (account.setting("address"), account.setting("username")):
        _name, address = parseaddr(candidate.strip())
        if "@" in address:
            return address
    raise ChannelRejected("the e-mail account has no sending address")


def email_from(account: ChannelAccount | None) -> tuple[str, str]:
    """The From header and the bare address: the account's, else `DEFAULT_FROM_EMAIL`."""
    default_name, default_address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    if account is None:
        return settings.DEFAULT_FROM_EMAIL, default_address
    address = email_account_address(account)
    name = _NAME_UNSAFE.sub("", account.setting("from_name") or default_name).strip()
    return (f"{name} <{address}>" if name else address), address


def email_message_id(address: str) -> str:
    """A fresh Message-ID on the sender's domain (short enough for the provider id column)."""
    domain = address.rpartition("@")[2].strip().lower() or "tawasul.invalid"
    if len(domain) > 60:
        domain = "tawasul.invalid"
    return f"<{uuid.uuid4().hex}@{domain}>"


def email_connection(account: ChannelAccount | None) -> BaseEmailBackend:
    """The account's own SMTP server when its settings name one, else the configured backend."""
    host = account.setting("smtp_host").strip() if account is not None else ""
    if account is None or not host:
        return get_connection(fail_silently=False)
    security = (account.setting("smtp_security") or "starttls").strip().lower()
    if security not in SMTP_SECURITY_PORTS:
        raise ChannelRejected("the account's smtp_security is not starttls, ssl or none")
    try:
        port = int(account.setting("smtp_port") or SMTP_SECURITY_PORTS[security])
    except ValueError:
        raise ChannelRejected("the account's smtp_port is not a number") from None
    username = account.settings.get("smtp_username")
    if username is None:  # not set: the mailbox's own login
        username = account.setting("username")
    username = str(username).strip()
    return get_connection(
        "django.core.mail.backends.smtp.EmailBackend",
        fail_silently=False,
        host=host,
        port=port,
        username=username,
        password=account.secret("password") if username else "",
        use_tls=security == "starttls",
        use_ssl=security == "ssl",
        timeout=settings.TAWASUL_CHANNEL_HTTP_TIMEOUT,
    )


# --- threading ----------------------------------------------------------------------------


def email_threading_headers(message: OutboxMessage, thread: dict[str, Any]) -> dict[str, str]:
    """In-Reply-To and References: the beneficiary's message we answer (routed) or our last
    e-mail to them on the request, after the request's root (our first e-mail to them)."""
    first, last = _earlier_ids(message)
    theirs = [ref for ref in _ids(thread.get("references")) if ref]
    in_reply_to = _message_id_or_blank(thread.get("in_reply_to")) or last
    chain = _unique([first, *theirs, last if not theirs else "", in_reply_to])
    if len(chain) > REFERENCES_MAX:  # keep the root and the latest
        chain = [chain[0], *chain[-(REFERENCES_MAX - 1) :]]
    headers: dict[str, str] = {}
    if in_reply_to:
        headers["In-Reply-To"] = in_reply_to
    if chain:
        headers["References"] = " ".join(chain)
    return headers


def _earlier_ids(message: OutboxMessage) -> tuple[str, str]:
    """The Message-IDs of the first and the latest e-mail we sent this address about this
    request ("" when there is none)."""
    if message.request_id is None:
        return "", ""
    sent = (
        OutboxMessage.objects.filter(
            request_id=message.request_id,
            channel=OutboxChannel.EMAIL,
            status=OutboxStatus.SENT,
            recipient__iexact=message.recipient.strip(),
            provider_message_id__startswith="<",
        )
        .exclude(pk=message.pk)
        .order_by("sent_at", "pk")
        .values_list("provider_message_id", flat=True)
    )
    first, last = sent.first(), sent.last()
    return _message_id_or_blank(first), _message_id_or_blank(last)


def _ids(value: object) -> list[str]:
    if isinstance(value, str):
        value = value.split()
    if not isinstance(value, list | tuple):
        return []
    return [_message_id_or_blank(item) for item in value]


def _message_id_or_blank(value: object) -> str:
    """A well-formed `<id@domain>` (anything else, e.g. a header injection, is dropped)."""
    text = str(value or "").strip()
    return text if _MESSAGE_ID.match(text) and len(text) <= 250 else ""


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(value for value in values if value))


def email_subject(message: OutboxMessage, rendered: str, thread: dict[str, Any]) -> str:
    """A routed answer: `Re: <their subject> [<tracking number>]`; otherwise the template's."""
    theirs = _REPLY_PREFIX.sub("", str(thread.get("subject") or "")).strip()
    if not theirs:
        return rendered
    digits = str(message.context.get("tracking_number") or "")
    if not digits and message.request_id is not None and message.request is not None:
        digits = message.request.tracking_number
    if digits:
        from tawasul.channels.inbound import tracking_numbers_in

        if digits not in tracking_numbers_in(theirs):
            theirs = f"{theirs} [{tracking_number_display(digits)}]"
    return " ".join(f"Re: {theirs}".split())[:900]


# --- the SMTP conversation ----------------------------------------------------------------


def _deliver(email: EmailMultiAlternatives) -> None:
    try:
        email.send(fail_silently=False)
    except smtplib.SMTPRecipientsRefused as error:
        codes = [code for code, _text in error.recipients.values()]
        raise smtp_error(min(codes, default=550), "the recipient was refused") from None
    except smtplib.SMTPResponseException as error:  # sender refused, data refused, auth, HELO
        raise smtp_error(error.smtp_code, type(error).__name__) from None
    except smtplib.SMTPServerDisconnected:
        raise ChannelDeliveryError("the SMTP server disconnected") from None
    except smtplib.SMTPException as error:
        raise ChannelDeliveryError(f"SMTP error ({type(error).__name__})") from None
    except BadHeaderError:
        raise ChannelRejected("the e-mail has a malformed header") from None
    except OSError as error:  # refused, unreachable, timed out, TLS failed
        raise ChannelDeliveryError(f"SMTP server unreachable ({type(error).__name__})") from None


def smtp_error(code: int, what: str) -> ChannelDeliveryError:
    """5xx: refused for good; 4xx (or no code): try again later. The server's own text is
    left out: it often quotes the address."""
    if 500 <= code < 600:
        return ChannelRejected(f"SMTP answered {code}: {what}")
    return ChannelDeliveryError(f"SMTP answered {code}: {what}")
