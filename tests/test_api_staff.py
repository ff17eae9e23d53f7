"""The staff API: queues, filtered keyset lists, the workspace read, and every action.

The isolation matrix: for every endpoint, a member of another region gets 404 (the
same body as for a number that does not exist), a viewer or quality officer in
reach gets 403 on actions they may not do, a read-only token gets 403
`insufficient_scope` on actions, and revoked or expired tokens and deactivated
accounts get 401. Each action's effect is checked in the database.
"""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tawasul.api.credentials import credential_revoke, personal_token_create
from tawasul.api.models import PersonalAccessToken, Scope
from tawasul.api.staff_schemas import name_masked
from tawasul.beneficiaries.models import Beneficiary
from tawasul.cases import services as svc
from tawasul.cases.attachments import attachment_check
from tawasul.cases.models import (
    Channel,
    Event,
    EventKind,
    Kind,
    Message,
    Priority,
    Request,
    RequestLink,
    SlaStage,
    SlaState,
    Status,
    Visibility,
)
from tawasul.core.ids import tracking_number_display, tracking_number_new
from tests.conftest import Ministry, Staff

pytestmark = pytest.mark.django_db
BASE = "/api/v1/staff"
BOTH = (Scope.REQUESTS_READ, Scope.REQUESTS_WRITE)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def _generous_rate(settings: Any, channels_in_memory: None) -> None:
    settings.TAWASUL_API_RATE = 1_000_000


def token(user: Any, scopes: tuple[str, ...] = BOTH) -> str:
    return personal_token_create(user=user, name="tool", scopes=scopes).secret


class Api:
    """A staff tool calling the API with one token."""

    def __init__(self, secret: str) -> None:
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {secret}"}

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(BASE + path, params, headers=self.headers)

    def post(self, path: str, body: dict[str, Any] | None = None, **headers: str) -> Any:
        return self.client.post(
            BASE + path,
            json.dumps(body or {}),
            content_type="application/json",
            headers={**self.headers, **headers},
        )


def as_(user: Any, scopes: tuple[str, ...] = BOTH) -> Api:
    return Api(token(user, scopes))


def submit(
    ministry: Ministry,
    who: Beneficiary,
    entity: Any,
    subject: str = "Exam results missing",
    **extra: Any,
) -> Request:
    return svc.request_submit(
        beneficiary=who,
        kind=extra.pop("kind", Kind.COMPLAINT),
        category=extra.pop("category", ministry.exams),
        subject=subject,
        description="My son's results do not show in the system.",
        entity=entity,
        **extra,
    )


def fresh(case: Request) -> Request:
    return Request.objects.get(pk=case.pk)


def kinds_of(case: Request) -> list[str]:
    """The request's events, without the SLA clock's own."""
    kinds = Event.objects.filter(request=case).values_list("kind", flat=True)
    return [kind for kind in kinds if not kind.startswith("sla_")]


@pytest.fixture
def riyadh_case(ministry: Ministry, sara: Beneficiary) -> Request:
    return submit(ministry, sara, ministry.riyadh)


@pytest.fixture
def riyadh_other(ministry: Ministry, sara: Beneficiary) -> Request:
    return submit(ministry, sara, ministry.riyadh, "Another exam question")


# --- the isolation matrix -----------------------------------------------------------------

# (method, suffix, body, permission needed beyond view)
ENDPOINTS: list[tuple[str, str, dict[str, Any], str]] = [
    ("get", "", {}, "view"),
    ("post", "/reveal", {}, "view"),
    ("post", "/claim", {}, "work"),
    ("post", "/assign", {"assignee": "riyadh_agent2"}, "assign"),
    ("post", "/start", {}, "work"),
    ("post", "/reply", {"body": "We are looking into it."}, "work"),
    ("post", "/note", {"body": "Called the school."}, "note"),
    ("post", "/ask", {"question": "Which school is it?"}, "work"),
    ("post", "/answer", {"resolution": "The results are now published."}, "work"),
    ("post", "/forward", {"entity_id": "MAKKAH", "reason": "Belongs to Makkah"}, "work"),
    ("post", "/return", {"reason": "Not ours"}, "work"),
    ("post", "/merge", {"into": "OTHER", "reason": "Duplicate"}, "work"),
    ("post", "/link", {"other": "OTHER"}, "work"),
    ("post", "/cancel", {"reason": "Spam"}, "supervise"),
    ("post", "/reopen", {"reason": "Objection upheld"}, "supervise"),
    ("post", "/priority", {"priority": "high"}, "work"),
    ("post", "/category", {"category_id": "TRANSFER"}, "work"),
]
ACTIONS = [e for e in ENDPOINTS if e[1] not in ("", "/reveal")]
IDS = [e[1] or "/detail" for e in ENDPOINTS]


