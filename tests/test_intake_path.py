"""The partner intake path: what one submission writes, answers and costs in queries.

The intake benchmark (`bench/intake.py`) showed that a submission's time goes
into database round trips; these tests pin the behaviour the trimmed path must
keep and the number of queries it may spend (a count, never a time).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tawasul.api.credentials import Issued, api_client_create, api_client_for_key
from tawasul.api.models import IdempotencyRecord, Scope
from tawasul.cases.models import Event, EventKind, Request, SlaStage, SlaState
from tawasul.channels.models import OutboxMessage

URL = "/api/v1/partner/requests"
# auth 1; idempotency claim and answer 2; person 2; request, event, outbox, submission 4;
# the answer's read 1; transaction and savepoints 9 (BEGIN/COMMIT, four savepoints and
# releases); webhook subscriptions 1. The category, the receiving entity and its centre,
# the SLA policy and the calendar (7 more on a cold process) come from the reference memo.
QUERY_BUDGET = 20


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> None:
    cache.clear()


@pytest.fixture
def alpha(ministry: Any) -> Issued:
    return api_client_create(
        name="Alpha call centre", scopes=[Scope.REQUESTS_CREATE], entity=ministry.riyadh
    )


def submit(client: Client, alpha: Issued, ministry: Any, *, mobile: str, key: str) -> Any:
    body = {
        "person": {"full_name": "نورة الحربي", "mobile": mobile},
        "kind": "complaint",
        "category_id": ministry.exams.pk,
        "subject": "تأخر نتائج الاختبارات",
        "description": "لم تصل نتائج اختبارات ابنتي لمى حتى الآن.",
        "channel": "call_centre",
    }
    return client.post(
        URL,
        data=json.dumps(body),
        content_type="application/json",
        HTTP_X_API_KEY=alpha.secret,
        HTTP_IDEMPOTENCY_KEY=key,
    )


def test_submission_is_stored_with_its_clocks_and_answered_as_stored(
    client: Client, ministry: Any, alpha: Issued
) -> None:
    # Given a partner key for the Riyadh centre
    # When it submits a complaint for a new person
    response = submit(client, alpha, ministry, mobile="0501112233", key="first")

    # Then the request is stored once, with both SLA clocks running from the start
    assert response.status_code == 201, response.content
    body = response.json()
    request = Request.objects.get(tracking_number=body["tracking_number"])
    assert request.first_response_due is not None
    assert request.resolution_due is not None
    assert request.sla_next_at is not None
    assert request.sla_next_at <= request.resolution_due
    assert request.sla_first_response_state == SlaState.RUNNING
    assert request.sla_resolution_state == SlaState.RUNNING
    assert request.sla_stage == SlaStage.NONE
    assert request.sla_resolution_minutes
    # with its submission event and its acknowledgement queued
    assert list(Event.objects.filter(request=request).values_list("kind", flat=True)) == [
        EventKind.SUBMITTED
    ]
    assert OutboxMessage.objects.filter(request=request, template="acknowledgement").count() == 1
    # and the answer is what the database holds
    assert body["expected_at"] == request.resolution_due.isoformat().replace("+00:00", "Z")
    assert body["entity"]["id"] == request.entity_id == ministry.riyadh.pk
    assert body["category"]["id"] == request.category_id == ministry.exams.pk
    assert body["submitted_at"].startswith(request.created_at.strftime("%Y-%m-%dT%H:%M:%S"))
    # and a retry replays that answer without a second request
    again = submit(client, alpha, ministry, mobile="0501112233", key="first")
    assert again.json() == body
    assert Request.objects.filter(subject="تأخر نتائج الاختبارات").count() == 1
    assert IdempotencyRecord.objects.filter(key="first").count() == 1


def test_partner_key_lookup_brings_the_receiving_entity(ministry: Any, alpha: Issued) -> None:
    # When the key is checked, the client's entity comes with it: no second query later
    client = api_client_for_key(alpha.secret)
    assert client is not None
    with CaptureQueriesContext(connection) as queries:
        assert client.entity == ministry.riyadh
    assert len(queries) == 0


def test_a_submission_stays_within_its_query_budget(
    client: Client, ministry: Any, alpha: Issued
) -> None:
    # Given the key has been used once (its last-use stamp is fresh)
    assert submit(client, alpha, ministry, mobile="0501112233", key="warm").status_code == 201

    # When a new person is submitted for
    with CaptureQueriesContext(connection) as queries:
        response = submit(client, alpha, ministry, mobile="0559876543", key="second")

    # Then it costs no more queries than the budget
    assert response.status_code == 201, response.content
    assert len(queries) <= QUERY_BUDGET, "\n".join(q["sql"][:120] for q in queries)
