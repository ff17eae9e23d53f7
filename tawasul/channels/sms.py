"""SMS gateways behind one interface.

The platform's own gateway is chosen by `settings.SMS_BACKEND` (a dotted path):

- `HttpSmsGateway`: a provider's JSON-over-HTTP API (production);
- `FileSmsGateway`: one JSON line per SMS in a file (development default);
- `ConsoleSmsGateway`: prints the text with the number masked;
- `MemorySmsGateway`: keeps messages in `tawasul.channels.sms.outbox` (tests).

An SMS channel account (issue 10) has its own gateway, by its `provider` setting
(`sms_account_gateway`): the generic JSON gateway (`http`) or Unifonic's REST API
(`unifonic`), with its own sender name and, optionally, its own texts per notification
(`sms_account_render`). The account marked `"default": true` also sends the SMS that are not
routed to an account (`sms_default_route`). Delivery receipts update the outbox row by
the provider's message id (`sms_receipt_record`).

A gateway returns the provider's message id, or raises `SmsDeliveryError` (try again
later) or `SmsRejected` (refused for good) with a summary that never contains the number or
the text (it is stored and logged).
"""

from __future__ import annotations

import json
import re
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
import uuid
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.module_loading import import_string

from tawasul.channels.errors import ChannelDeliveryError, ChannelRejected
from tawasul.channels.http import provider_post
from tawasul.channels.models import ChannelAccount, ChannelKind, OutboxChannel, OutboxMessage
from tawasul.channels.notifications import (
    notification_context,
    notification_language,
    notification_render_sms,
)
from tawasul.core.validators import mobile_masked


class SmsDeliveryError(ChannelDeliveryError):
    """The SMS was not accepted now: try again later. The message is a summary safe to
    store and log."""


class SmsRejected(SmsDeliveryError, ChannelRejected):
    """The provider refused the SMS for good (a bad number, a refused text or sender)."""


class SmsGateway(ABC):
    """Sends one SMS; returns the provider's message id."""

    @abstractmethod
    def send(self, *, to: str, text: str) -> str: ...


def sms_gateway() -> SmsGateway:
    """The gateway named by `settings.SMS_BACKEND`."""
    gateway_class = import_string(settings.SMS_BACKEND)
    gateway = gateway_class()
    if not isinstance(gateway, SmsGateway):
        raise TypeError(f"{settings.SMS_BACKEND} is not an SmsGateway")
    return gateway


# --- HTTP ----------------------------------------------------------------------------


class HttpSmsGateway(SmsGateway):
    """POST `{"to", "text", "sender"}` as JSON with a bearer token; 2xx means accepted,
    `{"id": …}` in the answer is the provider's message id."""

    def __init__(
        self,
        *,
        url: str | None = None,
        token: str | None = None,
        sender: str | None = None,
        timeout: float | None = None,
    ) -> None:
        self.url = settings.SMS_HTTP_URL if url is None else url
        self.token = settings.SMS_HTTP_TOKEN if token is None else token
        self.sender = settings.SMS_SENDER if sender is None else sender
        self.timeout = settings.SMS_HTTP_TIMEOUT if timeout is None else timeout

    def send(self, *, to: str, text: str) -> str:
        body = json.dumps({"to": to, "text": text, "sender": self.sender}).encode()
        status, payload = sms_http_post(
            self.url,
            body=body,
            content_type="application/json; charset=utf-8",
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=self.timeout,
        )
        if not 200 <= status < 300:
            raise sms_http_error(status)
        return _provider_id(payload)


def sms_http_post(
    url: str, *, body: bytes, content_type: str, headers: dict[str, str], timeout: float
) -> tuple[int, bytes]:
    """POST to a provider; its HTTP status and body, whatever the status. A provider that
    cannot be reached raises `SmsDeliveryError`."""
    return provider_post(
        url,
        body=body,
        headers={"Content-Type": content_type, **headers},
        timeout=timeout,
        label="SMS provider",
        unreachable=SmsDeliveryError,
    )


def sms_http_error(status: int) -> SmsDeliveryError:
    """A provider's HTTP refusal: 429 and 5xx (and an unexpected 3xx) are tried again later,
    any other 4xx is final."""
    summary = f"SMS provider answered HTTP {status}"
    if 400 <= status < 500 and status != 429:
        return SmsRejected(summary)
    return SmsDeliveryError(summary)


def _provider_id(payload: bytes) -> str:
    data = _json_or_none(payload)
    if isinstance(data, dict) and data.get("id") is not None:
        return str(data["id"])[:100]
    return ""


def _json_or_none(payload: bytes) -> Any:
    try:
        return json.loads(payload or b"null")
    except ValueError:
        return None


# --- Unifonic ------------------------------------------------------------------------------