def body_for(body: dict[str, Any], ministry: Ministry, other: Request) -> dict[str, Any]:
    values = {"MAKKAH": ministry.makkah.pk, "OTHER": other.tracking_number}
    values["TRANSFER"] = ministry.transfer.pk
    return {key: values.get(value, value) for key, value in body.items()}


def call(api: Api, endpoint: tuple[str, str, dict[str, Any], str], number: str, **kw: Any) -> Any:
    method, suffix, body, _permission = endpoint
    path = f"/requests/{number}{suffix}"
    return api.get(path) if method == "get" else api.post(path, body_for(body, **kw))


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=IDS)
def test_another_region_gets_the_same_404_as_an_unknown_number(
    endpoint: Any, staff: Staff, ministry: Ministry, riyadh_case: Request, riyadh_other: Request
) -> None:
    api = as_(staff.makkah_agent)
    hidden = call(api, endpoint, riyadh_case.tracking_number, ministry=ministry, other=riyadh_other)
    unknown = tracking_number_new()
    missing = call(api, endpoint, unknown, ministry=ministry, other=riyadh_other)
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()
    assert hidden.json()["code"] == "not_found"
    assert kinds_of(riyadh_case) == [EventKind.SUBMITTED]


@pytest.mark.parametrize("who", ["executive", "quality_officer"])
@pytest.mark.parametrize("endpoint", ACTIONS, ids=[e[1] for e in ACTIONS])
def test_viewers_in_reach_get_403_on_actions_they_may_not_do(  # noqa: PLR0917
    endpoint: Any,
    who: str,
    staff: Staff,
    ministry: Ministry,
    riyadh_case: Request,
    riyadh_other: Request,
) -> None:
    api = as_(getattr(staff, who))
    response = call(
        api, endpoint, riyadh_case.tracking_number, ministry=ministry, other=riyadh_other
    )
    quality_may_note = who == "quality_officer" and endpoint[3] == "note"
    if quality_may_note:
        assert response.status_code == 201
        return
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    assert kinds_of(riyadh_case) == [EventKind.SUBMITTED]
    assert fresh(riyadh_case).status == Status.NEW


@pytest.mark.parametrize("endpoint", ACTIONS, ids=[e[1] for e in ACTIONS])
def test_a_read_only_token_gets_insufficient_scope_on_actions(
    endpoint: Any, staff: Staff, ministry: Ministry, riyadh_case: Request, riyadh_other: Request
) -> None:
    api = as_(staff.riyadh_supervisor, (Scope.REQUESTS_READ,))
    response = call(
        api, endpoint, riyadh_case.tracking_number, ministry=ministry, other=riyadh_other
    )
    assert response.status_code == 403
    assert response.json()["code"] == "insufficient_scope"
    assert kinds_of(riyadh_case) == [EventKind.SUBMITTED]


def test_a_write_only_token_cannot_read(staff: Staff, riyadh_case: Request) -> None:
    api = as_(staff.riyadh_agent, (Scope.REQUESTS_WRITE,))
    for path in ("/queues", "/requests", f"/requests/{riyadh_case.tracking_number}"):
        response = api.get(path)
        assert response.status_code == 403
        assert response.json()["code"] == "insufficient_scope"


def _revoked(user: Any) -> str:
    issued = personal_token_create(user=user, name="old", scopes=BOTH)
    credential_revoke(issued.record)
    return issued.secret


def _expired(user: Any) -> str:
    issued = personal_token_create(user=user, name="old", scopes=BOTH, days=1)
    past = timezone.now() - timedelta(minutes=1)
    PersonalAccessToken.objects.filter(pk=issued.record.pk).update(expires_at=past)
    return issued.secret


def _deactivated(user: Any) -> str:
    secret = token(user)
    user.is_active = False
    user.save(update_fields=["is_active"])
    return secret


@pytest.mark.parametrize(
    "credential",
    [_revoked, _expired, _deactivated, lambda user: "twp_not-a-real-token", lambda user: ""],
    ids=["revoked", "expired", "deactivated", "unknown", "missing"],
)
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=IDS)
def test_dead_credentials_get_401(  # noqa: PLR0917
    endpoint: Any,
    credential: Any,
    staff: Staff,
    ministry: Ministry,
    riyadh_case: Request,
    riyadh_other: Request,
) -> None:
    api = Api(credential(staff.riyadh_supervisor))
    response = call(
        api, endpoint, riyadh_case.tracking_number, ministry=ministry, other=riyadh_other
    )
    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"
    assert response["WWW-Authenticate"] == "Bearer"
    assert kinds_of(riyadh_case) == [EventKind.SUBMITTED]


@pytest.mark.parametrize("path", ["/queues", "/requests"])
def test_dead_credentials_get_401_on_lists(staff: Staff, path: str) -> None:
    assert Api(_revoked(staff.riyadh_agent)).get(path).status_code == 401
    assert Api(_deactivated(staff.riyadh_agent2)).get(path).status_code == 401


