"""The telephony system's webhook end to end: signed call events become one `Call` per
call id (whatever their order and however often they come); forged, stale, replayed out of
the window, malformed and misaddressed events are refused with nothing written; a linked
call is written on its request's timeline exactly once, when its after-call work is done."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from tawasul.beneficiaries.models import Beneficiary
from tawasul.cases.models import Event, EventKind, Request
from tawasul.cases.services import request_submit
from tawasul.channels.calls import (
    call_event_apply,
    call_event_parse,
    call_link,
    call_outcome_set,
    calls_wrap_up_sweep,
    duration_display,
)
from tawasul.channels.models import (
    Call,
    CallOutcome,
    CallStatus,
    ChannelAccount,
    ChannelIdentity,
    ChannelKind,
    IdentityKind,
)
from tawasul.core.errors import AccessDenied, Conflict
from tawasul.directory.models import CareCentre

from .channel_servers import channel_account
from .threads import race

pytestmark = pytest.mark.django_db

SECRET = "cti-shared-secret-2025"
SARA = "+966551234567"
UNKNOWN = "+966509876543"


# --- the telephony system, as a test sees it -------------------------------------------------


def cti_line(ministry, *, agents: dict[str, str] | None = None, **settings: Any) -> ChannelAccount:
    """The Riyadh centre's telephony line, signing with SECRET."""
    return channel_account(
        kind=ChannelKind.CTI,
        centre=CareCentre.objects.get(entity=ministry.riyadh),
        settings={"agents": agents or {}, **settings},
        secrets={"webhook_secret": SECRET},
        name="Riyadh call centre",
    )


def signed(body: bytes, *, secret: str = SECRET, at: int | None = None) -> dict[str, str]:
    """The headers the telephony system sends: HMAC-SHA256 of "<timestamp>.<body>"."""
    timestamp = str(int(time.time()) if at is None else at)
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return {"X-Tawasul-Timestamp": timestamp, "X-Tawasul-Signature": f"sha256={digest.hexdigest()}"}


def event(kind: str, call_id: str = "c-1001", **fields: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "event": kind,
        "call_id": call_id,
        "from": SARA,
        "to": "+966112345678",
        "at": int(time.time()),
    }
    payload.update(fields)
    return payload


def cti_post(client: Client, account: ChannelAccount, payload: Any, **signing: Any):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return client.post(
        f"/channels/cti/{account.public_id}/events",
        data=body,
        content_type="application/json",
        headers=signed(body, **signing),
    )


def submit(ministry, beneficiary, entity) -> Request:
    return request_submit(
        beneficiary=beneficiary,
        kind="inquiry",
        category=ministry.exams,
        subject="Exam results date",
        description="When will the final exam results appear?",
        entity=entity,
    )


def call_events(request: Request) -> list[Event]:
    return list(Event.objects.filter(request=request, kind=EventKind.CALL_LOGGED))


# --- signed events become calls --------------------------------------------------------------


def test_a_ringing_call_from_a_known_mobile_is_recorded_for_its_agent(
    client, ministry, staff, sara
):
    # given the Riyadh line and Sara's registered mobile
    line = cti_line(ministry)
    # when the telephony system reports her call ringing at the Riyadh agent
    response = cti_post(client, line, event("ringing", agent="riyadh_agent", extension="1001"))
    # then one call is recorded, recognised as Sara's, at that agent's desk
    assert response.status_code == 200
    call = Call.objects.get()
    assert response.json() == {"call": str(call.public_id), "status": "ringing"}
    assert (call.account, call.call_id, call.caller) == (line, "c-1001", SARA)
    assert call.status == CallStatus.RINGING
    assert call.beneficiary == sara
    assert call.agent == staff.riyadh_agent
    assert call.extension == "1001"


def test_ringing_answered_ended_fill_in_the_call(client, ministry, staff, sara):
    line = cti_line(ministry)
    start = int(time.time()) - 200
    # when the call rings, is answered 10 s later and ends after 125 s of talk
    cti_post(client, line, event("ringing", at=start, agent="riyadh_agent"))
    cti_post(client, line, event("answered", at=start + 10, agent="riyadh_agent"))
    cti_post(client, line, event("ended", at=start + 135, duration=125))
    # then the call holds every moment and its length
    call = Call.objects.get()
    assert call.status == CallStatus.ENDED
    assert call.started_at.timestamp() == start
    assert call.answered_at is not None
    assert call.answered_at.timestamp() == start + 10
    assert call.ended_at is not None
    assert call.ended_at.timestamp() == start + 135
    assert call.duration_seconds == 125


