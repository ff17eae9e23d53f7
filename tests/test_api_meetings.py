"""The app's minister meetings through the API: eligibility (every rule, met or not),
my meeting requests (cursor pages), asking (Idempotency-Key, every refusal explained),
one request (public timeline, dates offered, booking), picking and withdrawing — each
refusal in the one error shape, changing nothing; someone else's request is a 404."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from tawasul.api.credentials import beneficiary_tokens_issue
from tawasul.api.models import IdempotencyRecord
from tawasul.meetings.models import MeetingBooking, MeetingEvent, MeetingRequest, MeetingStatus
from tawasul.meetings.scheduling import SlotPlan, meeting_book, meeting_offer, slot_create
from tawasul.meetings.services import meeting_decline, meeting_note
from tests.test_meetings_support import (  # noqa: F401 (fixtures)
    SUMMARY,
    answered_request,
    approved,
    local,
    minister_fixture,
    settled_fixture,
    slot,
    submit,
)

pytestmark = pytest.mark.django_db
VIDEO = "https://meet.moe.example/room-7"
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


@pytest.fixture(autouse=True)
def _clean_cache():
    cache.clear()
    yield
    cache.clear()


class App:
    """A signed-in app: JSON calls with the beneficiary's bearer token."""

    def __init__(self, beneficiary) -> None:
        self.client = Client()
        self.token = beneficiary_tokens_issue(beneficiary=beneficiary).access

    def _headers(self, extra: dict | None = None) -> dict:
        return {"Authorization": f"Bearer {self.token}", **(extra or {})}

    def get(self, path: str, **query):
        return self.client.get(f"/api/v1/me/meetings{path}", query, headers=self._headers())

    def post(self, path: str, body: dict | None = None, headers: dict | None = None):
        return self.client.post(
            f"/api/v1/me/meetings{path}",
            json.dumps(body if body is not None else {}),
            content_type="application/json",
            headers=self._headers(headers),
        )


@pytest.fixture
def app(sara) -> App:
    return App(sara)


@pytest.fixture
def khalids_app(khalid) -> App:
    return App(khalid)


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["code"] == code, body
    assert set(body) == {"code", "message", "details"}
    assert set(body["message"]) == {"ar", "en"}
    return body


def _day(days: int) -> str:
    return (timezone.localdate() + dt.timedelta(days=days)).isoformat()


def asking(settled, **fields) -> dict:
    return {
        "subject": "نقل ابني بين المدارس",
        "summary": SUMMARY,
        "follow_ups": [settled.tracking_number],
        "preferences": [{"first_day": _day(7), "last_day": _day(21), "part_of_day": "morning"}],
        **fields,
    }


def _offered(staff, sara, settled, minister):
    meeting = approved(staff, sara, [settled])
    first = slot(staff, minister, days=3, hour=10)
    second = slot_create(
        host=minister,
        starts_at=local(4, 11),
        plan=SlotPlan(duration_minutes=45, video_link=VIDEO),
        by=staff.executive,
    )
    meeting_offer(meeting=meeting, slots=[first, second], by=staff.executive)
    return meeting, first, second


@pytest.fixture
def offered(staff, sara, settled, minister):
    return _offered(staff, sara, settled, minister)


# --- eligibility ----------------------------------------------------------------------------


def test_eligibility_lists_every_rule_met(app, settled):
    response = app.get("/eligibility")
    assert response.status_code == 200
    body = response.json()
    assert body["eligible"] is True
    assert [rule["code"] for rule in body["rules"]] == [
        "settled_request",
        "one_open",
        "cooling_off",
    ]
    assert all(rule["passed"] and rule["refusal_code"] is None for rule in body["rules"])
    assert all(rule["message"]["ar"] and rule["message"]["en"] for rule in body["rules"])


def test_eligibility_explains_every_rule_refused(app, sara, ministry):
    body = app.get("/eligibility").json()
    assert body["eligible"] is False
    rules = {rule["code"]: rule for rule in body["rules"]}
    assert rules["settled_request"]["passed"] is False
    assert rules["settled_request"]["refusal_code"] == "no_settled_request"
    assert rules["settled_request"]["message"]["en"].startswith("A meeting follows up")
    assert rules["settled_request"]["message"]["ar"] != rules["settled_request"]["message"]["en"]
    assert rules["one_open"]["passed"] is True


