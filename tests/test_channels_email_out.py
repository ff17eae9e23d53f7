"""E-mail out (issue 10): every e-mail of the outbox over a real SMTP conversation with a
local `aiosmtpd` listener — bilingual templates, the threading headers that keep one
request one conversation in the beneficiary's mail client, the loop and auto-submitted
markers, the mailbox's own address and SMTP server for a routed answer, and what a
refusal or a temporary failure does to the outbox row."""

from __future__ import annotations

import email
import email.policy
import re
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from django.utils import timezone

from tawasul.beneficiaries.models import Beneficiary
from tawasul.beneficiaries.services import beneficiary_register
from tawasul.cases.models import Message, Request
from tawasul.cases.services import (
    request_answer,
    request_ask_beneficiary,
    request_claim,
    request_reply,
    request_start,
    request_submit,
)
from tawasul.channels.delivery import outbox_drain
from tawasul.channels.inbound import Incoming, inbound_receive, tracking_numbers_in
from tawasul.channels.models import (
    ChannelAccount,
    ChannelKind,
    IdentityKind,
    InboundStatus,
    OutboxMessage,
    OutboxStatus,
)
from tawasul.core.ids import tracking_number_display
from tawasul.directory.models import CareCentre
from tests.channel_servers import channel_account
from tests.conftest import luhn_complete

pytestmark = pytest.mark.django_db

ARABIC_LETTER = re.compile("[\u0621-\u064a]")
MAILBOX = "care-riyadh@moe.example"
PARENT = "parent@example.com"
THEIR_FIRST = "<first.7f3a@example.com>"
THEIR_SECOND = "<second.91bc@example.com>"
THEIR_SUBJECT = "Exam results of my son"
THEIR_TEXT = "When will the results of the first term exams be published for grade three?"
STAFF_REPLY = "The results are published next Sunday on the Noor system."
STAFF_QUESTION = "Which school is your son in, and what is his student number?"
STAFF_ANSWER = "The results were published today; your son's result is available in Noor."
NOT_AUTOMATIC = "This message was sent automatically; please do not reply to it."


# --- a real SMTP listener ------------------------------------------------------------------


@dataclass
class SmtpRecorder:
    """An aiosmtpd handler: records each accepted message, or answers with a scripted
    refusal at RCPT or DATA time."""

    received: list[tuple[str, list[str], bytes]] = field(default_factory=list)
    rcpt_reply: str = ""
    data_reply: str = ""
    logins: list[bytes] = field(default_factory=list)

    async def handle_RCPT(  # noqa: N802 (aiosmtpd's hook name)
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        if self.data_reply:
            return self.data_reply
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"

    def messages(self) -> list[EmailMessage]:
        return [
            email.message_from_bytes(content, policy=email.policy.default)  # type: ignore[misc]
            for _from, _to, content in self.received
        ]

    def by_id(self, message_id: str) -> EmailMessage:
        [found] = [m for m in self.messages() if m["Message-ID"] == message_id]
        return found


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def smtp_listener(**options: Any) -> Iterator[tuple[SmtpRecorder, int]]:
    recorder = SmtpRecorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=free_port(), **options)
    controller.start()
    try:
        yield recorder, controller.port
    finally:
        controller.stop()


@pytest.fixture
def smtp(settings) -> Iterator[SmtpRecorder]:
    """The platform's SMTP server: Django's real SMTP backend, pointed at the listener."""
    with smtp_listener() as (recorder, port):
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
        settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        settings.EMAIL_TIMEOUT = 10
        settings.DEFAULT_FROM_EMAIL = "تواصل <care@tawasul.example>"
        settings.TAWASUL_PORTAL_URL = "https://tawasul.moe.example"
        yield recorder


# --- people, accounts and requests -------------------------------------------------------


@pytest.fixture
def riyadh_centre(ministry) -> CareCentre:
    return CareCentre.objects.get(entity=ministry.riyadh)


@pytest.fixture
def mailbox(riyadh_centre) -> ChannelAccount:
    return channel_account(
        kind=ChannelKind.IMAP,
        centre=riyadh_centre,
        settings={
            "host": "imap.moe.example",
            "username": "care-riyadh",
            "address": MAILBOX,
            "from_name": "Riyadh care centre",
            "category": "exams",
        },
        secrets={"password": "imap-pass"},
    )


def beneficiary(name: str, email_address: str, language: str, digits: str) -> Beneficiary:
    return beneficiary_register(
        full_name=name,
        national_id=luhn_complete(digits),
        email=email_address,
        language=language,
        preferred_contact="email",
        consent=True,
    )


