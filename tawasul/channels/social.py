"""Sending through the social platforms: a direct message (or, on X, a public reply) with
each platform's send API, for an outbox message routed to a social account.

The outbox drain (`tawasul.channels.delivery`) hands over a message whose `account` is an
X, Instagram, Facebook, WhatsApp or Telegram account; `social_send` renders it as a chat
text (`notification_render_chat`, cut to the platform's limit), posts it to the
platform's API at the account's `api_base` (the real platform by default, a local server
in tests) and returns the platform's message id. Retries are the outbox's: a timeout, a
5xx, a rate limit (429) or refused credentials (401: a token to renew) raise
`ChannelDeliveryError`; any other 4xx raises `ChannelRejected` (failed for good). An error
text names the platform, the HTTP status and the platform's numeric error code, never a
token, a recipient or a text (Telegram's bot token is part of the URL: it is scrubbed).

Delivery receipts the platforms send back (WhatsApp `statuses`) are recorded on the sent
message by `social_receipt_record`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.conf import settings

from tawasul.channels.errors import ChannelDeliveryError, ChannelRejected
from tawasul.channels.http import provider_post
from tawasul.channels.models import ChannelAccount, ChannelKind, OutboxMessage
from tawasul.channels.notifications import notification_render_chat

logger = logging.getLogger(__name__)

X_API = "https://api.x.com"
GRAPH_API = "https://graph.facebook.com"
GRAPH_VERSION = "v21.0"
TELEGRAM_API = "https://api.telegram.org"

# The longest text each platform takes in one message.
TWEET_LIMIT = 280
X_DM_LIMIT = 10_000
MESSENGER_LIMIT = 2000
INSTAGRAM_LIMIT = 1000
WHATSAPP_LIMIT = 4096
TELEGRAM_LIMIT = 4096

PLATFORM_NAMES: dict[str, str] = {
    ChannelKind.X: "X",
    ChannelKind.INSTAGRAM: "Instagram",
    ChannelKind.FACEBOOK: "Messenger",
    ChannelKind.WHATSAPP: "WhatsApp",
    ChannelKind.TELEGRAM: "Telegram",
}


def social_send(message: OutboxMessage) -> str:
    """Send a routed outbox message through its social account; the platform's message id."""
    account = message.account
    if account is None:
        raise ChannelRejected("the message has no channel account")
    sender = _SENDERS.get(account.kind)
    if sender is None:
        raise ChannelRejected(f"a {account.kind} account is not a social account")
    if not message.recipient:
        raise ChannelRejected("the message has no recipient")
    return sender(account, message)


# --- each platform ----------------------------------------------------------------------------


def _x_send(account: ChannelAccount, message: OutboxMessage) -> str:
    """A public reply to a mention (`thread.public`), else a direct message (X API v2)."""
    token = _token(account, "access_token")
    base = account.setting("api_base", X_API).rstrip("/")
    if message.thread.get("public"):
        reply_to = str(message.thread.get("reply_to_id") or "")
        if not reply_to:
            raise ChannelRejected("a public reply needs the post it answers")
        payload: dict[str, Any] = {
            "text": notification_render_chat(message, limit=TWEET_LIMIT),
            "reply": {"in_reply_to_tweet_id": reply_to},
        }
        answer = _post(account, f"{base}/2/tweets", payload, token=token)
        return _text_id(_dig(answer, "data", "id"))
    url = f"{base}/2/dm_conversations/with/{_path_part(message.recipient)}/messages"
    payload = {"text": notification_render_chat(message, limit=X_DM_LIMIT)}
    return _text_id(_dig(_post(account, url, payload, token=token), "data", "dm_event_id"))


