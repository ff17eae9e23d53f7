"""The transactional outbox: written with the change, drained by any number of workers."""

from __future__ import annotations

import re
import socket
import threading
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connections, transaction
from django.urls import reverse
from django.utils import timezone, translation
from huey.contrib.djhuey import HUEY

from tawasul.beneficiaries.services import beneficiary_register
from tawasul.cases.services import request_submit
from tawasul.channels import sms
from tawasul.channels.delivery import outbox_claim, outbox_drain, outbox_retry
from tawasul.channels.models import OutboxMessage, OutboxStatus
from tawasul.channels.tasks import outbox_sweep_task
from tawasul.core.ids import tracking_number_display
from tests.conftest import luhn_complete

SUBJECT = "تأخر النتائج"
DESCRIPTION = "لم تظهر نتيجة ابني في نظام نور حتى الآن"
ARABIC_LETTER = re.compile("[\u0621-\u064a]")


@pytest.fixture
def sms_provider_down(settings):
    """The real HTTP gateway pointed at a local port nobody listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.SMS_BACKEND = "tawasul.channels.sms.HttpSmsGateway"
    settings.SMS_HTTP_URL = f"http://127.0.0.1:{port}/messages"
    settings.SMS_HTTP_TOKEN = "secret-token"
    settings.SMS_HTTP_TIMEOUT = 2


@pytest.fixture
def noura(db):
    """A student who reads Arabic and prefers e-mail."""
    return beneficiary_register(
        full_name="نورة القحطاني",
        national_id=luhn_complete("100000003"),
        email="noura@example.com",
        kind="student",
        language="ar",
        preferred_contact="email",
        consent=True,
    )


def submit(ministry, beneficiary):
    return request_submit(
        beneficiary=beneficiary,
        kind="complaint",
        category=ministry.exams,
        subject=SUBJECT,
        description=DESCRIPTION,
        entity=ministry.riyadh,
    )


def make_due(message: OutboxMessage) -> None:
    """Time passes: the message's next attempt is now."""
    OutboxMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())


# --- writing ------------------------------------------------------------------------


