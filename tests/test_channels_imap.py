"""E-mail in over IMAP, against a real Dovecot on 127.0.0.1 (`tests/dovecot.py`): mail put in
by a real APPEND, read by `imap_poll` / `imap_idle` into requests, replies, ignored mail or
the review queue — each message once, flagged read only once kept."""

from __future__ import annotations

import io
import socket
import threading
import time
from collections.abc import Callable
from email.message import EmailMessage

import pytest
from django.core import mail as django_mail
from django.core.management import call_command
from django.db import connection

from tawasul.cases.models import Channel, Message, Request
from tawasul.cases.services import request_claim, request_reply, request_start
from tawasul.channels.delivery import outbox_drain
from tawasul.channels.email_tasks import imap_poll_task
from tawasul.channels.imap import (
    imap_idle,
    imap_poll,
    imap_poll_all,
    mailbox_claim,
    mailbox_release,
)
from tawasul.channels.inbound import Reason
from tawasul.channels.models import (
    ChannelAccount,
    ChannelKind,
    InboundMessage,
    InboundStatus,
    OutboxMessage,
)
from tawasul.core.ids import tracking_number_display
from tawasul.directory.models import CareCentre
from tests.channel_servers import channel_account
from tests.dovecot import Dovecot, dovecot_server  # noqa: F401 (the `dovecot` fixture)

pytestmark = pytest.mark.django_db

TEXT = "أرجو إفادتي بموعد صدور نتائج اختبارات الفصل الدراسي الأول لابني في الصف الثالث."
PDF = b"%PDF-1.4\n" + b"0" * 300 + b"\n%%EOF\n"
PARENT = "parent@example.com"


@pytest.fixture
def riyadh_centre(ministry) -> CareCentre:
    return CareCentre.objects.get(entity=ministry.riyadh)


@pytest.fixture
def mailbox(dovecot: Dovecot, riyadh_centre) -> tuple[ChannelAccount, str]:
    """An IMAP account on a fresh Dovecot mailbox, and the mailbox's user name."""
    return imap_account(dovecot, riyadh_centre)


def imap_account(
    dovecot: Dovecot, centre: CareCentre, *, password: str | None = None, **settings: object
) -> tuple[ChannelAccount, str]:
    username, real_password = dovecot.mailbox_new()
    account = channel_account(
        kind=ChannelKind.IMAP,
        centre=centre,
        name=f"mailbox {username}",
        settings=dovecot.account_settings(username, category="exams", **settings),
        secrets={"password": real_password if password is None else password},
    )
    return account, username


