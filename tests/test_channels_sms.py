"""SMS channel accounts (issue 10): the generic JSON gateway and Unifonic's REST API against a
local HTTP server speaking their shapes, the account's own sender name and texts, the default
account for SMS that are not routed, signed delivery receipts and inbound SMS through the
real webhook views."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
import urllib.parse
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from tawasul.cases.models import Message, Request
from tawasul.cases.services import request_claim, request_reply, request_start, request_submit
from tawasul.channels import sms
from tawasul.channels.delivery import outbox_drain
from tawasul.channels.errors import ChannelDeliveryError, ChannelRejected
from tawasul.channels.models import (
    ChannelAccount,
    ChannelKind,
    InboundMessage,
    InboundStatus,
    OutboxMessage,
    OutboxStatus,
)
from tawasul.channels.sms import (
    HttpSmsGateway,
    SmsRejected,
    UnifonicSmsGateway,
    sms_account_gateway,
)
from tawasul.core.ids import tracking_number_display
from tawasul.directory.models import CareCentre
from tests.channel_servers import ProviderServer, Received, Reply, channel_account, provider_server

pytestmark = pytest.mark.django_db

NUMBER = "+966551234567"
TEXT = "تواصل: تم استلام طلبك رقم 482-9310-5726"
TOKEN = "api-token-7Hq"
APP_SID = "axuN0U7QlmqVPsfdgoK0mZFgdzG1"
SECRET = "whsec-3f9a"
INBOUND_TEXT = "أرجو إفادتي بموعد صدور نتائج الاختبارات النهائية لابني في الصف الثالث"


# --- local providers -------------------------------------------------------------------------


def unifonic_accepted() -> Any:
    """Unifonic's answer to an accepted message (its documented response shape)."""
    ids = itertools.count(41230001)

    def reply(received: Received) -> Reply:
        form = urllib.parse.parse_qs(received.body.decode())
        return Reply(
            payload={
                "success": True,
                "message": "",
                "errorCode": "ER-00",
                "data": {
                    "MessageID": next(ids),
                    "CorrelationID": "",
                    "Status": "Sent",
                    "NumberOfUnits": 1,
                    "Cost": 0.04,
                    "Balance": 99.5,
                    "Recipient": form["Recipient"][0],
                    "TimeCreated": "2026-11-29 10:00:00",
                    "CurrencyCode": "SAR",
                },
            }
        )

    return reply


def http_accepted() -> Any:
    ids = itertools.count(1)
    return lambda _received: Reply(status=201, payload={"id": f"msg-{next(ids)}"})


@pytest.fixture
def unifonic() -> Iterator[ProviderServer]:
    with provider_server(unifonic_accepted()) as server:
        yield server


@pytest.fixture
def gateway_server() -> Iterator[ProviderServer]:
    with provider_server(http_accepted()) as server:
        yield server


@pytest.fixture
def riyadh_centre(ministry) -> CareCentre:
    return CareCentre.objects.get(entity=ministry.riyadh)


def unifonic_account(centre: CareCentre, server: ProviderServer, **extra: Any) -> ChannelAccount:
    return channel_account(
        kind=ChannelKind.SMS,
        centre=centre,
        name=extra.pop("name", "Unifonic"),
        settings={
            "provider": "unifonic",
            "url": "https://el.cloud.unifonic.com/rest/SMS/messages",
            "api_base": server.url,
            "sender": "MOE-Care",
            "category": "exams",
            **extra,
        },
        secrets={"api_token": APP_SID, "webhook_secret": SECRET},
    )


def http_account(centre: CareCentre, server: ProviderServer, **extra: Any) -> ChannelAccount:
    return channel_account(
        kind=ChannelKind.SMS,
        centre=centre,
        name=extra.pop("name", "Gateway"),
        settings={
            "provider": "http",
            "url": f"{server.url}/v1/sms",
            "sender": "MOE-Riyadh",
            "category": "exams",
            **extra,
        },
        secrets={"api_token": TOKEN, "webhook_secret": SECRET},
    )


def form_of(received: Received) -> dict[str, str]:
    return {key: values[0] for key, values in urllib.parse.parse_qs(received.body.decode()).items()}


