"""Webhooks to partners: written with the event, signed, retried, delivered once per drain race.

Every delivery here goes over real HTTP to a server on 127.0.0.1 in a thread.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, get_args

import pytest
from django.core.cache import cache
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from huey.contrib.djhuey import HUEY

from tawasul.api import credentials
from tawasul.api.webhooks import DeliveryStatusName, EventTypeName
from tawasul.cases import services
from tawasul.cases.models import Event, EventKind
from tawasul.channels import webhooks
from tawasul.channels.models import (
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookEventType,
    WebhookSubscription,
)
from tawasul.core.errors import InvalidInput
from tawasul.core.secrets import SecretUnreadable, secret_decrypt, secret_encrypt
from tests.threads import race

ALL_TYPES = list(WebhookEventType.values)
BASE = "/api/v1/partner/webhooks"


# --- a real receiver ------------------------------------------------------------------------


class Receiver:
    """An HTTP server on 127.0.0.1 that records each POST and answers the next status."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.answers: list[int] = []
        self.delay = 0.0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver.lock:
                    receiver.received.append(
                        {"path": self.path, "headers": dict(self.headers), "body": body}
                    )
                    status = receiver.answers.pop(0) if receiver.answers else 200
                if receiver.delay:
                    time.sleep(receiver.delay)
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/tawasul?source=test"

    def payloads(self) -> list[dict[str, Any]]:
        return [json.loads(item["body"]) for item in self.received]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


@pytest.fixture(autouse=True)
def _local_receivers_allowed(settings) -> None:
    """The receivers here listen on 127.0.0.1, which production refuses (SSRF guard)."""
    settings.TAWASUL_WEBHOOK_ALLOW_PRIVATE = True


@pytest.fixture(autouse=True)
def _fresh_subscription_cache() -> Iterator[None]:
    cache.delete(webhooks.CACHE_KEY)
    yield
    cache.delete(webhooks.CACHE_KEY)


@pytest.fixture
def partner(ministry) -> credentials.Issued:
    """A ministry-wide system: it hears of every request."""
    return credentials.api_client_create(
        name="Call centre vendor", scopes=["webhooks"], entity=ministry.ministry
    )


@pytest.fixture
def other_partner(ministry) -> credentials.Issued:
    return credentials.api_client_create(
        name="Another ministry system", scopes=["webhooks"], entity=ministry.ministry
    )


def subscribe(partner, url, types=None, entity=None) -> webhooks.IssuedSubscription:
    return webhooks.webhook_subscription_create(
        client=partner.record, url=url, event_types=types or ALL_TYPES, entity=entity
    )


def submit(ministry, beneficiary, entity=None):
    return services.request_submit(
        beneficiary=beneficiary,
        kind="complaint",
        category=ministry.exams,
        subject="تأخر النتائج",
        description="لم تظهر نتيجة ابني في نظام نور حتى الآن",
        entity=entity or ministry.riyadh,
    )


def make_due() -> None:
    """Time passes: every waiting delivery is due now."""
    WebhookDelivery.objects.filter(status=WebhookDeliveryStatus.PENDING).update(
        next_attempt_at=timezone.now()
    )


# --- signing ------------------------------------------------------------------------------------


