"""Meta platforms: Messenger and Instagram messaging, and the WhatsApp Cloud API — the
`hub.challenge` verification, batches signed with `X-Hub-Signature-256`, messages turned into
requests, answers sent back through the Graph API's send endpoints, WhatsApp delivery
receipts — against a local server that speaks the Graph API's shapes."""

from __future__ import annotations

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
from tawasul.cases.services import request_answer, request_claim, request_reply, request_start
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

APP_SECRET = "meta-App-Secret-5e"
VERIFY_TOKEN = "moe-verify-Token-19"
PAGE_TOKEN = "EAAG-page-Access-Token"
PAGE_ID = "104000000000001"
IG_ID = "17841400000000001"
PHONE_NUMBER_ID = "106540352242922"
PSID = "6123456789012345"
SARA_WA = "966551234567"  # sara's mobile (0551234567) as WhatsApp writes it
TEXT = "السلام عليكم، متى تصدر نتائج اختبارات الفصل الدراسي الأول؟"
STAFF_TEXT = "تصدر النتائج يوم الأحد القادم عبر نظام نور بإذن الله"
ANSWER_TEXT = "صدرت النتائج اليوم ويمكنكم الاطلاع عليها في نظام نور"


@pytest.fixture
def centre(ministry) -> CareCentre:
    return CareCentre.objects.get(entity=ministry.riyadh)


@pytest.fixture
def server():
    sent = iter(range(1, 1000))

    def graph_api(received):
        number = next(sent)
        if received.path.endswith(f"/{PHONE_NUMBER_ID}/messages"):
            to = received.json()["to"]
            return Reply(
                200,
                {
                    "messaging_product": "whatsapp",
                    "contacts": [{"input": to, "wa_id": to}],
                    "messages": [{"id": f"wamid.HBgM{number:04d}"}],
                },
            )
        return Reply(200, {"recipient_id": PSID, "message_id": f"m_{number:04d}"})

    with provider_server(graph_api) as running:
        yield running


def meta_account(kind: str, centre, server, **extra_settings: str):
    ids = {"phone_number_id": PHONE_NUMBER_ID} if kind == "whatsapp" else {"page_id": PAGE_ID}
    return channel_account(
        kind=kind,
        centre=centre,
        name=f"{kind} {extra_settings}",
        settings={**ids, "api_base": server.url, **extra_settings},
        secrets={
            "access_token": PAGE_TOKEN,
            "app_secret": APP_SECRET,
            "verify_token": VERIFY_TOKEN,
        },
    )


@pytest.fixture
def whatsapp(centre, server):
    return meta_account(ChannelKind.WHATSAPP, centre, server)


def url(account) -> str:
    return reverse(f"channels:{account.kind}_webhook", args=[account.public_id])


def signed_post(client, account, payload: Any, *, secret: str = APP_SECRET):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return client.post(
        url(account),
        data=body,
        content_type="application/json",
        HTTP_X_HUB_SIGNATURE_256=f"sha256={signature}",
    )


def now_ms(ago: timedelta = timedelta(0)) -> int:
    return int((time.time() - ago.total_seconds()) * 1000)


def messaging(kind: str, mid: str, text: str = TEXT, *, echo=False, ago=timedelta(0)) -> dict:
    """A Messenger (`page`) or Instagram (`instagram`) batch of one message event."""
    ours = IG_ID if kind == "instagram" else PAGE_ID
    message: dict[str, Any] = {"mid": mid, "text": text}
    if echo:
        message["is_echo"] = True
    return {
        "object": "page" if kind == "facebook" else "instagram",
        "entry": [
            {
                "id": ours,
                "time": now_ms(ago),
                "messaging": [
                    {
                        "sender": {"id": ours if echo else PSID},
                        "recipient": {"id": PSID if echo else ours},
                        "timestamp": now_ms(ago),
                        "message": message,
                    }
                ],
            }
        ],
    }


def whatsapp_batch(*, messages=(), statuses=(), phone_number_id=PHONE_NUMBER_ID) -> dict:
    value: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "966920000000", "phone_number_id": phone_number_id},
    }
    if messages:
        value["contacts"] = [{"profile": {"name": "سارة"}, "wa_id": SARA_WA}]
        value["messages"] = list(messages)
    if statuses:
        value["statuses"] = list(statuses)
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "102290129340398", "changes": [{"value": value, "field": "messages"}]}],
    }


def wa_text(message_id: str, text: str = TEXT, *, ago=timedelta(0)) -> dict[str, Any]:
    return {
        "from": SARA_WA,
        "id": message_id,
        "timestamp": str(int(time.time() - ago.total_seconds())),
        "type": "text",
        "text": {"body": text},
    }