def email(
    body: str = TEXT,
    *,
    sender: str = f"ولي أمر <{PARENT}>",
    subject: str = "نتائج الاختبارات",
    message_id: str = "<m1@mail.example.com>",
    html: str = "",
    headers: dict[str, str] | None = None,
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "care@moe.example"
    message["Subject"] = subject
    message["Message-ID"] = message_id
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    if html:
        message.add_alternative(html, subtype="html")
    return message


def raw_of(message: EmailMessage) -> bytes:
    """The bytes as they travel (CRLF line ends, as IMAP stores them)."""
    return message.as_bytes(policy=message.policy.clone(linesep="\r\n"))


def flags_of(dovecot: Dovecot, username: str, folder: str = "INBOX") -> list[tuple[bytes, ...]]:
    with dovecot.client(username) as client:
        client.select_folder(folder, readonly=True)
        uids = client.search("ALL")
        fetched = client.fetch(uids, ["FLAGS"]) if uids else {}
        return [
            tuple(flag for flag in data[b"FLAGS"] if flag != b"\\Recent")
            for _uid, data in sorted(fetched.items())
        ]


def wait_until(condition: Callable[[], bool], *, seconds: float = 30) -> bool:
    """A generous wait for something another thread does (no timing is asserted)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


# --- new mail -----------------------------------------------------------------------------


def test_a_new_email_opens_a_request_at_the_accounts_centre(dovecot, mailbox):
    account, username = mailbox
    message = email(html="<p>نص</p><script>alert('x')</script>")
    message.add_attachment(PDF, maintype="application", subtype="pdf", filename="شهادة.pdf")
    dovecot.append(username, raw_of(message))

    counts = imap_poll(account)

    assert counts == {"fetched": 1, "stored": 1, "repeated": 0}
    stored = InboundMessage.objects.get(account=account)
    assert (stored.status, stored.reason) == (InboundStatus.PROCESSED, "request")
    request = stored.request
    assert request.channel == Channel.EMAIL
    assert request.entity_id == account.centre.entity_id
    assert request.category.code == "exams"
    assert request.description == TEXT
    assert request.beneficiary.email == PARENT
    assert [a.original_name for a in request.attachments.all()] == ["شهادة.pdf"]
    assert stored.raw.read() == raw_of(message)
    assert flags_of(dovecot, username) == [(b"\\Seen",)]
    account.refresh_from_db()
    assert account.state["last_error"] == ""
    assert account.state["last_uid"] == 1
    assert "last_polled_at" in account.state
    assert "poll_claim" not in account.state


def test_html_only_mail_is_stored_as_text_without_scripts(dovecot, mailbox):
    account, username = mailbox
    message = email()
    message.set_content(
        "<div>السلام عليكم،</div><script>document.location='https://evil.example'</script>"
        "<p onclick='x()'>أرجو إفادتي بموعد صدور نتائج الاختبارات.</p>",
        subtype="html",
    )
    dovecot.append(username, raw_of(message))

    imap_poll(account)

    stored = InboundMessage.objects.get(account=account)
    for text in (stored.body, stored.request.description):
        assert "<" not in text
        assert "script" not in text
        assert "evil" not in text
    assert stored.body == "السلام عليكم،\nأرجو إفادتي بموعد صدور نتائج الاختبارات."


def test_only_unread_mail_is_taken_the_first_time_then_everything_new(dovecot, mailbox):
    account, username = mailbox
    dovecot.append(username, raw_of(email(message_id="<old@x.example>")), flags=["\\Seen"])
    dovecot.append(username, raw_of(email(message_id="<unread@x.example>")))

    imap_poll(account)
    dovecot.append(username, raw_of(email(message_id="<later@x.example>")), flags=["\\Seen"])
    imap_poll(account)

    assert sorted(InboundMessage.objects.values_list("external_id", flat=True)) == [
        "<later@x.example>",
        "<unread@x.example>",
    ]


def test_polling_twice_stores_nothing_twice(dovecot, mailbox):
    account, username = mailbox
    dovecot.append(username, raw_of(email()))

    first = imap_poll(account)
    second = imap_poll(account)

    assert first["stored"] == 1
    assert second == {"fetched": 0, "stored": 0, "repeated": 0}
    assert InboundMessage.objects.count() == 1
    assert Request.objects.count() == 1


def test_a_message_read_again_after_a_crash_is_not_stored_twice(dovecot, mailbox):
    # Given a poll that kept the message but died before flagging it and saving its place
    account, username = mailbox
    dovecot.append(username, raw_of(email()))
    imap_poll(account)
    with dovecot.client(username) as client:
        client.select_folder("INBOX")
        client.remove_flags([1], [b"\\Seen"])
    ChannelAccount.objects.filter(pk=account.pk).update(state={})
    account.refresh_from_db()

    # When the mailbox is read again
    counts = imap_poll(account)

    # Then the message is recognised, flagged, and nothing new is stored
    assert counts == {"fetched": 1, "stored": 0, "repeated": 1}
    assert InboundMessage.objects.count() == 1
    assert flags_of(dovecot, username) == [(b"\\Seen",)]


def test_a_renumbered_folder_is_read_from_its_unread_mail(dovecot, mailbox):
    account, username = mailbox
    dovecot.append(username, raw_of(email(message_id="<a@x.example>")))
    imap_poll(account)
    dovecot.append(username, raw_of(email(message_id="<b@x.example>")))
    ChannelAccount.objects.filter(pk=account.pk).update(
        state={**account.state, "uidvalidity": 1, "last_uid": 999}
    )
    account.refresh_from_db()

    counts = imap_poll(account)

    assert counts["stored"] == 1
    assert InboundMessage.objects.filter(external_id="<b@x.example>").exists()


def test_kept_mail_is_moved_to_the_processed_folder(dovecot, riyadh_centre):
    account, username = imap_account(dovecot, riyadh_centre, processed_folder="Processed")
    dovecot.append(username, raw_of(email()))

    imap_poll(account)

    assert flags_of(dovecot, username) == []
    assert flags_of(dovecot, username, "Processed") == [(b"\\Seen",)]
    assert InboundMessage.objects.get().status == InboundStatus.PROCESSED


def test_a_poll_reads_at_most_its_limit_and_the_rest_next_time(dovecot, mailbox):
    account, username = mailbox
    for number in range(5):
        dovecot.append(username, raw_of(email(message_id=f"<n{number}@x.example>")))

    first = imap_poll(account, limit=3)
    second = imap_poll(account, limit=3)

    assert (first["stored"], second["stored"]) == (3, 2)
    assert InboundMessage.objects.count() == 5


# --- replies -------------------------------------------------------------------------------


def test_a_reply_with_the_tracking_number_in_its_subject_joins_its_request(dovecot, mailbox):
    account, username = mailbox
    dovecot.append(username, raw_of(email()))
    imap_poll(account)
    request = Request.objects.get()

    number = tracking_number_display(request.tracking_number)
    reply = email(
        "أرفقت صورة الشهادة المطلوبة.", subject=f"بخصوص الطلب {number}", message_id="<m2@x>"
    )
    dovecot.append(username, raw_of(reply))
    imap_poll(account)

    stored = InboundMessage.objects.get(external_id="<m2@x>")
    assert (stored.status, stored.reason, stored.request) == (
        InboundStatus.PROCESSED,
        "reply",
        request,
    )
    assert stored.message.body == "أرفقت صورة الشهادة المطلوبة."
    assert Request.objects.count() == 1


@pytest.mark.usefixtures("channels_in_memory")
def test_a_reply_to_our_email_joins_its_request_by_its_headers(dovecot, mailbox, staff):
    # Given a request opened by e-mail, and the agent's reply sent back to the parent
    account, username = mailbox
    dovecot.append(username, raw_of(email()))
    imap_poll(account)
    request = Request.objects.get()
    request_claim(request=request, by=staff.riyadh_agent)
    request_start(request=request, by=staff.riyadh_agent)
    request_reply(request=request, by=staff.riyadh_agent, body="ما الصف الدراسي لابنكم؟")
    outbox_drain()
    ours = OutboxMessage.objects.get(request=request, template="replied")
    assert ours.account == account
    sent = next(
        m for m in django_mail.outbox if m.extra_headers["Message-ID"] == ours.provider_message_id
    )

    # When the parent answers it (their client keeps the headers, not the number)
    answer = email(
        "الصف الثالث المتوسط.\n\nOn Sun, May 5, 2024 at 10:00 AM Tawasul wrote:\n> ما الصف؟",
        subject="Re: your message",
        message_id="<answer@mail.example.com>",
        headers={"In-Reply-To": sent.extra_headers["Message-ID"]},
    )
    dovecot.append(username, raw_of(answer))
    imap_poll(account)

    # Then it is the parent's reply on that request, without the quoted history
    stored = InboundMessage.objects.get(external_id="<answer@mail.example.com>")
    assert (stored.reason, stored.request) == ("reply", request)
    assert Message.objects.get(pk=stored.message_id).body == "الصف الثالث المتوسط."


# --- what is set aside ---------------------------------------------------------------------


def test_auto_replies_bounces_and_loops_are_ignored(dovecot, mailbox):
    account, username = mailbox
    mails = {
        "<auto@x>": email(message_id="<auto@x>", headers={"Auto-Submitted": "auto-replied"}),
        "<ooo@x>": email(message_id="<ooo@x>", subject="رد تلقائي: نتائج الاختبارات"),
        "<bounce@x>": email(message_id="<bounce@x>", sender="MAILER-DAEMON@mx.example.com"),
        "<loop@x>": email(message_id="<loop@x>", headers={"X-Tawasul-Loop": "1"}),
        "<self@x>": email(message_id="<self@x>", sender=username),
    }
    for message in mails.values():
        dovecot.append(username, raw_of(message))

    imap_poll(account)

    reasons = dict(InboundMessage.objects.values_list("external_id", "reason"))
    assert reasons == {
        "<auto@x>": Reason.AUTO_REPLY,
        "<ooo@x>": Reason.AUTO_REPLY,
        "<bounce@x>": Reason.BOUNCE,
        "<loop@x>": Reason.LOOP,
        "<self@x>": Reason.LOOP,
    }
    assert set(InboundMessage.objects.values_list("status", flat=True)) == {InboundStatus.IGNORED}
    assert Request.objects.count() == 0
    assert flags_of(dovecot, username) == [(b"\\Seen",)] * 5


def test_a_huge_attachment_is_refused_but_the_request_and_original_are_kept(
    dovecot, mailbox, settings
):
    settings.TAWASUL_ATTACHMENT_MAX_BYTES = 100_000
    account, username = mailbox
    message = email()
    huge = b"%PDF-1.4\n" + b"0" * 400_000
    message.add_attachment(huge, maintype="application", subtype="pdf", filename="كبير.pdf")
    raw = raw_of(message)
    dovecot.append(username, raw)

    imap_poll(account)

    stored = InboundMessage.objects.get()
    assert stored.status == InboundStatus.PROCESSED
    assert stored.request.description == TEXT
    assert stored.request.attachments.count() == 0
    assert stored.data["files_refused"] == [{"name": "كبير.pdf", "reason": "file_too_large"}]
    assert stored.raw.read() == raw


def test_a_malformed_message_lands_in_review_without_loss(dovecot, mailbox):
    account, username = mailbox
    raw = (
        b"Subject: =?x-broken?Q?=FF=FE?=\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="missing"\r\n\r\n'
        b"no boundary here, \xff\xfe bytes and all\r\n"
    )
    dovecot.append(username, raw)

    counts = imap_poll(account)

    assert counts["stored"] == 1
    stored = InboundMessage.objects.get()
    assert (stored.status, stored.reason) == (InboundStatus.REVIEW, Reason.MALFORMED)
    assert stored.raw.read() == raw
    assert "no boundary here" in stored.body
    assert flags_of(dovecot, username) == [(b"\\Seen",)]


# --- failures -------------------------------------------------------------------------------


def test_a_wrong_password_is_recorded_without_raising(dovecot, riyadh_centre):
    account, username = imap_account(dovecot, riyadh_centre, password="not-the-password")
    dovecot.append(username, raw_of(email()))

    counts = imap_poll(account)

    assert counts == {"failed": 1}
    account.refresh_from_db()
    assert account.state["last_error"] == "LoginError"
    assert "poll_claim" not in account.state
    assert InboundMessage.objects.count() == 0


def test_an_unreachable_server_is_recorded_and_the_other_mailboxes_are_read(
    dovecot, mailbox, riyadh_centre
):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    down, _username = imap_account(dovecot, riyadh_centre, port=closed_port)
    account, username = mailbox
    dovecot.append(username, raw_of(email()))

    totals = imap_poll_all()

    assert totals == {"accounts": 2, "failed": 1, "fetched": 1, "stored": 1, "repeated": 0}
    down.refresh_from_db()
    assert down.state["last_error"] == "ConnectionRefusedError"
    assert InboundMessage.objects.get().account == account


def test_the_periodic_job_polls_active_accounts_only(dovecot, mailbox, riyadh_centre):
    _account, username = mailbox
    off, off_username = imap_account(dovecot, riyadh_centre)
    ChannelAccount.objects.filter(pk=off.pk).update(is_active=False)
    dovecot.append(username, raw_of(email(message_id="<on@x>")))
    dovecot.append(off_username, raw_of(email(message_id="<off@x>")))

    totals = imap_poll_task.call_local()

    assert totals["accounts"] == 1
    assert list(InboundMessage.objects.values_list("external_id", flat=True)) == ["<on@x>"]


# --- one poller per mailbox ------------------------------------------------------------------


def test_a_mailbox_being_read_is_left_to_its_reader(dovecot, mailbox):
    account, username = mailbox
    dovecot.append(username, raw_of(email()))
    token = mailbox_claim(account)

    assert token is not None
    assert mailbox_claim(account) is None
    assert imap_poll(account) == {"busy": 1}
    assert InboundMessage.objects.count() == 0

    mailbox_release(account, token)
    assert imap_poll(account)["stored"] == 1


def test_an_expired_claim_does_not_block_the_mailbox(dovecot, mailbox):
    account, _username = mailbox
    assert mailbox_claim(account, seconds=-1) is not None

    assert mailbox_claim(account) is not None


# --- the command ---------------------------------------------------------------------------


def test_the_command_polls_one_account_once(dovecot, mailbox, riyadh_centre):
    account, username = mailbox
    _other, other_username = imap_account(dovecot, riyadh_centre)
    dovecot.append(username, raw_of(email(message_id="<one@x>")))
    dovecot.append(other_username, raw_of(email(message_id="<other@x>")))
    out = io.StringIO()

    call_command("channels_imap", "--once", "--account", account.name, stdout=out)

    assert out.getvalue() == f"{account.name}: fetched 1, repeated 0, stored 1\n"
    assert list(InboundMessage.objects.values_list("external_id", flat=True)) == ["<one@x>"]


# --- IDLE --------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_idle_reads_a_new_message_as_soon_as_it_arrives(dovecot, mailbox):
    account, username = mailbox
    stop = threading.Event()

    def watch() -> None:
        try:
            imap_idle(ChannelAccount.objects.get(pk=account.pk), stop, wake_seconds=0.5)
        finally:
            connection.close()

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        # Once the watcher waits in IDLE (its first poll found nothing)…
        assert wait_until(lambda: "idle_at" in ChannelAccount.objects.get(pk=account.pk).state), (
            "the watcher never entered IDLE"
        )
        # …a message put in the mailbox is read without any poll from here
        dovecot.append(username, raw_of(email()))
        assert wait_until(lambda: InboundMessage.objects.filter(account=account).exists())
    finally:
        stop.set()
        watcher.join(timeout=30)

    assert not watcher.is_alive()
    stored = InboundMessage.objects.get(account=account)
    assert stored.status == InboundStatus.PROCESSED
    assert flags_of(dovecot, username) == [(b"\\Seen",)]