def test_events_out_of_order_and_repeated_make_one_call(client, ministry, staff, sara):
    line = cti_line(ministry)
    start = int(time.time()) - 100
    # when `ended` arrives first, then `ringing` twice, then a late `answered`
    responses = [
        cti_post(client, line, event("ended", at=start + 60, duration=50)),
        cti_post(client, line, event("ringing", at=start, agent="riyadh_agent")),
        cti_post(client, line, event("ringing", at=start, agent="riyadh_agent")),
        cti_post(client, line, event("answered", at=start + 10, agent="riyadh_agent")),
    ]
    # then each is accepted and they make one ended call, never moved back to ringing
    assert [r.status_code for r in responses] == [200, 200, 200, 200]
    call = Call.objects.get()
    assert call.status == CallStatus.ENDED
    assert call.started_at.timestamp() == start
    assert call.ended_at is not None
    assert call.ended_at.timestamp() == start + 60
    assert call.duration_seconds == 50
    assert call.agent == staff.riyadh_agent


def test_a_call_ended_without_being_answered_is_missed(client, ministry, staff, sara):
    line = cti_line(ministry)
    start = int(time.time()) - 30
    cti_post(client, line, event("ringing", at=start, agent="riyadh_agent"))
    cti_post(client, line, event("ended", at=start + 20, duration=0))
    call = Call.objects.get()
    assert call.status == CallStatus.MISSED
    assert call.duration_seconds == 0
    # a late `answered` shows it was answered after all
    cti_post(client, line, event("answered", at=start + 5))
    call.refresh_from_db()
    assert call.status == CallStatus.ENDED


def test_the_same_signed_event_replayed_changes_nothing(client, ministry, staff, sara):
    line = cti_line(ministry)
    body = json.dumps(event("ringing", agent="riyadh_agent")).encode()
    headers = signed(body)
    url = f"/channels/cti/{line.public_id}/events"
    first = client.post(url, data=body, content_type="application/json", headers=headers)
    again = client.post(url, data=body, content_type="application/json", headers=headers)
    assert (first.status_code, again.status_code) == (200, 200)
    assert first.json() == again.json()
    assert Call.objects.count() == 1


def test_the_extension_maps_to_an_agent_by_the_account_settings(client, ministry, staff, sara):
    # given a line whose extension 1001 is the Riyadh agent's desk
    line = cti_line(ministry, agents={"1001": "riyadh_agent"})
    # when the event names the extension only
    cti_post(client, line, event("ringing", extension="1001"))
    # then the call is at that agent's desk
    assert Call.objects.get().agent == staff.riyadh_agent


def test_the_agent_may_be_named_by_email(client, ministry, staff, sara):
    staff.riyadh_agent2.email = "Agent.Two@moe.example"
    staff.riyadh_agent2.save(update_fields=["email"])
    line = cti_line(ministry)
    cti_post(client, line, event("ringing", agent="agent.two@moe.example"))
    assert Call.objects.get().agent == staff.riyadh_agent2


def test_an_unknown_agent_or_extension_leaves_the_call_without_agent(client, ministry, staff):
    line = cti_line(ministry, agents={"1001": "nobody_here"})
    response = cti_post(client, line, event("ringing", agent="ghost", extension="1001"))
    assert response.status_code == 200
    assert Call.objects.get().agent is None


def test_an_unknown_number_registers_nobody(client, ministry, staff, sara):
    line = cti_line(ministry)
    people = Beneficiary.objects.count()
    cti_post(client, line, event("ringing", **{"from": UNKNOWN, "agent": "riyadh_agent"}))
    call = Call.objects.get()
    assert call.caller == UNKNOWN
    assert call.beneficiary is None
    assert Beneficiary.objects.count() == people
    assert not ChannelIdentity.objects.exists()


def test_a_local_number_is_read_as_e164(client, ministry, staff, sara):
    line = cti_line(ministry)
    cti_post(client, line, event("ringing", **{"from": "0551234567"}))
    call = Call.objects.get()
    assert (call.caller, call.beneficiary) == (SARA, sara)