def test_a_delivery_is_signed_and_the_signature_fails_when_body_or_timestamp_change(
    ministry, sara, partner, receiver
):
    issued = subscribe(partner, receiver.url)
    request = submit(ministry, sara)

    assert webhooks.webhook_drain() == 1

    [post] = receiver.received
    headers, body = post["headers"], post["body"]
    delivery = WebhookDelivery.objects.get()
    assert post["path"] == "/hooks/tawasul?source=test"
    assert headers["X-Tawasul-Event"] == "request.created"
    assert headers["X-Tawasul-Delivery"] == str(delivery.public_id)
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    timestamp, signature = headers["X-Tawasul-Timestamp"], headers["X-Tawasul-Signature"]
    assert abs(int(timestamp) - time.time()) < 30
    assert signature.startswith("sha256=")
    assert webhooks.webhook_verify(issued.secret, timestamp, body, signature)
    assert webhooks.webhook_verify(issued.secret, timestamp, body.decode(), signature)
    assert not webhooks.webhook_verify(issued.secret, timestamp, body + b" ", signature)
    altered = body.replace(b'"new"', b'"closed"')
    assert altered != body
    assert not webhooks.webhook_verify(issued.secret, timestamp, altered, signature)
    assert not webhooks.webhook_verify(issued.secret, int(timestamp) + 1, body, signature)
    assert not webhooks.webhook_verify("whsec_wrong", timestamp, body, signature)
    assert not webhooks.webhook_verify(issued.secret, "soon", body, signature)
    # Then an old (replayed) POST is refused even with its right signature
    later = int(timestamp) + 301
    assert not webhooks.webhook_verify(issued.secret, timestamp, body, signature, now=later)
    assert webhooks.webhook_verify(issued.secret, timestamp, body, signature, 400, now=later)
    payload = json.loads(body)
    assert payload == {
        "id": str(delivery.public_id),
        "type": "request.created",
        "occurred_at": payload["occurred_at"],
        "request": {
            "tracking_number": request.tracking_number,
            "status": "new",
            "kind": "complaint",
            "category": "exams",
            "entity": "riyadh",
            "priority": "normal",
            "channel": "portal",
        },
        "data": {"from_status": None, "to_status": "new"},
    }
    assert payload["occurred_at"].endswith("Z")
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (WebhookDeliveryStatus.DELIVERED, 1)
    assert delivery.last_response_status == 200
    assert delivery.delivered_at is not None


def test_the_payload_names_no_person(ministry, sara, staff, partner, receiver):
    subscribe(partner, receiver.url)
    request = submit(ministry, sara)
    services.request_assign(
        request=request, assignee=staff.riyadh_agent, by=staff.riyadh_supervisor
    )
    services.request_start(request=request, by=staff.riyadh_agent)
    services.request_reply(request=request, by=staff.riyadh_agent, body="نعمل على طلبك الآن")

    webhooks.webhook_drain()

    everything = b"".join(item["body"] for item in receiver.received).decode()
    assert len(receiver.received) == 4
    for private in (
        sara.full_name,
        sara.national_id,
        sara.mobile,
        sara.mobile[-9:],
        "riyadh_agent",
        "riyadh_supervisor",
        "نعمل على طلبك",
        "لم تظهر نتيجة",
        "تأخر النتائج",
    ):
        assert private not in everything


# --- retries -------------------------------------------------------------------------------------


def test_a_500_is_retried_with_backoff_then_delivered(ministry, sara, partner, receiver):
    subscribe(partner, receiver.url)
    submit(ministry, sara)
    receiver.answers = [500]

    before = timezone.now()
    assert webhooks.webhook_drain() == 0

    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == (WebhookDeliveryStatus.PENDING, 1)
    assert delivery.last_response_status == 500
    assert delivery.last_error == "WebhookRefused: HTTP 500"
    assert before + timedelta(seconds=55) < delivery.next_attempt_at
    assert delivery.next_attempt_at < timezone.now() + timedelta(seconds=65)
    # Not due yet: a drain now sends nothing
    assert webhooks.webhook_drain() == 0
    assert len(receiver.received) == 1

    make_due()
    assert webhooks.webhook_drain() == 1

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (WebhookDeliveryStatus.DELIVERED, 2)
    assert (delivery.last_response_status, delivery.last_error) == (200, "")
    ids = {item["headers"]["X-Tawasul-Delivery"] for item in receiver.received}
    assert ids == {str(delivery.public_id)}
    assert len(receiver.received) == 2


