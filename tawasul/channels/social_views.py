"""The social platforms' webhooks: X (Account Activity API), Meta (Messenger, Instagram
messaging, WhatsApp Cloud API) and Telegram bots, each at `/channels/<kind>/<public id>/webhook`.

Every POST is believed only after its check on the exact bytes received: X's
`x-twitter-webhooks-signature` (base64 HMAC-SHA256 with the consumer secret), Meta's
`X-Hub-Signature-256` (hex HMAC-SHA256 with the app secret), Telegram's
`X-Telegram-Bot-Api-Secret-Token` (the secret given to `setWebhook`, compared in constant
time). The GET handshakes answer X's CRC (`crc_token`) and Meta's `hub.challenge`.

A verified batch is answered 200 and each event in it is handled on its own (one bad event
never drops the others): a message becomes `inbound_receive(account, Incoming(...))`, which
keeps it once per platform message id (a replay does nothing more) and turns it into a
request or a reply; our own messages echoed back are kept as ignored; WhatsApp `statuses`
are delivery receipts on what we sent. An event whose own time is more than 48 hours old
(the platforms retry for about a day and a half) or in the future is left out, unstored, and
counted as `stale` in the answer: refusing the whole batch would only make the platform
retry it. Unknown account 404, failed check 403, malformed JSON 400, never a 500. Logs carry
ids and counts only.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import URLPattern, path
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt

from tawasul.channels.errors import WebhookRefused
from tawasul.channels.inbound import Incoming, Reason, inbound_receive
from tawasul.channels.models import ChannelAccount, ChannelKind, IdentityKind
from tawasul.channels.social import social_receipt_record
from tawasul.channels.verify import (
    account_for_webhook,
    epoch_datetime,
    hmac_sha256_base64,
    hmac_sha256_hex,
    signature_check,
    webhook_refusal,
)

logger = logging.getLogger(__name__)

# Older events are left out: the platforms retry a failed delivery for about 36 hours.
EVENT_MAX_AGE = timedelta(hours=48)

# Meta's `object` for each kind of account.
_META_OBJECTS: dict[str, str] = {
    ChannelKind.FACEBOOK: "page",
    ChannelKind.INSTAGRAM: "instagram",
    ChannelKind.WHATSAPP: "whatsapp_business_account",
}
_IDENTITY: dict[str, str] = {
    ChannelKind.FACEBOOK: IdentityKind.FACEBOOK,
    ChannelKind.INSTAGRAM: IdentityKind.INSTAGRAM,
}
# Telegram message fields that carry something other than text, in the order looked for.
_TELEGRAM_KINDS = (
    "photo",
    "document",
    "video",
    "voice",
    "audio",
    "video_note",
    "sticker",
    "animation",
    "location",
    "contact",
    "poll",
)


@dataclass
class Tally:
    """What became of a batch's events (the 200 answer's body and the log line)."""

    received: int = 0
    duplicates: int = 0
    receipts: int = 0
    stale: int = 0
    skipped: int = 0
    failed: int = 0


# --- the three receivers -------------------------------------------------------------------


@csrf_exempt
def x_webhook(request: HttpRequest, public_id: str) -> HttpResponse:
    """X Account Activity API: the CRC on GET, direct messages and mentions on POST."""
    try:
        _method_check(request, "GET", "POST")
        account = account_for_webhook(public_id, ChannelKind.X)
        secret = account.secret("consumer_secret")
        if request.method == "GET":
            return _x_crc(request, secret)
        body = _body(request)
        signature_check(
            given=request.headers.get("x-twitter-webhooks-signature"),
            expected="sha256=" + hmac_sha256_base64(secret, body),
            secret=secret,
        )
        payload = _payload(body)
    except WebhookRefused as error:
        return _refusal(error)
    tally = Tally()
    target = _account_for(account, str(payload.get("for_user_id") or ""), ("account_id",))
    if target is None:
        tally.skipped += 1
    else:
        users = _dict(payload.get("users"))
        dms = _list(payload.get("direct_message_events"))
        _receive_each(target, dms, partial(_x_direct_message, target, users=users), tally)
        tweets = _list(payload.get("tweet_create_events"))
        _receive_each(target, tweets, partial(_x_mention, target), tally)
    return _answer(account, tally)


def _x_crc(request: HttpRequest, secret: str) -> HttpResponse:
    token = request.GET.get("crc_token", "")
    if not secret:
        raise WebhookRefused("the account has no consumer secret")
    if not token:
        raise WebhookRefused("no crc_token", status=400)
    return JsonResponse({"response_token": "sha256=" + hmac_sha256_base64(secret, token.encode())})


@csrf_exempt
def meta_webhook(request: HttpRequest, public_id: str, kind: str) -> HttpResponse:
    """Meta's verification on GET; Messenger, Instagram or WhatsApp events on POST."""
    try:
        _method_check(request, "GET", "POST")
        account = account_for_webhook(public_id, kind)
        if request.method == "GET":
            return _meta_challenge(request, account.secret("verify_token"))
        body = _body(request)
        secret = account.secret("app_secret")
        signature_check(
            given=request.headers.get("x-hub-signature-256"),
            expected="sha256=" + hmac_sha256_hex(secret, body),
            secret=secret,
        )
        payload = _payload(body)
    except WebhookRefused as error:
        return _refusal(error)
    tally = Tally()
    if payload.get("object") != _META_OBJECTS[kind]:
        tally.skipped += 1  # another product's events sent to this address: nothing for us
    elif kind == ChannelKind.WHATSAPP:
        for entry in _list(payload.get("entry")):
            for change in _list(_dict(entry).get("changes")):
                _whatsapp_change(account, _dict(_dict(change).get("value")), tally)
    else:
        for entry in map(_dict, _list(payload.get("entry"))):
            target = _account_for(account, str(entry.get("id") or ""), ("page_id", "instagram_id"))
            if target is None:
                tally.skipped += 1
                continue
            events = _list(entry.get("messaging"))
            _receive_each(target, events, partial(_messenger_message, target), tally)
    return _answer(account, tally)


