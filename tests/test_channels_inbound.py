"""The channels' common inbound pipeline (issue 10): every message kept once, then turned
into a new request, a reply on one, an ignored automatic message, or a review item — and the
answers routed back through the account the beneficiary wrote by."""

from __future__ import annotations

import pytest

from tawasul.beneficiaries.models import Beneficiary
from tawasul.cases.models import Channel, EventKind, Message, Request, Status
from tawasul.cases.services import (
    request_answer,
    request_cancel,
    request_claim,
    request_reply,
    request_start,
)
from tawasul.channels.inbound import (
    Incoming,
    IncomingFile,
    beneficiary_for_identity,
    identity_link,
    identity_value,
    inbound_receive,
    tracking_numbers_in,
)
from tawasul.channels.models import (
    ChannelIdentity,
    ChannelKind,
    IdentityKind,
    InboundMessage,
    InboundStatus,
    OutboxChannel,
    OutboxMessage,
)
from tawasul.channels.notifications import notification_render_chat
from tawasul.core.ids import tracking_number_display
from tawasul.directory.models import CareCentre
from tests.channel_servers import channel_account
from tests.threads import race

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
TEXT = "أرجو إفادتي بموعد صدور نتائج اختبارات الفصل الدراسي الأول لابني في الصف الثالث."


@pytest.fixture
def riyadh_centre(ministry) -> CareCentre:
    return CareCentre.objects.get(entity=ministry.riyadh)


@pytest.fixture
def mailbox(riyadh_centre):
    return channel_account(
        kind=ChannelKind.IMAP,
        centre=riyadh_centre,
        settings={"host": "imap.moe.example", "username": "care@moe.example", "category": "exams"},
        secrets={"password": "x"},
    )


@pytest.fixture
def telegram(riyadh_centre):
    return channel_account(
        kind=ChannelKind.TELEGRAM,
        centre=riyadh_centre,
        settings={"bot_username": "moe_care_bot", "category": "exams"},
        secrets={"bot_token": "1:abc", "webhook_secret": "s"},
    )


def mail(external_id: str, *, sender: str = "parent@example.com", **fields) -> Incoming:
    return Incoming(
        external_id=external_id,
        sender=sender,
        identity_kind=IdentityKind.EMAIL,
        sender_name=fields.pop("sender_name", "ولي أمر"),
        subject=fields.pop("subject", "نتائج الاختبارات"),
        body=fields.pop("body", TEXT),
        **fields,
    )


def dm(external_id: str, *, sender: str = "777", body: str = TEXT) -> Incoming:
    return Incoming(
        external_id=external_id,
        sender=sender,
        identity_kind=IdentityKind.TELEGRAM,
        sender_name="Nora",
        sender_handle="nora_k",
        body=body,
        thread={"chat_id": sender},
    )


def test_a_new_message_opens_a_request_at_the_accounts_centre_and_is_acknowledged_back(
    ministry, mailbox
) -> None:
    message, created = inbound_receive(mailbox, mail("<a1@example.com>"))

    assert created
    assert (message.status, message.reason) == (InboundStatus.PROCESSED, "request")
    request = message.request
    assert (request.entity, request.channel, request.category.code) == (
        ministry.riyadh,
        Channel.EMAIL,
        "exams",
    )
    assert (request.subject, request.description) == ("نتائج الاختبارات", TEXT)
    assert request.beneficiary.email == "parent@example.com"
    assert ChannelIdentity.objects.filter(
        beneficiary=request.beneficiary, kind=IdentityKind.EMAIL, value="parent@example.com"
    ).exists()
    ack = OutboxMessage.objects.get(request=request)
    assert (ack.template, ack.channel, ack.account, ack.recipient) == (
        "acknowledgement",
        OutboxChannel.EMAIL,
        mailbox,
        "parent@example.com",
    )
    assert ack.thread["in_reply_to"] == "<a1@example.com>"


def test_a_replayed_message_does_nothing_more(mailbox) -> None:
    first, _created = inbound_receive(mailbox, mail("<same@example.com>"))
    again, created = inbound_receive(mailbox, mail("<same@example.com>", body="something else"))

    assert (created, again.pk) == (False, first.pk)
    assert (InboundMessage.objects.count(), Request.objects.count()) == (1, 1)


@pytest.mark.django_db(transaction=True)
def test_the_same_message_received_twice_at_once_is_kept_once(mailbox) -> None:
    outcomes = race([lambda: inbound_receive(mailbox, mail("<race@example.com>"))] * 2)

    assert sorted(created for _message, created in outcomes) == [False, True]  # type: ignore[misc]
    assert (InboundMessage.objects.count(), Request.objects.count()) == (1, 1)