def test_the_backoff_doubles_and_is_capped():
    assert [webhooks.webhook_backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [
        60,
        120,
        240,
        480,
    ]
    assert webhooks.webhook_backoff(30) == timedelta(hours=6)


def test_a_receiver_that_does_not_answer_in_time_is_retried(
    ministry, sara, partner, receiver, settings
):
    settings.TAWASUL_WEBHOOK_TIMEOUT = 0.3
    receiver.delay = 1.5
    subscribe(partner, receiver.url)
    submit(ministry, sara)

    assert webhooks.webhook_drain() == 0

    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == (WebhookDeliveryStatus.PENDING, 1)
    assert delivery.last_response_status is None
    assert delivery.last_error == "TimeoutError"


def test_a_delivery_fails_after_the_last_attempt(ministry, sara, partner, receiver, settings):
    settings.TAWASUL_WEBHOOK_MAX_ATTEMPTS = 3
    subscribe(partner, receiver.url)
    submit(ministry, sara)
    receiver.answers = [503] * 10

    for _attempt in range(3):
        make_due()
        webhooks.webhook_drain()

    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == (WebhookDeliveryStatus.FAILED, 3)
    assert delivery.last_response_status == 503
    make_due()
    WebhookDelivery.objects.update(next_attempt_at=timezone.now() - timedelta(days=1))
    assert webhooks.webhook_drain() == 0
    assert len(receiver.received) == 3


def test_a_closed_port_is_a_failure_not_a_crash(ministry, sara, partner, settings):
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    subscribe(partner, f"http://127.0.0.1:{port}/nobody")
    submit(ministry, sara)

    assert webhooks.webhook_drain() == 0

    delivery = WebhookDelivery.objects.get()
    assert delivery.status == WebhookDeliveryStatus.PENDING
    assert delivery.last_error == "ConnectionRefusedError"


# --- who is told what -----------------------------------------------------------------------


def test_no_delivery_for_other_types_other_entities_or_inactive_subscriptions(
    ministry, sara, partner, other_partner, receiver
):
    subscribe(partner, receiver.url, types=["request.answered"])
    subscribe(partner, receiver.url, entity=ministry.makkah)
    off = subscribe(other_partner, receiver.url).subscription
    webhooks.webhook_subscription_set_active(subscription=off, active=False)
    revoked = credentials.api_client_create(
        name="Revoked partner", scopes=["webhooks"], entity=ministry.ministry
    )
    subscribe(revoked, receiver.url)
    credentials.credential_revoke(revoked.record)
    cache.delete(webhooks.CACHE_KEY)  # revocation is seen at the latest within a minute
    wanted = subscribe(
        other_partner, receiver.url, types=["request.created"], entity=ministry.sector
    )

    submit(ministry, sara, entity=ministry.riyadh_office)

    delivery = WebhookDelivery.objects.get()
    assert delivery.subscription == wanted.subscription
    assert delivery.event_type == "request.created"
    assert delivery.payload["request"]["entity"] == "riyadh"  # received by the office's parent


def test_internal_events_produce_nothing(ministry, sara, staff, partner):
    subscribe(partner, "https://partner.example/hooks")
    request = submit(ministry, sara)
    agent = staff.riyadh_agent

    services.request_note(request=request, by=agent, body="ملاحظة داخلية عن ولي الأمر")
    services.request_reveal_beneficiary(request=request, by=agent)
    services.request_set_priority(request=request, by=agent, priority="high")

    assert Event.objects.filter(request=request).count() == 4
    assert list(WebhookDelivery.objects.values_list("event_type", flat=True)) == ["request.created"]
    internal = {EventKind.NOTE_ADDED, EventKind.BENEFICIARY_REVEALED, EventKind.REPRIORITISED}
    assert internal.isdisjoint(webhooks.EVENT_TYPES)


def test_the_lifecycle_maps_to_event_types(ministry, sara, staff, partner):
    subscribe(partner, "https://partner.example/hooks")
    request = submit(ministry, sara)
    agent, supervisor = staff.riyadh_agent, staff.riyadh_supervisor

    services.request_assign(request=request, assignee=agent, by=supervisor)
    services.request_start(request=request, by=agent)
    services.request_ask_beneficiary(request=request, by=agent, question="ما رقم الطالب؟")
    services.request_beneficiary_reply(request=request, beneficiary=sara, body="رقمه ١٢٣")
    services.request_answer(request=request, by=agent, resolution="ظهرت النتيجة في نظام نور")
    services.request_accept(request=request, beneficiary=sara)

    rows = list(WebhookDelivery.objects.order_by("pk"))
    assert [(row.event_type, row.payload["data"]["to_status"]) for row in rows] == [
        ("request.created", "new"),
        ("request.assigned", "assigned"),
        ("request.status_changed", "in_progress"),
        ("request.status_changed", "awaiting_beneficiary"),
        ("request.message", "in_progress"),
        ("request.answered", "answered"),
        ("request.closed", "closed"),
    ]
    assert rows[4].payload["data"]["author"] == "beneficiary"
    assert isinstance(rows[4].payload["data"]["message_id"], int)
    assert rows[6].payload["data"] == {
        "from_status": "answered",
        "to_status": "closed",
        "reason": "accepted",
    }
    assert rows[1].payload["data"] == {"from_status": "new", "to_status": "assigned"}
    assert len({row.payload["id"] for row in rows}) == len(rows)


def test_a_forward_names_both_entities_by_code(ministry, sara, staff, partner):
    subscribe(partner, "https://partner.example/hooks", types=["request.forwarded"])
    request = submit(ministry, sara)

    services.request_forward(
        request=request, by=staff.riyadh_agent, to_entity=ministry.makkah, reason="من اختصاص مكة"
    )

    delivery = WebhookDelivery.objects.get()
    assert delivery.payload["request"]["entity"] == "makkah"
    assert delivery.payload["data"] == {
        "from_status": "new",
        "to_status": "new",
        "from_entity": "riyadh",
        "to_entity": "makkah",
        "returned": False,
    }


def test_a_rolled_back_change_writes_no_delivery(ministry, sara, partner):
    subscribe(partner, "https://partner.example/hooks")

    def change_that_fails_after_its_event() -> None:
        with transaction.atomic():
            submit(ministry, sara)
            assert WebhookDelivery.objects.count() == 1
            raise RuntimeError("the change fails after its event")

    with pytest.raises(RuntimeError):
        change_that_fails_after_its_event()

    assert WebhookDelivery.objects.count() == 0


def test_an_event_costs_no_query_when_nobody_subscribes(
    ministry, sara, partner, django_assert_num_queries
):
    request = submit(ministry, sara)
    event = Event.objects.select_related("request__entity").get(request=request)
    cache.delete(webhooks.CACHE_KEY)

    with django_assert_num_queries(1):
        assert webhooks.webhooks_enqueue_for_event(event) == 0
    with django_assert_num_queries(0):
        assert webhooks.webhooks_enqueue_for_event(event) == 0
    # A new subscription is seen at once (the cached list is dropped)
    subscribe(partner, "https://partner.example/hooks")
    assert webhooks.webhooks_enqueue_for_event(event) == 1


def test_the_drain_is_woken_once_after_commit(
    ministry, sara, staff, partner, django_capture_on_commit_callbacks
):
    # One transaction (the test's) writing many deliveries wakes the drain once
    with django_capture_on_commit_callbacks() as callbacks:
        subscribe(partner, "https://partner.example/hooks")
        request = submit(ministry, sara)
        other = submit(ministry, sara)
        services.request_link(request=request, other=other, by=staff.riyadh_agent)
        services.request_merge(request=other, into=request, by=staff.riyadh_agent, reason="مكرر")

    wakes = [callback for callback in callbacks if callback is webhooks._enqueue_drain]
    assert len(wakes) == 1
    closed = WebhookDelivery.objects.get(event_type="request.closed")
    assert closed.payload["data"]["reason"] == "merged"
    assert closed.payload["data"]["merged_into"] == request.tracking_number


def test_a_switched_off_subscription_fails_its_waiting_deliveries(
    ministry, sara, partner, receiver
):
    issued = subscribe(partner, receiver.url)
    submit(ministry, sara)
    webhooks.webhook_subscription_set_active(subscription=issued.subscription, active=False)

    assert webhooks.webhook_drain() == 0

    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == (WebhookDeliveryStatus.FAILED, 1)
    assert delivery.last_error.startswith("WebhookUnusable")
    assert receiver.received == []


# --- redelivery and races --------------------------------------------------------------------


def test_redeliver_sends_the_same_delivery_again(ministry, sara, partner, receiver):
    subscribe(partner, receiver.url)
    submit(ministry, sara)
    webhooks.webhook_drain()
    delivery = WebhookDelivery.objects.get()

    assert webhooks.webhooks_redeliver(delivery_ids=[delivery.pk]) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (WebhookDeliveryStatus.PENDING, 0)
    assert webhooks.webhook_drain() == 1

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (WebhookDeliveryStatus.DELIVERED, 1)
    ids = [item["headers"]["X-Tawasul-Delivery"] for item in receiver.received]
    assert ids == [str(delivery.public_id)] * 2
    assert receiver.payloads()[0] == receiver.payloads()[1]


def test_a_delivery_being_sent_is_not_redelivered(ministry, sara, partner):
    subscribe(partner, "https://partner.example/hooks")
    submit(ministry, sara)
    webhooks.webhook_claim(limit=10, now=timezone.now())

    assert (
        webhooks.webhooks_redeliver(
            delivery_ids=list(WebhookDelivery.objects.values_list("pk", flat=True))
        )
        == 0
    )
    assert WebhookDelivery.objects.get().status == WebhookDeliveryStatus.SENDING


def test_a_lease_that_ran_out_is_claimed_again(ministry, sara, partner, receiver):
    subscribe(partner, receiver.url)
    submit(ministry, sara)
    webhooks.webhook_claim(limit=10, now=timezone.now())  # a worker that then died

    assert webhooks.webhook_drain() == 0
    WebhookDelivery.objects.update(claimed_until=timezone.now() - timedelta(seconds=1))
    assert webhooks.webhook_drain() == 1

    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == (WebhookDeliveryStatus.DELIVERED, 2)


@pytest.fixture
def configured_queue():
    """The project's queue, emptied of the wake-ups real commits put there."""
    HUEY.flush()
    yield HUEY
    HUEY.flush()


@pytest.mark.usefixtures("on_postgres", "configured_queue")
@pytest.mark.django_db(transaction=True)
def test_racing_drains_deliver_each_delivery_once(ministry, sara, khalid, partner, receiver):
    subscribe(partner, receiver.url)
    subscribe(partner, receiver.url, types=["request.created"])
    for _ in range(6):
        submit(ministry, sara)
        submit(ministry, khalid)
    expected = WebhookDelivery.objects.count()
    assert expected == 24

    results = race([lambda: webhooks.webhook_drain(limit=50) for _ in range(4)])

    assert sum(results) == expected  # type: ignore[arg-type]
    ids = [item["headers"]["X-Tawasul-Delivery"] for item in receiver.received]
    assert len(ids) == len(set(ids)) == expected
    assert set(WebhookDelivery.objects.values_list("status", "attempts")) == {
        (WebhookDeliveryStatus.DELIVERED, 1)
    }


# --- the sweep task --------------------------------------------------------------------------


def test_the_minute_sweep_delivers_what_is_due(ministry, sara, partner, receiver):
    from tawasul.channels.tasks import webhook_sweep_task

    subscribe(partner, receiver.url)
    submit(ministry, sara)
    submit(ministry, sara)

    assert webhook_sweep_task.call_local() == 2
    assert len(receiver.received) == 2


# --- subscriptions: URLs, types, secrets ---------------------------------------------------


@pytest.mark.parametrize(
    ("url", "valid"),
    [
        ("https://partner.example/hooks", True),
        ("https://partner.example:8443/hooks?x=1", True),
        ("http://127.0.0.1:8080/hooks", True),
        ("http://localhost/hooks", True),
        ("http://partner.example/hooks", False),
        ("ftp://partner.example/hooks", False),
        ("https://user:pass@partner.example/hooks", False),
        ("https://partner.example:99999/hooks", False),
        ("https://partner.example/\x00", False),
        ("partner.example/hooks", False),
        ("", False),
        ("https://partner.example/" + "a" * 500, False),
    ],
)
def test_subscription_urls(url, valid):
    if valid:
        assert webhooks.webhook_url_clean(url) == url
    else:
        with pytest.raises(InvalidInput) as raised:
            webhooks.webhook_url_clean(url)
        assert raised.value.code == "invalid_url"


def test_the_secret_is_stored_encrypted(partner):
    issued = subscribe(partner, "https://partner.example/hooks")

    stored = WebhookSubscription.objects.get().secret_encrypted
    assert issued.secret.startswith("whsec_")
    assert issued.secret not in stored
    assert secret_decrypt(stored) == issued.secret


def test_secrets_survive_a_key_rotation_and_refuse_tampering(settings):
    settings.SECRET_KEY = "old-key-" + "x" * 40
    token = secret_encrypt("channel password")
    assert token != secret_encrypt("channel password")  # a fresh IV each time

    settings.SECRET_KEY = "new-key-" + "y" * 40
    with pytest.raises(SecretUnreadable):
        secret_decrypt(token)
    settings.SECRET_KEY_FALLBACKS = ["old-key-" + "x" * 40]
    assert secret_decrypt(token) == "channel password"
    with pytest.raises(SecretUnreadable):
        secret_decrypt(token[:-4] + "AAAA")
    with pytest.raises(SecretUnreadable):
        secret_decrypt("not a token ✗")


def test_the_api_spells_out_every_type_and_status():
    assert set(get_args(EventTypeName)) == set(WebhookEventType.values)
    assert set(get_args(DeliveryStatusName)) == set(WebhookDeliveryStatus.values)


# --- the partner API ---------------------------------------------------------------------------


def call(client: Client, method: str, path: str, key: str, body: Any = None):
    kwargs: dict[str, Any] = {"HTTP_X_API_KEY": key}
    if body is not None:
        kwargs.update(data=json.dumps(body), content_type="application/json")
    return getattr(client, method)(BASE + path, **kwargs)


def test_a_partner_creates_lists_reads_switches_off_and_deletes(ministry, partner, client):
    created = call(
        client,
        "post",
        "",
        partner.secret,
        {
            "url": "https://partner.example/hooks",
            "event_types": ["request.created", "request.closed"],
            "entity": "riyadh",
        },
    )

    assert created.status_code == 201, created.content
    body = created.json()
    assert body["secret"].startswith("whsec_")
    subscription = WebhookSubscription.objects.get()
    assert secret_decrypt(subscription.secret_encrypted) == body["secret"]
    assert body == {
        "id": str(subscription.public_id),
        "url": "https://partner.example/hooks",
        "event_types": ["request.closed", "request.created"],
        "entity": "riyadh",
        "active": True,
        "created_at": body["created_at"],
        "secret": body["secret"],
    }
    listed = call(client, "get", "", partner.secret).json()
    assert [row["id"] for row in listed] == [body["id"]]
    assert "secret" not in listed[0]
    detail = call(client, "get", f"/{body['id']}", partner.secret)
    assert detail.status_code == 200
    assert "secret" not in detail.json()

    off = call(client, "patch", f"/{body['id']}", partner.secret, {"active": False})
    assert (off.status_code, off.json()["active"]) == (200, False)
    subscription.refresh_from_db()
    assert subscription.is_active is False

    gone = call(client, "delete", f"/{body['id']}", partner.secret)
    assert gone.status_code == 204
    assert not WebhookSubscription.objects.exists()
    assert call(client, "get", f"/{body['id']}", partner.secret).status_code == 404


def test_one_partner_cannot_see_or_touch_anothers_subscriptions(
    ministry, sara, partner, other_partner, receiver
):
    client = Client()
    theirs = subscribe(partner, receiver.url).subscription
    submit(ministry, sara)
    webhooks.webhook_drain()
    delivery = WebhookDelivery.objects.get()
    key = other_partner.secret

    assert call(client, "get", "", key).json() == []
    for method, path in (
        ("get", f"/{theirs.public_id}"),
        ("delete", f"/{theirs.public_id}"),
        ("get", f"/{theirs.public_id}/deliveries"),
        ("post", f"/deliveries/{delivery.public_id}/redeliver"),
    ):
        response = call(client, method, path, key)
        assert response.status_code == 404, (method, path)
        assert response.json()["code"] == "not_found"
    response = call(client, "patch", f"/{theirs.public_id}", key, {"active": False})
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.is_active
    delivery.refresh_from_db()
    assert delivery.status == WebhookDeliveryStatus.DELIVERED


def test_the_webhooks_scope_and_a_key_are_required(db, client):
    reader = credentials.api_client_create(name="Reader", scopes=["requests:read"])

    denied = call(client, "get", "", reader.secret)
    assert denied.status_code == 403
    assert denied.json()["code"] == "insufficient_scope"
    assert client.get(BASE).status_code == 401
    assert call(client, "get", "", "twk_not-a-key").status_code == 401


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "http://partner.example/hooks", "event_types": ["request.created"]}, "url"),
        ({"url": "https://partner.example/\u0000", "event_types": ["request.created"]}, "url"),
        ({"url": "https://partner.example/hooks", "event_types": ["request.deleted"]}, None),
        ({"url": "https://partner.example/hooks", "event_types": []}, None),
        (
            {"url": "https://p.example/h", "event_types": ["request.created"], "entity": "nowhere"},
            "entity",
        ),
        (
            {
                "url": "https://p.example/h",
                "event_types": ["request.created"],
                "entity": "a\u0000b",
            },
            "entity",
        ),
        ({"event_types": ["request.created"]}, None),
    ],
)
def test_bad_subscriptions_are_refused_with_422_and_nothing_written(
    ministry, partner, client, body, field
):
    response = call(client, "post", "", partner.secret, body)

    assert response.status_code == 422, response.content
    error = response.json()
    assert set(error) == {"code", "message", "details"}
    if field:
        assert error["details"]["field"] == field
    assert not WebhookSubscription.objects.exists()