def submit(ministry, person: Beneficiary) -> Request:
    return request_submit(
        beneficiary=person,
        kind="complaint",
        category=ministry.exams,
        subject="Late results",
        description="My son's result is still not shown in the Noor system.",
        entity=ministry.riyadh,
    )


def written_by_email(account: ChannelAccount, *, language: str = "en") -> Request:
    """A parent writes to the mailbox: the core opens a request and routes its answers back."""
    message, _new = inbound_receive(
        account,
        Incoming(
            external_id=THEIR_FIRST,
            sender=PARENT,
            identity_kind=IdentityKind.EMAIL,
            sender_name="A parent",
            subject=THEIR_SUBJECT,
            body=THEIR_TEXT,
            thread={"message_id": THEIR_FIRST},
        ),
    )
    assert message.status == InboundStatus.PROCESSED
    request = Request.objects.get(pk=message.request_id)
    Beneficiary.objects.filter(pk=request.beneficiary_id).update(language=language)
    OutboxMessage.objects.filter(request=request).update(language=language)
    return Request.objects.get(pk=request.pk)


def sent_id(request: Request, template: str) -> str:
    row = OutboxMessage.objects.get(request=request, template=template)
    assert row.status == OutboxStatus.SENT, row.last_error
    return row.provider_message_id


def references(message: EmailMessage) -> list[str]:
    return str(message["References"] or "").split()