def test_a_token_of_an_account_without_grants_is_refused(
    staff: Staff, riyadh_case: Request
) -> None:
    api = as_(staff.outsider)
    for response in (
        api.get("/queues"),
        api.get("/requests"),
        api.get(f"/requests/{riyadh_case.tracking_number}"),
        api.post(f"/requests/{riyadh_case.tracking_number}/claim"),
    ):
        assert response.status_code == 403
        assert response.json()["code"] == "not_staff"


@pytest.mark.parametrize("number", ["abc", "123", "00000000000", "%00", "1" * 200, "٤٨٢-٩٣١٠-٥٧٢٦"])
def test_any_shape_of_number_is_a_plain_404(staff: Staff, number: str) -> None:
    api = as_(staff.riyadh_agent)
    unknown = api.get(f"/requests/{tracking_number_new()}").json()
    response = api.get(f"/requests/{number}")
    assert response.status_code == 404
    assert response.json() == unknown
    assert api.post(f"/requests/{number}/claim").status_code == 404


# --- reading one request --------------------------------------------------------------------


def test_the_workspace_read_shows_thread_events_files_sla_links_and_masks_contact(
    staff: Staff, ministry: Ministry, sara: Beneficiary, riyadh_other: Request
) -> None:
    case = submit(
        ministry, sara, ministry.riyadh, attachments=[attachment_check(name="r.pdf", content=PDF)]
    )
    agent = staff.riyadh_agent
    svc.request_claim(request=case, by=agent)
    svc.request_start(request=case, by=agent)
    svc.request_reply(request=case, by=agent, body="We are checking.")
    svc.request_note(request=case, by=agent, body="School says tomorrow.")
    svc.request_link(request=case, other=riyadh_other, by=agent)

    response = as_(staff.riyadh_agent2).get(
        f"/requests/{tracking_number_display(case.tracking_number)}"
    )

    assert response.status_code == 200
    body = response.json()
    assert body["tracking_number"] == case.tracking_number
    assert body["status"] == Status.IN_PROGRESS
    assert body["assignee"]["username"] == "riyadh_agent"
    assert [(m["visibility"], m["body"]) for m in body["thread"]] == [
        (Visibility.PUBLIC, "We are checking."),
        (Visibility.INTERNAL, "School says tomorrow."),
    ]
    kinds = [event["kind"] for event in body["events"]]
    assert kinds[:2] == [EventKind.SUBMITTED, EventKind.CLAIMED]
    assert EventKind.NOTE_ADDED in kinds
    assert EventKind.LINKED in kinds
    assert [a["name"] for a in body["attachments"]] == ["r.pdf"]
    assert body["attachments"][0]["size"] == len(PDF)
    assert body["clocks"]["resolution_due"] is not None
    assert body["linked"] == [
        {
            "tracking_number": riyadh_other.tracking_number,
            "subject": riyadh_other.subject,
            "status": Status.NEW,
        }
    ]
    assert body["beneficiary"]["name"] == sara.full_name
    assert body["beneficiary"]["mobile"] == sara.masked_mobile != sara.mobile
    assert body["beneficiary_name"] == name_masked(sara.full_name) == "سارة ا•••"
    text = response.content.decode()
    assert sara.national_id not in text
    assert sara.mobile not in text
    assert "national_id" not in text


def test_reveal_returns_the_contact_and_logs_it(
    staff: Staff, riyadh_case: Request, sara: Beneficiary
) -> None:
    response = as_(staff.quality_officer).post(f"/requests/{riyadh_case.tracking_number}/reveal")
    assert response.status_code == 200
    assert response.json() == {"name": sara.full_name, "mobile": sara.mobile, "email": sara.email}
    assert "no-store" in response["Cache-Control"]
    assert sara.national_id not in response.content.decode()
    revealed = Event.objects.get(request=riyadh_case, kind=EventKind.BENEFICIARY_REVEALED)
    assert revealed.actor_user_id == staff.quality_officer.pk
    assert revealed.is_public is False


# --- actions and their effects ----------------------------------------------------------------