def test_a_withheld_number_is_an_unknown_caller(client, ministry, staff):
    line = cti_line(ministry)
    payload = event("ringing", agent="riyadh_agent")
    payload["from"] = "anonymous"
    assert cti_post(client, line, payload).status_code == 200
    call = Call.objects.get()
    assert (call.caller, call.beneficiary) == ("", None)


def test_a_whatsapp_number_linked_to_a_beneficiary_recognises_them(client, ministry, staff, khalid):
    # given Khalid (no mobile on file) known by his WhatsApp number
    ChannelIdentity.objects.create(beneficiary=khalid, kind=IdentityKind.WHATSAPP, value=UNKNOWN)
    line = cti_line(ministry)
    cti_post(client, line, event("ringing", **{"from": UNKNOWN}))
    assert Call.objects.get().beneficiary == khalid


# --- what is refused -------------------------------------------------------------------------


def test_a_forged_signature_is_refused(client, ministry, staff, sara):
    line = cti_line(ministry)
    response = cti_post(client, line, event("ringing"), secret="not-the-secret")
    assert response.status_code == 403
    assert response.json() == {"error": "bad_signature"}
    assert not Call.objects.exists()


def test_a_body_changed_after_signing_is_refused(client, ministry, staff, sara):
    line = cti_line(ministry)
    body = json.dumps(event("ringing")).encode()
    headers = signed(body)
    tampered = body.replace(b"c-1001", b"c-6666")
    response = client.post(
        f"/channels/cti/{line.public_id}/events",
        data=tampered,
        content_type="application/json",
        headers=headers,
    )
    assert response.status_code == 403
    assert not Call.objects.exists()


def test_a_missing_signature_is_refused(client, ministry, staff, sara):
    line = cti_line(ministry)
    body = json.dumps(event("ringing")).encode()
    response = client.post(
        f"/channels/cti/{line.public_id}/events",
        data=body,
        content_type="application/json",
        headers={"X-Tawasul-Timestamp": str(int(time.time()))},
    )
    assert response.status_code == 403
    assert response.json() == {"error": "bad_signature"}
    assert not Call.objects.exists()


def test_a_stale_event_replayed_later_is_refused(client, ministry, staff, sara, settings):
    # given an event signed correctly an hour ago (outside the five-minute window)
    line = cti_line(ministry)
    an_hour_ago = int(time.time()) - 3600
    response = cti_post(client, line, event("ringing", at=an_hour_ago), at=an_hour_ago)
    assert response.status_code == 403
    assert response.json() == {"error": "stale"}
    assert not Call.objects.exists()


def test_a_line_without_a_secret_accepts_nothing(client, ministry, staff, sara):
    line = cti_line(ministry)
    line.secrets_set({"webhook_secret": ""})
    line.save(update_fields=["secret_encrypted"])
    response = cti_post(client, line, event("ringing"))
    assert response.status_code == 403
    assert not Call.objects.exists()


@pytest.mark.parametrize(
    "payload",
    [
        b"not json at all",
        b"[1, 2, 3]",
        {"event": "ringing", "from": SARA},  # no call id
        {"event": "on_hold", "call_id": "c-1"},
        {"event": "ringing", "call_id": "c-1", "from": "call me maybe"},
        {"event": "ringing", "call_id": "c-1", "at": "yesterday"},
        {"event": "ended", "call_id": "c-1", "duration": -5},
        {"event": "ended", "call_id": "c-1", "outcome": "very_happy"},
        {"event": "ringing", "call_id": {"nested": 1}},
        {"event": "ringing", "call_id": "c" * 101},
    ],
)
def test_a_malformed_event_is_refused(client, ministry, staff, sara, payload):
    line = cti_line(ministry)
    response = cti_post(client, line, payload)
    assert response.status_code == 400
    assert response.json() == {"error": "malformed"}
    assert not Call.objects.exists()


def test_a_missing_timestamp_is_malformed(client, ministry, staff, sara):
    line = cti_line(ministry)
    response = client.post(
        f"/channels/cti/{line.public_id}/events",
        data=b"{}",
        content_type="application/json",
        headers={"X-Tawasul-Signature": "sha256=00"},
    )
    assert response.status_code == 400
    assert not Call.objects.exists()