def _messenger_send(account: ChannelAccount, message: OutboxMessage) -> str:
    """Messenger and Instagram messaging: the Send API, as a response to the person (Meta
    accepts it within 24 hours of their last message)."""
    _private_only(message)
    limit = INSTAGRAM_LIMIT if account.kind == ChannelKind.INSTAGRAM else MESSENGER_LIMIT
    sender_id = account.setting("page_id") or "me"
    payload = {
        "recipient": {"id": message.recipient},
        "messaging_type": "RESPONSE",
        "message": {"text": notification_render_chat(message, limit=limit)},
    }
    url = f"{_graph(account)}/{_path_part(sender_id)}/messages"
    answer = _post(account, url, payload, token=_token(account, "access_token"))
    return _text_id(_dig(answer, "message_id"))


def _whatsapp_send(account: ChannelAccount, message: OutboxMessage) -> str:
    """WhatsApp Cloud API: a text message (free-form text is accepted within the 24-hour
    customer service window that the person's last message opened)."""
    _private_only(message)
    phone_number_id = _path_part(account.setting("phone_number_id"))
    payload = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": message.recipient,
        "type": "text",
        "text": {
            "preview_url": False,
            "body": notification_render_chat(message, limit=WHATSAPP_LIMIT),
        },
    }
    url = f"{_graph(account)}/{phone_number_id}/messages"
    answer = _post(account, url, payload, token=_token(account, "access_token"))
    messages = _dig(answer, "messages")
    first = messages[0] if isinstance(messages, list) and messages else {}
    return _text_id(_dig(first, "id"))


def _telegram_send(account: ChannelAccount, message: OutboxMessage) -> str:
    """Telegram Bot API `sendMessage`; the id returned is `<chat id>:<message id>` (a
    message id is only unique within its chat), the form inbound messages are kept by."""
    _private_only(message)
    token = _token(account, "bot_token")
    base = account.setting("api_base", TELEGRAM_API).rstrip("/")
    chat_id = str(message.thread.get("chat_id") or message.recipient)
    payload = {
        "chat_id": chat_id,
        "text": notification_render_chat(message, limit=TELEGRAM_LIMIT),
        "link_preview_options": {"is_disabled": True},
    }
    url = f"{base}/bot{token}/sendMessage"
    answer = _post(account, url, payload, token="", scrub=(token,))
    if answer.get("ok") is False:
        raise _telegram_error(account, answer)
    sent = _dig(answer, "result", "message_id")
    return f"{chat_id}:{sent}" if sent not in (None, "") else ""


_SENDERS: dict[str, Callable[[ChannelAccount, OutboxMessage], str]] = {
    ChannelKind.X: _x_send,
    ChannelKind.INSTAGRAM: _messenger_send,
    ChannelKind.FACEBOOK: _messenger_send,
    ChannelKind.WHATSAPP: _whatsapp_send,
    ChannelKind.TELEGRAM: _telegram_send,
}


def _graph(account: ChannelAccount) -> str:
    base = account.setting("api_base", GRAPH_API).rstrip("/")
    return f"{base}/{_path_part(account.setting('version', GRAPH_VERSION))}"


def _private_only(message: OutboxMessage) -> None:
    if message.thread.get("public"):
        raise ChannelRejected("public replies are supported on X only")


def _token(account: ChannelAccount, name: str) -> str:
    token = account.secret(name)
    if not token:
        raise ChannelRejected(f"the account has no {name}")
    return token


def _path_part(value: str) -> str:
    """An id placed in a URL path: refused unless plain (no slash, query or space)."""
    text = str(value or "").strip()
    if not text or not all(ch.isalnum() or ch in "-_.:+" for ch in text):
        raise ChannelRejected("an id in the address is empty or not plain")
    return text


# --- HTTP ------------------------------------------------------------------------------------


