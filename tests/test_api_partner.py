"""Partner API: submit on a person's behalf (idempotently), follow what this client
submitted and nothing else, never see the person."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from tawasul.api.credentials import Issued, api_client_create, credential_revoke
from tawasul.api.models import ClientSubmission, IdempotencyRecord, Scope
from tawasul.beneficiaries.models import Beneficiary
from tawasul.cases.models import Channel, Kind, Request, Status
from tawasul.cases.services import request_submit
from tawasul.core.ids import tracking_number_new
from tests.conftest import luhn_complete
from tests.threads import race

URL = "/api/v1/partner/requests"
BOTH = [Scope.REQUESTS_CREATE, Scope.REQUESTS_READ]


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> None:
    cache.clear()


@pytest.fixture
def alpha(ministry: Any) -> Issued:
    return api_client_create(name="Alpha call centre", scopes=BOTH, entity=ministry.riyadh)


@pytest.fixture
def beta(ministry: Any) -> Issued:
    return api_client_create(name="Beta system", scopes=BOTH)


def payload(ministry: Any, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "person": {"full_name": "Noura Alharbi", "mobile": "0501112233", "email": None},
        "kind": "complaint",
        "category_id": ministry.exams.pk,
        "subject": "Exam results are late",
        "description": "My daughter Lama has not received her exam results yet.",
        "channel": "call_centre",
    }
    body.update(changes)
    return body


def call(client: Client, method: str, path: str, key: str, body: Any = None, **headers: str) -> Any:
    extra = {"HTTP_X_API_KEY": key, **{f"HTTP_{k.upper()}": v for k, v in headers.items()}}
    if body is None:
        return getattr(client, method)(path, **extra)
    return getattr(client, method)(
        path, data=json.dumps(body), content_type="application/json", **extra
    )


def create(client: Client, issued: Issued, body: dict[str, Any], **headers: str) -> Any:
    return call(client, "post", URL, issued.secret, body, **headers)


def assert_error(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.content
    body: dict[str, Any] = response.json()
    assert set(body) == {"code", "message", "details"}
    assert set(body["message"]) == {"ar", "en"}
    if code is not None:
        assert body["code"] == code
    return body


# --- submitting ------------------------------------------------------------------------


def test_submit_creates_the_request_for_the_person(
    client: Client, ministry: Any, alpha: Issued
) -> None:
    response = create(client, alpha, payload(ministry))
    assert response.status_code == 201, response.content
    body = response.json()
    request = Request.objects.get(tracking_number=body["tracking_number"])
    assert request.channel == Channel.CALL_CENTRE
    assert request.entity == ministry.riyadh  # the client's own entity
    assert request.beneficiary.full_name == "Noura Alharbi"
    assert request.beneficiary.mobile == "+966501112233"
    assert ClientSubmission.objects.get(request=request).client == alpha.record
    assert body["status"] == Status.NEW
    assert body["is_open"] is True
    assert body["entity"]["code"] == "riyadh"
    assert body["category"]["code"] == "exams"
    assert body["status_name"]["en"] == "New"
    assert body["tracking_display"].count("-") == 2


def test_submit_to_a_chosen_entity_and_channel(client: Client, ministry: Any, beta: Issued) -> None:
    response = create(
        client, beta, payload(ministry, entity_id=ministry.university.pk, channel="walk_in")
    )
    assert response.status_code == 201
    request = Request.objects.get(tracking_number=response.json()["tracking_number"])
    assert (request.entity, request.channel) == (ministry.university, Channel.WALK_IN)


def test_client_without_entity_sends_to_central_triage(
    client: Client, ministry: Any, beta: Issued
) -> None:
    response = create(client, beta, payload(ministry))
    assert response.json()["entity"]["code"] == "moe"


def test_known_national_id_is_the_same_person_unchanged(
    client: Client, ministry: Any, alpha: Issued, sara: Beneficiary
) -> None:
    person = {
        "full_name": "Another name",
        "email": "x@example.com",
        "national_id": sara.national_id,
    }
    response = create(client, alpha, payload(ministry, person=person))
    assert response.status_code == 201
    request = Request.objects.get(tracking_number=response.json()["tracking_number"])
    assert request.beneficiary == sara
    sara.refresh_from_db()
    assert (sara.full_name, sara.email) == ("سارة العتيبي", "")


def test_idempotent_retry_returns_the_first_answer_and_creates_nothing(
    client: Client, ministry: Any, alpha: Issued
) -> None:
    first = create(client, alpha, payload(ministry), idempotency_key="call-42")
    again = create(client, alpha, payload(ministry), idempotency_key="call-42")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Request.objects.count() == 1
    assert Beneficiary.objects.count() == 1
    changed = create(
        client, alpha, payload(ministry, subject="Other subject"), idempotency_key="call-42"
    )
    assert_error(changed, 422, "idempotency_key_reused")
    assert Request.objects.count() == 1


def test_idempotency_keys_belong_to_each_client(
    client: Client, ministry: Any, alpha: Issued, beta: Issued
) -> None:
    one = create(client, alpha, payload(ministry), idempotency_key="same")
    two = create(client, beta, payload(ministry), idempotency_key="same")
    assert one.status_code == two.status_code == 201
    assert one.json()["tracking_number"] != two.json()["tracking_number"]
    assert Request.objects.count() == 2


def test_failed_call_leaves_no_idempotency_record(
    client: Client, ministry: Any, alpha: Issued
) -> None:
    bad = payload(ministry, kind="rant")
    assert_error(create(client, alpha, bad, idempotency_key="k1"), 422)
    assert not IdempotencyRecord.objects.exists()
    assert create(client, alpha, payload(ministry), idempotency_key="k1").status_code == 201


@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_create_one_request(
    on_postgres: None, ministry: Any, alpha: Issued
) -> None:
    def send() -> int:
        response = create(Client(), alpha, payload(ministry), idempotency_key="race")
        return int(response.status_code)

    outcomes = race([send, send, send])
    assert outcomes.count(201) >= 1
    assert set(outcomes) <= {201, 409}
    assert Request.objects.count() == 1


INVALID: list[tuple[dict[str, Any], int]] = [
    ({"kind": "rant"}, 422),
    ({"kind": "praise"}, 422),  # exams takes praise; transfer does not
    ({"category_id": 999_999}, 422),
    ({"category_id": 0}, 422),
    ({"category_id": 10**30}, 422),
    ({"entity_id": 999_999}, 422),
    ({"channel": "portal"}, 422),
    ({"channel": "open311"}, 422),
    ({"subject": "ab"}, 422),
    ({"description": "short"}, 422),
    ({"description": "A long enough description \x00 with a NUL"}, 422),
    ({"person": {"full_name": "No Contact"}}, 422),
    ({"person": {"full_name": "Bad Mobile", "mobile": "12345"}}, 422),
    ({"person": {"full_name": "Bad Id", "mobile": "0501112233", "national_id": "123"}}, 422),
    ({"person": {"full_name": "Bad mail", "email": "a@" + "b" * 300 + ".com"}}, 422),
    ({"person": None}, 422),
]


@pytest.mark.parametrize(("changes", "status"), INVALID)
def test_invalid_submissions_write_nothing(
    client: Client, ministry: Any, alpha: Issued, changes: dict[str, Any], status: int
) -> None:
    body = payload(ministry, **changes)
    if changes.get("kind") == "praise":
        body["category_id"] = ministry.transfer.pk
    assert_error(create(client, alpha, body), status)
    assert not Request.objects.exists()
    assert not Beneficiary.objects.exists()
    assert not ClientSubmission.objects.exists()


def test_malformed_json_is_an_error_in_the_one_shape(
    client: Client, ministry: Any, alpha: Issued
) -> None:
    response = client.post(
        URL, data="{not json", content_type="application/json", HTTP_X_API_KEY=alpha.secret
    )
    assert_error(response, 400, "bad_request")
    assert not Request.objects.exists()


# --- credentials ----------------------------------------------------------------------


def test_key_missing_wrong_or_revoked_is_401(client: Client, ministry: Any) -> None:
    issued = api_client_create(name="Gone", scopes=BOTH)
    credential_revoke(issued.record)
    for key in ("", "twk_wrong", issued.secret):
        assert_error(call(client, "post", URL, key, payload(ministry)), 401, "unauthenticated")
        assert_error(call(client, "get", URL, key), 401, "unauthenticated")
    assert not Request.objects.exists()


def test_each_call_needs_its_scope(client: Client, ministry: Any) -> None:
    reader = api_client_create(name="Reader", scopes=[Scope.REQUESTS_READ]).secret
    writer = api_client_create(name="Writer", scopes=[Scope.REQUESTS_CREATE]).secret
    assert_error(call(client, "post", URL, reader, payload(ministry)), 403, "insufficient_scope")
    assert not Request.objects.exists()
    assert_error(call(client, "get", URL, writer), 403, "insufficient_scope")
    number = tracking_number_new()
    assert_error(call(client, "get", f"{URL}/{number}", writer), 403, "insufficient_scope")


# --- following -------------------------------------------------------------------------


def test_status_of_own_request_without_personal_data(
    client: Client, ministry: Any, alpha: Issued
) -> None:
    person = {
        "full_name": "Noura Alharbi",
        "mobile": "0501112233",
        "email": "noura@example.com",
        "national_id": luhn_complete("100000009"),
    }
    number = create(client, alpha, payload(ministry, person=person)).json()["tracking_number"]
    response = call(client, "get", f"{URL}/{number}", alpha.secret)
    assert response.status_code == 200
    assert response.json()["tracking_number"] == number
    dashed = f"{number[:3]}-{number[3:7]}-{number[7:]}"
    assert call(client, "get", f"{URL}/{dashed}", alpha.secret).json()["tracking_number"] == number
    listed = call(client, "get", URL, alpha.secret).content.decode()
    for text in (response.content.decode(), listed):
        for secret in ("Noura", "Alharbi", "501112233", "noura@", person["national_id"], "Lama"):
            assert secret not in text
        assert "Exam results are late" not in text


def test_other_clients_requests_are_not_found(
    client: Client, ministry: Any, alpha: Issued, beta: Issued, sara: Beneficiary
) -> None:
    number = create(client, alpha, payload(ministry)).json()["tracking_number"]
    portal = request_submit(
        beneficiary=sara,
        kind=Kind.INQUIRY,
        category=ministry.exams,
        subject="Portal question",
        description="A question sent through the portal.",
    )
    assert_error(call(client, "get", f"{URL}/{number}", beta.secret), 404, "not_found")
    for other in (portal.tracking_number, tracking_number_new(), "garbage", "%00"):
        assert_error(call(client, "get", f"{URL}/{other}", alpha.secret), 404, "not_found")
    assert call(client, "get", URL, beta.secret).json() == {"items": [], "next_cursor": None}


def test_list_is_this_clients_submissions_newest_first_by_cursor(
    client: Client, ministry: Any, alpha: Issued, beta: Issued
) -> None:
    mine = [create(client, alpha, payload(ministry)).json()["tracking_number"] for _ in range(5)]
    create(client, beta, payload(ministry))
    seen: list[str] = []
    cursor = ""
    for _page in range(5):
        page = call(client, "get", f"{URL}?limit=2&cursor={cursor}", alpha.secret).json()
        seen += [item["tracking_number"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(mine))


def test_list_query_count_is_constant(
    client: Client, ministry: Any, alpha: Issued, django_assert_max_num_queries: Any
) -> None:
    for _ in range(4):
        create(client, alpha, payload(ministry))
    with django_assert_max_num_queries(4):
        assert len(call(client, "get", URL, alpha.secret).json()["items"]) == 4


@pytest.mark.parametrize(
    "query",
    ["cursor=%%%", "cursor=MA", "cursor=LTE", "limit=0", "limit=101", "limit=x", "curser=abc"],
)
def test_bad_page_parameters(client: Client, alpha: Issued, query: str) -> None:
    assert_error(call(client, "get", f"{URL}?{query}", alpha.secret), 422)


def test_openapi_lists_the_partner_operations_and_their_errors(client: Client) -> None:
    document = client.get("/api/v1/openapi.json").json()
    post = document["paths"]["/api/v1/partner/requests"]["post"]
    assert {"201", "401", "403", "409", "422", "429"} <= set(post["responses"])
    detail = document["paths"]["/api/v1/partner/requests/{tracking_number}"]["get"]
    assert {"200", "404"} <= set(detail["responses"])