def submit(ministry, person) -> Request:
    return request_submit(
        beneficiary=person,
        kind="complaint",
        category=ministry.exams,
        subject="تأخر النتائج",
        description="لم تظهر نتيجة ابني في نظام نور حتى الآن",
        entity=ministry.riyadh,
    )


def post_signed(
    client,
    url: str,
    payload: Any,
    *,
    secret: str = SECRET,
    timestamp: int | None = None,
    signature: str | None = None,
):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return client.post(
        url,
        data=body,
        content_type="application/json",
        HTTP_X_TAWASUL_TIMESTAMP=stamp,
        HTTP_X_TAWASUL_SIGNATURE=signature or f"sha256={digest}",
    )


# --- gateways: the exact requests -------------------------------------------------------------


def test_the_generic_gateway_posts_json_with_the_account_token_and_sender(
    riyadh_centre, gateway_server
):
    account = http_account(riyadh_centre, gateway_server)

    gateway = sms_account_gateway(account)
    message_id = gateway.send(to=NUMBER, text=TEXT)

    assert isinstance(gateway, HttpSmsGateway)
    assert message_id == "msg-1"
    [received] = gateway_server.received
    assert (received.method, received.path) == ("POST", "/v1/sms")
    assert received.headers["authorization"] == f"Bearer {TOKEN}"
    assert received.headers["content-type"].startswith("application/json")
    assert received.json() == {"to": NUMBER, "text": TEXT, "sender": "MOE-Riyadh"}


def test_unifonic_gets_its_form_with_the_app_sid_and_digits_only(riyadh_centre, unifonic):
    account = unifonic_account(riyadh_centre, unifonic)

    gateway = sms_account_gateway(account)
    message_id = gateway.send(to=NUMBER, text=TEXT)

    assert isinstance(gateway, UnifonicSmsGateway)
    assert message_id == "41230001"
    [received] = unifonic.received
    assert (received.method, received.path) == ("POST", "/rest/SMS/messages")
    assert received.headers["content-type"].startswith("application/x-www-form-urlencoded")
    assert form_of(received) == {
        "AppSid": APP_SID,
        "SenderID": "MOE-Care",
        "Recipient": "966551234567",
        "Body": TEXT,
        "responseType": "JSON",
    }
    assert "authorization" not in received.headers


@pytest.mark.parametrize(
    ("reply", "final"),
    [
        (Reply(200, {"success": False, "message": "Invalid", "errorCode": "ER-02"}), True),
        (Reply(400, {"success": False, "message": "Invalid", "errorCode": "ER-08"}), True),
        (Reply(200, {"success": False, "message": "Balance", "errorCode": "ER-01"}), False),
        (Reply(200, {"success": True, "errorCode": "ER-00", "data": {"Status": "Rejected"}}), True),
        (Reply(401, {"success": False, "message": "Unauthorized"}), True),
        (Reply(429, None), False),
        (Reply(503, None), False),
        (Reply(200, {"success": False}), False),
    ],
)
def test_unifonic_errors_are_final_or_temporary(riyadh_centre, unifonic, reply, final):
    account = unifonic_account(riyadh_centre, unifonic)
    unifonic.replies.append(reply)

    with pytest.raises(ChannelDeliveryError) as raised:
        sms_account_gateway(account).send(to=NUMBER, text=TEXT)

    assert isinstance(raised.value, ChannelRejected) is final
    assert "551234567" not in str(raised.value)
    assert TEXT not in str(raised.value)


@pytest.mark.parametrize(
    ("status", "final"), [(400, True), (403, True), (404, True), (429, False), (502, False)]
)
def test_generic_gateway_errors_are_final_or_temporary(
    riyadh_centre, gateway_server, status, final
):
    account = http_account(riyadh_centre, gateway_server)
    gateway_server.replies.append(Reply(status, {"error": f"no {NUMBER}"}))

    with pytest.raises(ChannelDeliveryError) as raised:
        sms_account_gateway(account).send(to=NUMBER, text=TEXT)

    assert isinstance(raised.value, ChannelRejected) is final
    assert str(raised.value) == f"SMS provider answered HTTP {status}"