def test_unknown_inactive_and_other_kinds_of_account_are_not_found(client, ministry, staff):
    line = cti_line(ministry)
    sms = channel_account(
        kind=ChannelKind.SMS,
        centre=line.centre,
        settings={"url": "http://127.0.0.1:9/sms", "sender": "MOE"},
        secrets={"webhook_secret": SECRET},
    )
    body = json.dumps(event("ringing")).encode()
    for address in (
        "/channels/cti/00000000-0000-0000-0000-000000000000/events",
        "/channels/cti/not-a-uuid/events",
        f"/channels/cti/{sms.public_id}/events",
    ):
        response = client.post(
            address, data=body, content_type="application/json", headers=signed(body)
        )
        assert response.status_code == 404, address
        assert response.json() == {"error": "unknown_account"}
    line.is_active = False
    line.save(update_fields=["is_active"])
    assert cti_post(client, line, event("ringing")).status_code == 404
    assert not Call.objects.exists()


def test_only_post_is_accepted(client, ministry, staff):
    line = cti_line(ministry)
    assert client.get(f"/channels/cti/{line.public_id}/events").status_code == 405


# --- the call on its request's timeline, exactly once ----------------------------------------


def test_a_linked_call_ending_with_an_outcome_is_logged_once(client, ministry, staff, sara):
    # given Sara's open request and her call answered by the Riyadh agent, linked to it
    request = submit(ministry, sara, ministry.riyadh)
    line = cti_line(ministry)
    start = int(time.time()) - 100
    cti_post(client, line, event("ringing", at=start, agent="riyadh_agent"))
    cti_post(client, line, event("answered", at=start + 5, agent="riyadh_agent"))
    call = Call.objects.get()
    call_link(call=call, request=request, by=staff.riyadh_agent)
    assert call_events(request) == []  # not over yet
    # when the call ends with an outcome from the telephony system, and `ended` comes twice
    cti_post(client, line, event("ended", at=start + 95, duration=90, outcome="follow_up"))
    cti_post(client, line, event("ended", at=start + 95, duration=90, outcome="follow_up"))
    # then one internal event on the request says how long and what came of it
    [logged] = call_events(request)
    assert logged.data == {
        "call": str(call.public_id),
        "duration_seconds": 90,
        "outcome": "follow_up",
        "agent": staff.riyadh_agent.pk,
    }
    assert logged.actor_user == staff.riyadh_agent
    assert logged.is_public is False
    call.refresh_from_db()
    assert call.logged_at is not None


def test_the_outcome_recorded_after_the_call_logs_it(client, ministry, staff, sara):
    request = submit(ministry, sara, ministry.riyadh)
    line = cti_line(ministry)
    cti_post(client, line, event("answered", agent="riyadh_agent"))
    call = Call.objects.get()
    call_link(call=call, request=request, by=staff.riyadh_agent)
    cti_post(client, line, event("ended", duration=61))
    # the call is over but its after-call work is not: nothing on the timeline yet
    assert call_events(request) == []
    # when the agent records the outcome (twice, as a double click would)
    call_outcome_set(call=call, outcome=CallOutcome.RESOLVED, by=staff.riyadh_agent)
    call_outcome_set(call=call, outcome=CallOutcome.RESOLVED, by=staff.riyadh_agent)
    [logged] = call_events(request)
    assert (logged.data["duration_seconds"], logged.data["outcome"]) == (61, "resolved")
    # and once on the timeline, its outcome cannot change any more
    with pytest.raises(Conflict):
        call_outcome_set(call=call, outcome=CallOutcome.FOLLOW_UP, by=staff.riyadh_agent)
    assert len(call_events(request)) == 1


def test_a_call_linked_after_it_ended_with_its_outcome_is_logged_once(
    client, ministry, staff, sara
):
    request = submit(ministry, sara, ministry.riyadh)
    line = cti_line(ministry)
    cti_post(client, line, event("answered", agent="riyadh_agent"))
    cti_post(client, line, event("ended", duration=30))
    call = Call.objects.get()
    call_outcome_set(call=call, outcome=CallOutcome.REQUEST_OPENED, by=staff.riyadh_agent)
    assert call_events(request) == []  # not linked yet
    call_link(call=call, request=request, by=staff.riyadh_agent)
    call_link(call=call, request=request, by=staff.riyadh_agent)  # again: nothing more
    [logged] = call_events(request)
    assert logged.data["outcome"] == "request_opened"
    # and a logged call stays on its request
    other = submit(ministry, sara, ministry.riyadh)
    with pytest.raises(Conflict):
        call_link(call=call, request=other, by=staff.riyadh_agent)