def test_the_working_life_of_a_request_through_the_api(
    staff: Staff, riyadh_case: Request, sara: Beneficiary
) -> None:
    agent = as_(staff.riyadh_agent)
    supervisor = as_(staff.riyadh_supervisor)
    path = f"/requests/{riyadh_case.tracking_number}"

    claimed = agent.post(f"{path}/claim")
    assert claimed.status_code == 200
    assert claimed.json()["status"] == Status.ASSIGNED
    assert fresh(riyadh_case).assignee_id == staff.riyadh_agent.pk

    assert agent.post(f"{path}/start").json()["status"] == Status.IN_PROGRESS

    replied = agent.post(f"{path}/reply", {"body": "We are on it."})
    assert replied.status_code == 201
    assert replied.json()["message"]["visibility"] == Visibility.PUBLIC
    assert replied.json()["request"]["status"] == Status.IN_PROGRESS
    assert fresh(riyadh_case).first_response_at is not None

    noted = agent.post(f"{path}/note", {"body": "Internal: waiting on the school."})
    assert noted.status_code == 201
    note = Message.objects.get(pk=noted.json()["message"]["id"])
    assert note.visibility == Visibility.INTERNAL

    asked = agent.post(f"{path}/ask", {"question": "Which grade is your son in?"})
    assert asked.json()["status"] == Status.AWAITING_BENEFICIARY
    assert fresh(riyadh_case).sla_resolution_state == SlaState.PAUSED
    svc.request_beneficiary_reply(request=riyadh_case, beneficiary=sara, body="Grade 9.")

    answered = agent.post(
        f"{path}/answer",
        {"resolution": "The results are now published.", "resolution_code": "resolved"},
    )
    assert answered.json()["status"] == Status.ANSWERED
    stored = fresh(riyadh_case)
    assert (stored.resolution, stored.resolution_code) == (
        "The results are now published.",
        "resolved",
    )

    svc.request_object(
        request=riyadh_case, beneficiary=sara, reason="The results are still not showing."
    )
    assert agent.post(f"{path}/reopen", {"reason": "Upheld"}).status_code == 403
    reopened = supervisor.post(f"{path}/reopen", {"reason": "Objection upheld"})
    assert reopened.json()["status"] == Status.IN_PROGRESS

    cancelled = supervisor.post(f"{path}/cancel", {"reason": "Duplicate of a call"})
    assert cancelled.json()["status"] == Status.CANCELLED
    assert fresh(riyadh_case).cancel_reason == "Duplicate of a call"

    assert kinds_of(riyadh_case) == [
        EventKind.SUBMITTED,
        EventKind.CLAIMED,
        EventKind.STARTED,
        EventKind.REPLIED,
        EventKind.NOTE_ADDED,
        EventKind.INFO_REQUESTED,
        EventKind.BENEFICIARY_REPLIED,
        EventKind.ANSWERED,
        EventKind.OBJECTED,
        EventKind.REOPENED,
        EventKind.CANCELLED,
    ]
    actors = set(
        Event.objects.filter(request=riyadh_case, kind=EventKind.CANCELLED).values_list(
            "actor_user_id", flat=True
        )
    )
    assert actors == {staff.riyadh_supervisor.pk}


@pytest.mark.parametrize("assignee", ["username", "id", "id-as-text"])
def test_assign_by_username_or_id(staff: Staff, riyadh_case: Request, assignee: str) -> None:
    agent = staff.riyadh_agent2
    value: Any = {"username": "riyadh_agent2", "id": agent.pk, "id-as-text": str(agent.pk)}[
        assignee
    ]
    response = as_(staff.riyadh_supervisor).post(
        f"/requests/{riyadh_case.tracking_number}/assign", {"assignee": value}
    )
    assert response.status_code == 200
    assert response.json()["assignee"]["id"] == agent.pk
    assert fresh(riyadh_case).assignee_id == agent.pk
    event = Event.objects.get(request=riyadh_case, kind=EventKind.ASSIGNED)
    assert event.data == {"assignee": agent.pk}


@pytest.mark.parametrize("assignee", ["makkah_agent", "nobody-by-this-name", 999_999])
def test_assign_refuses_people_who_cannot_work_it(
    staff: Staff, riyadh_case: Request, assignee: Any
) -> None:
    response = as_(staff.riyadh_supervisor).post(
        f"/requests/{riyadh_case.tracking_number}/assign", {"assignee": assignee}
    )
    assert response.status_code == 422
    assert response.json()["details"]["field"] == "assignee"
    assert fresh(riyadh_case).assignee_id is None


def test_forward_then_return(staff: Staff, ministry: Ministry, riyadh_case: Request) -> None:
    path = f"/requests/{riyadh_case.tracking_number}"
    moved = as_(staff.riyadh_agent).post(
        f"{path}/forward", {"entity_id": ministry.makkah.pk, "reason": "Makkah school"}
    )
    assert moved.status_code == 200
    assert moved.json()["entity"]["code"] == "makkah"
    assert fresh(riyadh_case).entity_id == ministry.makkah.pk
    # It has left Riyadh's reach: now 404 for Riyadh, workable by Makkah.
    assert as_(staff.riyadh_agent).get(path).status_code == 404
    back = as_(staff.makkah_agent).post(f"{path}/return", {"reason": "Not a Makkah school"})
    assert back.status_code == 200
    assert fresh(riyadh_case).entity_id == ministry.riyadh.pk
    assert fresh(riyadh_case).transfer_count == 2
    returned = Event.objects.get(request=riyadh_case, kind=EventKind.RETURNED)
    assert returned.data["to_entity"] == ministry.riyadh.pk