def test_an_unknown_provider_is_refused_for_good(riyadh_centre, gateway_server):
    account = http_account(riyadh_centre, gateway_server, provider="carrier-pigeon")

    with pytest.raises(SmsRejected):
        sms_account_gateway(account).send(to=NUMBER, text=TEXT)
    assert gateway_server.received == []


# --- the account's texts, the default account ----------------------------------------------------


def test_the_default_account_sends_unrouted_sms_with_its_own_texts(
    ministry, sara, riyadh_centre, unifonic, channels_in_memory
):
    unifonic_account(
        riyadh_centre,
        unifonic,
        default=True,
        templates={
            "acknowledgement": {
                "ar": "وزارة التعليم: استلمنا طلبك {tracking} {unknown} {0} { تابعه: {portal_url}",
                "en": "MoE: received {tracking}",
            }
        },
    )
    request = submit(ministry, sara)

    assert outbox_drain() == 1

    [received] = unifonic.received
    display = tracking_number_display(request.tracking_number)
    assert form_of(received)["Body"] == (
        f"وزارة التعليم: استلمنا طلبك {display} {{unknown}} {{0}} {{ "
        "تابعه: https://tawasul.moe.example/"
    )
    assert form_of(received)["Recipient"] == sara.mobile.lstrip("+")
    assert sms.outbox == []  # not the platform's gateway
    row = OutboxMessage.objects.get()
    assert (row.status, row.provider_message_id, row.account) == (
        OutboxStatus.SENT,
        "41230001",
        None,
    )


def test_a_notification_without_an_own_text_gets_the_built_in_one(
    ministry, sara, riyadh_centre, unifonic, channels_in_memory
):
    unifonic_account(
        riyadh_centre,
        unifonic,
        default=True,
        templates={"acknowledgement": {"en": "MoE {tracking}"}},
    )
    request = submit(ministry, sara)  # Sara reads Arabic: no Arabic text of the account's

    outbox_drain()

    body = form_of(unifonic.received[0])["Body"]
    assert tracking_number_display(request.tracking_number) in body
    assert "https://tawasul.moe.example/" in body
    assert "MoE" not in body


def test_without_a_default_account_the_platform_gateway_sends(
    ministry, sara, riyadh_centre, unifonic, channels_in_memory
):
    unifonic_account(riyadh_centre, unifonic)  # not marked default

    submit(ministry, sara)
    outbox_drain()

    assert unifonic.received == []
    assert len(sms.outbox) == 1


# --- inbound SMS ----------------------------------------------------------------------------------


def test_an_sms_opens_a_request_and_its_acknowledgement_goes_back_by_the_account(
    client, riyadh_centre, unifonic, channels_in_memory
):
    account = unifonic_account(
        riyadh_centre,
        unifonic,
        templates={"acknowledgement": {"ar": "{sender}: طلبك {tracking}"}},
    )
    url = reverse("channels:sms_inbound", args=[account.public_id])

    response = post_signed(
        client,
        url,
        {
            "id": "in-1",
            "from": "966551234567",
            "to": "MOE",
            "text": INBOUND_TEXT,
            "timestamp": int(time.time()),
        },
    )

    assert response.status_code == 200
    assert response.json()["new"] is True
    inbound = InboundMessage.objects.get()
    assert (inbound.status, inbound.sender) == (InboundStatus.PROCESSED, NUMBER)
    request = Request.objects.get()
    assert (request.channel, request.description) == ("sms", INBOUND_TEXT)
    outbox_drain()
    [received] = unifonic.received
    display = tracking_number_display(request.tracking_number)
    assert form_of(received)["Body"] == f"MOE-Care: طلبك {display}"
    assert OutboxMessage.objects.get().account == account