def test_eligibility_after_asking_refuses_one_open(app, sara, settled):
    submit(sara, [settled])
    rules = {rule["code"]: rule for rule in app.get("/eligibility").json()["rules"]}
    assert rules["one_open"]["passed"] is False
    assert rules["one_open"]["details"] == {"limit": 1}


def test_eligibility_refuses_unknown_parameters_and_strangers(app, client):
    assert_error(app.get("/eligibility", verbose="1"), 422, "unknown_parameter")
    assert_error(client.get("/api/v1/me/meetings/eligibility"), 401, "unauthenticated")


# --- my meeting requests -----------------------------------------------------------------------


def test_the_list_pages_with_a_cursor(settings, app, khalids_app, sara, settled):
    settings.TAWASUL_MEETING_MAX_OPEN = 10
    meetings = [submit(sara, [settled], subject=f"موضوع رقم {n}") for n in range(3)]
    first = app.get("", limit=2).json()
    assert [item["tracking_number"] for item in first["items"]] == [
        meetings[2].tracking_number,
        meetings[1].tracking_number,
    ]
    assert first["items"][0]["status"] == "submitted"
    assert first["items"][0]["status_label"]["en"] == "Awaiting screening"
    second = app.get("", limit=2, cursor=first["next_cursor"]).json()
    assert [item["tracking_number"] for item in second["items"]] == [meetings[0].tracking_number]
    assert second["next_cursor"] is None
    assert khalids_app.get("").json() == {"items": [], "next_cursor": None}


def test_the_list_refuses_bad_parameters(app):
    assert_error(app.get("", cursor="not-a-cursor"), 422, "invalid_cursor")
    assert_error(app.get("", status="open"), 422, "unknown_parameter")
    assert_error(app.get("", limit="0"), 422, "invalid")


# --- asking ------------------------------------------------------------------------------------


def test_asking_creates_the_meeting_request(channels_in_memory, app, sara, settled):
    response = app.post("", asking(settled))
    assert response.status_code == 201, response.content
    body = response.json()
    meeting = MeetingRequest.objects.get()
    assert body["tracking_number"] == meeting.tracking_number
    assert body["status"] == "submitted"
    assert body["follow_ups"] == [
        {"tracking_number": settled.tracking_number, "subject": settled.subject}
    ]
    assert body["preferences"][0]["part_of_day"] == "morning"
    assert body["preferences"][0]["part_of_day_label"]["en"] == "Morning"
    assert body["actions"] == {"can_pick": False, "can_withdraw": True}
    assert [entry["kind"] for entry in body["timeline"]] == ["submitted"]
    assert meeting.beneficiary_id == sara.pk
    assert list(meeting.follow_ups.all()) == [settled]


def test_asking_twice_with_one_key_creates_one(app, settled):
    key = {"Idempotency-Key": "meeting-1"}
    first = app.post("", asking(settled), headers=key)
    again = app.post("", asking(settled), headers=key)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert MeetingRequest.objects.count() == 1
    other = app.post("", asking(settled, subject="موضوع آخر مختلف"), headers=key)
    assert_error(other, 422, "idempotency_key_reused")
    assert MeetingRequest.objects.count() == 1


def test_a_refused_ask_explains_every_rule_and_writes_nothing(app, sara, settled):
    submit(sara, [settled])
    response = app.post("", asking(settled, follow_ups=[]), headers={"Idempotency-Key": "k"})
    body = assert_error(response, 409, "not_eligible")
    assert [r["code"] for r in body["details"]["refusals"]] == [
        "no_settled_request",
        "meeting_already_open",
    ]
    assert MeetingRequest.objects.count() == 1
    assert not IdempotencyRecord.objects.exists()


