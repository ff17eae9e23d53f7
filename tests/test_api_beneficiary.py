"""The app's own requests through the API: list (keyset cursor), submit (with
Idempotency-Key, also under a real race on PostgreSQL), read with the public timeline,
and every beneficiary action — each refusal in the one error shape, changing nothing."""

from __future__ import annotations

import json

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tawasul.api.credentials import beneficiary_tokens_issue
from tawasul.api.models import IdempotencyRecord
from tawasul.cases.attachments import attachment_check, attachment_store
from tawasul.cases.models import Attachment, Channel, Event, EventKind, Message, Request, Status
from tawasul.cases.services import (
    request_answer,
    request_ask_beneficiary,
    request_claim,
    request_note,
    request_start,
    request_submit,
)
from tawasul.core.ids import tracking_number_display
from tawasul.feedback.models import Objection, SatisfactionResponse
from tests.threads import race

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
NOTE = "Internal: the school principal was slow to reply, chase him."
ANSWER = "تمت مراجعة النتيجة ونشرها في نظام نور اليوم."
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


@pytest.fixture(autouse=True)
def _clean_cache():
    cache.clear()
    yield
    cache.clear()


class App:
    """A signed-in app: JSON calls with the beneficiary's bearer token."""

    def __init__(self, client: Client, beneficiary) -> None:
        self.client = client
        self.token = beneficiary_tokens_issue(beneficiary=beneficiary).access

    def _headers(self, extra: dict | None = None) -> dict:
        return {"Authorization": f"Bearer {self.token}", **(extra or {})}

    def get(self, path: str, **query):
        return self.client.get(f"/api/v1{path}", query, headers=self._headers())

    def post(self, path: str, body: dict | None = None, headers: dict | None = None):
        return self.client.post(
            f"/api/v1{path}",
            json.dumps(body or {}),
            content_type="application/json",
            headers=self._headers(headers),
        )

    def upload(self, path: str, name: str, content: bytes, **fields):
        from django.core.files.uploadedfile import SimpleUploadedFile

        data = {"file": SimpleUploadedFile(name, content), **fields}
        return self.client.post(f"/api/v1{path}", data, headers=self._headers())


@pytest.fixture
def app(client, sara) -> App:
    return App(client, sara)


def new_request(beneficiary, ministry, **fields) -> Request:
    values = {
        "kind": "complaint",
        "category": ministry.exams,
        "subject": "تأخر نتيجة الاختبار",
        "description": "لم تظهر نتيجة ابني في نظام نور حتى الآن.",
        "entity": ministry.riyadh,
        **fields,
    }
    return request_submit(beneficiary=beneficiary, **values)


def answered(request: Request, staff) -> Request:
    request_claim(request=request, by=staff.riyadh_agent)
    request_start(request=request, by=staff.riyadh_agent)
    return request_answer(request=request, by=staff.riyadh_agent, resolution=ANSWER)


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["code"] == code, body
    assert set(body) == {"code", "message", "details"}
    assert set(body["message"]) == {"ar", "en"}
    return body


SUBMISSION = {
    "kind": "complaint",
    "subject": "تأخر صرف المكافأة",
    "description": "لم تصرف مكافأة الطالب منذ شهرين رغم اكتمال الأوراق.",
}


def submission(ministry, **fields) -> dict:
    return {
        **SUBMISSION,
        "category_id": ministry.exams.pk,
        "entity_id": ministry.riyadh.pk,
        **fields,
    }


# --- profile --------------------------------------------------------------------------------


def test_the_profile_is_masked_and_never_shows_the_national_id(app, sara):
    response = app.get("/me")

    assert response.status_code == 200
    body = response.json()
    assert body["full_name"] == "سارة العتيبي"
    assert body["mobile_masked"] == "+966••••••567"
    assert body["kind"] == "parent"
    assert body["kind_label"]["en"] == "Parent"
    assert sara.national_id not in response.content.decode()
    assert "0551234567" not in response.content.decode()
    assert "سارة العتيبي".encode() in response.content  # Arabic as text, not \\u escapes


# --- submit ---------------------------------------------------------------------------------