def test_submitting_a_request_writes_one_pending_message_and_wakes_the_drain(
    ministry, sara, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        request = submit(ministry, sara)

    message = OutboxMessage.objects.get()
    assert message.request == request
    assert (message.template, message.channel, message.status) == (
        "acknowledgement",
        "sms",
        "pending",
    )
    assert (message.recipient, message.language) == (sara.mobile, "ar")
    assert message.next_attempt_at <= timezone.now()
    assert len(callbacks) == 1


def test_a_rolled_back_change_leaves_no_message_and_no_wake_up(
    ministry, sara, django_capture_on_commit_callbacks
):
    def submit_then_fail() -> None:
        with transaction.atomic():
            submit(ministry, sara)
            raise RuntimeError("the change fails after the outbox row was written")

    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(RuntimeError):
        submit_then_fail()

    assert not OutboxMessage.objects.exists()
    assert callbacks == []


# --- sending --------------------------------------------------------------------------


def test_the_drain_sends_the_acknowledgement_by_sms(ministry, sara, channels_in_memory):
    request = submit(ministry, sara)

    sent = outbox_drain()

    assert sent == 1
    [text_message] = sms.outbox
    assert text_message.to == sara.mobile
    assert tracking_number_display(request.tracking_number) in text_message.text
    assert "https://tawasul.moe.example/" in text_message.text
    message = OutboxMessage.objects.get()
    assert message.status == OutboxStatus.SENT
    assert message.sent_at is not None
    assert message.claimed_until is None
    assert message.attempts == 1
    assert message.provider_message_id == text_message.id


def test_an_sms_carries_no_personal_data_or_request_text(ministry, sara, channels_in_memory):
    submit(ministry, sara)

    outbox_drain()

    text = sms.outbox[0].text
    for private in (SUBJECT, DESCRIPTION, sara.full_name, sara.national_id, sara.mobile):
        assert private not in text


def test_the_sms_for_an_arabic_reader_is_in_arabic(ministry, sara, channels_in_memory):
    with translation.override("ar"):
        catalogue_has_it = translation.gettext("Hello,") != "Hello,"
    if not catalogue_has_it:
        pytest.skip("the Arabic catalogue is not compiled yet (make messages)")
    submit(ministry, sara)

    outbox_drain()

    assert ARABIC_LETTER.search(sms.outbox[0].text)


def test_the_drain_sends_the_acknowledgement_by_email_in_english(
    ministry, khalid, channels_in_memory
):
    request = submit(ministry, khalid)
    display = tracking_number_display(request.tracking_number)

    assert outbox_drain() == 1

    [email] = mail.outbox
    assert email.to == [khalid.email]
    assert email.subject == f"Your request {display} has been received"
    assert f"We have received your request. Its tracking number is {display}." in email.body
    assert "Type of request: Complaint" in email.body
    assert "https://tawasul.moe.example/" in email.body
    assert not ARABIC_LETTER.search(email.subject + email.body)
    [(html, mimetype)] = email.alternatives
    assert mimetype == "text/html"
    assert '<html lang="en" dir="ltr">' in html
    assert display in html
    assert OutboxMessage.objects.get().provider_message_id == email.extra_headers["Message-ID"]


def test_an_email_for_an_arabic_reader_is_right_to_left(ministry, noura, channels_in_memory):
    submit(ministry, noura)

    outbox_drain()

    [email] = mail.outbox
    assert email.to == ["noura@example.com"]
    html = email.alternatives[0][0]
    assert '<html lang="ar" dir="rtl">' in html


@pytest.mark.usefixtures("channels_in_memory")
@pytest.mark.parametrize(
    "case",
    [
        ("info_requested", "more information is needed", "More information is needed"),
        ("replied", "there is a new reply", "New reply on your request"),
        ("answered", "accept it or object in the portal", "The answer to your request"),
    ],
    ids=lambda case: case[0],
)
def test_every_template_renders_for_both_channels(ministry, sara, khalid, case):
    template, sms_phrase, subject_phrase = case
    sara_request, khalid_request = submit(ministry, sara), submit(ministry, khalid)
    OutboxMessage.objects.update(template=template)
    # English, so that the text can be checked before the Arabic catalogue exists
    OutboxMessage.objects.filter(request=sara_request).update(language="en")

    assert outbox_drain() == 2

    sara_display = tracking_number_display(sara_request.tracking_number)
    khalid_display = tracking_number_display(khalid_request.tracking_number)
    assert sms_phrase in sms.outbox[0].text
    assert sara_display in sms.outbox[0].text
    assert mail.outbox[0].subject.startswith(subject_phrase)
    assert khalid_display in mail.outbox[0].subject
    assert khalid_display in mail.outbox[0].body


# --- failures and crashes ----------------------------------------------------------------


def test_a_message_committed_but_never_woken_for_is_delivered_by_the_sweep(
    ministry, sara, channels_in_memory
):
    # Given a request committed while no worker ran: in a `db` test the
    # on-commit wake-up never fires, exactly as if the process died after commit.
    request = submit(ministry, sara)
    assert OutboxMessage.objects.get().status == OutboxStatus.PENDING

    # When the periodic sweep runs
    sent = outbox_sweep_task.call_local()

    # Then the acknowledgement goes out
    assert sent == 1
    assert tracking_number_display(request.tracking_number) in sms.outbox[0].text
    assert OutboxMessage.objects.get().status == OutboxStatus.SENT


def test_failures_back_off_then_end_in_failed(ministry, sara, settings, sms_provider_down):
    settings.TAWASUL_OUTBOX_MAX_ATTEMPTS = 3
    submit(ministry, sara)

    before = timezone.now()
    assert outbox_drain() == 0
    after = timezone.now()
    message = OutboxMessage.objects.get()
    assert (message.status, message.attempts) == (OutboxStatus.PENDING, 1)
    assert before + timedelta(minutes=1) <= message.next_attempt_at <= after + timedelta(minutes=1)
    assert message.last_error.startswith("SmsDeliveryError: SMS provider unreachable")
    assert sara.mobile not in message.last_error
    assert message.claimed_until is None

    assert outbox_drain() == 0  # not due yet: nothing is claimed
    assert OutboxMessage.objects.get().attempts == 1

    make_due(message)
    before = timezone.now()
    outbox_drain()
    after = timezone.now()
    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboxStatus.PENDING, 2)
    assert before + timedelta(minutes=2) <= message.next_attempt_at <= after + timedelta(minutes=2)

    make_due(message)
    outbox_drain()
    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboxStatus.FAILED, 3)

    make_due(message)
    outbox_drain()
    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboxStatus.FAILED, 3)


def test_retry_now_gives_a_failed_message_a_fresh_start(
    ministry, sara, settings, sms_provider_down
):
    settings.TAWASUL_OUTBOX_MAX_ATTEMPTS = 1
    submit(ministry, sara)
    outbox_drain()
    message = OutboxMessage.objects.get()
    assert message.status == OutboxStatus.FAILED

    retried = outbox_retry(message_ids=[message.pk])
    settings.SMS_BACKEND = "tawasul.channels.sms.MemorySmsGateway"
    sms.outbox.clear()
    sent = outbox_drain()

    assert retried == 1
    assert sent == 1
    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboxStatus.SENT, 1)
    assert outbox_retry(message_ids=[message.pk]) == 0  # a sent message is never sent again