def test_forward_to_an_unknown_entity_is_a_field_error(staff: Staff, riyadh_case: Request) -> None:
    response = as_(staff.riyadh_agent).post(
        f"/requests/{riyadh_case.tracking_number}/forward", {"entity_id": 987654, "reason": "x y z"}
    )
    assert response.status_code == 422
    assert response.json()["details"] == {"field": "entity_id"}
    assert fresh(riyadh_case).entity_id == riyadh_case.entity_id


def test_merge_and_link(staff: Staff, riyadh_case: Request, riyadh_other: Request) -> None:
    agent = as_(staff.riyadh_agent)
    linked = agent.post(
        f"/requests/{riyadh_case.tracking_number}/link",
        {"other": tracking_number_display(riyadh_other.tracking_number)},
    )
    assert linked.status_code == 200
    assert RequestLink.objects.filter(request=riyadh_case, related=riyadh_other).exists()
    again = agent.post(
        f"/requests/{riyadh_case.tracking_number}/link", {"other": riyadh_other.tracking_number}
    )
    assert again.status_code == 409
    assert again.json()["code"] == "already_linked"

    merged = agent.post(
        f"/requests/{riyadh_case.tracking_number}/merge",
        {"into": riyadh_other.tracking_number, "reason": "Same complaint"},
    )
    assert merged.status_code == 200
    assert merged.json()["status"] == Status.CLOSED
    assert fresh(riyadh_case).merged_into_id == riyadh_other.pk
    assert EventKind.MERGED_FROM in kinds_of(riyadh_other)


def test_link_to_a_request_out_of_reach_is_a_field_error(
    staff: Staff, ministry: Ministry, sara: Beneficiary, riyadh_case: Request
) -> None:
    makkah = submit(ministry, sara, ministry.makkah)
    response = as_(staff.riyadh_agent).post(
        f"/requests/{riyadh_case.tracking_number}/link", {"other": makkah.tracking_number}
    )
    assert response.status_code == 422
    assert response.json()["code"] == "other_not_found"
    assert not RequestLink.objects.exists()


def test_priority_and_category(staff: Staff, ministry: Ministry, riyadh_case: Request) -> None:
    agent = as_(staff.riyadh_agent)
    path = f"/requests/{riyadh_case.tracking_number}"
    assert agent.post(f"{path}/priority", {"priority": "urgent"}).json()["priority"] == "urgent"
    assert fresh(riyadh_case).priority == Priority.URGENT
    same = agent.post(f"{path}/priority", {"priority": "urgent"})
    assert (same.status_code, same.json()["code"]) == (422, "same_priority")
    assert agent.post(f"{path}/priority", {"priority": "whenever"}).status_code == 422

    moved = agent.post(f"{path}/category", {"category_id": ministry.transfer.pk})
    assert moved.json()["category"]["code"] == "transfer"
    assert fresh(riyadh_case).category_id == ministry.transfer.pk
    wrong_kind = agent.post(f"{path}/category", {"category_id": ministry.praise_only.pk})
    assert (wrong_kind.status_code, wrong_kind.json()["code"]) == (422, "category_kind")
    assert kinds_of(riyadh_case)[1:] == [EventKind.REPRIORITISED, EventKind.RECATEGORISED]


def test_domain_errors_keep_their_status_and_change_nothing(
    staff: Staff, riyadh_case: Request
) -> None:
    path = f"/requests/{riyadh_case.tracking_number}"
    early = as_(staff.riyadh_supervisor).post(f"{path}/start")
    assert (early.status_code, early.json()["code"]) == (409, "illegal_transition")
    assert as_(staff.riyadh_agent).post(f"{path}/claim").status_code == 200
    second = as_(staff.riyadh_agent2).post(f"{path}/claim")
    assert (second.status_code, second.json()["code"]) == (409, "already_claimed")
    as_(staff.riyadh_agent).post(f"{path}/start")
    short = as_(staff.riyadh_agent).post(f"{path}/answer", {"resolution": "ok"})
    assert (short.status_code, short.json()["code"]) == (422, "length")
    assert fresh(riyadh_case).status == Status.IN_PROGRESS
    assert fresh(riyadh_case).assignee_id == staff.riyadh_agent.pk


@pytest.mark.parametrize(
    "body",
    [{}, {"body": ""}, {"body": "a\x00b"}, {"body": "x" * 10_001}, {"body": 5}, {"text": "hi"}],
    ids=["missing", "empty", "nul", "too-long", "number", "wrong-field"],
)
def test_bad_bodies_are_422_and_write_nothing(
    staff: Staff, riyadh_case: Request, body: Any
) -> None:
    response = as_(staff.riyadh_agent).post(f"/requests/{riyadh_case.tracking_number}/note", body)
    assert response.status_code == 422
    assert set(response.json()) == {"code", "message", "details"}
    assert not Message.objects.exists()