def test_the_tracking_number_in_the_subject_makes_it_a_reply(mailbox) -> None:
    opened, _ = inbound_receive(mailbox, mail("<b1@example.com>"))
    request = opened.request
    number = tracking_number_display(request.tracking_number)

    reply, _ = inbound_receive(
        mailbox,
        mail("<b2@example.com>", subject=f"Re: طلبي {number}", body="هذه صورة الإشعار المطلوبة"),
    )

    assert (reply.status, reply.reason, reply.request) == (
        InboundStatus.PROCESSED,
        "reply",
        request,
    )
    assert reply.message.body == "هذه صورة الإشعار المطلوبة"
    assert reply.message.channel == Channel.EMAIL
    event = request.events.get(kind=EventKind.BENEFICIARY_REPLIED)
    assert event.data["channel"] == Channel.EMAIL
    assert Request.objects.count() == 1


def test_an_answer_to_our_own_mail_joins_the_request_by_its_headers(mailbox) -> None:
    opened, _ = inbound_receive(mailbox, mail("<c1@example.com>"))
    ack = OutboxMessage.objects.get(request=opened.request)
    ack.provider_message_id = "<ours-1@tawasul.example>"
    ack.save()

    reply, _ = inbound_receive(
        mailbox,
        mail(
            "<c2@example.com>",
            subject="Re: شكرا",
            body="شكرا لكم، بانتظار الرد",
            thread={"message_id": "<c2@example.com>", "in_reply_to": "<ours-1@tawasul.example>"},
        ),
    )

    assert (reply.reason, reply.request) == ("reply", opened.request)


def test_a_number_of_someone_elses_request_goes_to_review(mailbox, sara) -> None:
    theirs, _ = inbound_receive(mailbox, mail("<d1@example.com>", sender="sara@example.com"))
    number = theirs.request.tracking_number

    other, _ = inbound_receive(
        mailbox, mail("<d2@example.com>", sender="intruder@example.com", subject=f"#{number}")
    )

    assert (other.status, other.reason, other.request) == (
        InboundStatus.REVIEW,
        "not_theirs",
        None,
    )
    assert theirs.request.messages.count() == 0


@pytest.mark.parametrize(
    ("incoming", "reason"),
    [
        (mail("<e1@example.com>", body="شكرا"), "too_short"),
        (mail("<e2@example.com>", body=""), "empty"),
        (mail("<e3@example.com>", sender=""), "no_sender"),
    ],
)
def test_what_cannot_become_a_request_waits_for_review_without_loss(
    mailbox, incoming, reason
) -> None:
    message, _ = inbound_receive(mailbox, incoming)

    assert (message.status, message.reason) == (InboundStatus.REVIEW, reason)
    kept = InboundMessage.objects.get(pk=message.pk)
    assert (kept.body, kept.subject) == (incoming.body.strip(), incoming.subject)
    assert not Request.objects.exists()


def test_a_refused_request_waits_for_review_with_the_reason(riyadh_centre) -> None:
    account = channel_account(
        kind=ChannelKind.IMAP,
        centre=riyadh_centre,
        settings={"host": "h", "username": "u", "kind": "not-a-kind"},
    )
    message, _ = inbound_receive(account, mail("<f1@example.com>"))

    assert (message.status, message.reason, message.data["refused"]) == (
        InboundStatus.REVIEW,
        "refused",
        "choice",
    )
    assert not Request.objects.exists()
    assert not Beneficiary.objects.filter(email="parent@example.com").exists()  # rolled back


def test_an_automatic_message_is_ignored(mailbox) -> None:
    message, _ = inbound_receive(mailbox, mail("<g1@example.com>", ignore_reason="auto_reply"))

    assert (message.status, message.reason) == (InboundStatus.IGNORED, "auto_reply")
    assert not Request.objects.exists()


def test_files_are_checked_one_by_one_and_a_refused_one_is_listed(mailbox) -> None:
    message, _ = inbound_receive(
        mailbox,
        mail(
            "<h1@example.com>",
            files=[IncomingFile("notice.png", PNG), IncomingFile("run.exe", b"MZ" + b"\0" * 100)],
        ),
    )

    assert [a.original_name for a in message.request.attachments.all()] == ["notice.png"]
    assert message.data["files_refused"] == [{"name": "run.exe", "reason": "file_type"}]


def test_a_chat_conversation_continues_its_open_request_then_a_new_one_follows_up(
    telegram, staff
) -> None:
    first, _ = inbound_receive(telegram, dm("1:1"))
    second, _ = inbound_receive(telegram, dm("1:2", body="وهل يمكن معرفة الدرجات التفصيلية؟"))

    assert (second.reason, second.request) == ("reply", first.request)
    assert first.request.channel == Channel.SOCIAL

    request_cancel(request=first.request, by=staff.riyadh_supervisor, reason="مكرر مع طلب آخر")
    third, _ = inbound_receive(telegram, dm("1:3", body="لم يصلني أي رد على استفساري السابق"))

    assert third.reason == "request"
    assert third.request != first.request
    assert first.request.tracking_display in third.request.description