def test_ids_of_any_shape_are_422_or_404(partner, client):
    for path in ("/not-a-uuid", "/%00", "/1/deliveries", "/deliveries/x/redeliver"):
        assert (
            call(
                client, "get" if "redeliver" not in path else "post", path, partner.secret
            ).status_code
            == 422
        )
    assert call(client, "get", f"/{uuid.uuid4()}", partner.secret).status_code == 404
    assert (
        call(client, "post", f"/deliveries/{uuid.uuid4()}/redeliver", partner.secret).status_code
        == 404
    )


def test_a_partner_reads_its_delivery_log_and_redelivers(ministry, sara, partner, client, receiver):
    issued = subscribe(partner, receiver.url)
    submit(ministry, sara)
    submit(ministry, sara)
    receiver.answers = [500]
    webhooks.webhook_drain()
    path = f"/{issued.subscription.public_id}/deliveries"

    log = call(client, "get", path, partner.secret).json()
    failed_once = call(client, "get", f"{path}?status=pending", partner.secret).json()
    assert call(client, "get", f"{path}?status=lost", partner.secret).status_code == 422
    assert call(client, "get", f"{path}?limit=0", partner.secret).status_code == 422
    misspelt = call(client, "get", f"{path}?state=failed", partner.secret)
    assert (misspelt.status_code, misspelt.json()["code"]) == (422, "unknown_parameter")
    assert [row["status"] for row in log] == ["delivered", "pending"]
    assert log[0]["payload"]["type"] == "request.created"
    assert log[0]["subscription"] == str(issued.subscription.public_id)
    assert [(row["attempts"], row["last_response_status"]) for row in failed_once] == [(1, 500)]

    delivered_id = log[0]["id"]
    again = call(client, "post", f"/deliveries/{delivered_id}/redeliver", partner.secret)
    assert again.status_code == 202
    assert (again.json()["status"], again.json()["attempts"]) == ("pending", 0)
    make_due()
    assert webhooks.webhook_drain() == 2
    assert [item["headers"]["X-Tawasul-Delivery"] for item in receiver.received].count(
        delivered_id
    ) == 2


