"""X (Account Activity API): the CRC handshake, signed webhook batches of direct messages
and mentions turned into requests, and the answers sent back through X's API v2 — against a
local server that speaks X's request and response shapes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from datetime import timedelta
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

OURS = "1500000000000000001"  # the ministry's X account
HIND = "2244994945"
CONSUMER_SECRET = "x-consumer-Secret-41"
ACCESS_TOKEN = "x-user-Access-Token-77"
DM_TEXT = "السلام عليكم، لم تصلني نتيجة اختبار ابني في نظام نور حتى الآن"
STAFF_TEXT = "وعليكم السلام، نتيجة الاختبار ستظهر في نظام نور يوم الأحد"


@pytest.fixture
def centre(ministry) -> CareCentre:
    return CareCentre.objects.get(entity=ministry.riyadh)


@pytest.fixture
def server():
    def x_api(received):
        if received.path == "/2/tweets":
            return Reply(201, {"data": {"id": "1800000000000000099", "text": "…"}})
        return Reply(201, {"data": {"dm_conversation_id": "c-1", "dm_event_id": "1900000000001"}})

    with provider_server(x_api) as running:
        yield running


@pytest.fixture
def account(centre, server):
    return channel_account(
        kind=ChannelKind.X,
        centre=centre,
        settings={"account_id": OURS, "api_base": server.url},
        secrets={"access_token": ACCESS_TOKEN, "consumer_secret": CONSUMER_SECRET},
    )


def webhook_url(account) -> str:
    return reverse("channels:x_webhook", args=[account.public_id])


def signed_post(client, account, payload: Any, *, secret: str = CONSUMER_SECRET):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return client.post(
        webhook_url(account),
        data=body,
        content_type="application/json",
        HTTP_X_TWITTER_WEBHOOKS_SIGNATURE="sha256=" + base64.b64encode(digest).decode(),
    )


def millis(ago: timedelta = timedelta(0)) -> str:
    return str(int((time.time() - ago.total_seconds()) * 1000))


def dm_batch(*events: dict[str, Any]) -> dict[str, Any]:
    return {
        "for_user_id": OURS,
        "direct_message_events": list(events),
        "users": {
            HIND: {"id": HIND, "name": "هند الشمري", "screen_name": "hind_sh"},
            OURS: {"id": OURS, "name": "وزارة التعليم", "screen_name": "moe_care"},
        },
    }


def dm(event_id: str, text: str = DM_TEXT, *, sender: str = HIND, ago=timedelta(0)) -> dict:
    return {
        "type": "message_create",
        "id": event_id,
        "created_timestamp": millis(ago),
        "message_create": {
            "target": {"recipient_id": OURS if sender != OURS else HIND},
            "sender_id": sender,
            "message_data": {"text": text, "entities": {}},
        },
    }


def mention(tweet_id: str, text: str) -> dict[str, Any]:
    return {
        "for_user_id": OURS,
        "tweet_create_events": [
            {
                "created_at": "Wed Oct 10 20:19:24 +0000 2018",
                "timestamp_ms": millis(),
                "id_str": tweet_id,
                "text": text,
                "user": {"id_str": HIND, "name": "هند الشمري", "screen_name": "hind_sh"},
                "entities": {"user_mentions": [{"id_str": OURS, "screen_name": "moe_care"}]},
            }
        ],
    }


def agent_replies(staff, request: Request, text: str = STAFF_TEXT) -> None:
    request_claim(request=request, by=staff.riyadh_agent)
    request_start(request=request, by=staff.riyadh_agent)
    request_reply(request=request, by=staff.riyadh_agent, body=text)


def sent_to(server, path: str) -> list:
    return [received for received in server.received if received.path == path]


# --- the handshake -----------------------------------------------------------------------------


def test_the_crc_challenge_is_answered_with_the_consumer_secret(client, account) -> None:
    response = client.get(webhook_url(account), {"crc_token": "9b4507b3-9040-4669"})

    expected = hmac.new(CONSUMER_SECRET.encode(), b"9b4507b3-9040-4669", hashlib.sha256)
    assert response.status_code == 200
    assert response.json() == {
        "response_token": "sha256=" + base64.b64encode(expected.digest()).decode()
    }
    assert client.get(webhook_url(account)).status_code == 400


def test_an_unknown_or_inactive_account_is_not_found(client, account) -> None:
    for public_id in ("0b7c4e1e-0000-4000-8000-000000000000", "not-a-uuid"):
        url = reverse("channels:x_webhook", args=[public_id])
        response = client.get(url, {"crc_token": "abc"})
        assert (response.status_code, response.json()) == (404, {"error": "unknown_account"})
    account.is_active = False
    account.save(update_fields=["is_active"])
    assert signed_post(client, account, dm_batch(dm("1"))).status_code == 404


# --- a direct message, end to end --------------------------------------------------------------


def test_a_direct_message_opens_a_request_and_the_answer_goes_back_by_direct_message(
    client, account, server, staff
) -> None:
    response = signed_post(client, account, dm_batch(dm("1840000000000000001")))

    assert response.status_code == 200
    assert response.json()["received"] == 1
    inbound = InboundMessage.objects.get()
    assert (inbound.status, inbound.sender, inbound.sender_handle) == (
        InboundStatus.PROCESSED,
        HIND,
        "hind_sh",
    )
    request = inbound.request
    assert request is not None
    assert (request.channel, request.entity_id) == (Channel.SOCIAL, account.centre.entity_id)
    assert DM_TEXT in request.description
    identity = ChannelIdentity.objects.get(kind=IdentityKind.X, value=HIND)
    assert identity.beneficiary_id == request.beneficiary_id

    agent_replies(staff, request)
    outbox_drain()

    acknowledgement, sent = sent_to(server, f"/2/dm_conversations/with/{HIND}/messages")
    for each in (acknowledgement, sent):
        assert each.method == "POST"
        assert each.headers["authorization"] == f"Bearer {ACCESS_TOKEN}"
        assert list(each.json()) == ["text"]
        assert tracking_number_display(request.tracking_number) in each.json()["text"]
    assert STAFF_TEXT not in acknowledgement.json()["text"]
    assert STAFF_TEXT in sent.json()["text"]
    routed = OutboxMessage.objects.get(account=account, template="replied")
    assert (routed.status, routed.provider_message_id) == (OutboxStatus.SENT, "1900000000001")


def test_a_second_direct_message_continues_the_same_open_request(client, account, staff) -> None:
    signed_post(client, account, dm_batch(dm("1840000000000000001")))
    request = Request.objects.get()
    agent_replies(staff, request)

    signed_post(client, account, dm_batch(dm("1840000000000000002", "شكراً، سأنتظر يوم الأحد")))

    assert Request.objects.count() == 1
    second = InboundMessage.objects.get(external_id="1840000000000000002")
    assert (second.request_id, second.reason) == (request.pk, "reply")
    assert Message.objects.filter(request=request, body="شكراً، سأنتظر يوم الأحد").exists()


def test_our_own_direct_messages_echoed_back_are_ignored(client, account) -> None:
    response = signed_post(client, account, dm_batch(dm("1840000000000000003", sender=OURS)))

    assert response.status_code == 200
    inbound = InboundMessage.objects.get()
    assert (inbound.status, inbound.reason) == (InboundStatus.IGNORED, "echo")
    assert not Request.objects.exists()


# --- a mention ---------------------------------------------------------------------------------


def test_a_mention_gets_a_public_acknowledgement_without_personal_data_then_continues_by_dm(
    client, account, server
) -> None:
    text = "@moe_care ابني لم يستلم نتيجة الاختبار، رقم هويتي 1000000017"
    response = signed_post(client, account, mention("1850000000000000001", text))

    assert response.status_code == 200
    inbound = InboundMessage.objects.get()
    assert inbound.is_public
    request = inbound.request
    assert request is not None
    assert request.channel == Channel.SOCIAL

    outbox_drain()

    [tweet] = sent_to(server, "/2/tweets")
    assert tweet.headers["authorization"] == f"Bearer {ACCESS_TOKEN}"
    body = tweet.json()
    assert set(body) == {"text", "reply"}
    assert body["reply"] == {"in_reply_to_tweet_id": "1850000000000000001"}
    assert tracking_number_display(request.tracking_number) in body["text"]
    for private in ("هند", "hind_sh", "1000000017", "نتيجة الاختبار", HIND):
        assert private not in body["text"]
    assert len(body["text"]) <= 280
    ack = OutboxMessage.objects.get(template="mention_ack")
    assert (ack.status, ack.provider_message_id) == (OutboxStatus.SENT, "1800000000000000099")
    assert not sent_to(server, f"/2/dm_conversations/with/{HIND}/messages")

    signed_post(client, account, dm_batch(dm("1840000000000000010", "هذه تفاصيل طلبي بالخاص")))

    followed = InboundMessage.objects.get(external_id="1840000000000000010")
    assert (followed.request_id, followed.reason) == (request.pk, "reply")
    assert Request.objects.count() == 1


def test_our_own_acknowledgement_echoed_back_is_ignored(client, account) -> None:
    batch = mention("1850000000000000002", "شكراً لتواصلك")
    batch["tweet_create_events"][0]["user"] = {"id_str": OURS, "screen_name": "moe_care"}

    signed_post(client, account, batch)

    assert InboundMessage.objects.get().reason == "echo"
    assert not Request.objects.exists()


# --- what is refused ---------------------------------------------------------------------------


def test_a_forged_or_unsigned_batch_is_refused_and_nothing_is_stored(client, account) -> None:
    forged = signed_post(client, account, dm_batch(dm("1")), secret="not-the-secret")
    unsigned = client.post(
        webhook_url(account), data=json.dumps(dm_batch(dm("1"))), content_type="application/json"
    )

    assert (forged.status_code, forged.json()) == (403, {"error": "bad_signature"})
    assert unsigned.status_code == 403
    assert not InboundMessage.objects.exists()


def test_a_batch_signed_before_a_byte_changed_is_refused(client, account) -> None:
    body = json.dumps(dm_batch(dm("1840000000000000001"))).encode()
    digest = hmac.new(CONSUMER_SECRET.encode(), body, hashlib.sha256).digest()
    tampered = body.replace(b"1840000000000000001", b"1840000000000000002")
    assert tampered != body

    response = client.post(
        webhook_url(account),
        data=tampered,
        content_type="application/json",
        HTTP_X_TWITTER_WEBHOOKS_SIGNATURE="sha256=" + base64.b64encode(digest).decode(),
    )

    assert response.status_code == 403
    assert not InboundMessage.objects.exists()


def test_malformed_json_is_refused_after_the_signature(client, account) -> None:
    response = signed_post(client, account, b'{"for_user_id": "15000')

    assert (response.status_code, response.json()) == (400, {"error": "malformed"})
    assert signed_post(client, account, b"[1, 2]").status_code == 400
    assert not InboundMessage.objects.exists()


def test_a_replayed_batch_changes_nothing(client, account) -> None:
    batch = dm_batch(dm("1840000000000000001"))
    signed_post(client, account, batch)

    again = signed_post(client, account, batch)

    assert again.status_code == 200
    assert (again.json()["received"], again.json()["duplicates"]) == (0, 1)
    assert (InboundMessage.objects.count(), Request.objects.count()) == (1, 1)


def test_events_older_than_48_hours_are_left_out_and_the_others_kept(client, account) -> None:
    batch = dm_batch(
        dm("1840000000000000020", ago=timedelta(hours=49)),
        dm("1840000000000000021", ago=timedelta(hours=30)),
    )

    response = signed_post(client, account, batch)

    assert response.status_code == 200
    assert (response.json()["stale"], response.json()["received"]) == (1, 1)
    assert list(InboundMessage.objects.values_list("external_id", flat=True)) == [
        "1840000000000000021"
    ]


def test_one_bad_event_does_not_drop_the_others(client, account) -> None:
    no_id = dm("")
    broken = {"type": "message_create", "id": "5", "created_timestamp": millis()}
    batch = dm_batch(no_id, broken, dm("1840000000000000030"))
    batch["direct_message_events"].append("not an event")

    response = signed_post(client, account, batch)

    assert response.status_code == 200
    counts = response.json()
    assert (counts["received"], counts["failed"], counts["skipped"]) == (2, 1, 1)
    kept = InboundMessage.objects.get(external_id="1840000000000000030")
    assert kept.status == InboundStatus.PROCESSED
    # the event without a sender or text is kept for a person, not lost
    assert InboundMessage.objects.get(external_id="5").status == InboundStatus.REVIEW
    assert not InboundMessage.objects.filter(external_id="").exists()


# --- when X is down ------------------------------------------------------------------------------


def make_due() -> None:
    OutboxMessage.objects.filter(status=OutboxStatus.PENDING).update(next_attempt_at=timezone.now())


def test_an_answer_x_does_not_take_now_is_retried_later_and_not_lost(
    client, account, server, staff, settings
) -> None:
    settings.TAWASUL_CHANNEL_HTTP_TIMEOUT = 0.3
    signed_post(client, account, dm_batch(dm("1840000000000000040")))
    outbox_drain()  # the acknowledgement
    agent_replies(staff, Request.objects.get())
    routed = OutboxMessage.objects.get(account=account, template="replied")
    server.replies.extend(
        [
            Reply(503, {"title": "Service Unavailable"}),
            Reply(429, {"title": "Too Many Requests"}, {"Retry-After": "60"}),
            Reply(201, {"data": {"dm_event_id": "late"}}, delay=1.5),
        ]
    )

    for expected in ("HTTP 503", "HTTP 429", "unreachable"):
        outbox_drain()
        routed.refresh_from_db()
        assert routed.status == OutboxStatus.PENDING
        assert expected in routed.last_error
        for secret in (ACCESS_TOKEN, HIND, STAFF_TEXT):
            assert secret not in routed.last_error
        make_due()

    outbox_drain()

    routed.refresh_from_db()
    assert (routed.status, routed.attempts) == (OutboxStatus.SENT, 4)
    assert routed.provider_message_id == "1900000000001"


def test_an_answer_x_refuses_fails_for_good(client, account, server, staff) -> None:
    signed_post(client, account, dm_batch(dm("1840000000000000050")))
    outbox_drain()  # the acknowledgement
    agent_replies(staff, Request.objects.get())
    server.replies.append(
        Reply(403, {"title": "Forbidden", "detail": f"You cannot send messages to {HIND}."})
    )

    outbox_drain()

    routed = OutboxMessage.objects.get(account=account, template="replied")
    assert (routed.status, routed.attempts) == (OutboxStatus.FAILED, 1)
    assert "HTTP 403" in routed.last_error
    assert HIND not in routed.last_error