def test_the_staff_reply_goes_back_through_the_account_with_its_text(telegram, staff) -> None:
    opened, _ = inbound_receive(telegram, dm("2:1"))
    request = opened.request
    agent = staff.riyadh_agent
    request_claim(request=request, by=agent)
    request_start(request=request, by=agent)
    reply = request_reply(request=request, by=agent, body="تصدر النتائج يوم الأحد القادم.")

    routed = OutboxMessage.objects.get(request=request, template="replied")
    assert (routed.channel, routed.account, routed.recipient, routed.thread) == (
        OutboxChannel.SOCIAL,
        telegram,
        "777",
        {"chat_id": "777"},
    )
    text = notification_render_chat(routed)
    assert text.startswith("تصدر النتائج يوم الأحد القادم.")
    assert request.tracking_display in text
    assert Message.objects.get(pk=reply.pk).channel == Channel.SOCIAL

    request_answer(request=request, by=agent, resolution="صدرت النتائج ويمكن الاطلاع عليها.")
    answered = OutboxMessage.objects.get(request=request, template="answered")
    assert answered.account == telegram
    assert notification_render_chat(answered).startswith("صدرت النتائج")


def test_one_person_is_recognised_across_channels(khalid, mailbox, telegram, staff) -> None:
    by_mail, _ = inbound_receive(mailbox, mail("<k1@example.com>", sender="KHALID@example.com"))
    assert by_mail.request.beneficiary == khalid

    identity_link(
        beneficiary=khalid, kind=IdentityKind.TELEGRAM, value="4242", by=staff.riyadh_agent
    )
    by_chat, _ = inbound_receive(telegram, dm("3:1", sender="4242"))

    assert by_chat.request.beneficiary == khalid
    assert set(khalid.identities.values_list("kind", flat=True)) == {"email", "telegram"}
    assert khalid.identities.get(kind="telegram").linked_by == staff.riyadh_agent


def test_an_unknown_number_is_registered_once_and_found_again(db) -> None:
    first = beneficiary_for_identity(kind=IdentityKind.WHATSAPP, value="966551230000", name="ريم")
    again = beneficiary_for_identity(kind=IdentityKind.MOBILE, value="0551230000")

    assert first == again
    assert (first.full_name, first.mobile) == ("ريم", "+966551230000")
    assert Beneficiary.objects.count() == 1


def test_tracking_numbers_are_found_as_people_write_them(mailbox) -> None:
    opened, _ = inbound_receive(mailbox, mail("<n1@example.com>"))
    digits = opened.request.tracking_number
    arabic = digits.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))

    assert tracking_numbers_in(f"رقم الطلب {arabic} شكرا") == [digits]
    assert tracking_numbers_in(f"[{tracking_number_display(digits)}]") == [digits]
    assert tracking_numbers_in(f"x{digits}9 and {digits[:-1]}") == []


def test_a_closed_request_is_not_reopened_by_a_late_mail(mailbox, staff) -> None:
    opened, _ = inbound_receive(mailbox, mail("<p1@example.com>"))
    request = opened.request
    request_cancel(request=request, by=staff.riyadh_supervisor, reason="أجيب عنه هاتفيا")
    number = request.tracking_number

    late, _ = inbound_receive(mailbox, mail("<p2@example.com>", subject=f"Re: {number}"))

    assert late.reason == "request"
    assert late.request != request
    request.refresh_from_db()
    assert request.status == Status.CANCELLED


def test_a_message_on_an_answered_request_waits_for_review_on_it(telegram, staff) -> None:
    opened, _ = inbound_receive(telegram, dm("4:1"))
    request = opened.request
    agent = staff.riyadh_agent
    request_claim(request=request, by=agent)
    request_start(request=request, by=agent)
    request_answer(request=request, by=agent, resolution="صدرت النتائج ويمكن الاطلاع عليها.")

    thanks, _ = inbound_receive(telegram, dm("4:2", body="شكرا جزيلا على سرعة الرد"))

    assert (thanks.status, thanks.reason, thanks.request) == (
        InboundStatus.REVIEW,
        "after_answer",
        request,
    )
    request.refresh_from_db()
    assert (request.status, request.messages.filter(from_beneficiary=True).count()) == (
        Status.ANSWERED,
        0,
    )


def test_an_unexpected_failure_keeps_the_message_for_review_and_logs_no_address(
    mailbox, monkeypatch, caplog
) -> None:
    def broken(account, kind):
        raise RuntimeError("parent@example.com broke it")  # a bug whose text quotes data

    monkeypatch.setattr("tawasul.channels.inbound.channel_category", broken)
    message, _ = inbound_receive(mailbox, mail("<z1@example.com>"))

    kept = InboundMessage.objects.get(pk=message.pk)
    assert (kept.status, kept.reason, kept.request, kept.body) == (
        InboundStatus.REVIEW,
        "error",
        None,
        TEXT,
    )
    assert not Request.objects.exists()
    assert "RuntimeError" in caplog.text
    assert "parent@example.com" not in caplog.text


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("0551230000", "+966551230000"),
        ("966551230000", "+966551230000"),
        ("00966551230000", "+966551230000"),
        ("+966 55 123 0000", "+966551230000"),
        ("00447700900123", "+447700900123"),
        ("+447700900123", "+447700900123"),
        ("no digits", ""),
    ],
)
def test_a_number_is_one_identity_however_a_gateway_writes_it(written, canonical) -> None:
    assert identity_value(IdentityKind.MOBILE, written) == canonical