def _meta_challenge(request: HttpRequest, verify_token: str) -> HttpResponse:
    given = request.GET.get("hub.verify_token", "")
    challenge = request.GET.get("hub.challenge", "")
    if (
        request.GET.get("hub.mode") != "subscribe"
        or not verify_token
        or not hmac.compare_digest(given.encode(), verify_token.encode())
    ):
        raise WebhookRefused("verify token refused")
    if not challenge or len(challenge) > 200:
        raise WebhookRefused("no challenge", status=400)
    return HttpResponse(challenge, content_type="text/plain; charset=utf-8")


@csrf_exempt
def telegram_webhook(request: HttpRequest, public_id: str) -> HttpResponse:
    """A Telegram bot's updates (one per POST), with the secret token of `setWebhook`."""
    try:
        _method_check(request, "POST")
        account = account_for_webhook(public_id, ChannelKind.TELEGRAM)
        secret = account.secret("webhook_secret")
        body = _body(request)
        signature_check(
            given=request.headers.get("x-telegram-bot-api-secret-token"),
            expected=secret,
            secret=secret,
        )
        payload = _payload(body)
    except WebhookRefused as error:
        return _refusal(error)
    tally = Tally()
    _receive_each(account, [payload], _telegram_message, tally)
    return _answer(account, tally)


# --- shared steps -----------------------------------------------------------------------------


class _MethodRefused(WebhookRefused):
    def __init__(self, allowed: tuple[str, ...]) -> None:
        super().__init__("method not allowed", status=405)
        self.allowed = allowed


def _method_check(request: HttpRequest, *methods: str) -> None:
    if request.method not in methods:
        raise _MethodRefused(methods)


def _body(request: HttpRequest) -> bytes:
    try:
        return request.body
    except RequestDataTooBig:
        raise WebhookRefused("body too large", status=413) from None