def test_a_message_claimed_by_a_crashed_worker_is_claimed_again(ministry, sara, channels_in_memory):
    submit(ministry, sara)
    message = OutboxMessage.objects.get()
    # Given a worker that claimed the message and died before recording anything
    assert outbox_claim(limit=10, now=timezone.now()) == [message.pk]
    assert outbox_drain() == 0  # while its lease runs, nobody else touches it
    assert OutboxMessage.objects.get().status == OutboxStatus.SENDING

    # When the lease has passed
    OutboxMessage.objects.filter(pk=message.pk).update(
        claimed_until=timezone.now() - timedelta(seconds=1)
    )
    sent = outbox_drain()

    # Then another drain claims and sends it
    assert sent == 1
    assert len(sms.outbox) == 1
    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboxStatus.SENT, 2)


def test_an_unknown_template_fails_at_once(ministry, sara, channels_in_memory):
    submit(ministry, sara)
    OutboxMessage.objects.update(template="no_such_template")

    outbox_drain()

    message = OutboxMessage.objects.get()
    assert (message.status, message.attempts) == (OutboxStatus.FAILED, 1)
    assert message.last_error.startswith("UnknownNotification")
    assert sms.outbox == []


# --- concurrency ------------------------------------------------------------------------


@pytest.fixture
def configured_queue():
    """The project's queue, emptied of the wake-ups real commits put there."""
    HUEY.flush()
    yield HUEY
    HUEY.flush()


@pytest.fixture
def drain_racers():
    """Run `outbox_drain` in several threads released at the same instant."""

    def race(count: int) -> list[int]:
        barrier = threading.Barrier(count)
        results: list[int] = []
        errors: list[BaseException] = []

        def run() -> None:
            try:
                barrier.wait()
                results.append(outbox_drain(limit=100))
            except BaseException as error:
                errors.append(error)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=run) for _ in range(count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        return results

    return race


@pytest.mark.usefixtures("channels_in_memory", "configured_queue")
@pytest.mark.django_db(transaction=True)
def test_racing_drains_deliver_each_message_exactly_once(ministry, sara, khalid, drain_racers):
    # Real threads, each with its own database connection (PostgreSQL rows, or
    # SQLite's single writer in WAL mode): the conditional UPDATE decides.
    requests = [submit(ministry, person) for _ in range(8) for person in (sara, khalid)]

    results = drain_racers(4)

    assert sum(results) == len(requests)
    delivered = [m.text for m in sms.outbox] + [m.subject for m in mail.outbox]
    for request in requests:
        display = tracking_number_display(request.tracking_number)
        assert sum(display in text for text in delivered) == 1
    assert OutboxMessage.objects.filter(status=OutboxStatus.SENT).count() == len(requests)
    assert set(OutboxMessage.objects.values_list("attempts", flat=True)) == {1}


# --- privacy ------------------------------------------------------------------------------


@pytest.mark.usefixtures("channels_in_memory")
def test_logs_name_no_number_address_or_text(ministry, sara, khalid, caplog, settings):
    caplog.set_level("DEBUG")
    submit(ministry, khalid)
    outbox_drain()
    settings.SMS_BACKEND = "tawasul.channels.sms.HttpSmsGateway"
    settings.SMS_HTTP_URL = "http://127.0.0.1:9/unreachable"
    request = submit(ministry, sara)
    outbox_drain()

    assert "outbox drain: claimed=1 sent=1" in caplog.text
    assert "outbox drain: claimed=1 sent=0 retrying=1" in caplog.text
    for private in (
        sara.mobile,
        sara.mobile.lstrip("+"),
        sara.mobile[-9:],
        khalid.email,
        request.tracking_number,
        tracking_number_display(request.tracking_number),
    ):
        assert private not in caplog.text


# --- admin ---------------------------------------------------------------------------------


@pytest.mark.usefixtures("sms_provider_down")
def test_admin_lists_messages_with_the_recipient_masked_and_retries_them(
    ministry, sara, khalid, admin_client, settings
):
    settings.TAWASUL_OUTBOX_MAX_ATTEMPTS = 1
    submit(ministry, sara)
    submit(ministry, khalid)
    outbox_drain()
    url = reverse("admin:channels_outboxmessage_changelist")

    page = admin_client.get(url).content.decode()

    assert sara.mobile not in page
    assert khalid.email not in page
    assert sara.mobile[-3:] in page
    assert "k•••••@example.com" in page

    failed = OutboxMessage.objects.get(status=OutboxStatus.FAILED)
    response = admin_client.post(
        url, {"action": "retry_now", "_selected_action": [str(failed.pk)]}, follow=True
    )

    assert response.status_code == 200
    failed.refresh_from_db()
    assert (failed.status, failed.attempts) == (OutboxStatus.PENDING, 0)


def test_one_wake_up_per_transaction_however_many_messages(
    ministry, sara, khalid, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
        submit(ministry, sara)
        submit(ministry, khalid)
    assert OutboxMessage.objects.count() == 2
    assert len(callbacks) == 1