UNIFONIC_API_BASE = "https://el.cloud.unifonic.com"
UNIFONIC_SEND_PATH = "/rest/SMS/messages"
# Unifonic's error codes that no retry will change: a bad number (ER-02 … ER-05), an empty
# or filtered text (ER-06, ER-07), a sender name not registered (ER-08), a duplicate (ER-09).
# Others (ER-01: no balance or no price for the country) may clear: they are tried again.
UNIFONIC_FINAL_ERRORS = frozenset(f"ER-{number:02d}" for number in range(2, 10))
_ERROR_CODE = re.compile(r"^[A-Za-z0-9_-]{1,20}$")


class UnifonicSmsGateway(SmsGateway):
    """Unifonic's REST API: `POST <api_base>/rest/SMS/messages`, form-encoded `AppSid`,
    `SenderID`, `Recipient` (international digits, no `+` or `00`), `Body`,
    `responseType=JSON`; the answer `{"success": true, "errorCode": "ER-00", "data":
    {"MessageID": …, "Status": …}}`."""

    def __init__(self, *, base: str, app_sid: str, sender: str, timeout: float) -> None:
        self.url = (base or UNIFONIC_API_BASE).rstrip("/") + UNIFONIC_SEND_PATH
        self.app_sid = app_sid
        self.sender = sender
        self.timeout = timeout

    def send(self, *, to: str, text: str) -> str:
        if not self.app_sid:
            raise SmsRejected("the Unifonic account has no AppSid (secret api_token)")
        fields = {"AppSid": self.app_sid, "SenderID": self.sender, "Recipient": _digits(to)}
        fields.update({"Body": text, "responseType": "JSON"})
        status, payload = sms_http_post(
            self.url,
            body=urllib.parse.urlencode(fields).encode(),
            content_type="application/x-www-form-urlencoded; charset=utf-8",
            headers={},
            timeout=self.timeout,
        )
        answer = _json_or_none(payload)
        data: dict[str, Any] = answer if isinstance(answer, dict) else {}
        accepted = data.get("success") in (True, "true", "True")
        if 200 <= status < 300 and accepted:
            inner = data.get("data")
            details: dict[str, Any] = inner if isinstance(inner, dict) else {}
            if str(details.get("Status") or "").lower() in ("rejected", "failed"):
                raise SmsRejected("Unifonic answered status rejected or failed")
            return str(details.get("MessageID") or "")[:100]
        code = str(data.get("errorCode") or "")
        if _ERROR_CODE.match(code) and code != "ER-00":
            summary = f"Unifonic refused the message ({code})"
            raise (
                SmsRejected(summary) if code in UNIFONIC_FINAL_ERRORS else SmsDeliveryError(summary)
            )
        if 200 <= status < 300:
            raise SmsDeliveryError("Unifonic did not accept the message")
        raise sms_http_error(status)


def _digits(number: str) -> str:
    """International digits without `+` or a `00` prefix, as Unifonic wants them."""
    digits = "".join(char for char in number if char in "0123456789")
    return digits[2:] if digits.startswith("00") else digits


# --- development and tests -------------------------------------------------------------


class FileSmsGateway(SmsGateway):
    """Appends one JSON line per SMS to `<SMS_FILE_PATH>/sms.jsonl`."""

    _lock = threading.Lock()

    def __init__(self, *, directory: str | Path | None = None) -> None:
        self.directory = Path(settings.SMS_FILE_PATH if directory is None else directory)
        self.path = self.directory / "sms.jsonl"

    def send(self, *, to: str, text: str) -> str:
        message_id = uuid.uuid4().hex
        record = {
            "id": message_id,
            "at": timezone.now().isoformat(),
            "sender": settings.SMS_SENDER,
            "to": to,
            "text": text,
        }
        line = json.dumps(record, ensure_ascii=False) + "\n"
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            with self._lock, self.path.open("a", encoding="utf-8") as file:
                file.write(line)
        except OSError as error:
            raise SmsDeliveryError(f"cannot write the SMS file ({type(error).__name__})") from None
        return message_id


class ConsoleSmsGateway(SmsGateway):
    """Writes each SMS to standard output with the number masked."""

    def __init__(self, *, stream: IO[str] | None = None) -> None:
        self.stream = stream or sys.stdout

    def send(self, *, to: str, text: str) -> str:
        message_id = uuid.uuid4().hex
        self.stream.write(f"SMS {message_id} to {mobile_masked(to)}: {text}\n")
        self.stream.flush()
        return message_id


@dataclass(frozen=True)
class SentSms:
    id: str
    to: str
    text: str


outbox: list[SentSms] = []
"""What `MemorySmsGateway` sent, oldest first (like `django.core.mail.outbox`)."""


class MemorySmsGateway(SmsGateway):
    """Keeps each SMS in the module-level `outbox` list (for tests)."""

    def send(self, *, to: str, text: str) -> str:
        message = SentSms(id=uuid.uuid4().hex, to=to, text=text)
        outbox.append(message)
        return message.id