def test_an_sms_with_a_tracking_number_from_its_beneficiary_is_a_reply_on_the_request(  # noqa: PLR0917
    client, ministry, staff, sara, riyadh_centre, gateway_server, channels_in_memory
):
    account = http_account(riyadh_centre, gateway_server)
    request = submit(ministry, sara)
    display = tracking_number_display(request.tracking_number)
    url = reverse("channels:sms_inbound", args=[account.public_id])
    payload = {
        "id": "in-77",
        "from": sara.mobile,
        "to": "MOE-Riyadh",
        "text": f"بخصوص الطلب {display}: ما زالت النتيجة لا تظهر",
        "timestamp": int(time.time()),
    }

    first = post_signed(client, url, payload)
    replay = post_signed(client, url, payload)

    assert (first.status_code, replay.status_code) == (200, 200)
    assert replay.json()["new"] is False
    [reply] = Message.objects.filter(
        request=request, from_beneficiary=True, body__startswith="بخصوص"
    )
    assert reply.channel == "sms"
    assert InboundMessage.objects.get().request == request
    # and the agent's reply goes back through the gateway the beneficiary wrote by
    agent = staff.riyadh_agent
    request_claim(request=request, by=agent)
    request_start(request=request, by=agent)
    request_reply(request=request, by=agent, body="تصدر النتائج يوم الأحد.")
    outbox_drain()
    routed = OutboxMessage.objects.get(template="replied")
    assert (routed.account, routed.status, routed.provider_message_id) == (
        account,
        OutboxStatus.SENT,
        "msg-1",
    )
    assert gateway_server.received[0].json()["to"] == sara.mobile
    assert display in gateway_server.received[0].json()["text"]


@pytest.mark.parametrize(
    ("tamper", "status", "error"),
    [
        ({"signature": "sha256=" + "0" * 64}, 403, "bad_signature"),
        ({"secret": "someone-else"}, 403, "bad_signature"),
        ({"timestamp": int(time.time()) - 3600}, 403, "stale"),
        ({"payload": b"{not json"}, 400, "malformed"),
        ({"payload": {"id": "x", "from": "", "text": INBOUND_TEXT}}, 400, "malformed"),
        ({"payload": ["a", "list"]}, 400, "malformed"),
    ],
)
def test_a_bad_inbound_webhook_is_refused_and_stores_nothing(  # noqa: PLR0917
    client, riyadh_centre, gateway_server, tamper, status, error
):
    account = http_account(riyadh_centre, gateway_server)
    url = reverse("channels:sms_inbound", args=[account.public_id])
    payload = tamper.pop("payload", {"id": "in-9", "from": NUMBER, "text": INBOUND_TEXT})

    response = post_signed(client, url, payload, **tamper)

    assert (response.status_code, response.json()) == (status, {"error": error})
    assert not InboundMessage.objects.exists()
    assert not Request.objects.exists()


def test_a_webhook_for_an_unknown_or_inactive_account_is_not_found(
    client, riyadh_centre, gateway_server
):
    account = http_account(riyadh_centre, gateway_server)
    ChannelAccount.objects.filter(pk=account.pk).update(is_active=False)

    for url in (
        reverse("channels:sms_inbound", args=[account.public_id]),
        reverse("channels:sms_receipt", args=["not-a-uuid"]),
    ):
        response = post_signed(client, url, {"id": "1", "from": NUMBER, "text": "x"})
        assert (response.status_code, response.json()) == (404, {"error": "unknown_account"})


# --- delivery receipts -----------------------------------------------------------------------


def sent_sms(ministry, person, provider_id: str, *, account: ChannelAccount | None = None):
    request = submit(ministry, person)
    row = OutboxMessage.objects.get(request=request)
    OutboxMessage.objects.filter(pk=row.pk).update(
        status=OutboxStatus.SENT, provider_message_id=provider_id, account=account
    )
    return row


def test_a_signed_receipt_updates_the_sms_it_is_about(
    client, ministry, sara, riyadh_centre, gateway_server
):
    account = http_account(riyadh_centre, gateway_server)
    row = sent_sms(ministry, sara, "msg-500")
    url = reverse("channels:sms_receipt", args=[account.public_id])
    delivered_at = int(time.time())

    response = post_signed(
        client, url, {"id": "msg-500", "status": "DELIVERED", "timestamp": delivered_at}
    )
    older = post_signed(
        client, url, {"id": "msg-500", "status": "sent", "timestamp": delivered_at - 60}
    )

    assert response.status_code == 200
    assert (response.json()["updated"], older.json()["updated"]) == (1, 0)
    row.refresh_from_db()
    assert row.receipt_status == "delivered"
    assert int(row.receipt_at.timestamp()) == delivered_at