def wa_status(message_id: str, status: str, *, ago=timedelta(0)) -> dict[str, Any]:
    return {
        "id": message_id,
        "status": status,
        "timestamp": str(int(time.time() - ago.total_seconds())),
        "recipient_id": SARA_WA,
    }


def agent_replies(staff, request: Request, text: str = STAFF_TEXT) -> None:
    request_claim(request=request, by=staff.riyadh_agent)
    request_start(request=request, by=staff.riyadh_agent)
    request_reply(request=request, by=staff.riyadh_agent, body=text)


def with_text(server, path: str, text: str) -> list:
    return [
        r
        for r in server.received
        if r.path == path and text in json.dumps(r.json(), ensure_ascii=False)
    ]


# --- the verification handshake ----------------------------------------------------------------


@pytest.mark.parametrize("kind", [ChannelKind.FACEBOOK, ChannelKind.INSTAGRAM, "whatsapp"])
def test_the_verification_request_is_answered_with_the_challenge(
    client, centre, server, kind
) -> None:
    account = meta_account(kind, centre, server)
    query = {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158"}

    answered = client.get(url(account), query)
    wrong = client.get(url(account), {**query, "hub.verify_token": "guess"})
    other_mode = client.get(url(account), {**query, "hub.mode": "unsubscribe"})

    assert answered.status_code == 200
    assert answered["Content-Type"].startswith("text/plain")
    assert answered.content == b"1158"
    assert (wrong.status_code, other_mode.status_code) == (403, 403)


# --- Messenger and Instagram, end to end -----------------------------------------------------


@pytest.mark.parametrize("kind", [ChannelKind.FACEBOOK, ChannelKind.INSTAGRAM])
def test_a_message_opens_a_request_answered_through_the_send_api_and_continued(
    client, centre, server, staff, kind
) -> None:
    identity = IdentityKind.FACEBOOK if kind == ChannelKind.FACEBOOK else IdentityKind.INSTAGRAM
    settings = {"instagram_id": IG_ID} if kind == ChannelKind.INSTAGRAM else {}
    account = meta_account(kind, centre, server, **settings)

    response = signed_post(client, account, messaging(kind, "m_first"))

    assert (response.status_code, response.json()["received"]) == (200, 1)
    request = Request.objects.get()
    assert (request.channel, request.entity_id) == (Channel.SOCIAL, centre.entity_id)
    assert ChannelIdentity.objects.get(kind=identity, value=PSID).beneficiary == request.beneficiary

    agent_replies(staff, request)
    outbox_drain()

    path = f"/v21.0/{PAGE_ID}/messages"
    [sent] = with_text(server, path, STAFF_TEXT)
    assert sent.headers["authorization"] == f"Bearer {PAGE_TOKEN}"
    body = sent.json()
    assert body == {
        "recipient": {"id": PSID},
        "messaging_type": "RESPONSE",
        "message": {"text": body["message"]["text"]},
    }
    assert tracking_number_display(request.tracking_number) in body["message"]["text"]
    assert len(body["message"]["text"]) <= (1000 if kind == ChannelKind.INSTAGRAM else 2000)
    replied = OutboxMessage.objects.get(template="replied")
    assert replied.status == OutboxStatus.SENT
    assert replied.provider_message_id.startswith("m_")

    signed_post(client, account, messaging(kind, "m_second", "شكراً جزيلاً، سأنتظر النتائج"))

    assert Request.objects.count() == 1
    assert Message.objects.filter(request=request, body="شكراً جزيلاً، سأنتظر النتائج").exists()


def test_our_own_messages_echoed_back_are_ignored(client, centre, server) -> None:
    account = meta_account(ChannelKind.FACEBOOK, centre, server)

    signed_post(client, account, messaging("facebook", "m_echo", echo=True))

    inbound = InboundMessage.objects.get()
    assert (inbound.status, inbound.reason) == (InboundStatus.IGNORED, "echo")
    assert not Request.objects.exists()


def test_deliveries_reads_and_other_products_events_are_left_out(client, centre, server) -> None:
    account = meta_account(ChannelKind.FACEBOOK, centre, server)
    batch = messaging("facebook", "m_x")
    batch["entry"][0]["messaging"] = [
        {"sender": {"id": PSID}, "recipient": {"id": PAGE_ID}, "timestamp": now_ms(),
         "delivery": {"mids": ["m_0001"], "watermark": now_ms()}},
        {"sender": {"id": PSID}, "recipient": {"id": PAGE_ID}, "timestamp": now_ms(),
         "read": {"watermark": now_ms()}},
    ]  # fmt: skip

    read = signed_post(client, account, batch)
    other = signed_post(client, account, {**messaging("facebook", "m_y"), "object": "instagram"})

    assert (read.status_code, read.json()["skipped"]) == (200, 2)
    assert (other.status_code, other.json()["skipped"]) == (200, 1)
    assert not InboundMessage.objects.exists()


def test_one_app_for_several_pages_routes_each_page_to_its_account(
    client, ministry, centre, server
) -> None:
    account = meta_account(ChannelKind.FACEBOOK, centre, server)
    makkah = channel_account(
        kind=ChannelKind.FACEBOOK,
        centre=CareCentre.objects.get(entity=ministry.makkah),
        name="Makkah page",
        settings={"page_id": "104000000000002", "api_base": server.url},
        secrets={"access_token": "other", "app_secret": APP_SECRET},
    )
    stranger = channel_account(
        kind=ChannelKind.FACEBOOK,
        centre=centre,
        name="Another app's page",
        settings={"page_id": "104000000000003"},
        secrets={"access_token": "other", "app_secret": "another-app-secret"},
    )
    to_makkah = messaging("facebook", "m_makkah")
    to_makkah["entry"][0]["id"] = "104000000000002"
    to_stranger = messaging("facebook", "m_stranger")
    to_stranger["entry"][0]["id"] = "104000000000003"

    signed_post(client, account, to_makkah)
    response = signed_post(client, account, to_stranger)

    assert InboundMessage.objects.get().account == makkah
    assert Request.objects.get().entity_id == ministry.makkah.pk
    assert response.json()["skipped"] == 1
    assert not InboundMessage.objects.filter(account=stranger).exists()


# --- WhatsApp, end to end -----------------------------------------------------------------------


def test_a_whatsapp_message_reaches_the_beneficiary_with_that_mobile_and_is_answered_there(
    client, whatsapp, server, staff, sara
) -> None:
    response = signed_post(client, whatsapp, whatsapp_batch(messages=[wa_text("wamid.IN1")]))

    assert (response.status_code, response.json()["received"]) == (200, 1)
    request = Request.objects.get()
    assert (request.beneficiary, request.channel) == (sara, Channel.SOCIAL)
    assert ChannelIdentity.objects.get(kind=IdentityKind.WHATSAPP).beneficiary == sara

    agent_replies(staff, request)
    signed_post(client, whatsapp, whatsapp_batch(messages=[wa_text("wamid.IN2", "شكراً لكم")]))

    assert Request.objects.count() == 1
    assert Message.objects.filter(request=request, body="شكراً لكم").exists()

    request_answer(request=request, by=staff.riyadh_agent, resolution=ANSWER_TEXT)
    outbox_drain()

    path = f"/v21.0/{PHONE_NUMBER_ID}/messages"
    assert len(with_text(server, path, STAFF_TEXT)) == 1
    [sent] = with_text(server, path, ANSWER_TEXT)
    assert sent.headers["authorization"] == f"Bearer {PAGE_TOKEN}"
    body = sent.json()
    assert body == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": SARA_WA,
        "type": "text",
        "text": {"preview_url": False, "body": body["text"]["body"]},
    }
    assert tracking_number_display(request.tracking_number) in body["text"]["body"]
    answered = OutboxMessage.objects.get(template="answered", account=whatsapp)
    assert answered.status == OutboxStatus.SENT
    assert answered.provider_message_id.startswith("wamid.")


