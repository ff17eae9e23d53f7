"""E-mail in: one received e-mail parsed into what the inbound pipeline needs — sender,
text without quoted history (never HTML), threading headers, attachments, the original —
and automatic replies, bounces and loops recognised. Malformed mail never raises."""

from __future__ import annotations

import hashlib
from email.message import EmailMessage

import pytest

from tawasul.cases.models import Channel
from tawasul.channels.email_in import (
    RAW_NAME,
    html_to_text,
    incoming_from_bytes,
    quoted_history_strip,
)
from tawasul.channels.inbound import Reason, inbound_receive
from tawasul.channels.models import (
    ChannelAccount,
    ChannelKind,
    IdentityKind,
    InboundStatus,
)
from tawasul.directory.models import CareCentre
from tests.channel_servers import channel_account

MAILBOX = "care@riyadh.moe.example"
TEXT = "أرجو إفادتي بموعد صدور نتائج اختبارات الفصل الدراسي الأول لابني في الصف الثالث."
PDF = b"%PDF-1.4\n" + b"0" * 200 + b"\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def account(**settings: str) -> ChannelAccount:
    """An IMAP account as the parser sees it (parsing reads only its settings)."""
    return ChannelAccount(
        kind=ChannelKind.IMAP,
        settings={
            "host": "imap.moe.example",
            "username": "care-box",
            "address": MAILBOX,
            **settings,
        },
    )


def mail(
    body: str = TEXT,
    *,
    sender: str = "سارة العتيبي <Sara.Parent@Example.COM>",
    subject: str = "نتائج الاختبارات",
    message_id: str = "<first-1@mail.example.com>",
    headers: dict[str, str] | None = None,
) -> EmailMessage:
    message = EmailMessage()
    if sender:
        message["From"] = sender
    message["To"] = MAILBOX
    message["Subject"] = subject
    if message_id:
        message["Message-ID"] = message_id
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    return message


# --- what is read --------------------------------------------------------------------------


def test_a_plain_email_gives_its_sender_subject_text_and_thread():
    message = mail(
        subject="Re: استفسار",
        headers={
            "In-Reply-To": "<ours-2@riyadh.moe.example>",
            "References": "<ours-1@riyadh.moe.example> <ours-2@riyadh.moe.example>",
        },
    )
    raw = message.as_bytes()

    incoming = incoming_from_bytes(raw, account())

    assert incoming.external_id == "<first-1@mail.example.com>"
    assert incoming.sender == "sara.parent@example.com"
    assert incoming.sender_name == "سارة العتيبي"
    assert incoming.identity_kind == IdentityKind.EMAIL
    assert incoming.subject == "Re: استفسار"
    assert incoming.body == TEXT
    assert incoming.thread == {
        "message_id": "<first-1@mail.example.com>",
        "in_reply_to": "<ours-2@riyadh.moe.example>",
        "references": ["<ours-1@riyadh.moe.example>", "<ours-2@riyadh.moe.example>"],
    }
    assert (incoming.raw, incoming.raw_name) == (raw, RAW_NAME)
    assert incoming.ignore_reason == ""
    assert incoming.data == {"defects": 0, "attachments": 0, "raw_truncated": False}


def test_without_a_message_id_the_id_is_the_hash_of_the_bytes():
    raw = mail(message_id="").as_bytes()

    first = incoming_from_bytes(raw, account())
    again = incoming_from_bytes(raw, account())

    assert first.external_id == f"sha256:{hashlib.sha256(raw).hexdigest()}"
    assert again.external_id == first.external_id


def test_the_plain_part_is_preferred_to_the_html_one():
    message = mail("النص العادي للرسالة")
    message.add_alternative("<p>نسخة <b>HTML</b></p>", subtype="html")

    incoming = incoming_from_bytes(message.as_bytes(), account())

    assert incoming.body == "النص العادي للرسالة"
    assert "html_only" not in incoming.data


def test_an_html_only_email_becomes_text_without_any_markup():
    message = mail()
    message.set_content(
        "<html><head><style>p { color: red }</style></head><body>"
        "<p>السلام عليكم،&nbsp;<b>أرجو</b> الإفادة</p>"
        "<script>alert('x')</script><img src=x onerror=alert(1)>"
        "<div>رقم الطلب &amp; التاريخ &lt;مهم&gt;</div></body></html>",
        subtype="html",
    )

    incoming = incoming_from_bytes(message.as_bytes(), account())

    assert incoming.body == "السلام عليكم، أرجو الإفادة\nرقم الطلب & التاريخ <مهم>"
    assert "alert" not in incoming.body
    assert "color" not in incoming.body
    assert incoming.data["html_only"] is True


