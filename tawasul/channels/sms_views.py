"""The SMS gateways' webhooks, under each SMS account's public id:

- `POST /channels/sms/<public_id>/receipt`: a delivery receipt. For a generic (`http`)
  account a signed JSON `{"id", "status", "timestamp"}`; for a Unifonic account its DLR
  callback (`MessageID`, `DLR` or `Status`, `DLRTimestamp`, form-encoded or JSON),
  authenticated by the `?token=` the operator puts in the callback URL (Unifonic does not
  sign its callbacks). The receipt updates the outbox row found by the provider's message
  id; an unknown id is answered 200 and changes nothing (providers retry on errors).
- `POST /channels/sms/<public_id>/inbound`: an SMS someone sent us, signed JSON
  `{"id", "from", "to", "text", "timestamp"}` (any provider: Unifonic documents no inbound
  SMS webhook, so its inbound traffic comes through a relay speaking this shape). It becomes
  a new request or a reply on one (`inbound_receive`, idempotent on the id).

Signed means `X-Tawasul-Timestamp: <unix seconds>` and `X-Tawasul-Signature:
sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>" under the account's webhook_secret>`,
checked on the exact bytes received before anything is parsed, the timestamp within
`TAWASUL_WEBHOOK_WINDOW_SECONDS`. Answers: 404 unknown account, 403 bad signature or token
or stale timestamp, 400 malformed, 200 otherwise; the body is JSON, never a page.
"""

from __future__ import annotations

import json
import logging
import urllib.parse
from datetime import datetime
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.urls import URLPattern, path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from tawasul.channels.errors import WebhookRefused
from tawasul.channels.inbound import Incoming, identity_value, inbound_receive
from tawasul.channels.models import ChannelAccount, ChannelKind, IdentityKind
from tawasul.channels.sms import sms_receipt_record
from tawasul.channels.verify import (
    account_for_webhook,
    epoch_datetime,
    signature_check,
    tawasul_signed_check,
    webhook_refusal,
)
from tawasul.core.errors import DomainError

logger = logging.getLogger(__name__)

SMS_TEXT_MAX_BYTES = 64 * 1024  # a long concatenated SMS is a few kilobytes


@csrf_exempt
def sms_receipt(request: HttpRequest, public_id: str) -> JsonResponse:
    """A delivery receipt: update the SMS it is about."""
    try:
        account = _account(request, public_id)
        body = request.body
        if _provider(account) == "unifonic":
            _token_check(request, account)
            provider_id, status, at = _unifonic_receipt(request, body)
        else:
            _signature_check(request, account, body)
            data = _json_object(body)
            provider_id, status = _text(data.get("id")), _text(data.get("status"))
            at = _when(data.get("timestamp"))
        if not provider_id or not status:
            raise WebhookRefused("receipt without id or status", status=400)
    except WebhookRefused as refused:
        return webhook_refusal(refused, channel="sms")
    updated = sms_receipt_record(account=account, provider_id=provider_id, status=status, at=at)
    logger.info("sms receipt on account %s: %d message(s) updated", account.pk, updated)
    return JsonResponse({"ok": True, "updated": updated})


@csrf_exempt
def sms_inbound(request: HttpRequest, public_id: str) -> JsonResponse:
    """An SMS sent to us: keep it once, then it becomes a request or a reply on one."""
    try:
        account = _account(request, public_id)
        body = request.body
        _signature_check(request, account, body)
        incoming = _incoming(_json_object(body))
        message, created = inbound_receive(account, incoming)
    except WebhookRefused as refused:
        return webhook_refusal(refused, channel="sms")
    except DomainError:
        return JsonResponse({"error": "malformed"}, status=400)
    return JsonResponse({"ok": True, "id": str(message.public_id), "new": created})


urlpatterns: list[URLPattern] = [
    path("sms/<str:public_id>/receipt", sms_receipt, name="sms_receipt"),
    path("sms/<str:public_id>/inbound", sms_inbound, name="sms_inbound"),
]


# --- checks ---------------------------------------------------------------------------------


def _account(request: HttpRequest, public_id: str) -> ChannelAccount:
    if request.method != "POST":
        raise WebhookRefused("not a POST", status=405)
    account = account_for_webhook(public_id, ChannelKind.SMS)
    if len(request.body) > SMS_TEXT_MAX_BYTES:
        raise WebhookRefused("body too large", status=400)
    return account


def _provider(account: ChannelAccount) -> str:
    return (account.setting("provider") or "http").strip().lower()


def _signature_check(request: HttpRequest, account: ChannelAccount, body: bytes) -> None:
    tawasul_signed_check(request.headers, secret=account.secret("webhook_secret"), body=body)


def _token_check(request: HttpRequest, account: ChannelAccount) -> None:
    """Unifonic signs nothing: the callback URL carries a secret token (constant-time check)."""
    secret = account.secret("webhook_secret")
    signature_check(given=request.GET.get("token"), expected=secret, secret=secret)


# --- parsing --------------------------------------------------------------------------------


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise WebhookRefused("malformed JSON", status=400) from None
    if not isinstance(data, dict):
        raise WebhookRefused("not a JSON object", status=400)
    return data


def _text(value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        return ""
    return str(value).strip()


def _incoming(data: dict[str, Any]) -> Incoming:
    external_id, sender = (
        _text(data.get("id")),
        identity_value(IdentityKind.MOBILE, _text(data.get("from"))),
    )
    text = data.get("text")
    if not external_id or not sender or not isinstance(text, str):
        raise WebhookRefused("inbound SMS without id, sender or text", status=400)
    return Incoming(
        external_id=external_id,
        sender=sender,
        identity_kind=IdentityKind.MOBILE,
        body=text,
        data={"to": _text(data.get("to"))[:20]},
        received_at=_when(data.get("timestamp")),
    )


def _when(value: object) -> datetime | None:
    """A provider's time: unix seconds or milliseconds, or ISO 8601 (naive: local time)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return epoch_datetime(value)
    text = _text(value)
    if not text:
        return None
    if text.isdigit():
        return epoch_datetime(text)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return parsed


def _unifonic_receipt(request: HttpRequest, body: bytes) -> tuple[str, str, datetime | None]:
    """Unifonic's DLR callback: `MessageID`, `DLR` ("Delivered"/"Undeliverable") or
    `Status`, `DLRTimestamp` ("yyyy-mm-dd hh:mm:ss", the account's time zone), as a form or
    as JSON; names matched without regard to case."""
    content_type = (request.content_type or "").lower()
    if content_type == "application/json" or body.lstrip().startswith(b"{"):
        data: dict[str, Any] = _json_object(body)
    else:
        try:
            form = urllib.parse.parse_qs(body.decode("utf-8"), keep_blank_values=True)
        except UnicodeDecodeError:
            raise WebhookRefused("malformed form", status=400) from None
        data = {key: values[-1] for key, values in form.items() if values}
    fields = {str(key).lower(): value for key, value in data.items()}
    provider_id = _text(fields.get("messageid") or fields.get("message_id"))
    status = _text(fields.get("dlr") or fields.get("status"))
    at = _when(fields.get("dlrtimestamp") or fields.get("timestamp"))
    return provider_id, status, at