def test_whatsapp_statuses_are_stored_as_delivery_receipts_never_going_back(
    client, whatsapp, server, staff
) -> None:
    signed_post(client, whatsapp, whatsapp_batch(messages=[wa_text("wamid.IN1")]))
    agent_replies(staff, Request.objects.get())
    outbox_drain()
    replied = OutboxMessage.objects.get(template="replied")
    wamid = replied.provider_message_id

    delivered = signed_post(
        client, whatsapp, whatsapp_batch(statuses=[wa_status(wamid, "delivered")])
    )
    replied.refresh_from_db()
    assert delivered.json()["receipts"] == 1
    assert replied.receipt_status == "delivered"
    assert replied.receipt_at is not None

    signed_post(client, whatsapp, whatsapp_batch(statuses=[wa_status(wamid, "read")]))
    late = signed_post(client, whatsapp, whatsapp_batch(statuses=[wa_status(wamid, "sent")]))

    replied.refresh_from_db()
    assert replied.receipt_status == "read"
    assert late.json()["receipts"] == 0
    acknowledgement = OutboxMessage.objects.get(template="acknowledgement")
    assert acknowledgement.receipt_status == ""


def test_a_whatsapp_photo_or_voice_note_is_kept_with_a_note_of_what_it_was(
    client, whatsapp
) -> None:
    photo = {**wa_text("wamid.IMG"), "type": "image"}
    del photo["text"]
    photo["image"] = {"caption": "صورة شهادة ابني", "mime_type": "image/jpeg", "id": "1479537139"}
    voice = {**wa_text("wamid.VOICE"), "type": "audio", "audio": {"id": "987", "voice": True}}
    del voice["text"]

    signed_post(client, whatsapp, whatsapp_batch(messages=[photo, voice]))

    first = InboundMessage.objects.get(external_id="wamid.IMG")
    assert "صورة شهادة ابني" in first.body
    assert "image" in first.body
    assert first.data["media_id"] == "1479537139"
    second = InboundMessage.objects.get(external_id="wamid.VOICE")
    assert "audio" in second.body
    assert second.request_id == first.request_id is not None