def test_someone_elses_request_cannot_be_followed_up(app, ministry, staff, khalid, settled):
    khalids = answered_request(ministry, staff, khalid)
    for numbers in ([khalids.tracking_number], ["12345678901"], ["nonsense"]):
        body = assert_error(
            app.post("", asking(settled, follow_ups=numbers)), 422, "follow_up_unknown"
        )
        assert body["details"] == {"field": "follow_ups"}
    assert MeetingRequest.objects.count() == 0


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"summary": "قصير"}, "length"),
        ({"subject": "  "}, "length"),
        ({"preferences": []}, "preferences"),
        (
            {
                "preferences": [
                    {"first_day": _day(-1), "last_day": _day(3), "part_of_day": "morning"}
                ]
            },
            "preference_invalid",
        ),
        (
            {
                "preferences": [
                    {"first_day": _day(9), "last_day": _day(3), "part_of_day": "evening"}
                ]
            },
            "preference_invalid",
        ),
        (
            {"preferences": [{"first_day": _day(1), "last_day": _day(3), "part_of_day": "night"}]},
            "invalid",
        ),
        (
            {"preferences": [{"first_day": "soon", "last_day": _day(3), "part_of_day": "morning"}]},
            "invalid",
        ),
        ({"follow_ups": ["1"] * 6}, "invalid"),
        ({"subject": "a\x00b"}, "invalid"),
        ({"summary": None}, "invalid"),
    ],
)
def test_bad_input_is_refused_and_writes_nothing(app, settled, fields, code):
    assert_error(app.post("", asking(settled, **fields)), 422, code)
    assert MeetingRequest.objects.count() == 0
    assert MeetingEvent.objects.count() == 0


# --- one meeting request ---------------------------------------------------------------------


def test_the_detail_shows_the_public_side_only(app, staff, sara, settled):
    meeting = submit(sara, [settled])
    meeting_note(meeting=meeting, by=staff.central_agent, body="ملاحظة داخلية سرية")
    response = app.get(f"/{meeting.tracking_number}")
    assert response.status_code == 200
    body = response.json()
    assert [entry["kind"] for entry in body["timeline"]] == ["submitted"]
    assert body["timeline"][0]["by_beneficiary"] is True
    assert body["summary"] == SUMMARY
    text = response.content.decode()
    assert "ملاحظة داخلية" not in text
    assert sara.national_id not in text
    assert sara.mobile not in text


def test_the_number_may_be_typed_as_people_do(app, sara, settled):
    meeting = submit(sara, [settled])
    for typed in (meeting.tracking_display, meeting.tracking_number.translate(ARABIC_INDIC)):
        assert app.get(f"/{typed}").status_code == 200


def test_someone_elses_or_an_unknown_number_is_not_found(khalids_app, sara, settled):
    meeting = submit(sara, [settled])
    for number in (meeting.tracking_number, "12345678901", "x", "%00", "٠"):
        assert_error(khalids_app.get(f"/{number}"), 404, "not_found")
    assert_error(khalids_app.post(f"/{meeting.tracking_number}/withdraw"), 404, "not_found")
    assert_error(
        khalids_app.post(f"/{meeting.tracking_number}/pick", {"slot_id": 1}), 404, "not_found"
    )
    assert MeetingRequest.objects.get().status == MeetingStatus.SUBMITTED


def test_a_declined_request_shows_the_reason(app, staff, sara, settled):
    meeting = submit(sara, [settled])
    meeting_decline(meeting=meeting, by=staff.central_agent, reason="الموضوع من اختصاص الإدارة")
    body = app.get(f"/{meeting.tracking_number}").json()
    assert body["status"] == "declined"
    assert body["decline_reason"] == "الموضوع من اختصاص الإدارة"
    assert body["timeline"][-1]["data"] == {"reason": "الموضوع من اختصاص الإدارة"}
    assert body["actions"] == {"can_pick": False, "can_withdraw": False}


# --- picking a date ----------------------------------------------------------------------------