def test_html_to_text_drops_scripts_with_their_content():
    assert html_to_text("<p>a</p><script>evil()</script><style>x{}</style><br>b") == "a\n\nb"


def test_a_windows_1256_body_is_read_even_with_a_wrong_charset_declared():
    raw = (
        b"From: parent@example.com\r\nSubject: test\r\nMessage-ID: <cp@example.com>\r\n"
        b"Content-Type: text/plain; charset=x-unknown\r\n\r\n"
        + "السلام عليكم ورحمة الله".encode("cp1256")
    )

    incoming = incoming_from_bytes(raw, account())

    assert incoming.body == "السلام عليكم ورحمة الله"
    assert incoming.data["charset_fallback"] is True


# --- the quoted history of a reply -----------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "شكراً، ما زلت أنتظر الرد.\n\nOn Sun, May 5, 2024 at 10:00 AM Tawasul <care@moe.example> wrote:\n> نص قديم\n> آخر",
        "شكراً، ما زلت أنتظر الرد.\n\nOn Sun, 5 May 2024 at 10:00, Tawasul <\ncare@moe.example> wrote:\n\nنص قديم غير مقتبس",
        "شكراً، ما زلت أنتظر الرد.\n\nفي الأحد، ٥ مايو ٢٠٢٤ ١٠:٠٠ ص، تواصل <care@moe.example> كتب:\n> نص قديم",
        "شكراً، ما زلت أنتظر الرد.\n\n\u202bفي الأحد، 5 مايو 2024 في 10:00 ص تمت كتابة ما يلي بواسطة \u202aتواصل\u202c\u200f <\u202acare@moe.example\u202c\u200f>:\u202c\nنص قديم",
        "شكراً، ما زلت أنتظر الرد.\n\n-----Original Message-----\nFrom: care@moe.example\nنص قديم",
        "شكراً، ما زلت أنتظر الرد.\n\nمن: تواصل <care@moe.example>\nتاريخ الإرسال: الأحد 5 مايو 2024\nإلى: سارة\nالموضوع: طلبكم\nنص قديم",
        "شكراً، ما زلت أنتظر الرد.\n> نص قديم\n> آخر",
    ],
    ids=[
        "gmail-en",
        "gmail-en-wrapped",
        "gmail-ar",
        "gmail-ar-new",
        "outlook-rule",
        "outlook-ar",
        "quoted-lines",
    ],
)
def test_a_reply_keeps_only_what_is_new(text):
    assert quoted_history_strip(text) == "شكراً، ما زلت أنتظر الرد."


@pytest.mark.parametrize(
    "text",
    [
        "> كل النص مقتبس\n> ولا جديد",
        "On Sunday the principal wrote:\nthe school bus was late again",
        "في المدرسة كتب المعلم:\nأن الطالب متأخر",
    ],
    ids=["all-quoted", "no-date-en", "no-date-ar"],
)
def test_text_that_is_not_a_reply_is_kept_whole(text):
    assert quoted_history_strip(text) == text


def test_a_forwarded_email_keeps_what_it_forwards():
    body = (
        "أحيل إليكم الرسالة أدناه.\n\n---------- Forwarded message ---------\n"
        "From: مدير المدرسة <principal@school.example>\nDate: Sun, 5 May 2024\n"
        "Subject: تأخر النتائج\nTo: parent@example.com\n\nنتائج الطلاب لم تصدر بعد."
    )

    incoming = incoming_from_bytes(mail(body, subject="Fwd: تأخر النتائج").as_bytes(), account())

    assert "نتائج الطلاب لم تصدر بعد." in incoming.body
    assert "quoted_removed" not in incoming.data


def test_the_reply_text_is_what_the_email_gives():
    body = f"{TEXT}\n\nOn Sun, May 5, 2024 at 10:00 AM Tawasul <{MAILBOX}> wrote:\n> السؤال"

    incoming = incoming_from_bytes(mail(body).as_bytes(), account())

    assert incoming.body == TEXT
    assert incoming.data["quoted_removed"] is True


# --- attachments -------------------------------------------------------------------------------


def test_attachments_are_files_and_inline_text_is_the_body():
    message = mail()
    message.add_attachment(PDF, maintype="application", subtype="pdf", filename="خطاب الطلب.pdf")
    message.add_attachment(PNG, maintype="image", subtype="png", filename="../../صورة.png")
    forwarded = mail("رسالة مرفقة", message_id="<inner@example.com>")
    message.add_attachment(forwarded)

    incoming = incoming_from_bytes(message.as_bytes(), account())

    assert incoming.body == TEXT
    names = [file.name for file in incoming.files]
    assert names == ["خطاب الطلب.pdf", "صورة.png", "message.eml"]
    assert incoming.files[0].content == PDF
    assert incoming.files[1].content == PNG
    assert b"inner@example.com" in incoming.files[2].content
    assert incoming.data["attachments"] == 3