def text_part(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def html_part(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    assert part is not None
    return str(part.get_content())


# --- notifications: templates, headers -------------------------------------------------------


def test_a_notification_goes_over_smtp_in_english_with_its_markers(ministry, smtp):
    khalid = beneficiary("Khalid Rahman", "khalid@example.com", "en", "200000002")
    request = submit(ministry, khalid)

    assert outbox_drain() == 1

    [(mail_from, rcpt_tos, _content)] = smtp.received
    assert (mail_from, rcpt_tos) == ("care@tawasul.example", ["khalid@example.com"])
    [message] = smtp.messages()
    display = tracking_number_display(request.tracking_number)
    assert message["Subject"] == f"Your request {display} has been received"
    assert message["X-Tawasul-Loop"] == "1"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Content-Language"] == "en"
    assert message["In-Reply-To"] is None
    assert message["References"] is None
    assert re.fullmatch(r"<[0-9a-f]{32}@tawasul\.example>", message["Message-ID"])
    assert sent_id(request, "acknowledgement") == message["Message-ID"]
    assert f"Its tracking number is {display}." in text_part(message)
    assert NOT_AUTOMATIC in text_part(message)
    assert '<html lang="en" dir="ltr">' in html_part(message)


def test_a_notification_for_an_arabic_reader_is_in_arabic_and_right_to_left(ministry, smtp):
    noura = beneficiary("نورة القحطاني", "noura@example.com", "ar", "100000003")
    request = submit(ministry, noura)

    outbox_drain()

    [message] = smtp.messages()
    assert ARABIC_LETTER.search(message["Subject"])
    assert tracking_number_display(request.tracking_number) in message["Subject"]
    assert message["Content-Language"] == "ar"
    assert ARABIC_LETTER.search(text_part(message))
    assert '<html lang="ar" dir="rtl">' in html_part(message)


def test_every_later_email_of_a_request_references_the_first_one(ministry, staff, smtp):
    khalid = beneficiary("Khalid Rahman", "khalid@example.com", "en", "200000002")
    request = submit(ministry, khalid)
    outbox_drain()
    agent = staff.riyadh_agent
    request_claim(request=request, by=agent)
    request_start(request=request, by=agent)
    request_reply(request=request, by=agent, body=STAFF_REPLY)
    outbox_drain()
    request_ask_beneficiary(request=request, by=agent, question=STAFF_QUESTION)
    outbox_drain()

    root = sent_id(request, "acknowledgement")
    reply = smtp.by_id(sent_id(request, "replied"))
    question = smtp.by_id(sent_id(request, "info_requested"))
    assert (reply["In-Reply-To"], references(reply)) == (root, [root])
    assert (question["In-Reply-To"], references(question)) == (
        reply["Message-ID"],
        [root, reply["Message-ID"]],
    )
    # a staff message is not an automatic one, even when it only points to the portal
    assert reply["Auto-Submitted"] is None
    assert question["Auto-Submitted"] is None
    assert reply["X-Tawasul-Loop"] == question["X-Tawasul-Loop"] == "1"
    # not routed: the staff text stays in the portal, the e-mail says where to read it
    assert STAFF_REPLY not in text_part(reply)
    assert "Sign in to the portal to read it:" in text_part(reply)


# --- routed: the conversation in the beneficiary's mailbox ---------------------------------------


def test_the_answers_go_back_from_the_mailbox_threaded_on_the_parents_emails(
    ministry, staff, smtp, mailbox
):
    # Given a parent who wrote to the mailbox, acknowledged by e-mail
    request = written_by_email(mailbox)
    outbox_drain()
    display = tracking_number_display(request.tracking_number)
    ack = smtp.by_id(sent_id(request, "acknowledgement"))
    assert ack["From"] == f"Riyadh care centre <{MAILBOX}>"
    assert ack["Reply-To"] == MAILBOX
    assert ack["Subject"] == f"Re: {THEIR_SUBJECT} [{display}]"
    assert (ack["In-Reply-To"], references(ack)) == (THEIR_FIRST, [THEIR_FIRST])
    assert ack["Auto-Submitted"] == "auto-generated"
    assert smtp.received[0][0] == MAILBOX  # the envelope sender too

    # When an agent replies
    agent = staff.riyadh_agent
    request_claim(request=request, by=agent)
    request_start(request=request, by=agent)
    request_reply(request=request, by=agent, body=STAFF_REPLY)
    outbox_drain()

    # Then the reply carries the agent's text, answers the parent's e-mail, keeps the root
    reply = smtp.by_id(sent_id(request, "replied"))
    assert reply["From"] == f"Riyadh care centre <{MAILBOX}>"
    assert reply["Subject"] == f"Re: {THEIR_SUBJECT} [{display}]"
    assert tracking_numbers_in(reply["Subject"]) == [request.tracking_number]
    assert reply["In-Reply-To"] == THEIR_FIRST
    assert references(reply) == [ack["Message-ID"], THEIR_FIRST]
    assert reply["Auto-Submitted"] is None
    assert reply["X-Tawasul-Loop"] == "1"
    assert STAFF_REPLY in text_part(reply)
    assert STAFF_REPLY in html_part(reply)
    assert "You can answer by replying to this e-mail, or in the portal:" in text_part(reply)
    assert NOT_AUTOMATIC not in text_part(reply)
    assert NOT_AUTOMATIC not in html_part(reply)

    # When the parent answers that e-mail, and the agent gives the answer
    message, _new = inbound_receive(
        mailbox,
        Incoming(
            external_id=THEIR_SECOND,
            sender=PARENT,
            identity_kind=IdentityKind.EMAIL,
            subject=reply["Subject"],
            body="Thank you, and will the certificates be printed at the school?",
            thread={
                "message_id": THEIR_SECOND,
                "in_reply_to": reply["Message-ID"],
                "references": [ack["Message-ID"], THEIR_FIRST, reply["Message-ID"]],
            },
        ),
    )
    assert (message.status, message.request_id) == (InboundStatus.PROCESSED, request.pk)
    request_answer(request=request, by=agent, resolution=STAFF_ANSWER)
    outbox_drain()

    # Then the answer chains on the whole conversation, root first
    answer = smtp.by_id(sent_id(request, "answered"))
    assert answer["In-Reply-To"] == THEIR_SECOND
    assert references(answer) == [
        ack["Message-ID"],
        THEIR_FIRST,
        reply["Message-ID"],
        THEIR_SECOND,
    ]
    assert answer["Subject"] == f"Re: {THEIR_SUBJECT} [{display}]"  # no "Re: Re:"
    assert STAFF_ANSWER in text_part(answer)
    assert answer["Auto-Submitted"] is None
    assert Message.objects.get(body=STAFF_ANSWER).channel == "email"


def test_a_routed_message_goes_over_the_mailbox_own_smtp_server_with_its_login(
    ministry, staff, smtp, mailbox
):
    logins: list[bytes] = []

    def authenticator(server, session, envelope, mechanism, auth_data) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        logins.append(auth_data.login)
        return AuthResult(
            success=(auth_data.login, auth_data.password) == (b"care-riyadh", b"imap-pass")
        )

    with smtp_listener(authenticator=authenticator, auth_require_tls=False) as (own, port):
        mailbox.settings.update(smtp_host="127.0.0.1", smtp_port=port, smtp_security="none")
        mailbox.save(update_fields=["settings"])
        request = written_by_email(mailbox)

        assert outbox_drain() == 1

    assert smtp.received == []  # not the platform's server
    [(mail_from, rcpt_tos, _content)] = own.received
    assert (mail_from, rcpt_tos) == (MAILBOX, [PARENT])
    assert logins == [b"care-riyadh"]
    assert sent_id(request, "acknowledgement").endswith("@moe.example>")


def test_threading_values_that_are_not_message_ids_are_dropped(ministry, smtp, mailbox):
    request = written_by_email(mailbox)
    OutboxMessage.objects.filter(request=request).update(
        thread={
            "in_reply_to": "<x@example.com>\r\nBcc: someone@example.net",
            "references": ["not-an-id", THEIR_FIRST],
            "subject": THEIR_SUBJECT,
        }
    )

    outbox_drain()

    [message] = smtp.messages()
    assert message["Bcc"] is None
    assert message["In-Reply-To"] is None
    assert references(message) == [THEIR_FIRST]
    assert [rcpt for _f, rcpts, _c in smtp.received for rcpt in rcpts] == [PARENT]


# --- refusals and temporary failures ---------------------------------------------------------


def test_a_temporary_refusal_is_retried_with_backoff_then_delivered(ministry, smtp):
    khalid = beneficiary("Khalid Rahman", "khalid@example.com", "en", "200000002")
    submit(ministry, khalid)
    smtp.rcpt_reply = "451 4.7.1 <khalid@example.com>: greylisted, try again later"

    before = timezone.now()
    assert outbox_drain() == 0
    after = timezone.now()

    row = OutboxMessage.objects.get()
    assert (row.status, row.attempts) == (OutboxStatus.PENDING, 1)
    assert before + timedelta(minutes=1) <= row.next_attempt_at <= after + timedelta(minutes=1)
    assert row.last_error == "ChannelDeliveryError: SMTP answered 451: the recipient was refused"
    assert "khalid" not in row.last_error
    assert outbox_drain() == 0  # not due yet

    smtp.rcpt_reply = ""
    OutboxMessage.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
    assert outbox_drain() == 1
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == (OutboxStatus.SENT, 2, "")
    assert len(smtp.received) == 1


@pytest.mark.parametrize(
    ("stage", "answer", "outcome"),
    [
        (
            "rcpt",
            "550 5.1.1 <khalid@example.com>: no such user",
            (OutboxStatus.FAILED, "ChannelRejected: SMTP answered 550: the recipient was refused"),
        ),
        (
            "data",
            "554 5.7.1 message from khalid@example.com refused as spam",
            (OutboxStatus.FAILED, "ChannelRejected: SMTP answered 554: SMTPDataError"),
        ),
        (
            "data",
            "452 4.3.1 insufficient storage for khalid@example.com",
            (OutboxStatus.PENDING, "ChannelDeliveryError: SMTP answered 452: SMTPDataError"),
        ),
    ],
)
def test_a_refusal_is_final_or_temporary_by_its_code(ministry, smtp, stage, answer, outcome):
    khalid = beneficiary("Khalid Rahman", "khalid@example.com", "en", "200000002")
    submit(ministry, khalid)
    setattr(smtp, f"{stage}_reply", answer)

    outbox_drain()

    row = OutboxMessage.objects.get()
    assert (row.status, row.last_error) == outcome
    assert row.attempts == 1
    assert "khalid" not in row.last_error
    assert smtp.received == []


def test_an_unreachable_smtp_server_is_retried(ministry, smtp, settings):
    settings.EMAIL_PORT = free_port()  # nobody listens there
    khalid = beneficiary("Khalid Rahman", "khalid@example.com", "en", "200000002")
    submit(ministry, khalid)

    outbox_drain()

    row = OutboxMessage.objects.get()
    assert (row.status, row.attempts) == (OutboxStatus.PENDING, 1)
    assert row.last_error == (
        "ChannelDeliveryError: SMTP server unreachable (ConnectionRefusedError)"
    )


def test_a_mailbox_without_an_address_cannot_send(ministry, smtp, mailbox):
    mailbox.settings.update(address="", username="care-riyadh")
    mailbox.save(update_fields=["settings"])
    written_by_email(mailbox)

    outbox_drain()

    row = OutboxMessage.objects.get()
    assert (row.status, row.last_error) == (
        OutboxStatus.FAILED,
        "ChannelRejected: the e-mail account has no sending address",
    )
    assert smtp.received == []
