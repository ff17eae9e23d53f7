"""SMS gateways: one interface, chosen by `settings.SMS_BACKEND` (a dotted path).

- `HttpSmsGateway`: a provider's JSON-over-HTTP API (production);
- `FileSmsGateway`: one JSON line per SMS in a file (development default);
- `ConsoleSmsGateway`: prints the text with the number masked;
- `MemorySmsGateway`: keeps messages in `tawasul.channels.sms.outbox` (tests).

A gateway returns the provider's message id, or raises `SmsDeliveryError` with a
summary that never contains the number or the text (it is stored and logged).
"""

from __future__ import annotations

import json
import sys
import threading
import urllib.error
import urllib.request
import uuid
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

from tawasul.channels.models import ChannelAccount
from tawasul.core.validators import mobile_masked


class SmsDeliveryError(Exception):
    """The SMS was not accepted. The message is a summary safe to store and log."""


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


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer we did not expect: fail instead of re-posting as GET."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class HttpSmsGateway(SmsGateway):
    """POST `{"to", "text", "sender"}` as JSON with a bearer token; 2xx means accepted."""

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
        self._opener = urllib.request.build_opener(_NoRedirect)

    def send(self, *, to: str, text: str) -> str:
        if not self.url.startswith(("http://", "https://")):
            raise SmsDeliveryError("SMS_HTTP_URL is not an http(s) URL")
        body = json.dumps({"to": to, "text": text, "sender": self.sender}).encode()
        http_request = urllib.request.Request(  # noqa: S310 (scheme checked above)
            self.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "Accept": "application/json",
                "Authorization": f"Bearer {self.token}",
            },
        )
        try:
            with self._opener.open(http_request, timeout=self.timeout) as response:
                status, payload = response.status, response.read()
        except urllib.error.HTTPError as error:
            raise SmsDeliveryError(f"SMS provider answered HTTP {error.code}") from None
        except urllib.error.URLError as error:
            reason = type(error.reason).__name__ if error.reason else "URLError"
            raise SmsDeliveryError(f"SMS provider unreachable ({reason})") from None
        except (TimeoutError, OSError) as error:
            raise SmsDeliveryError(f"SMS provider unreachable ({type(error).__name__})") from None
        if not 200 <= status < 300:
            raise SmsDeliveryError(f"SMS provider answered HTTP {status}")
        return _provider_id(payload)


def _provider_id(payload: bytes) -> str:
    try:
        data = json.loads(payload or b"null")
    except ValueError:
        return ""
    if isinstance(data, dict) and data.get("id") is not None:
        return str(data["id"])[:100]
    return ""


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


def sms_account_gateway(account: ChannelAccount) -> SmsGateway:
    """The gateway of an SMS channel account (its provider's format, URL, sender, token)."""
    raise NotImplementedError("being written")
