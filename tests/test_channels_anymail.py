"""Mail providers' inbound webhooks through django-anymail: Postmark's JSON and a Mailgun
route's form post, shaped as the providers document and send them, posted with the basic
auth (and Mailgun's signature) through the test client; routed to the account the e-mail
was sent to and stored like mail read by IMAP."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from email.message import EmailMessage

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tawasul.cases.models import Channel, Request
from tawasul.channels.inbound import Reason
from tawasul.channels.models import ChannelAccount, ChannelKind, InboundMessage, InboundStatus
from tawasul.directory.models import CareCentre
from tests.channel_servers import channel_account

pytestmark = pytest.mark.django_db

SECRET = "tawasul-hooks:s3cret-Basic-Auth"
MAILGUN_KEY = "key-mailgun-signing-0123456789"
RIYADH = "care@riyadh.moe.example"
MAKKAH = "care@makkah.moe.example"
PARENT = "parent@example.com"
TEXT = "أرجو إفادتي بموعد صدور نتائج اختبارات الفصل الدراسي الأول لابني في الصف الثالث."
PDF = b"%PDF-1.4\n" + b"0" * 300 + b"\n%%EOF\n"


@pytest.fixture(autouse=True)
def anymail_secret(settings):
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET}


def auth(credentials: str = SECRET) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(credentials.encode()).decode()}


@pytest.fixture
def centres(ministry) -> dict[str, CareCentre]:
    return {
        "riyadh": CareCentre.objects.get(entity=ministry.riyadh),
        "makkah": CareCentre.objects.get(entity=ministry.makkah),
    }


@pytest.fixture
def postmark(centres) -> dict[str, ChannelAccount]:
    return {
        city: channel_account(
            kind=ChannelKind.EMAIL_WEBHOOK,
            centre=centre,
            name=f"postmark {city}",
            settings={"provider": "postmark", "address": address, "category": "exams"},
        )
        for (city, centre), address in zip(centres.items(), (RIYADH, MAKKAH), strict=True)
    }


@pytest.fixture
def mailgun(centres) -> ChannelAccount:
    return channel_account(
        kind=ChannelKind.EMAIL_WEBHOOK,
        centre=centres["riyadh"],
        name="mailgun riyadh",
        settings={"provider": "mailgun", "address": RIYADH, "category": "exams"},
        secrets={"webhook_secret": MAILGUN_KEY},
    )


# --- Postmark -------------------------------------------------------------------------------


def postmark_payload(
    *,
    to: str = RIYADH,
    subject: str = "نتائج الاختبارات",
    text: str = TEXT,
    html: str = "",
    message_id: str = "<CAOLBv6S-1@mail.example.com>",
    headers: list[dict[str, str]] | None = None,
    attachments: list[dict[str, object]] | None = None,
) -> dict[str, object]:
    """An inbound webhook body as Postmark posts it (developer docs, "Inbound webhook")."""
    return {
        "FromName": "ولي أمر",
        "MessageStream": "inbound",
        "From": PARENT,
        "FromFull": {"Email": PARENT, "Name": "ولي أمر", "MailboxHash": ""},
        "To": to,
        "ToFull": [{"Email": to, "Name": "", "MailboxHash": ""}],
        "Cc": "",
        "CcFull": [],
        "Bcc": "",
        "BccFull": [],
        "OriginalRecipient": to,
        "Subject": subject,
        "MessageID": "73e6d360-66eb-11e1-8e72-a8904824019b",
        "ReplyTo": "",
        "MailboxHash": "",
        "Date": "Sun, 5 May 2024 10:00:00 +0300",
        "TextBody": text,
        "HtmlBody": html,
        "StrippedTextReply": "",
        "Tag": "",
        "Headers": [
            {"Name": "Return-Path", "Value": f"<{PARENT}>"},
            {"Name": "X-Spam-Checker-Version", "Value": "SpamAssassin 3.4.6"},
            {"Name": "X-Spam-Status", "Value": "No"},
            {"Name": "X-Spam-Score", "Value": "-0.1"},
            {"Name": "Received-SPF", "Value": "Pass"},
            {"Name": "MIME-Version", "Value": "1.0"},
            {"Name": "Message-ID", "Value": message_id},
            *(headers or []),
        ],
        "Attachments": attachments or [],
    }


def post_postmark(client, payload: object, **extra: str):
    return client.post(
        reverse("channels:email_postmark_inbound"),
        data=payload if isinstance(payload, str) else json.dumps(payload),
        content_type="application/json",
        **extra,
    )


def test_a_postmark_email_opens_a_request_at_the_account_it_was_sent_to(client, postmark):
    payload = postmark_payload(
        attachments=[
            {
                "Name": "شهادة.pdf",
                "Content": base64.b64encode(PDF).decode(),
                "ContentType": "application/pdf",
                "ContentLength": len(PDF),
                "ContentID": "",
            }
        ]
    )

    response = post_postmark(client, payload, **auth())

    assert response.status_code == 200
    stored = InboundMessage.objects.get()
    assert stored.account == postmark["riyadh"]
    assert stored.external_id == "<CAOLBv6S-1@mail.example.com>"
    assert (stored.sender, stored.sender_name) == (PARENT, "ولي أمر")
    assert stored.status == InboundStatus.PROCESSED
    request = stored.request
    assert request.channel == Channel.EMAIL
    assert request.entity_id == postmark["riyadh"].centre.entity_id
    assert request.description == TEXT
    assert [a.original_name for a in request.attachments.all()] == ["شهادة.pdf"]
    assert stored.raw.size > 0


def test_the_recipient_chooses_the_account(client, postmark):
    response = post_postmark(client, postmark_payload(to=MAKKAH), **auth())

    assert response.status_code == 200
    assert InboundMessage.objects.get().account == postmark["makkah"]
    assert Request.objects.get().entity_id == postmark["makkah"].centre.entity_id


def test_an_unknown_recipient_goes_to_the_providers_first_account(client, postmark):
    post_postmark(client, postmark_payload(to="someone-else@moe.example"), **auth())

    assert InboundMessage.objects.get().account == postmark["riyadh"]


def test_a_retried_webhook_is_stored_once(client, postmark):
    first = post_postmark(client, postmark_payload(), **auth())
    again = post_postmark(client, postmark_payload(), **auth())

    assert (first.status_code, again.status_code) == (200, 200)
    assert InboundMessage.objects.count() == 1
    assert Request.objects.count() == 1


def test_without_message_id_the_providers_id_keeps_it_once(client, postmark):
    payload = postmark_payload()
    payload["Headers"] = [h for h in payload["Headers"] if h["Name"] != "Message-ID"]

    post_postmark(client, payload, **auth())
    post_postmark(client, payload, **auth())

    assert list(InboundMessage.objects.values_list("external_id", flat=True)) == [
        "postmark:73e6d360-66eb-11e1-8e72-a8904824019b"
    ]


def test_postmark_html_is_stored_as_text(client, postmark):
    html = "<p>السلام عليكم</p><script>steal()</script><p>أرجو الإفادة عن النتائج.</p>"

    post_postmark(client, postmark_payload(text="", html=html), **auth())

    stored = InboundMessage.objects.get()
    assert stored.body == "السلام عليكم\nأرجو الإفادة عن النتائج."
    assert "steal" not in stored.request.description


def test_postmark_raw_email_is_parsed_and_kept(client, postmark):
    message = EmailMessage()
    message["From"] = f"ولي أمر <{PARENT}>"
    message["To"] = RIYADH
    message["Subject"] = "نتائج الاختبارات"
    message["Message-ID"] = "<raw-1@mail.example.com>"
    message.set_content(TEXT)
    payload = postmark_payload(message_id="<raw-1@mail.example.com>")
    payload["RawEmail"] = message.as_string()

    post_postmark(client, payload, **auth())

    stored = InboundMessage.objects.get()
    assert stored.external_id == "<raw-1@mail.example.com>"
    assert stored.raw.read() == message.as_string().encode()


def test_a_postmark_auto_reply_is_ignored(client, postmark):
    payload = postmark_payload(headers=[{"Name": "Auto-Submitted", "Value": "auto-replied"}])

    response = post_postmark(client, payload, **auth())

    assert response.status_code == 200
    stored = InboundMessage.objects.get()
    assert (stored.status, stored.reason) == (InboundStatus.IGNORED, Reason.AUTO_REPLY)
    assert Request.objects.count() == 0


def test_a_postmark_bounce_from_the_null_sender_is_ignored(client, postmark):
    payload = postmark_payload(subject="Undelivered Mail Returned to Sender")
    payload["Headers"][0] = {"Name": "Return-Path", "Value": "<>"}

    post_postmark(client, payload, **auth())

    stored = InboundMessage.objects.get()
    assert (stored.status, stored.reason) == (InboundStatus.IGNORED, Reason.BOUNCE)


@pytest.mark.parametrize(
    "headers",
    [
        auth("tawasul-hooks:wrong"),
        auth("someone:" + SECRET),
        {},
        {"HTTP_AUTHORIZATION": "Basic !!"},
    ],
    ids=["wrong-password", "wrong-user", "none", "garbage"],
)
def test_wrong_credentials_are_refused_and_nothing_is_stored(client, postmark, headers):
    response = post_postmark(client, postmark_payload(), **headers)

    assert response.status_code == 403
    assert response.json() == {"error": "bad_credentials"}
    assert InboundMessage.objects.count() == 0


def test_without_a_configured_secret_the_webhooks_are_off(client, postmark, settings):
    settings.ANYMAIL = {"WEBHOOK_SECRET": ""}

    response = post_postmark(client, postmark_payload(), **auth(""))

    assert response.status_code == 404
    assert response.json() == {"error": "not_configured"}
    assert InboundMessage.objects.count() == 0


@pytest.mark.parametrize(
    "payload",
    ["{not json", json.dumps([1, 2]), json.dumps({"RecordType": "Bounce", "Email": PARENT})],
    ids=["not-json", "a-list", "a-bounce-webhook"],
)
def test_a_malformed_payload_is_refused(client, postmark, payload):
    response = post_postmark(client, payload, **auth())

    assert response.status_code == 400
    assert response.json() == {"error": "malformed"}
    assert InboundMessage.objects.count() == 0


def test_no_account_for_the_provider_is_refused(client, mailgun):
    response = post_postmark(client, postmark_payload(), **auth())

    assert response.status_code == 404
    assert response.json() == {"error": "unknown_account"}
    assert InboundMessage.objects.count() == 0


# --- Mailgun --------------------------------------------------------------------------------


def mailgun_fields(
    *, key: str = MAILGUN_KEY, timestamp: int | None = None, token: str = "a" * 50
) -> dict[str, object]:
    """A route's forward() post (Mailgun docs, "Receiving messages via HTTP"), signed."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    headers = [
        ["Received", "by mxa.mailgun.org with SMTP"],
        ["Mime-Version", "1.0"],
        ["From", f"ولي أمر <{PARENT}>"],
        ["To", RIYADH],
        ["Subject", "نتائج الاختبارات"],
        ["Message-Id", "<mg-1@mail.example.com>"],
        ["Content-Type", 'multipart/mixed; boundary="b1"'],
    ]
    return {
        "recipient": RIYADH,
        "sender": PARENT,
        "from": f"ولي أمر <{PARENT}>",
        "subject": "نتائج الاختبارات",
        "body-plain": TEXT,
        "stripped-text": TEXT,
        "stripped-signature": "",
        "body-html": f"<div>{TEXT}</div>",
        "stripped-html": f"<div>{TEXT}</div>",
        "attachment-count": "1",
        "attachment-1": SimpleUploadedFile("شهادة.pdf", PDF, content_type="application/pdf"),
        "content-id-map": "{}",
        "message-headers": json.dumps(headers),
        "timestamp": stamp,
        "token": token,
        "signature": hmac.new(key.encode(), f"{stamp}{token}".encode(), hashlib.sha256).hexdigest(),
    }