def _post(
    account: ChannelAccount,
    url: str,
    payload: dict[str, Any],
    *,
    token: str,
    scrub: tuple[str, ...] = (),
) -> dict[str, Any]:
    """POST `payload` as JSON; the JSON answer of a 2xx, else the error the outbox expects.

    X's and Meta's `token` goes in the Authorization header, never in the URL; Telegram's
    is in the URL by design (no header: `token` is ""), so it is passed in `scrub`."""
    platform = PLATFORM_NAMES.get(account.kind, account.kind)
    if not url.startswith(("http://", "https://")):
        raise ChannelRejected(f"{platform}: api_base is not an http(s) URL")
    headers = {"Content-Type": "application/json; charset=utf-8"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        status, body = provider_post(
            url,
            body=json.dumps(payload).encode(),
            headers=headers,
            timeout=settings.TAWASUL_CHANNEL_HTTP_TIMEOUT,
            label=platform,
        )
    except ChannelDeliveryError as error:  # the reason may quote the URL (Telegram's token)
        raise ChannelDeliveryError(_scrubbed(str(error), scrub)) from None
    if not 200 <= status < 300:
        raise _http_error(account, status, body)
    answer = _json(body)
    logger.info("%s send: account %s, HTTP %s", platform, account.pk, status)
    return answer


def _json(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body or b"{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _http_error(account: ChannelAccount, status: int, body: bytes) -> ChannelDeliveryError:
    """An HTTP error as the outbox's error: 429, 5xx and 401 are tried again later."""
    platform = PLATFORM_NAMES.get(account.kind, account.kind)
    answer = _json(body)
    if account.kind == ChannelKind.TELEGRAM and answer.get("ok") is False:
        return _telegram_error(account, answer, status=status)
    code = _provider_code(answer)
    summary = f"{platform} answered HTTP {status}" + (f" (error {code})" if code else "")
    if status == 429 or status >= 500 or status == 401:
        return ChannelDeliveryError(summary)
    return ChannelRejected(summary)


def _telegram_error(
    account: ChannelAccount, answer: dict[str, Any], *, status: int = 200
) -> ChannelDeliveryError:
    """Telegram's `{"ok": false, "error_code", "parameters": {"retry_after"}}`."""
    code = _dig(answer, "error_code")
    code = code if isinstance(code, int) else status
    retry_after = _dig(answer, "parameters", "retry_after")
    summary = f"Telegram answered error {code}"
    if isinstance(retry_after, int):
        summary += f" (retry after {retry_after} s)"
    if code == 429 or code >= 500 or code == 401 or code < 400:
        return ChannelDeliveryError(summary)
    return ChannelRejected(summary)


def _provider_code(answer: dict[str, Any]) -> str:
    """The platform's numeric error code only (its messages may quote the recipient)."""
    for path in (("error", "code"), ("errors", 0, "code"), ("status",)):
        value = _dig(answer, *path)
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
    return ""


def _dig(value: Any, *path: str | int) -> Any:
    for key in path:
        if isinstance(key, int):
            value = value[key] if isinstance(value, list) and len(value) > key else None
        else:
            value = value.get(key) if isinstance(value, dict) else None
    return value


def _text_id(value: Any) -> str:
    return "" if value is None or isinstance(value, dict | list) else str(value)[:100]


def _scrubbed(text: str, secrets: tuple[str, ...]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[token]")
    return text


# --- delivery receipts ----------------------------------------------------------------------

# A receipt never takes a message back to an earlier stage (they may arrive out of order);
# "failed" replaces only "sent" (a message delivered to one device stays delivered).
_RECEIPT_STAGES = {"sent": 1, "failed": 2, "delivered": 3, "read": 4}


def social_receipt_record(
    *, account: ChannelAccount, provider_message_id: str, status: str, at: datetime
) -> bool:
    """Note what the platform says became of a message we sent through `account` (sent,
    delivered, read, failed); whether a message was updated."""
    stage = _RECEIPT_STAGES.get(status)
    if stage is None or not provider_message_id:
        return False
    sent = OutboxMessage.objects.filter(
        account=account, provider_message_id=provider_message_id[:100]
    ).first()
    if sent is None or _RECEIPT_STAGES.get(sent.receipt_status, 0) >= stage:
        return False
    sent.receipt_status, sent.receipt_at = status, at
    sent.save(update_fields=["receipt_status", "receipt_at"])
    logger.info("outbox %s: receipt %s", sent.pk, status)
    return True