def _payload(body: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise WebhookRefused("malformed JSON", status=400) from None
    if not isinstance(payload, dict):
        raise WebhookRefused("not a JSON object", status=400)
    return payload


def _refusal(error: WebhookRefused) -> JsonResponse:
    response = webhook_refusal(error, channel="social")
    if isinstance(error, _MethodRefused):
        response["Allow"] = ", ".join(error.allowed)
    return response


def _answer(account: ChannelAccount, tally: Tally) -> JsonResponse:
    logger.info(
        "social webhook %s account %s: %s",
        account.kind,
        account.pk,
        " ".join(f"{key}={value}" for key, value in asdict(tally).items()),
    )
    return JsonResponse(asdict(tally))


def _account_for(
    account: ChannelAccount, platform_id: str, keys: tuple[str, ...]
) -> ChannelAccount | None:
    """The account an event is for. One Meta app (or X app) may serve several pages or
    users: an event for another one goes to the active account of the same kind with that
    id, if it shares the signing secret the batch was verified with; else it is left out."""
    if not platform_id or platform_id in _ids(account, keys):
        return account
    secret_name = "consumer_secret" if account.kind == ChannelKind.X else "app_secret"
    secret = account.secret(secret_name)
    others = ChannelAccount.objects.filter(kind=account.kind, is_active=True).exclude(pk=account.pk)
    for other in others.select_related("centre").order_by("pk"):
        if platform_id in _ids(other, keys) and hmac.compare_digest(
            other.secret(secret_name).encode(), secret.encode()
        ):
            return other
    logger.warning("social webhook account %s: event for an unconfigured id", account.pk)
    return None


def _ids(account: ChannelAccount, keys: tuple[str, ...]) -> set[str]:
    return {value for key in keys if (value := account.setting(key).strip())}


def _receive_each(
    account: ChannelAccount,
    events: Iterable[Any],
    parse: Callable[[Any], Incoming | None],
    tally: Tally,
) -> None:
    """Parse and receive each event on its own: a failure is counted, never spreads."""
    for event in events:
        try:
            incoming = parse(_dict(event))
            if incoming is None:
                tally.skipped += 1
            elif not _fresh(incoming.received_at):
                tally.stale += 1
            else:
                # the original is kept with the message: this event, not the batch (which
                # may carry other people's messages)
                incoming.raw = json.dumps(event, ensure_ascii=False).encode()
                incoming.raw_name = f"{account.kind}.json"
                _message, new = inbound_receive(account, incoming)
                if new:
                    tally.received += 1
                else:
                    tally.duplicates += 1
        except Exception as error:  # one bad event must not drop the others
            tally.failed += 1
            logger.warning(
                "social webhook account %s: event not received (%s)",
                account.pk,
                type(error).__name__,
            )


def _fresh(moment: datetime | None) -> bool:
    if moment is None:
        return False
    now = timezone.now()
    ahead = timedelta(seconds=settings.TAWASUL_WEBHOOK_WINDOW_SECONDS)
    return now - EVENT_MAX_AGE <= moment <= now + ahead


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _note(kind: str) -> str:
    """What stands in the text for content that is not text (a photo, a voice note …), so
    nothing arrives silently empty; in the platform's language (staff read it)."""
    with translation.override(settings.LANGUAGE_CODE):
        return str(_("[%(kind)s message: open it on the platform]") % {"kind": kind[:30]})


def _with_note(text: str, kind: str) -> str:
    return f"{text}\n{_note(kind)}" if text else _note(kind)


# --- X ------------------------------------------------------------------------------------------


def _x_direct_message(
    account: ChannelAccount, event: dict[str, Any], *, users: dict[str, Any]
) -> Incoming | None:
    if event.get("type") != "message_create":
        return None
    create = _dict(event.get("message_create"))
    sender = str(create.get("sender_id") or "")
    user = _dict(users.get(sender))
    return Incoming(
        external_id=str(event.get("id") or ""),
        sender=sender,
        identity_kind=IdentityKind.X,
        sender_name=_text(user.get("name")),
        sender_handle=_text(user.get("screen_name")),
        body=_text(_dict(create.get("message_data")).get("text")),
        ignore_reason=Reason.ECHO if sender == account.setting("account_id") else "",
        received_at=epoch_datetime(event.get("created_timestamp")),
        data={"platform": "x", "event": "direct_message"},
    )


def _x_mention(account: ChannelAccount, tweet: dict[str, Any]) -> Incoming | None:
    """A post that mentions or answers the account (not a repost): public, acknowledged in
    public without personal data, then continued by direct message."""
    if "retweeted_status" in tweet:
        return None
    user = _dict(tweet.get("user"))
    sender = str(user.get("id_str") or "")
    extended = _dict(tweet.get("extended_tweet"))
    return Incoming(
        external_id=str(tweet.get("id_str") or ""),
        sender=sender,
        identity_kind=IdentityKind.X,
        sender_name=_text(user.get("name")),
        sender_handle=_text(user.get("screen_name")),
        body=_text(extended.get("full_text")) or _text(tweet.get("text")),
        is_public=True,
        ignore_reason=Reason.ECHO if sender == account.setting("account_id") else "",
        received_at=epoch_datetime(tweet.get("timestamp_ms"))
        or _x_created_at(tweet.get("created_at")),
        data={"platform": "x", "event": "mention"},
    )


def _x_created_at(value: Any) -> datetime | None:
    try:
        return datetime.strptime(str(value), "%a %b %d %H:%M:%S %z %Y")
    except ValueError:
        return None


# --- Meta ---------------------------------------------------------------------------------------


def _messenger_message(account: ChannelAccount, event: dict[str, Any]) -> Incoming | None:
    """A Messenger or Instagram message (deliveries, reads and postbacks are left out)."""
    message = event.get("message")
    if not isinstance(message, dict):
        return None
    text = _text(message.get("text"))
    attachments = [_dict(item) for item in _list(message.get("attachments"))]
    for attachment in attachments:
        text = _with_note(text, _text(attachment.get("type")) or "attachment")
    reply_to = _dict(message.get("reply_to")).get("mid")
    return Incoming(
        external_id=str(message.get("mid") or ""),
        sender=str(_dict(event.get("sender")).get("id") or ""),
        identity_kind=_IDENTITY[account.kind],
        body=text,
        thread={"in_reply_to": str(reply_to)} if reply_to else {},
        ignore_reason=Reason.ECHO if message.get("is_echo") else "",
        received_at=epoch_datetime(event.get("timestamp")),
        data={"platform": account.kind, "attachments": len(attachments)},
    )


def _whatsapp_change(account: ChannelAccount, value: dict[str, Any], tally: Tally) -> None:
    """One `changes[].value` of a WhatsApp batch: messages, and receipts of ours."""
    phone_number_id = str(_dict(value.get("metadata")).get("phone_number_id") or "")
    target = _account_for(account, phone_number_id, ("phone_number_id",))
    if target is None:
        tally.skipped += 1
        return
    names = {
        str(contact.get("wa_id") or ""): _text(_dict(contact.get("profile")).get("name"))
        for contact in map(_dict, _list(value.get("contacts")))
    }
    messages = _list(value.get("messages"))
    _receive_each(target, messages, partial(_whatsapp_message, names=names), tally)
    for status in map(_dict, _list(value.get("statuses"))):
        _whatsapp_receipt(target, status, tally)


def _whatsapp_message(message: dict[str, Any], *, names: dict[str, str]) -> Incoming | None:
    kind = _text(message.get("type")) or "unknown"
    content = _dict(message.get(kind))
    if kind == "text":
        body = _text(content.get("body"))
    else:  # a photo, a voice note, a location …: its caption, and a note of what it was
        body = _with_note(_text(content.get("caption")), kind)
    sender = str(message.get("from") or "")
    reply_to = _dict(message.get("context")).get("id")
    return Incoming(
        external_id=str(message.get("id") or ""),
        sender=sender,
        identity_kind=IdentityKind.WHATSAPP,
        sender_name=names.get(sender, ""),
        body=body,
        thread={"in_reply_to": str(reply_to)} if reply_to else {},
        received_at=epoch_datetime(message.get("timestamp")),
        data={
            "platform": "whatsapp",
            "message_type": kind[:30],
            **({"media_id": str(content["id"])[:100]} if content.get("id") else {}),
        },
    )


def _whatsapp_receipt(account: ChannelAccount, status: dict[str, Any], tally: Tally) -> None:
    try:
        moment = epoch_datetime(status.get("timestamp"))
        if not _fresh(moment) or moment is None:
            tally.stale += 1
            return
        if social_receipt_record(
            account=account,
            provider_message_id=str(status.get("id") or ""),
            status=_text(status.get("status")),
            at=moment,
        ):
            tally.receipts += 1
        else:
            tally.skipped += 1
    except Exception as error:  # one bad receipt must not drop the others
        tally.failed += 1
        logger.warning(
            "social webhook account %s: receipt not recorded (%s)",
            account.pk,
            type(error).__name__,
        )


# --- Telegram -------------------------------------------------------------------------------


def _telegram_message(update: dict[str, Any]) -> Incoming | None:
    """A message in a private chat with the bot (edits, groups and other updates are left
    out); kept as `<chat id>:<message id>`, the chat carried for the answer."""
    message = update.get("message")
    if not isinstance(message, dict):
        return None
    chat = _dict(message.get("chat"))
    if chat.get("type") != "private":
        return None
    chat_id, sender = str(chat.get("id") or ""), _dict(message.get("from"))
    text = _text(message.get("text")) or _text(message.get("caption"))
    kind = next((key for key in _TELEGRAM_KINDS if key in message), "")
    if kind:
        text = _with_note(text, kind)
    reply_to = _dict(message.get("reply_to_message")).get("message_id")
    name = " ".join(
        part for part in (_text(sender.get("first_name")), _text(sender.get("last_name"))) if part
    )
    return Incoming(
        external_id=f"{chat_id}:{message.get('message_id')}" if chat_id else "",
        sender=str(sender.get("id") or ""),
        identity_kind=IdentityKind.TELEGRAM,
        sender_name=name,
        sender_handle=_text(sender.get("username")),
        body=text,
        thread={
            "chat_id": chat_id,
            **({"in_reply_to": f"{chat_id}:{reply_to}"} if reply_to else {}),
        },
        received_at=epoch_datetime(message.get("date")),
        data={"platform": "telegram", "update_id": update.get("update_id")},
    )


urlpatterns: list[URLPattern] = [
    path("x/<str:public_id>/webhook", x_webhook, name="x_webhook"),
    path(
        "facebook/<str:public_id>/webhook",
        meta_webhook,
        {"kind": ChannelKind.FACEBOOK},
        name="facebook_webhook",
    ),
    path(
        "instagram/<str:public_id>/webhook",
        meta_webhook,
        {"kind": ChannelKind.INSTAGRAM},
        name="instagram_webhook",
    ),
    path(
        "whatsapp/<str:public_id>/webhook",
        meta_webhook,
        {"kind": ChannelKind.WHATSAPP},
        name="whatsapp_webhook",
    ),
    path("telegram/<str:public_id>/webhook", telegram_webhook, name="telegram_webhook"),
]