def test_a_mailgun_forward_opens_a_request(client, mailgun):
    response = client.post(
        reverse("channels:email_mailgun_inbound"), data=mailgun_fields(), **auth()
    )

    assert response.status_code == 200
    stored = InboundMessage.objects.get()
    assert (stored.account, stored.external_id) == (mailgun, "<mg-1@mail.example.com>")
    assert stored.sender == PARENT
    assert stored.body == TEXT
    assert [a.original_name for a in stored.request.attachments.all()] == ["شهادة.pdf"]


def test_a_mailgun_raw_mime_forward_is_parsed_from_the_mime(client, mailgun):
    message = EmailMessage()
    message["From"] = f"ولي أمر <{PARENT}>"
    message["To"] = RIYADH
    message["Subject"] = "نتائج الاختبارات"
    message["Message-ID"] = "<mime-1@mail.example.com>"
    message.set_content(TEXT)
    fields = mailgun_fields()
    for name in ("body-plain", "body-html", "attachment-count", "attachment-1", "message-headers"):
        fields.pop(name)
    fields["body-mime"] = message.as_string()

    response = client.post("/channels/email/mailgun/inbound_mime/", data=fields, **auth())

    assert response.status_code == 200
    stored = InboundMessage.objects.get()
    assert stored.external_id == "<mime-1@mail.example.com>"
    assert stored.raw.read() == message.as_string().encode()


@pytest.mark.parametrize(
    ("fields", "status"),
    [
        ({"key": "key-someone-else"}, 403),
        ({"timestamp": int(time.time()) - 3600}, 403),
    ],
    ids=["bad-signature", "replayed-an-hour-later"],
)
def test_a_badly_signed_or_stale_mailgun_post_is_refused(client, mailgun, fields, status):
    response = client.post(
        reverse("channels:email_mailgun_inbound"), data=mailgun_fields(**fields), **auth()
    )

    assert response.status_code == status
    assert response.json() == {"error": "bad_signature"}
    assert InboundMessage.objects.count() == 0


def test_a_mailgun_post_with_wrong_credentials_is_refused(client, mailgun):
    response = client.post(
        reverse("channels:email_mailgun_inbound"), data=mailgun_fields(), **auth("x:y")
    )

    assert response.status_code == 403
    assert InboundMessage.objects.count() == 0


def test_a_mailgun_post_that_is_not_a_form_is_refused(client, mailgun):
    response = client.post(
        reverse("channels:email_mailgun_inbound"),
        data=json.dumps({"event-data": {"event": "delivered"}}),
        content_type="application/json",
        **auth(),
    )

    assert response.status_code == 400
    assert InboundMessage.objects.count() == 0