def test_an_idempotency_key_makes_a_retried_reply_safe(staff: Staff, riyadh_case: Request) -> None:
    agent = as_(staff.riyadh_agent)
    path = f"/requests/{riyadh_case.tracking_number}"
    agent.post(f"{path}/claim")
    first = agent.post(f"{path}/reply", {"body": "Hello"}, **{"Idempotency-Key": "k-1"})
    retry = agent.post(f"{path}/reply", {"body": "Hello"}, **{"Idempotency-Key": "k-1"})
    assert first.status_code == retry.status_code == 201
    assert first.json() == retry.json()
    assert retry["Idempotent-Replayed"] == "true"
    assert Message.objects.filter(request=riyadh_case).count() == 1


# --- queues and lists ---------------------------------------------------------------------------


@pytest.fixture
def world(
    ministry: Ministry, staff: Staff, sara: Beneficiary, khalid: Beneficiary
) -> dict[str, Request]:
    now = timezone.now()
    cases = {
        "riyadh_new": submit(ministry, sara, ministry.riyadh, "Riyadh new"),
        "riyadh_mine": submit(
            ministry, sara, ministry.riyadh, "Riyadh claimed", priority=Priority.URGENT
        ),
        "office": submit(
            ministry,
            khalid,
            ministry.riyadh_office,
            "Office transfer",
            kind=Kind.INQUIRY,
            category=ministry.transfer,
            channel=Channel.CALL_CENTRE,
        ),
        "riyadh_overdue": submit(ministry, sara, ministry.riyadh, "Riyadh overdue"),
        "makkah": submit(ministry, sara, ministry.makkah, "Makkah complaint"),
    }
    svc.request_claim(request=cases["riyadh_mine"], by=staff.riyadh_agent)
    Request.objects.filter(pk=cases["riyadh_overdue"].pk).update(
        status=Status.IN_PROGRESS,
        sla_stage=SlaStage.BREACHED,
        sla_resolution_state=SlaState.BREACHED,
        resolution_due=now - timedelta(days=2),
    )
    return cases


def listed(api: Api, **params: Any) -> set[str]:
    response = api.get("/requests", **params)
    assert response.status_code == 200, response.json()
    return {row["tracking_number"] for row in response.json()["results"]}


def numbers(world: dict[str, Request], *names: str) -> set[str]:
    return {world[name].tracking_number for name in names}


def test_queues_with_capped_counts(staff: Staff, world: dict[str, Request]) -> None:
    response = as_(staff.riyadh_agent).get("/queues")
    assert response.status_code == 200
    counts = {queue["name"]: queue["count"] for queue in response.json()}
    assert counts == {
        "mine": 1,
        "unassigned": 2,
        "subtree": 4,
        "at_risk": 0,
        "overdue": 1,
        "waiting": 0,
        "answered": 0,
    }
    mine = response.json()[0]
    assert mine["label"] == {"ar": mine["label"]["ar"], "en": "Mine"}
    assert mine["count_capped"] is False


def test_queue_counts_are_capped(
    staff: Staff, world: dict[str, Request], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("tawasul.api.staff.COUNT_CAP", 2)
    subtree = next(
        q for q in as_(staff.riyadh_agent).get("/queues").json() if q["name"] == "subtree"
    )
    assert (subtree["count"], subtree["count_capped"]) == (2, True)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ("riyadh_new", "riyadh_mine", "office", "riyadh_overdue")),
        ({"queue": "mine"}, ("riyadh_mine",)),
        ({"queue": "unassigned"}, ("riyadh_new", "office")),
        ({"queue": "overdue"}, ("riyadh_overdue",)),
        ({"status": "in_progress"}, ("riyadh_overdue",)),
        ({"status": "open"}, ("riyadh_new", "riyadh_mine", "office", "riyadh_overdue")),
        ({"kind": "inquiry"}, ("office",)),
        ({"channel": "call_centre"}, ("office",)),
        ({"priority": "urgent"}, ("riyadh_mine",)),
        ({"category": "TRANSFER"}, ("office",)),
        ({"entity": "OFFICE"}, ()),  # the office has no centre: its requests go to Riyadh
        ({"entity": "RIYADH"}, ("riyadh_new", "riyadh_mine", "office", "riyadh_overdue")),
        ({"sla": "breached"}, ("riyadh_overdue",)),
        ({"assignee": "me"}, ("riyadh_mine",)),
        ({"assignee": "riyadh_agent"}, ("riyadh_mine",)),
        ({"assignee": "none"}, ("riyadh_new", "office", "riyadh_overdue")),
        ({"q": "overdue"}, ("riyadh_overdue",)),
        ({"q": "NUMBER"}, ("office",)),
        ({"q": "Makkah"}, ()),
        ({"from": "2000-01-01", "to": "2000-01-02"}, ()),
    ],
)
def test_list_filters(
    staff: Staff,
    ministry: Ministry,
    world: dict[str, Request],
    params: dict[str, str],
    expected: tuple[str, ...],
) -> None:
    replace = {
        "TRANSFER": str(ministry.transfer.pk),
        "OFFICE": str(ministry.riyadh_office.pk),
        "RIYADH": str(ministry.riyadh.pk),
        "NUMBER": tracking_number_display(world["office"].tracking_number),
    }
    params = {key: replace.get(value, value) for key, value in params.items()}
    assert listed(as_(staff.riyadh_agent), **params) == numbers(world, *expected)