def test_a_request_is_sent_by_the_app(app, ministry, sara):
    response = app.post("/me/requests", submission(ministry))

    assert response.status_code == 201, response.content
    body = response.json()
    case = Request.objects.get()
    assert (case.beneficiary, case.channel, case.status) == (sara, Channel.APP, Status.NEW)
    assert body["tracking_number"] == case.tracking_number
    assert body["tracking_display"] == tracking_number_display(case.tracking_number)
    assert body["status"] == "new"
    assert body["kind"] == "complaint"
    assert body["category"]["id"] == ministry.exams.pk
    assert body["entity"]["code"] == "riyadh"
    assert body["created_at"].endswith("+03:00")
    assert body["expected_answer_by"] is not None
    assert case.resolution_due is not None
    assert body["subject"] == "تأخر صرف المكافأة"
    assert "تأخر صرف المكافأة".encode() in response.content
    assert Event.objects.filter(request=case, kind=EventKind.SUBMITTED).count() == 1


def test_without_an_entity_it_goes_to_the_central_centre(app, ministry):
    response = app.post("/me/requests", submission(ministry, entity_id=None))

    assert response.status_code == 201
    assert response.json()["entity"]["code"] == "moe"


@pytest.mark.parametrize(
    ("change", "status", "code", "field"),
    [
        ({"category_id": 999_999}, 422, "category_unknown", "category"),
        ({"entity_id": 999_999}, 422, "entity_unknown", "entity"),
        ({"subject": "ab"}, 422, "length", "subject"),
        ({"description": "short"}, 422, "length", "description"),
    ],
)
def test_a_refused_submission_writes_nothing(app, ministry, change, status, code, field):  # noqa: PLR0917
    body = assert_error(app.post("/me/requests", submission(ministry, **change)), status, code)

    assert body["details"]["field"] == field
    assert Request.objects.count() == 0
    assert Event.objects.count() == 0


def test_a_praise_only_category_refuses_a_complaint(app, ministry):
    response = app.post("/me/requests", submission(ministry, category_id=ministry.praise_only.pk))

    assert_error(response, 422, "category_kind")
    assert Request.objects.count() == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"kind": "rant"}, "kind"),
        ({"category_id": "exams"}, "category_id"),
        ({"category_id": 2**64}, "category_id"),
        ({"subject": None}, "subject"),
        ({"description": "نص\x00فيه صفر"}, "description"),
    ],
)
def test_field_errors_name_the_field(app, ministry, change, field):
    body = assert_error(app.post("/me/requests", submission(ministry, **change)), 422, "invalid")

    assert field in body["details"]["fields"]
    assert Request.objects.count() == 0


def test_submitting_needs_a_token(client, ministry):
    response = client.post(
        "/api/v1/me/requests", submission(ministry), content_type="application/json"
    )

    assert_error(response, 401, "unauthenticated")
    assert Request.objects.count() == 0


# --- idempotency ----------------------------------------------------------------------------


def test_a_retry_with_the_same_key_returns_the_same_answer_and_creates_nothing(app, ministry):
    key = {"Idempotency-Key": "f2b1c3d4-0001"}
    first = app.post("/me/requests", submission(ministry), headers=key)

    retry = app.post("/me/requests", submission(ministry), headers=key)

    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert retry["Idempotent-Replayed"] == "true"
    assert Request.objects.count() == 1
    assert IdempotencyRecord.objects.count() == 1


def test_the_same_key_with_another_body_is_refused(app, ministry):
    key = {"Idempotency-Key": "f2b1c3d4-0002"}
    app.post("/me/requests", submission(ministry), headers=key)

    other = app.post("/me/requests", submission(ministry, subject="موضوع آخر"), headers=key)

    assert_error(other, 422, "idempotency_key_reused")
    assert Request.objects.count() == 1


def test_keys_belong_to_one_beneficiary(client, app, ministry, khalid):
    key = {"Idempotency-Key": "shared-key"}
    app.post("/me/requests", submission(ministry), headers=key)

    other = App(Client(), khalid).post("/me/requests", submission(ministry), headers=key)

    assert other.status_code == 201
    assert Request.objects.count() == 2