# --- what is refused ---------------------------------------------------------------------------


def test_a_forged_batch_is_refused_and_nothing_is_stored(client, whatsapp) -> None:
    batch = whatsapp_batch(messages=[wa_text("wamid.F1")])

    forged = signed_post(client, whatsapp, batch, secret="not-the-app-secret")
    unsigned = client.post(url(whatsapp), data=json.dumps(batch), content_type="application/json")

    assert (forged.status_code, unsigned.status_code) == (403, 403)
    assert not InboundMessage.objects.exists()


def test_malformed_replayed_and_stale_events(client, whatsapp) -> None:
    malformed = signed_post(client, whatsapp, b"{not json")
    batch = whatsapp_batch(messages=[wa_text("wamid.R1")])
    first = signed_post(client, whatsapp, batch)
    replay = signed_post(client, whatsapp, batch)
    stale = signed_post(
        client,
        whatsapp,
        whatsapp_batch(
            messages=[wa_text("wamid.OLD", ago=timedelta(hours=50))],
            statuses=[wa_status("wamid.HBgM0001", "read", ago=timedelta(hours=50))],
        ),
    )

    assert (malformed.status_code, malformed.json()) == (400, {"error": "malformed"})
    assert (first.json()["received"], replay.json()["duplicates"]) == (1, 1)
    assert (stale.status_code, stale.json()["stale"]) == (200, 2)
    assert list(InboundMessage.objects.values_list("external_id", flat=True)) == ["wamid.R1"]


def test_a_wrong_kind_in_the_address_is_not_found(client, whatsapp) -> None:
    wrong = reverse("channels:facebook_webhook", args=[whatsapp.public_id])

    response = client.get(wrong, {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN})

    assert response.status_code == 404


# --- when the Graph API is down -------------------------------------------------------------------


def test_an_answer_meta_does_not_take_now_is_retried_and_one_it_refuses_fails(
    client, whatsapp, server, staff, settings
) -> None:
    settings.TAWASUL_CHANNEL_HTTP_TIMEOUT = 0.3
    signed_post(client, whatsapp, whatsapp_batch(messages=[wa_text("wamid.D1")]))
    outbox_drain()  # the acknowledgement
    agent_replies(staff, Request.objects.get())
    replied = OutboxMessage.objects.get(template="replied")
    server.replies.extend(
        [
            Reply(500, {"error": {"message": "An unknown error occurred", "code": 1}}),
            Reply(200, {"messages": [{"id": "wamid.late"}]}, delay=1.5),
        ]
    )

    for expected in ("HTTP 500 (error 1)", "unreachable"):
        outbox_drain()
        replied.refresh_from_db()
        assert (replied.status, expected in replied.last_error) == (OutboxStatus.PENDING, True)
        assert PAGE_TOKEN not in replied.last_error
        assert SARA_WA not in replied.last_error
        OutboxMessage.objects.filter(pk=replied.pk).update(next_attempt_at=timezone.now())

    outbox_drain()
    replied.refresh_from_db()
    assert replied.status == OutboxStatus.SENT

    request_reply(request=Request.objects.get(), by=staff.riyadh_agent, body="رسالة متأخرة")
    server.replies.append(
        Reply(
            400,
            {
                "error": {
                    "message": f"Re-engagement message to {SARA_WA}",
                    "type": "OAuthException",
                    "code": 131047,
                }
            },
        )
    )
    outbox_drain()
    refused = OutboxMessage.objects.filter(template="replied").latest("pk")
    assert (refused.status, refused.attempts) == (OutboxStatus.FAILED, 1)
    assert "HTTP 400 (error 131047)" in refused.last_error
    assert SARA_WA not in refused.last_error