def test_list_rows_carry_what_the_console_shows(
    staff: Staff, world: dict[str, Request], khalid: Beneficiary
) -> None:
    response = as_(staff.riyadh_agent).get("/requests", q="Office transfer")
    (row,) = response.json()["results"]
    assert row["subject"] == "Office transfer"
    assert row["entity"]["code"] == "riyadh"
    assert row["category"]["name_en"] == "Teacher transfer"
    assert row["beneficiary_name"] == "Khalid R•••"
    assert row["sla"]["code"] in {"running", "none"}
    assert row["resolution_due"] is not None
    assert khalid.email not in response.content.decode()


def test_another_region_never_lists_riyadh(staff: Staff, world: dict[str, Request]) -> None:
    api = as_(staff.makkah_agent)
    assert listed(api) == numbers(world, "makkah")
    riyadh = world["riyadh_new"].tracking_number
    assert listed(api, q=riyadh) == set()


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "bogus"}, "status"),
        ({"kind": "letter"}, "kind"),
        ({"queue": "everything"}, "queue"),
        ({"sort": "random"}, "sort"),
        ({"sla": "late"}, "sla"),
        ({"limit": "0"}, "limit"),
        ({"limit": "1000"}, "limit"),
        ({"category": "abc"}, "category"),
        ({"category": "99999999999999999999999"}, "category"),
        ({"from": "yesterday"}, "from"),
        ({"q": "a\x00b"}, "q"),
        ({"q": "x" * 201}, "q"),
    ],
)
def test_bad_filters_are_422_with_field_errors(
    staff: Staff, world: dict[str, Request], params: dict[str, str], field: str
) -> None:
    response = as_(staff.riyadh_agent).get("/requests", **params)
    assert response.status_code == 422
    assert response.json()["code"] == "invalid"
    assert field in response.json()["details"]["fields"]


def _cursor(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    ("params", "code", "field"),
    [
        ({"category": "987654"}, "category_unknown", "category"),
        ({"entity": "MAKKAH"}, "entity_unknown", "entity"),
        ({"cursor": "not-a-cursor"}, "cursor_invalid", "cursor"),
        ({"cursor": _cursor(["2024-13-45T00:00:00+00:00", 1])}, "cursor_invalid", "cursor"),
        ({"cursor": _cursor(["2024-01-01T00:00:00", 1])}, "cursor_invalid", "cursor"),
        ({"cursor": _cursor(["2024-01-01T00:00:00+00:00", 2**70])}, "cursor_invalid", "cursor"),
        ({"cursor": _cursor(["9999-12-31T23:59:59-14:00", 1])}, "cursor_invalid", "cursor"),
        ({"cursor": _cursor([1]), "sort": "priority"}, "cursor_invalid", "cursor"),
    ],
)
def test_bad_references_and_cursors_are_422(  # noqa: PLR0917
    staff: Staff,
    ministry: Ministry,
    world: dict[str, Request],
    params: dict[str, str],
    code: str,
    field: str,
) -> None:
    if params.get("entity") == "MAKKAH":
        params = {"entity": str(ministry.makkah.pk)}
    response = as_(staff.riyadh_agent).get("/requests", **params)
    assert response.status_code == 422
    assert response.json()["code"] == code
    assert response.json()["details"] == {"field": field}


@pytest.fixture
def many(ministry: Ministry, staff: Staff, sara: Beneficiary) -> list[Request]:
    """Eleven Riyadh requests with ties in due date and priority (the keyset must break them)."""
    cases = [submit(ministry, sara, ministry.riyadh, f"Case {index:02}") for index in range(11)]
    due = timezone.now() + timedelta(days=3)
    for index, case in enumerate(cases):
        Request.objects.filter(pk=case.pk).update(
            resolution_due=None if index % 4 == 0 else due + timedelta(hours=index % 3),
            priority=[Priority.URGENT, Priority.NORMAL, Priority.LOW][index % 3],
        )
    return cases