def test_the_original_is_cut_at_the_configured_size(settings):
    settings.TAWASUL_INBOUND_RAW_MAX_BYTES = 1000
    message = mail()
    message.add_attachment(PDF * 20, maintype="application", subtype="pdf", filename="big.pdf")

    incoming = incoming_from_bytes(message.as_bytes(), account())

    assert len(incoming.raw) == 1000
    assert incoming.data["raw_truncated"] is True
    assert incoming.files[0].content == PDF * 20


# --- what is not a person writing --------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "subject", "reason"),
    [
        ({"Auto-Submitted": "auto-replied"}, "Re: طلبكم", Reason.AUTO_REPLY),
        ({"Auto-Submitted": "auto-generated"}, "تنبيه", Reason.AUTO_REPLY),
        ({"Auto-Submitted": "no"}, "استفسار", ""),
        ({"X-Autoreply": "yes"}, "Re: طلبكم", Reason.AUTO_REPLY),
        ({"X-Autorespond": "Vacation"}, "Re: طلبكم", Reason.AUTO_REPLY),
        ({"Precedence": "bulk"}, "نشرة", Reason.AUTO_REPLY),
        ({"Precedence": "junk"}, "نشرة", Reason.AUTO_REPLY),
        ({"Precedence": "list"}, "نشرة", Reason.AUTO_REPLY),
        ({"Precedence": "auto_reply"}, "Re", Reason.AUTO_REPLY),
        ({}, "Automatic reply: نتائج الاختبارات", Reason.AUTO_REPLY),
        ({}, "Out of Office: Re: طلبكم", Reason.AUTO_REPLY),
        ({}, "Out of office", Reason.AUTO_REPLY),
        ({}, "رد تلقائي: نتائج الاختبارات", Reason.AUTO_REPLY),
        ({}, "خارج المكتب: طلبكم", Reason.AUTO_REPLY),
        ({}, "Complaint: the teacher is always out of office", ""),
        ({}, "شكوى: الموظف خارج المكتب وقت الدوام", ""),
        ({"Return-Path": "<>"}, "Undelivered", Reason.BOUNCE),
        ({"X-Failed-Recipients": "someone@example.com"}, "Undelivered", Reason.BOUNCE),
        ({"X-Tawasul-Loop": "1"}, "Re: طلبكم", Reason.LOOP),
    ],
)
def test_automatic_mail_is_recognised(headers, subject, reason):
    incoming = incoming_from_bytes(mail(subject=subject, headers=headers).as_bytes(), account())

    assert incoming.ignore_reason == reason


@pytest.mark.parametrize(
    "sender", ["MAILER-DAEMON@mx.example.com", "Mail Delivery System <postmaster@example.com>"]
)
def test_mail_from_the_mail_system_is_a_bounce(sender):
    incoming = incoming_from_bytes(mail(sender=sender).as_bytes(), account())

    assert incoming.ignore_reason == Reason.BOUNCE


def test_a_delivery_status_report_is_a_bounce():
    report = (
        b"From: Mail Delivery Subsystem <mailer@mx.example.com>\r\nTo: care@riyadh.moe.example\r\n"
        b"Subject: Delivery Status Notification (Failure)\r\nMessage-ID: <dsn-1@mx.example.com>\r\n"
        b"MIME-Version: 1.0\r\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="b1"\r\n\r\n'
        b"--b1\r\nContent-Type: text/plain\r\n\r\nThe message could not be delivered.\r\n"
        b"--b1\r\nContent-Type: message/delivery-status\r\n\r\n"
        b"Reporting-MTA: dns; mx.example.com\r\n\r\nFinal-Recipient: rfc822; x@example.com\r\n"
        b"Action: failed\r\nStatus: 5.1.1\r\n--b1--\r\n"
    )

    incoming = incoming_from_bytes(report, account())

    assert incoming.ignore_reason == Reason.BOUNCE


def test_a_read_receipt_is_an_automatic_reply():
    receipt = (
        b"From: parent@example.com\r\nSubject: Read: request\r\nMessage-ID: <mdn@example.com>\r\n"
        b'Content-Type: multipart/report; report-type=disposition-notification; boundary="b"\r\n'
        b"\r\n--b\r\nContent-Type: text/plain\r\n\r\nYour message was read.\r\n--b--\r\n"
    )

    assert incoming_from_bytes(receipt, account()).ignore_reason == Reason.AUTO_REPLY