def test_offered_dates_then_pick_one(app, sara, offered):
    meeting, first, second = offered
    body = app.get(f"/{meeting.tracking_number}").json()
    assert body["status"] == "offered"
    assert [s["id"] for s in body["offered_slots"]] == [first.pk, second.pk]
    assert body["offered_slots"][0]["host"] == {"name": "معالي الوزير", "title": "وزير التعليم"}
    assert body["offered_slots"][0]["ends_at"] > body["offered_slots"][0]["starts_at"]
    assert body["actions"]["can_pick"] is True
    assert body["host"]["name"] == "معالي الوزير"
    response = app.post(f"/{meeting.tracking_number}/pick", {"slot_id": second.pk})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "scheduled"
    assert body["booking"]["slot"]["id"] == second.pk
    assert body["booking"]["slot"]["by_video"] is True
    assert body["booking"]["video_link"] == VIDEO
    assert body["booking"]["slot"]["duration_minutes"] == 45
    assert body["offered_slots"] == []
    assert body["timeline"][-1]["kind"] == "scheduled"
    assert set(body["timeline"][-1]["data"]) == {"starts_at", "place", "video"}
    booking = MeetingBooking.objects.get(meeting=meeting)
    assert (booking.slot_id, booking.booked_by_beneficiary) == (second.pk, True)
    assert booking.reminders.count() == 2


def test_a_date_not_offered_is_refused(app, staff, minister, offered):
    meeting, _first, _second = offered
    other = slot(staff, minister, days=6)
    assert_error(
        app.post(f"/{meeting.tracking_number}/pick", {"slot_id": other.pk}), 422, "slot_not_offered"
    )
    for bad in ({"slot_id": 0}, {"slot_id": 2**63}, {"slot_id": "x"}, {}):
        assert_error(app.post(f"/{meeting.tracking_number}/pick", bad), 422, "invalid")
    assert not MeetingBooking.objects.exists()
    assert MeetingRequest.objects.get(pk=meeting.pk).status == MeetingStatus.OFFERED


def test_a_date_filled_meanwhile_is_a_conflict(app, ministry, staff, khalid, offered):
    meeting, first, _second = offered
    khalids = approved(staff, khalid, [answered_request(ministry, staff, khalid)])
    meeting_book(meeting=khalids, slot=first, by=staff.executive)
    assert_error(
        app.post(f"/{meeting.tracking_number}/pick", {"slot_id": first.pk}), 409, "slot_full"
    )
    assert MeetingRequest.objects.get(pk=meeting.pk).status == MeetingStatus.OFFERED
    assert not MeetingBooking.objects.filter(meeting=meeting).exists()


def test_picking_without_an_offer_is_a_conflict(app, sara, settled):
    meeting = submit(sara, [settled])
    assert_error(
        app.post(f"/{meeting.tracking_number}/pick", {"slot_id": 1}), 409, "illegal_transition"
    )
    assert MeetingRequest.objects.get().status == MeetingStatus.SUBMITTED


# --- withdrawing --------------------------------------------------------------------------------


def test_withdraw_then_again(app, sara, offered):
    meeting, first, _second = offered
    app.post(f"/{meeting.tracking_number}/pick", {"slot_id": first.pk})
    response = app.post(f"/{meeting.tracking_number}/withdraw", {"reason": "لم أعد بحاجة"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "cancelled"
    assert body["booking"] is None
    assert body["timeline"][-1]["kind"] == "withdrawn"
    assert MeetingBooking.objects.get(meeting=meeting).released_at is not None
    events = MeetingEvent.objects.count()
    assert_error(app.post(f"/{meeting.tracking_number}/withdraw"), 409, "illegal_transition")
    assert MeetingEvent.objects.count() == events


def test_withdraw_without_a_reason(app, sara, settled):
    meeting = submit(sara, [settled])
    assert app.post(f"/{meeting.tracking_number}/withdraw", {}).status_code == 200
    assert MeetingRequest.objects.get().status == MeetingStatus.CANCELLED


# --- the document -------------------------------------------------------------------------------


def test_the_openapi_document_lists_the_meeting_operations_and_their_errors(client):
    document = client.get("/api/v1/openapi.json").json()
    paths = document["paths"]
    expected = {
        "/api/v1/me/meetings/eligibility": ["get"],
        "/api/v1/me/meetings": ["get", "post"],
        "/api/v1/me/meetings/{tracking_number}": ["get"],
        "/api/v1/me/meetings/{tracking_number}/pick": ["post"],
        "/api/v1/me/meetings/{tracking_number}/withdraw": ["post"],
    }
    for path, methods in expected.items():
        for method in methods:
            responses = paths[path][method]["responses"]
            assert {"401", "404", "409", "422"} <= set(responses), (path, method)