def test_after_the_wrap_up_time_the_call_is_logged_without_outcome(client, ministry, staff, sara):
    request = submit(ministry, sara, ministry.riyadh)
    line = cti_line(ministry, wrap_up_minutes=5)
    cti_post(client, line, event("answered", agent="riyadh_agent"))
    call = Call.objects.get()
    call_link(call=call, request=request, by=staff.riyadh_agent)
    cti_post(client, line, event("ended", duration=42))
    assert calls_wrap_up_sweep() == 0  # still within the wrap-up time
    later = timezone.now() + timedelta(minutes=6)
    assert calls_wrap_up_sweep(now=later) == 1
    assert calls_wrap_up_sweep(now=later) == 0
    [logged] = call_events(request)
    assert (logged.data["duration_seconds"], logged.data["outcome"]) == (42, "")


def test_a_missed_call_linked_while_ringing_is_logged_when_it_ends(client, ministry, staff, sara):
    request = submit(ministry, sara, ministry.riyadh)
    line = cti_line(ministry)
    cti_post(client, line, event("ringing", agent="riyadh_agent"))
    call = Call.objects.get()
    call_link(call=call, request=request, by=staff.riyadh_agent)
    cti_post(client, line, event("ended", duration=0))
    [logged] = call_events(request)
    assert logged.data["missed"] is True


def test_only_the_calls_agent_links_it(client, ministry, staff, sara):
    request = submit(ministry, sara, ministry.riyadh)
    line = cti_line(ministry)
    cti_post(client, line, event("ringing", agent="riyadh_agent"))
    call = Call.objects.get()
    with pytest.raises(AccessDenied):
        call_link(call=call, request=request, by=staff.riyadh_agent2)
    with pytest.raises(AccessDenied):
        call_outcome_set(call=call, outcome=CallOutcome.RESOLVED, by=staff.riyadh_supervisor)
    call.refresh_from_db()
    assert (call.request, call.outcome) == (None, "")


@pytest.mark.parametrize(
    ("seconds", "shown"), [(0, "00:00"), (5, "00:05"), (125, "02:05"), (3725, "1:02:05")]
)
def test_durations_read_as_minutes_and_seconds(seconds, shown):
    assert duration_display(seconds) == shown


# --- at the same moment (PostgreSQL: real row locks) -----------------------------------------


@pytest.mark.usefixtures("on_postgres")
@pytest.mark.django_db(transaction=True)
def test_the_same_first_event_received_twice_at_once_makes_one_call(ministry, staff, sara):
    line = cti_line(ministry)
    first = call_event_parse(json.dumps(event("ringing", agent="riyadh_agent")).encode())
    results = race([lambda: call_event_apply(account=line, event=first) for _ in range(4)])
    assert all(isinstance(result, Call) for result in results), results
    assert Call.objects.count() == 1


@pytest.mark.usefixtures("on_postgres")
@pytest.mark.django_db(transaction=True)
def test_the_outcome_and_the_end_at_once_log_the_call_once(ministry, staff, sara):
    request = submit(ministry, sara, ministry.riyadh)
    line = cti_line(ministry)
    answered = call_event_parse(json.dumps(event("answered", agent="riyadh_agent")).encode())
    call = call_event_apply(account=line, event=answered)
    call_link(call=call, request=request, by=staff.riyadh_agent)
    ended = call_event_parse(json.dumps(event("ended", duration=20)).encode())
    results = race(
        [
            lambda: call_event_apply(account=line, event=ended),
            lambda: call_outcome_set(
                call=call, outcome=CallOutcome.RESOLVED, by=staff.riyadh_agent
            ),
        ]
    )
    assert all(isinstance(result, Call) for result in results), results
    [logged] = call_events(request)
    assert (logged.data["duration_seconds"], logged.data["outcome"]) == (20, "resolved")