@pytest.mark.parametrize(
    ("settings_", "sender"),
    [
        ({}, f"Tawasul <{MAILBOX.upper()}>"),
        ({"address": "", "username": "box@riyadh.moe.example"}, "box@riyadh.moe.example"),
    ],
    ids=["own-address", "imap-username"],
)
def test_mail_from_the_mailbox_itself_is_a_loop(settings_, sender):
    incoming = incoming_from_bytes(mail(sender=sender).as_bytes(), account(**settings_))

    assert incoming.ignore_reason == Reason.LOOP


# --- malformed mail --------------------------------------------------------------------------


def _nested(depth: int) -> bytes:
    head = b"From: parent@example.com\r\nMessage-ID: <deep@example.com>\r\n"
    body = b"".join(
        b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (level, level)
        for level in range(depth)
    )
    return head + body + b"Content-Type: text/plain\r\n\r\ndeep\r\n"


MALFORMED = {
    "empty": b"",
    "binary": bytes(range(256)) * 4,
    "no-headers": "نص بلا ترويسات".encode(),
    "unknown-charset-header": b"From: =?x-bad?B?2LPYp9ix2Kk=?= <parent@example.com>\r\n"
    b"Subject: =?utf-8?B?broken\r\n\r\nhello",
    "broken-base64": b"From: parent@example.com\r\nContent-Type: text/plain; charset=utf-8\r\n"
    b"Content-Transfer-Encoding: base64\r\n\r\n2LPZhNin2YU=!!!###\r\n",
    "missing-boundary": b"From: parent@example.com\r\nContent-Type: multipart/mixed\r\n\r\n"
    b"--zz\r\nContent-Type: text/plain\r\n\r\nhello\r\n",
    "nul-and-latin1": b"From: parent@example.com\r\nSubject: a\x00b\xe9\r\n\r\nbody\x00\xff",
    "bad-address": b"From: <<<@@@>>>\r\nTo: ;;;\r\nMessage-ID: <<<>>>\r\n\r\nhello",
    "deep-nesting": _nested(200),
}


@pytest.mark.parametrize("raw", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_mail_never_raises_and_keeps_what_it_can(raw):
    incoming = incoming_from_bytes(raw, account())

    assert incoming.external_id
    assert incoming.raw == raw
    for text in (incoming.sender, incoming.sender_name, incoming.subject, incoming.body):
        assert "\x00" not in text
        text.encode("utf-8")  # no lone surrogate left by an undecodable byte


def test_an_undecodable_header_is_read_by_its_raw_bytes():
    incoming = incoming_from_bytes(MALFORMED["unknown-charset-header"], account())

    assert incoming.sender == "parent@example.com"
    assert incoming.sender_name == "سارة"
    assert incoming.body == "hello"


def test_a_multipart_without_boundary_keeps_its_text():
    incoming = incoming_from_bytes(MALFORMED["missing-boundary"], account())

    assert "hello" in incoming.body
    assert incoming.data["defects"] >= 1


@pytest.mark.parametrize(
    "sender",
    [
        b"",
        b"From: \r\n",
        b"From: not an address\r\n",
        b"From: parent@\r\n",
        b"From: <@example.com>\r\n",
        b"From: a@b\r\n",
    ],
)
def test_an_unusable_sender_is_left_empty(sender):
    incoming = incoming_from_bytes(sender + b"Subject: x\r\n\r\n" + TEXT.encode(), account())

    assert incoming.sender == ""


# --- through the inbound pipeline -----------------------------------------------------------


@pytest.fixture
def mailbox(ministry) -> ChannelAccount:
    return channel_account(
        kind=ChannelKind.IMAP,
        centre=CareCentre.objects.get(entity=ministry.riyadh),
        settings={"host": "imap.moe.example", "username": MAILBOX, "category": "exams"},
        secrets={"password": "x"},
    )


@pytest.mark.django_db
def test_a_parsed_email_becomes_a_request_with_its_attachment(mailbox):
    message = mail()
    message.add_attachment(PDF, maintype="application", subtype="pdf", filename="خطاب.pdf")

    stored, new = inbound_receive(mailbox, incoming_from_bytes(message.as_bytes(), mailbox))

    assert new
    assert stored.status == InboundStatus.PROCESSED
    request = stored.request
    assert request.channel == Channel.EMAIL
    assert request.entity_id == mailbox.centre.entity_id
    assert request.description == TEXT
    assert [a.original_name for a in request.attachments.all()] == ["خطاب.pdf"]
    assert stored.raw.read() == message.as_bytes()


@pytest.mark.django_db
def test_a_mail_without_sender_waits_for_review_with_its_original(mailbox):
    raw = mail(sender="").as_bytes()

    stored, _new = inbound_receive(mailbox, incoming_from_bytes(raw, mailbox))

    assert (stored.status, stored.reason) == (InboundStatus.REVIEW, Reason.NO_SENDER)
    assert stored.raw.read() == raw
    assert stored.body == TEXT