def test_a_receipt_for_an_unknown_id_is_answered_and_changes_nothing(
    client, ministry, sara, riyadh_centre, gateway_server
):
    account = http_account(riyadh_centre, gateway_server)
    row = sent_sms(ministry, sara, "msg-500")
    url = reverse("channels:sms_receipt", args=[account.public_id])

    response = post_signed(client, url, {"id": "msg-999", "status": "failed", "timestamp": 1})

    assert (response.status_code, response.json()["updated"]) == (200, 0)
    row.refresh_from_db()
    assert (row.receipt_status, row.receipt_at) == ("", None)


def test_a_forged_or_stale_receipt_is_refused(
    client, ministry, sara, riyadh_centre, gateway_server
):
    account = http_account(riyadh_centre, gateway_server)
    row = sent_sms(ministry, sara, "msg-500")
    url = reverse("channels:sms_receipt", args=[account.public_id])
    receipt = {"id": "msg-500", "status": "failed", "timestamp": 1}

    forged = post_signed(client, url, receipt, secret="guess")
    stale = post_signed(client, url, receipt, timestamp=int(time.time()) - 3600)
    malformed = post_signed(client, url, b"[1, 2")

    assert [forged.status_code, stale.status_code, malformed.status_code] == [403, 403, 400]
    row.refresh_from_db()
    assert row.receipt_status == ""


def test_unifonic_receipts_are_checked_by_the_token_in_the_callback_url(
    client, ministry, sara, riyadh_centre, unifonic
):
    account = unifonic_account(riyadh_centre, unifonic)
    failed = sent_sms(ministry, sara, "41230007", account=account)
    delivered = sent_sms(ministry, sara, "41230008", account=account)
    url = reverse("channels:sms_receipt", args=[account.public_id])
    fields = {
        "MessageID": "41230007",
        "DLR": "Undeliverable",
        "Recipient": "966551234567",
        "TimeCreated": "2026-11-29 10:00:00",
        "SCTS": "2026-11-29 10:00:05",
        "DLRTimestamp": "2026-11-29 10:00:06",
    }
    form = urllib.parse.urlencode(fields)
    form_type = "application/x-www-form-urlencoded"

    forged = client.post(f"{url}?token=guess", data=form, content_type=form_type)
    missing = client.post(url, data=form, content_type=form_type)
    accepted = client.post(f"{url}?token={SECRET}", data=form, content_type=form_type)
    as_json = client.post(
        f"{url}?token={SECRET}",
        data={"messageId": "41230008", "status": "Delivered"},
        content_type="application/json",
    )

    assert [forged.status_code, missing.status_code] == [403, 403]
    assert (accepted.status_code, as_json.status_code) == (200, 200)
    failed.refresh_from_db()
    delivered.refresh_from_db()
    assert failed.receipt_status == "failed"
    assert timezone.localtime(failed.receipt_at).strftime("%Y-%m-%d %H:%M:%S") == (
        "2026-11-29 10:00:06"
    )
    assert delivered.receipt_status == "delivered"


# --- through the outbox: retry or fail -------------------------------------------------------


def test_a_routed_sms_is_retried_on_a_provider_outage_and_failed_on_a_bad_number(
    client, riyadh_centre, unifonic, channels_in_memory
):
    account = unifonic_account(riyadh_centre, unifonic)
    post_signed(
        client,
        reverse("channels:sms_inbound", args=[account.public_id]),
        {"id": "in-1", "from": NUMBER, "text": INBOUND_TEXT, "timestamp": int(time.time())},
    )
    unifonic.replies.append(Reply(503, None))

    before = timezone.now()
    outbox_drain()
    after = timezone.now()

    row = OutboxMessage.objects.get()
    assert (row.status, row.attempts) == (OutboxStatus.PENDING, 1)
    assert before + timedelta(minutes=1) <= row.next_attempt_at <= after + timedelta(minutes=1)
    assert row.last_error == "SmsDeliveryError: SMS provider answered HTTP 503"

    unifonic.replies.append(Reply(200, {"success": False, "message": "", "errorCode": "ER-03"}))
    OutboxMessage.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
    outbox_drain()

    row.refresh_from_db()
    assert (row.status, row.attempts) == (OutboxStatus.FAILED, 2)
    assert row.last_error == "SmsRejected: Unifonic refused the message (ER-03)"
    assert "551234567" not in row.last_error