def test_redelivering_for_a_switched_off_subscription_is_a_conflict(
    ministry, sara, partner, client
):
    issued = subscribe(partner, "https://partner.example/hooks")
    submit(ministry, sara)
    webhooks.webhook_subscription_set_active(subscription=issued.subscription, active=False)
    delivery = WebhookDelivery.objects.get()

    response = call(client, "post", f"/deliveries/{delivery.public_id}/redeliver", partner.secret)

    assert response.status_code == 409
    assert response.json()["code"] == "subscription_inactive"


def test_the_openapi_document_lists_the_webhook_operations(client):
    document = client.get("/api/v1/openapi.json").json()
    paths = document["paths"]

    assert set(paths[BASE]) == {"get", "post"}
    assert set(paths[BASE + "/{id}"]) == {"get", "patch", "delete"}
    assert "get" in paths[BASE + "/{id}/deliveries"]
    assert "post" in paths[BASE + "/deliveries/{id}/redeliver"]
    responses = paths[BASE]["post"]["responses"]
    assert {"201", "401", "403", "404", "409", "422", "429"} <= set(responses)


# --- the admin ------------------------------------------------------------------------------------


def test_admin_lists_deliveries_by_status_and_sends_them_again(
    ministry, sara, partner, receiver, admin_client
):
    issued = subscribe(partner, receiver.url)
    submit(ministry, sara)
    receiver.answers = [500]
    webhooks.webhook_drain()
    url = reverse("admin:channels_webhookdelivery_changelist")

    pending = admin_client.get(url, {"status__exact": "pending"})
    delivered = admin_client.get(url, {"status__exact": "delivered"})
    assert (pending.status_code, delivered.status_code) == (200, 200)
    assert [row.event_type for row in pending.context["cl"].result_list] == ["request.created"]
    assert list(delivered.context["cl"].result_list) == []
    delivery = WebhookDelivery.objects.get()
    detail = admin_client.get(reverse("admin:channels_webhookdelivery_change", args=[delivery.pk]))
    assert detail.status_code == 200

    response = admin_client.post(
        url, {"action": "redeliver", "_selected_action": [delivery.pk]}, follow=True
    )
    assert response.status_code == 200
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (WebhookDeliveryStatus.PENDING, 0)
    subscriptions = admin_client.get(reverse("admin:channels_webhooksubscription_changelist"))
    assert subscriptions.status_code == 200
    assert issued.secret not in subscriptions.content.decode()
    assert WebhookSubscription.objects.get().secret_encrypted not in subscriptions.content.decode()