# --- channel accounts (issue 10) ---------------------------------------------------------

SMS_PROVIDERS = ("http", "unifonic")
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
# What an account's own texts may not carry: the staff text stays off SMS (as in the
# built-in texts: a tracking number and a link, nothing personal).
_NOT_IN_SMS = frozenset({"reply_body"})


def sms_account_gateway(account: ChannelAccount) -> SmsGateway:
    """The gateway of an SMS channel account, by its `provider` setting (`http` when unset):
    its URL or API base, its sender name, its token (secret `api_token`)."""
    provider = (account.setting("provider") or "http").strip().lower()
    timeout = settings.TAWASUL_CHANNEL_HTTP_TIMEOUT
    if provider == "http":
        return HttpSmsGateway(
            url=account.setting("url").strip(),
            token=account.secret("api_token"),
            sender=account.setting("sender"),
            timeout=timeout,
        )
    if provider == "unifonic":
        return UnifonicSmsGateway(
            base=account.setting("api_base").strip() or UNIFONIC_API_BASE,
            app_sid=account.secret("api_token"),
            sender=account.setting("sender"),
            timeout=timeout,
        )
    raise SmsRejected("the SMS account names an unknown provider")


def sms_account_render(account: ChannelAccount | None, message: OutboxMessage) -> str:
    """The SMS text: the account's own for this notification and language (its `templates`
    setting: `{"<notification>": {"ar": "…{tracking}…", "en": "…"}}`), else the built-in one.
    A placeholder the text names but the notification lacks is left as written."""
    language = notification_language(message)
    own = _account_template(account, message.template, language)
    if own is None:
        return notification_render_sms(message)
    with translation.override(language):
        context = notification_context(message)
    values = {
        key: str(value)
        for key, value in context.items()
        if isinstance(value, str) and key not in _NOT_IN_SMS
    }
    values["sender"] = account.setting("sender") if account is not None else ""
    filled = _PLACEHOLDER.sub(lambda match: values.get(match[1], match[0]), own)
    return " ".join(filled.split())


def _account_template(account: ChannelAccount | None, key: str, language: str) -> str | None:
    templates = account.settings.get("templates") if account is not None else None
    entry = templates.get(key) if isinstance(templates, dict) else None
    text = entry.get(language) if isinstance(entry, dict) else None
    return text if isinstance(text, str) and text.strip() else None


def sms_default_account() -> ChannelAccount | None:
    """The active SMS account marked `"default": true`: it also sends the SMS that are not
    routed to an account (portal users' notifications, sign-in codes)."""
    for account in ChannelAccount.objects.filter(kind=ChannelKind.SMS, is_active=True).order_by(
        "pk"
    ):
        flag = account.settings.get("default") if isinstance(account.settings, dict) else None
        if flag is True or str(flag).lower() in ("true", "1", "yes"):
            return account
    return None


def sms_default_route() -> tuple[SmsGateway, ChannelAccount | None]:
    """How an SMS that is not routed goes out: the default account's gateway, else the
    platform's (`settings.SMS_BACKEND`)."""
    account = sms_default_account()
    if account is None:
        return sms_gateway(), None
    return sms_account_gateway(account), account


# --- delivery receipts ---------------------------------------------------------------------

RECEIPT_STATUSES = {
    "delivered": "delivered",
    "delivrd": "delivered",
    "read": "read",
    "sent": "sent",
    "accepted": "sent",
    "queued": "queued",
    "pending": "queued",
    "buffered": "queued",
    "failed": "failed",
    "undelivered": "failed",
    "undeliverable": "failed",
    "rejected": "failed",
    "expired": "failed",
    "undeliv": "failed",
}


def sms_receipt_status(value: object) -> str:
    """A provider's delivery status in our words: delivered, read, sent, queued, failed;
    anything else kept as a short lower-case word."""
    word = re.sub(r"[^a-z_]", "", str(value or "").strip().lower())[:20]
    return RECEIPT_STATUSES.get(word, word or "unknown")


def sms_receipt_record(
    *, account: ChannelAccount, provider_id: str, status: str, at: datetime | None = None
) -> int:
    """Note a delivery receipt on the SMS it is about (found by the provider's message id,
    sent through this account or as a default SMS); an older receipt never overwrites a
    newer one, an unknown id changes nothing. Returns how many rows were updated."""
    provider_id = (provider_id or "").strip()[:100]
    if not provider_id:
        return 0
    at = at or timezone.now()
    return (
        OutboxMessage.objects.filter(channel=OutboxChannel.SMS, provider_message_id=provider_id)
        .filter(Q(account=account) | Q(account__isnull=True))
        .filter(Q(receipt_at__isnull=True) | Q(receipt_at__lte=at))
        .update(receipt_status=sms_receipt_status(status), receipt_at=at)
    )