def test_a_failed_call_keeps_no_record_so_a_fixed_retry_runs(app, ministry):
    key = {"Idempotency-Key": "f2b1c3d4-0003"}
    refused = app.post("/me/requests", submission(ministry, subject="ab"), headers=key)
    assert refused.status_code == 422
    assert IdempotencyRecord.objects.count() == 0

    fixed = app.post("/me/requests", submission(ministry, subject="ab"), headers=key)

    assert fixed.status_code == 422
    assert Request.objects.count() == 0


def test_without_a_key_each_call_creates_a_request(app, ministry):
    app.post("/me/requests", submission(ministry))
    app.post("/me/requests", submission(ministry))

    assert Request.objects.count() == 2


def test_a_bad_key_is_refused(app, ministry):
    response = app.post(
        "/me/requests", submission(ministry), headers={"Idempotency-Key": "k" * 101}
    )

    assert response.status_code == 422
    assert Request.objects.count() == 0


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(3))
def test_a_concurrent_retry_creates_one_request(on_postgres, ministry, sara, attempt):
    token = beneficiary_tokens_issue(beneficiary=sara).access
    body = json.dumps(submission(ministry))
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": f"race-{attempt}"}

    def call():
        response = Client().post(
            "/api/v1/me/requests", body, content_type="application/json", headers=headers
        )
        return response.status_code, response.json(), response.get("Idempotent-Replayed")

    outcomes = race([call, call])

    assert all(isinstance(outcome, tuple) for outcome in outcomes), outcomes
    (status_a, body_a, replayed_a), (status_b, body_b, replayed_b) = outcomes
    assert status_a == status_b == 201
    assert body_a == body_b
    assert sorted([replayed_a or "", replayed_b or ""]) == ["", "true"]
    assert Request.objects.count() == 1
    assert IdempotencyRecord.objects.count() == 1


# --- list -----------------------------------------------------------------------------------