def test_a_client_hears_only_of_its_own_entity_and_its_own_submissions(
    ministry, staff, sara, receiver
):
    from tawasul.api.models import ClientSubmission

    # Given a Riyadh system and a system with no entity of its own
    riyadh = credentials.api_client_create(
        name="Riyadh system", scopes=["webhooks"], entity=ministry.riyadh
    )
    loose = credentials.api_client_create(name="Loose system", scopes=["webhooks"])
    riyadh_sub = subscribe(riyadh, receiver.url).subscription
    loose_sub = subscribe(loose, receiver.url).subscription

    # When requests reach Makkah and Riyadh, and the loose system submitted the Makkah one
    makkah_request = submit(ministry, sara, entity=ministry.makkah)
    ClientSubmission.objects.create(client=loose.record, request=makkah_request)
    submit(ministry, sara, entity=ministry.riyadh_office)
    services.request_note(
        request=makkah_request, by=staff.central_agent, body="ملاحظة داخلية لا تُرسل"
    )
    services.request_cancel(request=makkah_request, reason="مكرر", by=staff.central_supervisor)

    # Then Riyadh's system heard only of the Riyadh request,
    # and the loose system only of its own request (after it was recorded as its own)
    riyadh_types = list(
        WebhookDelivery.objects.filter(subscription=riyadh_sub).values_list(
            "event__request__entity__code", flat=True
        )
    )
    assert riyadh_types == ["riyadh"]  # the office has no centre: Riyadh receives it
    loose_types = list(
        WebhookDelivery.objects.filter(subscription=loose_sub).values_list("event_type", flat=True)
    )
    assert loose_types == ["request.closed"]


