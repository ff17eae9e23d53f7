"""E-mail in: one received e-mail, whatever brought it (an IMAP mailbox, a mail provider's
inbound webhook), parsed into an `Incoming` for `inbound_receive`.

What is kept: the sender's address (lower-cased) and name, the subject, the text (the plain
part, else the HTML part turned into text: never HTML), without the quoted history of a
reply so that a reply adds only what is new; the threading headers (the core finds the
request an e-mail answers by them); the attachments; and the original bytes (cut at
`TAWASUL_INBOUND_RAW_MAX_BYTES`) so nothing is lost whatever the parsing made of it.

What is set aside (`ignore_reason`): automatic replies (RFC 3834 `Auto-Submitted`, the
vendors' `X-Autoreply`/`X-Autorespond`, `Precedence: bulk|junk|list|auto_reply`,
out-of-office subjects in Arabic and English, read receipts), bounces (delivery status
reports, MAILER-DAEMON or postmaster senders, an empty Return-Path) and loops (our own
mail, which carries `X-Tawasul-Loop`, or mail from the mailbox's own address).

Malformed mail never raises here: undecodable charsets fall back (UTF-8, then Windows-1256,
common in Arabic mail), unreadable headers are read raw, broken MIME keeps whatever text
it has; the core sends what cannot become a request to the review queue.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import html
import re
from collections.abc import Iterator
from email.header import decode_header, make_header
from email.message import Message
from email.utils import getaddresses
from typing import Any

import nh3
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from tawasul.channels.email_out import LOOP_HEADER
from tawasul.channels.inbound import Incoming, IncomingFile, Reason
from tawasul.channels.models import ChannelAccount, IdentityKind

RAW_NAME = "message.eml"
REFERENCES_KEPT = 50
FILENAME_MAX = 150
MIME_DEPTH_MAX = 20

_MESSAGE_ID = re.compile(r"<[^<>\s]+>")
_BODY_TYPES = frozenset({"text/plain", "text/html"})
_BOUNCE_SENDERS = frozenset({"mailer-daemon", "postmaster"})
_AUTO_PRECEDENCE = frozenset({"bulk", "junk", "list", "auto_reply"})
# Out-of-office subjects as Exchange, Outlook and others write them ("Automatic reply: …").
_AUTO_SUBJECT = re.compile(
    r"^\s*(automatic reply|auto[- ]?reply|autoreply|auto[- ]?response|vacation reply"
    r"|out of (the )?office( auto ?reply)?|رد تلقائي|الرد التلقائي|رد آلي|الرد الآلي"
    r"|رسالة تلقائية|خارج المكتب)\s*([:：]|$)",
    re.IGNORECASE,
)
_FORWARD_SUBJECT = re.compile(r"^\s*(fwd?|إعادة توجيه|تحويل)\s*[:：]", re.IGNORECASE)
_FORWARD_MARK = re.compile(
    r"^-*\s*(forwarded message|begin forwarded message|رسالة معاد توجيهها"
    r"|الرسالة المعاد توجيهها)\s*:?\s*-*$",
    re.IGNORECASE,
)
# Where a reply's quoted history begins (the line names a date, so it carries a digit).
_QUOTE_EN = re.compile(r"^on\b(?=.*\d).{0,300}\bwrote\s*:$", re.IGNORECASE)
_QUOTE_AR = re.compile(
    r"^(في|بتاريخ)\b(?=.*[0-9٠-٩]).{0,300}(كتبت?|تمت كتابة ما يلي بواسطة.{0,200})\s*:$"
)
_QUOTE_RULES = re.compile(
    r"^-{2,}\s*(original message|الرسالة الأصلية|الرسالة الاصلية)\s*-{2,}$", re.IGNORECASE
)
_OUTLOOK_FROM = re.compile(r"^(from|من)\s*:", re.IGNORECASE)
_OUTLOOK_NEXT = re.compile(
    r"^(sent|date|to|subject|تاريخ الإرسال|التاريخ|أرسل|إلى|الموضوع)\s*:", re.IGNORECASE
)
_DIRECTION_MARKS = "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff"
_HTML_BREAKS = re.compile(
    r"<\s*br\s*/?\s*>|<\s*/\s*(p|div|li|tr|h[1-6]|table|blockquote|pre|section|article)\s*>",
    re.IGNORECASE,
)
_SPACES = re.compile(r"[ \t\f\v\xa0\u2000-\u200a\u202f\u205f\u3000]+")
_BLANK_LINES = re.compile(r"\n{3,}")


# --- entry points ---------------------------------------------------------------------------


def incoming_from_bytes(raw: bytes, account: ChannelAccount) -> Incoming:
    """Parse one e-mail as received (RFC 5322 bytes)."""
    try:
        message = email.message_from_bytes(raw, policy=email.policy.default)
    except Exception:  # the parser registers defects rather than raising; if it ever does:
        return _unparsed(raw)
    return incoming_from_message(message, account, raw=raw)


def incoming_from_message(
    message: Message,
    account: ChannelAccount,
    *,
    raw: bytes | None = None,
    fallback_id: str = "",
) -> Incoming:
    """Parse an e-mail already parsed by the standard library (a provider's webhook gives
    anymail's `AnymailInboundMessage`). Without the original bytes, the message's own
    serialisation is kept; `fallback_id` (the provider's id) stands in for a missing
    Message-ID."""
    if raw is None:
        raw = _serialised(message)
    body, files, flags = _content(message)
    name, sender = sender_of(message)
    thread = thread_of(message)
    raw_max = settings.TAWASUL_INBOUND_RAW_MAX_BYTES
    defects = _defects_count(message)
    return Incoming(
        external_id=thread["message_id"]
        or fallback_id
        or f"sha256:{hashlib.sha256(raw).hexdigest()}",
        sender=sender,
        identity_kind=IdentityKind.EMAIL,
        sender_name=name,
        subject=header_text(message, "Subject"),
        body=body,
        thread=thread,
        files=files,
        raw=raw[:raw_max],
        raw_name=RAW_NAME,
        data={
            "defects": defects,
            "attachments": len(files),
            "raw_truncated": len(raw) > raw_max,
            **flags,
        },
        ignore_reason=ignore_reason_of(message, sender=sender, account=account),
        # broken enough that neither who wrote nor what they wrote could be read
        review_reason=Reason.MALFORMED if defects and not (sender and body) else "",
    )


def _unparsed(raw: bytes) -> Incoming:
    """An e-mail the parser gave up on: kept whole for a person (no sender: review)."""
    raw_max = settings.TAWASUL_INBOUND_RAW_MAX_BYTES
    return Incoming(
        external_id=f"sha256:{hashlib.sha256(raw).hexdigest()}",
        sender="",
        identity_kind=IdentityKind.EMAIL,
        raw=raw[:raw_max],
        raw_name=RAW_NAME,
        data={"parse_failed": True, "raw_truncated": len(raw) > raw_max},
        review_reason=Reason.MALFORMED,
    )


def _serialised(message: Message) -> bytes:
    try:
        return message.as_bytes()
    except Exception:  # a message that cannot be written back: keep its text form
        try:
            return text_clean(message.as_string()).encode("utf-8", "replace")
        except Exception:
            return b""


# --- headers ------------------------------------------------------------------------------


def text_clean(value: str) -> str:
    """Text safe to store: bytes the parser could not decode (kept as surrogates) read as
    UTF-8 if they are, else replaced; no NUL (PostgreSQL refuses it)."""
    try:
        data = value.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        data = value.encode("utf-8", "replace")
    return data.decode("utf-8", "replace").replace("\x00", "")


def header_text(message: Message, name: str) -> str:
    """A header's decoded text ("" if absent); a header the parser cannot read is decoded
    by hand from its raw form, and failing that kept raw."""
    try:
        value = message.get(name)
        if value is None:
            return ""
        return " ".join(text_clean(str(value)).split())
    except Exception:  # a header the policy's parser chokes on
        raw = _raw_header(message, name)
        try:
            return " ".join(text_clean(str(make_header(decode_header(raw)))).split())
        except Exception:
            return " ".join(text_clean(raw).split())


def _raw_header(message: Message, name: str) -> str:
    lowered = name.lower()
    for key, value in message.raw_items():
        if key.lower() == lowered:
            return str(value)
    return ""


def sender_of(message: Message) -> tuple[str, str]:
    """The From header's (display name, address): the address lower-cased, "" when there is
    none or it is not a valid address (the core then sends the message to review)."""
    name, address = _from_parsed(message)
    try:
        validate_email(address)
    except ValidationError:
        address = ""
    return name, address


def _from_parsed(message: Message) -> tuple[str, str]:
    """The From header's first (display name, address) as written, address lower-cased."""
    name, address = "", ""
    try:
        header = message.get("From")
        addresses = getattr(header, "addresses", None)
        if addresses:
            name, address = str(addresses[0].display_name), str(addresses[0].addr_spec)
        elif header is not None:
            name, address = _address_parsed(str(header))
    except Exception:
        name, address = _address_parsed(_raw_header(message, "From"))
    return " ".join(text_clean(name).split()), text_clean(address).strip().lower()


def _address_parsed(value: str) -> tuple[str, str]:
    found = getaddresses([value])
    return found[0] if found else ("", "")


def thread_of(message: Message) -> dict[str, Any]:
    """The threading headers, as the core and e-mail out keep them (ids in angle brackets)."""
    own = _MESSAGE_ID.findall(_raw_header(message, "Message-ID"))
    replied = _MESSAGE_ID.findall(_raw_header(message, "In-Reply-To"))
    references = _MESSAGE_ID.findall(_raw_header(message, "References"))
    return {
        "message_id": text_clean(own[0])[:255] if own else "",
        "in_reply_to": text_clean(replied[0])[:255] if replied else "",
        "references": [text_clean(ref)[:255] for ref in references[-REFERENCES_KEPT:]],
    }


def addresses_to(message: Message) -> list[str]:
    """Every recipient address (To, Cc, Bcc, Delivered-To, X-Original-To), lower-cased."""
    found: list[str] = []
    for name in ("To", "Cc", "Bcc", "Delivered-To", "X-Original-To"):
        for _name, given in getaddresses([_raw_header(message, name)]):
            address = text_clean(given).strip().lower()
            if "@" in address and address not in found:
                found.append(address)
    return found


def _defects_count(message: Message) -> int:
    try:
        return sum(len(part.defects) for part in message.walk())
    except Exception:
        return 1


# --- what is not a person writing -------------------------------------------------------


def ignore_reason_of(message: Message, *, sender: str, account: ChannelAccount) -> str:
    """Why this e-mail must not become a request or a reply ("" if it may): a loop, a bounce
    or an automatic reply."""
    if _is_loop(message, sender, account):
        return Reason.LOOP
    if _is_bounce(message):
        return Reason.BOUNCE
    if _is_auto_reply(message):
        return Reason.AUTO_REPLY
    return ""


def _is_loop(message: Message, sender: str, account: ChannelAccount) -> bool:
    if _raw_header(message, LOOP_HEADER):
        return True
    own = {
        candidate.strip().lower()
        for candidate in (account.setting("address"), account.setting("username"))
        if "@" in candidate
    }
    return bool(sender) and sender in own


def _is_bounce(message: Message) -> bool:
    if _content_type(message) == "multipart/report" and _param(message, "report-type") in {
        "delivery-status",
        "delivery-status-notification",
    }:
        return True
    if _raw_header(message, "X-Failed-Recipients"):
        return True
    if _from_parsed(message)[1].partition("@")[0] in _BOUNCE_SENDERS:
        return True
    return _raw_header(message, "Return-Path").strip() == "<>"


def _is_auto_reply(message: Message) -> bool:
    submitted = _raw_header(message, "Auto-Submitted").strip().lower()
    if submitted and submitted.split(";")[0].strip() != "no":
        return True
    if _raw_header(message, "X-Autoreply") or _raw_header(message, "X-Autorespond"):
        return True
    if _raw_header(message, "Precedence").strip().lower() in _AUTO_PRECEDENCE:
        return True
    if _content_type(message) == "multipart/report":  # a read receipt (disposition notice)
        return True
    return bool(_AUTO_SUBJECT.search(header_text(message, "Subject")))


def _content_type(part: Message) -> str:
    try:
        return part.get_content_type()
    except Exception:
        return "text/plain"


def _param(part: Message, name: str) -> str:
    try:
        value = part.get_param(name)
    except Exception:
        return ""
    return str(value).strip().lower() if isinstance(value, str) else ""


# --- text and files ------------------------------------------------------------------------


def _content(message: Message) -> tuple[str, list[IncomingFile], dict[str, Any]]:
    """The text a person wrote, the attachments, and flags on how they were read."""
    flags: dict[str, Any] = {}
    plain: list[str] = []
    html_parts: list[str] = []
    files: list[IncomingFile] = []
    for part in _leaves(message, depth=0):
        name = _filename(part)
        kind = _content_type(part)
        if kind.startswith("multipart/"):  # a container the parser could not open: its text
            kind = "text/plain"
        if name or _disposition(part) == "attachment" or kind not in _BODY_TYPES:
            content = _payload(part)
            if content:
                files.append(IncomingFile(name=name or _default_name(kind), content=content))
        elif kind == "text/plain":
            plain.append(_part_text(part, flags))
        else:
            html_parts.append(_part_text(part, flags))
    if any(text.strip() for text in plain):
        text = "\n\n".join(text for text in plain if text.strip())
    elif html_parts:
        text = html_to_text("\n".join(html_parts))
        flags["html_only"] = True
    else:
        text = ""
    text = text_tidy(text)
    if _is_forward(header_text(message, "Subject"), text):
        return text, files, flags
    new = quoted_history_strip(text)
    if new != text:
        flags["quoted_removed"] = True
    return new, files, flags


def _leaves(part: Message, *, depth: int) -> Iterator[Message]:
    """The parts that are not containers, in order; an attached e-mail is one part (a
    file), not read into. Nesting is bounded (a hostile message may nest without end)."""
    if depth > MIME_DEPTH_MAX:
        return
    try:
        if _content_type(part) == "message/rfc822" or not part.is_multipart():
            yield part
            return
        children = part.get_payload()
    except Exception:
        return
    for child in children if isinstance(children, list) else []:
        if isinstance(child, Message):
            yield from _leaves(child, depth=depth + 1)


def _is_forward(subject: str, text: str) -> bool:
    """A forwarded e-mail: what it quotes is its content, not history to cut."""
    return bool(_FORWARD_SUBJECT.match(subject)) or any(
        _FORWARD_MARK.match(_unmarked(line)) for line in text.split("\n")
    )


def _filename(part: Message) -> str:
    try:
        name = part.get_filename() or ""
    except Exception:
        name = ""
    name = text_clean(str(name)).replace("\\", "/").rsplit("/", 1)[-1]
    return " ".join(name.split())[:FILENAME_MAX]


def _disposition(part: Message) -> str:
    try:
        return (part.get_content_disposition() or "").lower()
    except Exception:
        return ""


def _default_name(kind: str) -> str:
    return "message.eml" if kind == "message/rfc822" else "attachment"


def _payload(part: Message) -> bytes:
    try:
        if _content_type(part) == "message/rfc822":
            inner = part.get_payload()
            first = inner[0] if isinstance(inner, list) and inner else None
            return first.as_bytes() if isinstance(first, Message) else b""
        data = part.get_payload(decode=True)
    except Exception:
        return b""
    return data if isinstance(data, bytes) else b""


def _part_text(part: Message, flags: dict[str, Any]) -> str:
    """A text part decoded by its declared charset, else UTF-8, else Windows-1256."""
    data = _payload(part)
    try:
        declared = part.get_content_charset() or "ascii"
    except Exception:
        declared = "ascii"
    for charset in (declared, "utf-8", "cp1256"):
        try:
            text = data.decode(charset)
        except (LookupError, UnicodeDecodeError):
            flags["charset_fallback"] = True
            continue
        return text_clean(text)
    return text_clean(data.decode("utf-8", "replace"))


def html_to_text(markup: str) -> str:
    """The text of an HTML part: every tag dropped (script and style with their content),
    entities decoded, paragraphs kept as lines."""
    marked = _HTML_BREAKS.sub("\n", markup)
    return html.unescape(nh3.clean(marked, tags=set()))


def text_tidy(text: str) -> str:
    """One space between words, no trailing spaces, at most one blank line in a row."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def quoted_history_strip(text: str) -> str:
    """The text without the history a reply quotes (from "On … wrote:", "في … كتب:",
    "-----Original Message-----" or an Outlook "From:/Sent:" block on, and lines starting
    with ">"). If nothing would be left (a forward, a message all quoted), the text whole."""
    lines = text.split("\n")
    cut = next((index for index in range(len(lines)) if _history_starts(lines, index)), len(lines))
    kept = [line for line in lines[:cut] if not line.lstrip().startswith(">")]
    new = "\n".join(kept).strip()
    return _BLANK_LINES.sub("\n\n", new) if new else text


def _history_starts(lines: list[str], index: int) -> bool:
    line = _unmarked(lines[index])
    following = _unmarked(lines[index + 1]) if index + 1 < len(lines) else ""
    if _QUOTE_RULES.match(line):
        return True
    for candidate in (line, f"{line} {following}"):
        if _QUOTE_EN.match(candidate) or _QUOTE_AR.match(candidate):
            return True
    if _OUTLOOK_FROM.match(line):
        window = [_unmarked(next_line) for next_line in lines[index + 1 : index + 5]]
        return sum(1 for next_line in window if _OUTLOOK_NEXT.match(next_line)) >= 2
    return False


def _unmarked(line: str) -> str:
    return line.strip().strip(_DIRECTION_MARKS).strip()