def test_the_list_pages_by_cursor_newest_first(app, ministry, sara):
    made = [new_request(sara, ministry, subject=f"طلب رقم {index}") for index in range(5)]
    newest_first = [case.tracking_number for case in reversed(made)]

    seen, cursor, pages = [], None, 0
    while True:
        query = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        response = app.get("/me/requests", **query)
        assert response.status_code == 200
        body = response.json()
        seen += [item["tracking_number"] for item in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break

    assert seen == newest_first
    assert pages == 3


def test_a_new_request_does_not_shift_the_next_page(app, ministry, sara):
    made = [new_request(sara, ministry) for _ in range(3)]
    first = app.get("/me/requests", limit=2).json()
    new_request(sara, ministry)

    second = app.get("/me/requests", limit=2, cursor=first["next_cursor"]).json()

    assert [item["tracking_number"] for item in second["items"]] == [made[0].tracking_number]
    assert second["next_cursor"] is None


def test_the_list_filters_by_status_and_shows_only_ones_own(app, ministry, staff, sara, khalid):
    open_one = new_request(sara, ministry)
    closed_one = new_request(sara, ministry)
    app.post(f"/me/requests/{closed_one.tracking_number}/withdraw", {"reason": "حُلّت المشكلة"})
    new_request(khalid, ministry)

    def numbers(status: str) -> list[str]:
        return [
            item["tracking_number"]
            for item in app.get("/me/requests", status=status).json()["items"]
        ]

    assert numbers("open") == [open_one.tracking_number]
    assert numbers("closed") == [closed_one.tracking_number]
    assert set(numbers("all")) == {open_one.tracking_number, closed_one.tracking_number}


def test_the_list_costs_the_same_queries_for_many_requests(app, ministry, sara):
    new_request(sara, ministry)
    with CaptureQueriesContext(connection) as one:
        assert app.get("/me/requests").status_code == 200
    for _ in range(6):
        new_request(sara, ministry)

    with CaptureQueriesContext(connection) as seven:
        response = app.get("/me/requests")

    assert len(response.json()["items"]) == 7
    assert len(seven) == len(one)


@pytest.mark.parametrize(
    "query",
    [
        {"cursor": "not-a-cursor"},
        {"cursor": "WyJ4IiwgMV0"},  # ["x", 1]
        {"cursor": "WyIyMDI1LTAxLTAxVDAwOjAwOjAwIiwgMV0"},  # a naive time
        {"limit": 0},
        {"limit": 101},
        {"status": "lost"},
        {"page": 2},
    ],
)
def test_a_bad_query_is_422(app, sara, query):
    response = app.get("/me/requests", **query)

    assert response.status_code == 422
    assert response.json()["code"] in {"invalid", "invalid_cursor", "unknown_parameter"}


# --- one request ----------------------------------------------------------------------------


def test_the_request_shows_its_public_timeline_and_nothing_internal(app, ministry, staff, sara):
    case = new_request(sara, ministry)
    request_claim(request=case, by=staff.riyadh_agent)
    request_note(request=case, by=staff.riyadh_agent, body=NOTE)
    request_start(request=case, by=staff.riyadh_agent)
    request_answer(request=case, by=staff.riyadh_agent, resolution=ANSWER)

    response = app.get(f"/me/requests/{case.tracking_number}")

    assert response.status_code == 200
    body = response.json()
    text = response.content.decode()
    assert body["status"] == "answered"
    assert body["description"] == case.description
    kinds = [item["kind"] for item in body["timeline"]]
    assert kinds[0] == "submitted"
    assert "answered" in kinds
    assert "note_added" not in kinds
    assert NOTE not in text
    assert "riyadh_agent" not in text
    answer = next(item for item in body["timeline"] if item["kind"] == "answered")
    assert answer["body"] == ANSWER
    assert answer["by_beneficiary"] is False
    assert answer["who"]["en"] == "Beneficiary care team"
    assert body["actions"]["can_accept"] is True
    assert body["actions"]["can_object"] is True
    assert body["actions"]["can_withdraw"] is False
    assert body["actions"]["can_rate"] is True
    assert body["actions"]["objection_window_ends_at"] is not None
    assert sara.national_id not in text


@pytest.mark.parametrize(
    "shape",
    [
        lambda number: number,
        tracking_number_display,
        lambda number: number.translate(ARABIC_INDIC),
        lambda number: tracking_number_display(number).translate(ARABIC_INDIC),
    ],
)
def test_the_number_may_be_typed_as_people_type_it(app, ministry, sara, shape):
    case = new_request(sara, ministry)

    response = app.get(f"/me/requests/{shape(case.tracking_number)}")

    assert response.status_code == 200
    assert response.json()["tracking_number"] == case.tracking_number


def test_someone_elses_request_and_an_unknown_number_look_the_same(app, ministry, khalid):
    theirs = new_request(khalid, ministry)
    unknown = theirs.tracking_number[:-1] + str((int(theirs.tracking_number[-1]) + 1) % 10)

    other = app.get(f"/me/requests/{theirs.tracking_number}")
    missing = app.get(f"/me/requests/{unknown}")
    garbage = app.get("/me/requests/%D9%A1%00abc")

    assert_error(other, 404, "not_found")
    assert other.json() == missing.json() == garbage.json()


@pytest.mark.parametrize(
    ("action", "body"),
    [
        ("replies", {"body": "رد"}),
        ("accept", {}),
        ("objection", {"reason": "الإجابة لم تعالج المشكلة إطلاقًا"}),
        ("rating", {"score": 5}),
        ("withdraw", {"reason": "لم أعد أحتاج"}),
    ],
)
def test_no_action_reaches_someone_elses_request(  # noqa: PLR0917
    app, ministry, staff, khalid, action, body
):
    theirs = answered(new_request(khalid, ministry), staff)
    events = Event.objects.count()

    response = app.post(f"/me/requests/{theirs.tracking_number}/{action}", body)

    assert_error(response, 404, "not_found")
    assert Event.objects.count() == events
    theirs.refresh_from_db()
    assert theirs.status == Status.ANSWERED


# --- actions --------------------------------------------------------------------------------


def test_a_reply_answers_a_question(app, ministry, staff, sara):
    case = new_request(sara, ministry)
    request_claim(request=case, by=staff.riyadh_agent)
    request_start(request=case, by=staff.riyadh_agent)
    request_ask_beneficiary(request=case, by=staff.riyadh_agent, question="ما رقم الجلوس؟")

    response = app.post(f"/me/requests/{case.tracking_number}/replies", {"body": "رقم الجلوس ١٢٣"})

    assert response.status_code == 201
    assert response.json()["body"] == "رقم الجلوس ١٢٣"
    case.refresh_from_db()
    assert case.status == Status.IN_PROGRESS
    assert Message.objects.get(pk=response.json()["id"]).from_beneficiary


def test_an_empty_reply_is_422_and_writes_nothing(app, ministry, sara):
    case = new_request(sara, ministry)

    response = app.post(f"/me/requests/{case.tracking_number}/replies", {"body": "   "})

    assert_error(response, 422, "length")
    assert Message.objects.count() == 0


def test_accepting_the_answer_closes_the_request(app, ministry, staff, sara):
    case = answered(new_request(sara, ministry), staff)

    response = app.post(f"/me/requests/{case.tracking_number}/accept")

    assert response.status_code == 200
    assert response.json()["status"] == "closed"
    assert response.json()["closed_at"] is not None
    assert Event.objects.filter(request=case, kind=EventKind.ACCEPTED).count() == 1


def test_accepting_before_an_answer_is_409_and_changes_nothing(app, ministry, sara):
    case = new_request(sara, ministry)
    events = Event.objects.count()

    body = assert_error(
        app.post(f"/me/requests/{case.tracking_number}/accept"), 409, "illegal_transition"
    )

    assert body["details"]["status"] == "new"
    assert Event.objects.count() == events
    case.refresh_from_db()
    assert case.status == Status.NEW


def test_an_objection_is_filed_once(app, ministry, staff, sara):
    case = answered(new_request(sara, ministry), staff)
    reason = {"reason": "الإجابة لم تعالج المشكلة إطلاقًا"}

    response = app.post(f"/me/requests/{case.tracking_number}/objection", reason)

    assert response.status_code == 201, response.content
    assert response.json()["request_status"] == "objected"
    assert Objection.objects.get().pk == response.json()["id"]
    assert_error(
        app.post(f"/me/requests/{case.tracking_number}/objection", reason), 409, "already_objected"
    )
    assert Objection.objects.count() == 1


def test_an_objection_needs_a_reason(app, ministry, staff, sara):
    case = answered(new_request(sara, ministry), staff)

    response = app.post(f"/me/requests/{case.tracking_number}/objection", {"reason": "لا"})

    assert_error(response, 422, "length")
    assert Objection.objects.count() == 0
    case.refresh_from_db()
    assert case.status == Status.ANSWERED


def test_an_answer_is_rated_once(app, ministry, staff, sara):
    case = answered(new_request(sara, ministry), staff)
    rating = {"score": 4, "resolved": True, "comment": "شكرًا لكم"}

    response = app.post(f"/me/requests/{case.tracking_number}/rating", rating)

    assert response.status_code == 201, response.content
    assert response.json()["score"] == 4
    assert SatisfactionResponse.objects.get().comment == "شكرًا لكم"
    again = app.post(f"/me/requests/{case.tracking_number}/rating", rating)
    assert_error(again, 409, "already_rated")
    assert SatisfactionResponse.objects.count() == 1


def test_rating_before_an_answer_is_409(app, ministry, sara):
    case = new_request(sara, ministry)

    response = app.post(f"/me/requests/{case.tracking_number}/rating", {"score": 3})

    assert_error(response, 409, "not_answered")
    assert SatisfactionResponse.objects.count() == 0


@pytest.mark.parametrize("score", [0, 6, "five", True])
def test_a_score_out_of_range_is_422(app, ministry, staff, sara, score):
    case = answered(new_request(sara, ministry), staff)

    response = app.post(f"/me/requests/{case.tracking_number}/rating", {"score": score})

    assert response.status_code == 422
    assert SatisfactionResponse.objects.count() == 0


def test_withdrawing_cancels_an_open_request_once(app, ministry, sara):
    case = new_request(sara, ministry)
    reason = {"reason": "حُلّت المشكلة"}

    response = app.post(f"/me/requests/{case.tracking_number}/withdraw", reason)

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    case.refresh_from_db()
    assert case.cancel_reason == "حُلّت المشكلة"
    again = app.post(f"/me/requests/{case.tracking_number}/withdraw", reason)
    assert_error(again, 409, "illegal_transition")
    assert Event.objects.filter(request=case, kind=EventKind.CANCELLED).count() == 1


# --- files ----------------------------------------------------------------------------------


def test_a_file_is_added_and_downloaded(app, ministry, sara):
    case = new_request(sara, ministry)

    response = app.upload(f"/me/requests/{case.tracking_number}/attachments", "صورة.png", PNG)

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["name"], body["content_type"], body["size"]) == ("صورة.png", "image/png", len(PNG))
    assert Event.objects.filter(request=case, kind=EventKind.ATTACHMENT_ADDED).count() == 1
    download = app.get(body["url"].removeprefix("/api/v1"))
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PNG
    assert download["Content-Type"] == "image/png"
    assert download["X-Content-Type-Options"] == "nosniff"
    detail = app.get(f"/me/requests/{case.tracking_number}").json()
    assert [row["id"] for row in detail["attachments"]] == [body["id"]]