@pytest.mark.parametrize("sort", ["-created", "created", "due", "-due", "priority"])
def test_cursor_pages_are_disjoint_complete_and_stable(
    staff: Staff, many: list[Request], sort: str
) -> None:
    api = as_(staff.riyadh_agent)
    whole = api.get("/requests", sort=sort, limit=100).json()["results"]
    assert len(whole) == len(many)
    pages: list[list[str]] = []
    cursors: list[str] = []
    cursor = ""
    while True:
        params: dict[str, Any] = {"sort": sort, "limit": 4}
        if cursor:
            params["cursor"] = cursor
        body = api.get("/requests", **params).json()
        pages.append([row["tracking_number"] for row in body["results"]])
        if not body["next_cursor"]:
            break
        cursor = body["next_cursor"]
        cursors.append(cursor)
    flat = [number for page in pages for number in page]
    assert [len(page) for page in pages] == [4, 4, 3]
    assert len(set(flat)) == len(flat)  # disjoint
    assert flat == [row["tracking_number"] for row in whole]  # complete, in the sort's order
    again = api.get("/requests", sort=sort, limit=4, cursor=cursors[0]).json()["results"]
    assert [row["tracking_number"] for row in again] == pages[1]  # stable


def test_the_list_costs_the_same_queries_whatever_the_rows(
    staff: Staff, ministry: Ministry, sara: Beneficiary, django_assert_max_num_queries: Any
) -> None:
    api = as_(staff.riyadh_agent)
    api.get("/requests")  # warm: the token's first use records `last_used_at`

    def cost() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert api.get("/requests", limit=100).status_code == 200
        return len(queries)

    submit(ministry, sara, ministry.riyadh)
    one = cost()
    for index in range(12):
        case = submit(ministry, sara, ministry.riyadh, f"Row {index}")
        svc.request_claim(request=case, by=staff.riyadh_agent if index % 2 else staff.riyadh_agent2)
    assert cost() == one
    with django_assert_max_num_queries(one):
        body = api.get("/requests", limit=100).json()
    assert len(body["results"]) == 13


# --- the console page for one's own tokens ------------------------------------------------------


def test_a_member_creates_a_token_in_the_console_and_uses_it(
    staff: Staff, riyadh_case: Request
) -> None:
    console = Client()
    console.force_login(staff.riyadh_agent)
    created = console.post(
        "/console/tokens/", {"name": "my script", "scopes": ["requests:read"], "days": "30"}
    )
    assert created.status_code == 201
    assert "no-store" in created["Cache-Control"]
    secret = created.context["secret"]
    assert secret.startswith("twp_")
    assert secret in created.content.decode()
    stored = PersonalAccessToken.objects.get(user=staff.riyadh_agent)
    assert (stored.name, stored.scopes) == ("my script", ["requests:read"])
    assert secret not in console.get("/console/tokens/").content.decode()  # shown once

    api = Api(secret)
    assert api.get(f"/requests/{riyadh_case.tracking_number}").status_code == 200
    assert api.post(f"/requests/{riyadh_case.tracking_number}/claim").status_code == 403

    revoked = console.post(f"/console/tokens/{stored.pk}/revoke/")
    assert revoked.status_code == 302
    assert api.get(f"/requests/{riyadh_case.tracking_number}").status_code == 401


def test_a_member_cannot_revoke_someone_elses_token(staff: Staff) -> None:
    theirs = personal_token_create(user=staff.riyadh_agent2, name="theirs", scopes=BOTH)
    console = Client()
    console.force_login(staff.riyadh_agent)
    assert console.post(f"/console/tokens/{theirs.record.pk}/revoke/").status_code == 404
    assert PersonalAccessToken.objects.get(pk=theirs.record.pk).revoked_at is None
    page = console.get("/console/tokens/").content.decode()
    assert theirs.record.prefix not in page


@pytest.mark.parametrize(
    "form",
    [
        {"name": "", "scopes": ["requests:read"], "days": "30"},
        {"name": "x", "scopes": ["webhooks"], "days": "30"},
        {"name": "x", "scopes": ["requests:read"], "days": "7"},
    ],
    ids=["no-name", "partner-scope", "odd-lifetime"],
)
def test_a_bad_token_form_creates_nothing(staff: Staff, form: dict[str, Any]) -> None:
    console = Client()
    console.force_login(staff.riyadh_agent)
    assert console.post("/console/tokens/", form).status_code == 400
    assert not PersonalAccessToken.objects.exists()


def test_the_token_page_is_for_staff_only(staff: Staff) -> None:
    console = Client()
    assert console.get("/console/tokens/").status_code == 302  # to sign-in
    console.force_login(staff.outsider)
    assert console.get("/console/tokens/").status_code == 403


def test_unknown_list_parameters_are_refused(staff: Staff) -> None:
    response = as_(staff.riyadh_agent).get("/requests", stauts="new")
    assert response.status_code == 422
    assert response.json()["details"] == {"field": "stauts", "fields": ["stauts"]}
