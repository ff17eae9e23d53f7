"""Telegram bots: updates posted with the `setWebhook` secret token, private messages
turned into requests, answers sent with the Bot API's `sendMessage` — against a local server
that speaks the Bot API's shapes (including its `{"ok": false, "error_code": 429}`)."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from itertools import count
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from tawasul.cases.models import Channel, Message, Request
from tawasul.cases.services import request_claim, request_reply, request_start
from tawasul.channels.delivery import outbox_drain
from tawasul.channels.models import (
    ChannelIdentity,
    ChannelKind,
    IdentityKind,
    InboundMessage,
    InboundStatus,
    OutboxMessage,
    OutboxStatus,
)
from tawasul.core.ids import tracking_number_display
from tawasul.directory.models import CareCentre
from tests.channel_servers import Reply, channel_account, provider_server

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("channels_in_memory")]

BOT_TOKEN = "7123456789:AAH-bot-Token-Secret_x"
WEBHOOK_SECRET = "moe_care-Webhook-Secret-2"
FAISAL = 987654321
TEXT = "السلام عليكم، أرغب في الاستفسار عن موعد نقل المعلمين هذا العام"
STAFF_TEXT = "وعليكم السلام، تعلن نتائج حركة النقل في منتصف شهر شوال"


@pytest.fixture
def centre(ministry) -> CareCentre:
    return CareCentre.objects.get(entity=ministry.riyadh)


@pytest.fixture
def server():
    numbers = count(5000)

    def bot_api(received):
        chat = received.json()["chat_id"]
        return Reply(
            200,
            {
                "ok": True,
                "result": {
                    "message_id": next(numbers),
                    "chat": {"id": int(chat), "type": "private"},
                    "date": int(time.time()),
                    "text": received.json()["text"],
                },
            },
        )

    with provider_server(bot_api) as running:
        yield running


@pytest.fixture
def account(centre, server):
    return channel_account(
        kind=ChannelKind.TELEGRAM,
        centre=centre,
        settings={"bot_username": "moe_care_bot", "api_base": server.url},
        secrets={"bot_token": BOT_TOKEN, "webhook_secret": WEBHOOK_SECRET},
    )


def url(account) -> str:
    return reverse("channels:telegram_webhook", args=[account.public_id])


def post(client, account, update: Any, *, secret: str | None = WEBHOOK_SECRET):
    body = update if isinstance(update, bytes) else json.dumps(update).encode()
    headers = {} if secret is None else {"HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN": secret}
    return client.post(url(account), data=body, content_type="application/json", **headers)


def update(
    update_id: int, message_id: int, text: str = TEXT, *, ago=timedelta(0), chat_type="private"
) -> dict[str, Any]:
    chat_id = FAISAL if chat_type == "private" else -1001234567890
    return {
        "update_id": update_id,
        "message": {
            "message_id": message_id,
            "from": {
                "id": FAISAL,
                "is_bot": False,
                "first_name": "فيصل",
                "last_name": "الدوسري",
                "username": "faisal_d",
                "language_code": "ar",
            },
            "chat": {"id": chat_id, "first_name": "فيصل", "type": chat_type},
            "date": int(time.time() - ago.total_seconds()),
            "text": text,
        },
    }


def sends(server) -> list:
    return [r for r in server.received if r.path == f"/bot{BOT_TOKEN}/sendMessage"]


def agent_replies(staff, request: Request, text: str = STAFF_TEXT) -> None:
    request_claim(request=request, by=staff.riyadh_agent)
    request_start(request=request, by=staff.riyadh_agent)
    request_reply(request=request, by=staff.riyadh_agent, body=text)


# --- end to end ---------------------------------------------------------------------------------


def test_a_private_message_opens_a_request_answered_by_the_bot_and_continued(
    client, account, server, staff
) -> None:
    first = update(100, 1)
    response = post(client, account, first)

    assert (response.status_code, response.json()["received"]) == (200, 1)
    inbound = InboundMessage.objects.get()
    assert (inbound.external_id, inbound.thread) == (f"{FAISAL}:1", {"chat_id": str(FAISAL)})
    assert (inbound.sender_name, inbound.sender_handle) == ("فيصل الدوسري", "faisal_d")
    with inbound.raw.open("rb") as original:
        assert json.loads(original.read()) == first
    request = inbound.request
    assert request is not None
    assert request.channel == Channel.SOCIAL
    identity = ChannelIdentity.objects.get(kind=IdentityKind.TELEGRAM, value=str(FAISAL))
    assert identity.beneficiary == request.beneficiary

    agent_replies(staff, request)
    outbox_drain()

    acknowledgement, sent = sends(server)
    assert "authorization" not in sent.headers
    assert sent.json() == {
        "chat_id": str(FAISAL),
        "text": sent.json()["text"],
        "link_preview_options": {"is_disabled": True},
    }
    assert STAFF_TEXT in sent.json()["text"]
    assert STAFF_TEXT not in acknowledgement.json()["text"]
    assert tracking_number_display(request.tracking_number) in sent.json()["text"]
    replied = OutboxMessage.objects.get(template="replied")
    assert (replied.status, replied.provider_message_id) == (OutboxStatus.SENT, f"{FAISAL}:5001")

    post(client, account, update(101, 2, "شكراً، وهل يشمل ذلك المعلمات؟"))

    assert Request.objects.count() == 1
    assert Message.objects.filter(request=request, body="شكراً، وهل يشمل ذلك المعلمات؟").exists()


def test_a_reply_to_our_message_joins_its_request_even_after_it_was_closed(
    client, account, server, staff
) -> None:
    post(client, account, update(100, 1))
    request = Request.objects.get()
    agent_replies(staff, request)
    outbox_drain()
    Request.objects.filter(pk=request.pk).update(status="closed")
    answer = update(102, 3, "لم أفهم الرد، أرجو التوضيح أكثر")
    answer["message"]["reply_to_message"] = {"message_id": 5001, "date": int(time.time())}

    post(client, account, answer)

    follow_up = InboundMessage.objects.get(external_id=f"{FAISAL}:3")
    assert follow_up.thread["in_reply_to"] == f"{FAISAL}:5001"
    assert follow_up.request is not None
    assert follow_up.request != request
    assert request.tracking_display in follow_up.request.description


def test_group_chats_edits_and_other_updates_are_left_out(client, account) -> None:
    group = post(client, account, update(103, 4, chat_type="supergroup"))
    edited = post(client, account, {"update_id": 104, "edited_message": update(0, 1)["message"]})
    callback = post(client, account, {"update_id": 105, "callback_query": {"id": "1"}})

    for response in (group, edited, callback):
        assert (response.status_code, response.json()["skipped"]) == (200, 1)
    assert not InboundMessage.objects.exists()


def test_a_photo_is_kept_with_a_note_of_what_it_was(client, account) -> None:
    photo = update(106, 5)
    del photo["message"]["text"]
    photo["message"]["photo"] = [{"file_id": "AgAD", "width": 90, "height": 90}]
    photo["message"]["caption"] = "صورة من شاشة نظام نور"

    post(client, account, photo)

    inbound = InboundMessage.objects.get()
    assert "صورة من شاشة نظام نور" in inbound.body
    assert "photo" in inbound.body
    assert inbound.status == InboundStatus.PROCESSED


# --- what is refused ---------------------------------------------------------------------------


def test_a_wrong_or_missing_secret_token_is_refused_and_nothing_stored(client, account) -> None:
    wrong = post(client, account, update(100, 1), secret="guessed-secret")
    missing = post(client, account, update(100, 1), secret=None)
    get = client.get(url(account))

    assert (wrong.status_code, wrong.json()) == (403, {"error": "bad_signature"})
    assert missing.status_code == 403
    assert (get.status_code, get.json()) == (405, {"error": "method_not_allowed"})
    assert get["Allow"] == "POST"
    assert not InboundMessage.objects.exists()


def test_malformed_replayed_and_stale_updates(client, account) -> None:
    malformed = post(client, account, b'{"update_id": 1, "message": ')
    first = post(client, account, update(100, 1))
    replay = post(client, account, update(100, 1))
    stale = post(client, account, update(107, 9, ago=timedelta(hours=49)))

    assert (malformed.status_code, malformed.json()) == (400, {"error": "malformed"})
    assert (first.json()["received"], replay.json()["duplicates"]) == (1, 1)
    assert (stale.status_code, stale.json()["stale"]) == (200, 1)
    assert InboundMessage.objects.count() == 1


# --- when the Bot API is down -------------------------------------------------------------------


def test_a_rate_limited_or_slow_bot_api_is_retried_later_and_the_token_never_shows(
    client, account, server, staff, settings
) -> None:
    settings.TAWASUL_CHANNEL_HTTP_TIMEOUT = 0.3
    post(client, account, update(100, 1))
    outbox_drain()  # the acknowledgement
    agent_replies(staff, Request.objects.get())
    replied = OutboxMessage.objects.get(template="replied")
    server.replies.extend(
        [
            Reply(
                429,
                {
                    "ok": False,
                    "error_code": 429,
                    "description": "Too Many Requests: retry after 3",
                    "parameters": {"retry_after": 3},
                },
            ),
            Reply(502, None),
            Reply(200, {"ok": True, "result": {"message_id": 1}}, delay=1.5),
        ]
    )

    for expected in ("error 429 (retry after 3 s)", "HTTP 502", "unreachable"):
        outbox_drain()
        replied.refresh_from_db()
        assert replied.status == OutboxStatus.PENDING
        assert expected in replied.last_error
        assert BOT_TOKEN not in replied.last_error
        assert BOT_TOKEN.split(":")[1] not in replied.last_error
        OutboxMessage.objects.filter(pk=replied.pk).update(next_attempt_at=timezone.now())

    outbox_drain()

    replied.refresh_from_db()
    assert (replied.status, replied.attempts) == (OutboxStatus.SENT, 4)


def test_a_chat_that_blocked_the_bot_fails_for_good(client, account, server, staff) -> None:
    post(client, account, update(100, 1))
    outbox_drain()  # the acknowledgement
    agent_replies(staff, Request.objects.get())
    server.replies.append(
        Reply(
            403,
            {
                "ok": False,
                "error_code": 403,
                "description": "Forbidden: bot was blocked by the user",
            },
        )
    )

    outbox_drain()

    replied = OutboxMessage.objects.get(template="replied")
    assert (replied.status, replied.last_error) == (
        OutboxStatus.FAILED,
        "ChannelRejected: Telegram answered error 403",
    )