def test_a_file_goes_with_ones_own_message(app, ministry, sara):
    case = new_request(sara, ministry)
    message = app.post(f"/me/requests/{case.tracking_number}/replies", {"body": "مرفق الشهادة"})

    response = app.upload(
        f"/me/requests/{case.tracking_number}/attachments",
        "certificate.pdf",
        PDF,
        message_id=message.json()["id"],
    )

    assert response.status_code == 201, response.content
    assert Attachment.objects.get().message_id == message.json()["id"]


def test_a_file_cannot_go_with_a_staff_message(app, ministry, staff, sara):
    case = new_request(sara, ministry)
    request_claim(request=case, by=staff.riyadh_agent)
    note = request_note(request=case, by=staff.riyadh_agent, body=NOTE)

    response = app.upload(
        f"/me/requests/{case.tracking_number}/attachments", "a.pdf", PDF, message_id=note.pk
    )

    assert_error(response, 422, "message_unknown")
    assert Attachment.objects.count() == 0


def test_a_file_too_large_is_413(app, ministry, sara, settings):
    settings.TAWASUL_ATTACHMENT_MAX_BYTES = 32
    case = new_request(sara, ministry)

    response = app.upload(f"/me/requests/{case.tracking_number}/attachments", "big.png", PNG)

    assert_error(response, 413, "file_too_large")
    assert Attachment.objects.count() == 0