def test_a_subscription_cannot_reach_beyond_its_clients_entity(ministry):
    riyadh = credentials.api_client_create(
        name="Riyadh system", scopes=["webhooks"], entity=ministry.riyadh
    )
    with pytest.raises(InvalidInput) as error:
        webhooks.webhook_subscription_create(
            client=riyadh.record,
            url="https://hooks.example.sa/tawasul",
            event_types=["request.created"],
            entity=ministry.makkah,
        )
    assert error.value.code == "entity_out_of_reach"
    assert WebhookSubscription.objects.count() == 0


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "https://127.0.0.1/hook",
        "https://localhost/hook",
        "https://10.1.2.3/hook",
        "https://192.168.0.10/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hook",
        "http://hooks.example.sa/hook",
    ],
)
def test_production_refuses_webhooks_to_this_machine_private_networks_or_plain_http(
    settings, partner, url
):
    settings.TAWASUL_WEBHOOK_ALLOW_PRIVATE = False
    with pytest.raises(InvalidInput) as error:
        subscribe(partner, url)
    assert error.value.code == "invalid_url"
    assert WebhookSubscription.objects.count() == 0


def test_production_accepts_a_public_https_address(settings, partner):
    settings.TAWASUL_WEBHOOK_ALLOW_PRIVATE = False
    assert subscribe(partner, "https://hooks.example.sa/tawasul").subscription.pk


def test_a_name_that_resolves_to_this_machine_is_not_posted_to(
    settings, ministry, sara, partner, receiver
):
    # Given a subscription made while private addresses were allowed, by name
    subscription = subscribe(partner, receiver.url.replace("127.0.0.1", "localhost")).subscription
    submit(ministry, sara)
    # When production rules apply at delivery time
    settings.TAWASUL_WEBHOOK_ALLOW_PRIVATE = False
    webhooks.webhook_drain()
    # Then nothing reached the receiver and the attempt is recorded as refused
    delivery = WebhookDelivery.objects.get(subscription=subscription)
    assert receiver.received == []
    assert delivery.attempts == 1
    assert "WebhookAddressRefused" in delivery.last_error