def test_a_file_of_another_type_is_415_whatever_its_name(app, ministry, sara):
    case = new_request(sara, ministry)

    response = app.upload(
        f"/me/requests/{case.tracking_number}/attachments", "photo.png", b"#!/bin/sh\necho hi\n"
    )

    body = assert_error(response, 415, "file_type")
    assert body["details"]["detected"] == "application/octet-stream"
    assert Attachment.objects.count() == 0


def test_no_file_is_a_422(app, ministry, sara):
    case = new_request(sara, ministry)

    response = app.client.post(
        f"/api/v1/me/requests/{case.tracking_number}/attachments", {}, headers=app._headers()
    )

    assert response.status_code == 422
    assert Attachment.objects.count() == 0


def test_no_file_is_added_to_a_finished_request(app, ministry, sara):
    case = new_request(sara, ministry)
    app.post(f"/me/requests/{case.tracking_number}/withdraw", {"reason": "حُلّت المشكلة"})

    response = app.upload(f"/me/requests/{case.tracking_number}/attachments", "a.png", PNG)

    assert_error(response, 409, "illegal_transition")
    assert Attachment.objects.count() == 0


def test_files_of_others_and_internal_files_are_not_found(app, ministry, staff, sara, khalid):
    mine = new_request(sara, ministry)
    request_claim(request=mine, by=staff.riyadh_agent)
    note = request_note(request=mine, by=staff.riyadh_agent, body=NOTE)
    internal = attachment_store(
        request=mine, checked=attachment_check(name="internal.pdf", content=PDF), message=note
    )
    theirs = new_request(
        khalid, ministry, attachments=[attachment_check(name="k.pdf", content=PDF)]
    )
    their_file = Attachment.objects.get(request=theirs)

    hidden = app.get(f"/me/requests/{mine.tracking_number}/attachments/{internal.pk}")
    other = app.get(f"/me/requests/{theirs.tracking_number}/attachments/{their_file.pk}")
    crossed = app.get(f"/me/requests/{mine.tracking_number}/attachments/{their_file.pk}")

    for response in (hidden, other, crossed):
        assert_error(response, 404, "not_found")
    detail = app.get(f"/me/requests/{mine.tracking_number}").json()
    assert detail["attachments"] == []
