"""Call-centre intake: finding the caller, registering them, taking a request on their
behalf, and first-contact resolution — through the console's HTTP interface."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from tawasul.beneficiaries.models import Beneficiary
from tawasul.beneficiaries.selectors import beneficiary_find
from tawasul.cases.intake import request_submit_answered
from tawasul.cases.models import Channel, Event, EventKind, Request, Status
from tawasul.cases.services import request_submit
from tawasul.channels.models import OutboxMessage
from tawasul.console.intake_views import caller_token
from tawasul.core.errors import AccessDenied, InvalidInput

from .conftest import luhn_complete

pytestmark = pytest.mark.django_db


def url(name, *args):
    with translation.override("en"):
        return reverse(name, args=args)


def submit(ministry, beneficiary, entity, subject="Exam results date"):
    return request_submit(
        beneficiary=beneficiary,
        kind="inquiry",
        category=ministry.exams,
        subject=subject,
        description="When will the final exam results appear?",
        entity=entity,
    )


def request_fields(ministry, prefix, entity=None, **extra):
    data = {
        f"{prefix}-kind": "inquiry",
        f"{prefix}-category": str(ministry.exams.pk),
        f"{prefix}-entity": str(entity.pk) if entity else "",
        f"{prefix}-subject": "Exam results date",
        f"{prefix}-description": "The caller asks when the results appear.",
        f"{prefix}-priority": "normal",
    }
    data.update({f"{prefix}-{key}": value for key, value in extra.items()})
    return data


# --- finding the caller ------------------------------------------------------------------


def test_find_by_mobile_shows_the_caller_masked(client, staff, sara):
    # given an agent on the phone with Sara, who gives her mobile in local form
    client.force_login(staff.riyadh_agent)
    # when the agent looks her up
    response = client.get(url("console:intake"), {"query": "055 123 4567"})
    # then her name appears with the ID and mobile masked, never in full
    body = response.content.decode()
    assert response.status_code == 200
    assert sara.full_name in body
    assert sara.masked_mobile in body
    assert sara.masked_national_id in body
    assert sara.mobile not in body
    assert "0551234567" not in body
    assert sara.national_id not in body


def test_find_by_national_id_with_arabic_digits(client, staff, sara, khalid):
    client.force_login(staff.riyadh_agent)
    arabic = sara.national_id.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    response = client.get(url("console:intake"), {"query": arabic})
    body = response.content.decode()
    assert response.status_code == 200
    assert sara.full_name in body
    assert khalid.full_name not in body


def test_no_match_offers_registration(client, staff, sara):
    client.force_login(staff.riyadh_agent)
    response = client.get(url("console:intake"), {"query": "0559999999"})
    assert response.status_code == 200
    assert "No beneficiary has this mobile or ID." in response.content.decode()
    assert url("console:intake_register") in response.content.decode()


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (luhn_complete("100000001")[:-1] + "9", "is not valid; please check the digits"),
        ("12345", "Enter a valid Saudi mobile number"),
        ("0112345678", "Enter a valid Saudi mobile number"),  # a landline
    ],
)
def test_invalid_id_or_mobile_is_400_with_the_message(client, staff, query, message):
    client.force_login(staff.riyadh_agent)
    response = client.get(url("console:intake"), {"query": query})
    assert response.status_code == 400
    assert message in response.content.decode()


def test_selector_needs_something_to_look_for(db):
    with pytest.raises(InvalidInput):
        beneficiary_find()


def test_selector_matches_exactly(sara, khalid):
    assert beneficiary_find(mobile="+966551234567") == [sara]
    assert beneficiary_find(national_id=khalid.national_id) == [khalid]
    assert beneficiary_find(mobile="0551234568") == []


def test_other_entities_requests_are_counted_not_listed(client, ministry, staff, sara):
    # given Sara has an open request in Riyadh and one in Makkah
    riyadh = submit(ministry, sara, ministry.riyadh, subject="Riyadh subject")
    makkah = submit(ministry, sara, ministry.makkah, subject="Makkah subject")
    client.force_login(staff.riyadh_agent)
    # when the Riyadh agent finds her
    response = client.get(url("console:intake"), {"query": "0551234567"})
    # then only the Riyadh request is listed; the Makkah one is only counted
    body = response.content.decode()
    assert riyadh.tracking_display in body
    assert "Riyadh subject" in body
    assert makkah.tracking_display not in body
    assert "Makkah subject" not in body
    assert "1 other open request is handled by another entity." in body


def test_central_agent_sees_every_open_request(client, ministry, staff, sara):
    riyadh = submit(ministry, sara, ministry.riyadh)
    makkah = submit(ministry, sara, ministry.makkah)
    client.force_login(staff.central_agent)
    body = client.get(url("console:intake"), {"query": "0551234567"}).content.decode()
    assert riyadh.tracking_display in body
    assert makkah.tracking_display in body
    assert "handled by another" not in body


def test_intake_needs_staff(client, staff):
    assert client.get(url("console:intake")).status_code == 302
    client.force_login(staff.outsider)
    assert client.get(url("console:intake")).status_code == 403


def test_tampered_caller_token_is_not_found(client, staff, sara):
    client.force_login(staff.riyadh_agent)
    token = caller_token(sara)
    assert client.get(url("console:intake_caller", token)).status_code == 200
    assert client.get(url("console:intake_caller", token[:-2] + "xx")).status_code == 404
    assert client.get(url("console:intake_caller", "1")).status_code == 404


# --- registering a caller ------------------------------------------------------------------


def test_register_a_new_caller(client, staff):
    client.force_login(staff.riyadh_agent)
    national_id = luhn_complete("100000777")
    response = client.post(
        url("console:intake_register"),
        {
            "full_name": "Noura Alharbi",
            "national_id": national_id,
            "mobile": "0557654321",
            "kind": "student",
            "consent": "on",
        },
    )
    caller = Beneficiary.objects.get(national_id=national_id)
    assert response.status_code == 302
    assert response["Location"] == url("console:intake_caller", caller_token(caller))
    assert caller.mobile == "+966557654321"
    assert caller.consent_at is not None
    assert caller.kind == "student"


def test_register_needs_the_oral_consent(client, staff):
    client.force_login(staff.riyadh_agent)
    response = client.post(
        url("console:intake_register"), {"full_name": "Noura", "mobile": "0557654321"}
    )
    assert response.status_code == 400
    assert not Beneficiary.objects.exists()


def test_register_refuses_an_existing_id(client, staff, sara):
    # given someone calls with Sara's ID and another mobile
    client.force_login(staff.riyadh_agent)
    response = client.post(
        url("console:intake_register"),
        {
            "full_name": "Someone Else",
            "national_id": sara.national_id,
            "mobile": "0557654321",
            "kind": "other",
            "consent": "on",
        },
    )
    # then nothing about Sara changes
    assert response.status_code == 400
    assert "already registered" in response.content.decode()
    sara.refresh_from_db()
    assert sara.mobile == "+966551234567"


def test_register_with_invalid_id_is_400(client, staff):
    client.force_login(staff.riyadh_agent)
    response = client.post(
        url("console:intake_register"),
        {
            "full_name": "Noura",
            "national_id": "3000000000",
            "mobile": "0557654321",
            "kind": "other",
            "consent": "on",
        },
    )
    assert response.status_code == 400
    assert "starts with 1 and the iqama number with 2" in response.content.decode()


# --- a request on the caller's behalf ------------------------------------------------------


def test_create_on_behalf(client, ministry, staff, sara):
    client.force_login(staff.riyadh_agent)
    response = client.post(
        url("console:intake_request_new", caller_token(sara)),
        request_fields(ministry, "req", entity=ministry.riyadh, priority="high"),
    )
    created = Request.objects.get()
    assert response.status_code == 302
    assert created.channel == Channel.CALL_CENTRE
    assert created.beneficiary == sara
    assert created.entity == ministry.riyadh
    assert created.priority == "high"
    assert created.status == Status.NEW
    submitted = created.events.get(kind=EventKind.SUBMITTED)
    assert submitted.actor_user == staff.riyadh_agent
    assert submitted.by_beneficiary is False
    assert submitted.data["channel"] == Channel.CALL_CENTRE


def test_create_on_behalf_with_bad_input_is_400(client, ministry, staff, sara):
    client.force_login(staff.riyadh_agent)
    response = client.post(
        url("console:intake_request_new", caller_token(sara)),
        request_fields(ministry, "req", subject="x"),
    )
    assert response.status_code == 400
    assert "between 3 and 200 characters" in response.content.decode()
    assert not Request.objects.exists()


# --- first-contact resolution --------------------------------------------------------------


def test_answered_during_the_call(client, ministry, staff, sara):
    client.force_login(staff.riyadh_agent)
    response = client.post(
        url("console:intake_answered", caller_token(sara)),
        request_fields(
            ministry,
            "fcr",
            entity=ministry.riyadh,
            resolution="Results appear on Noor on the 15th.",
            resolution_code="informed",
        ),
    )
    answered = Request.objects.get()
    assert response.status_code == 302
    assert answered.status == Status.ANSWERED
    assert answered.channel == Channel.CALL_CENTRE
    assert answered.assignee == staff.riyadh_agent
    assert answered.resolution_code == "informed"
    assert answered.first_response_at is not None
    assert answered.answered_at is not None
    kinds = list(answered.events.order_by("created_at", "id").values_list("kind", flat=True))
    assert kinds == [
        EventKind.SUBMITTED,
        EventKind.CLAIMED,
        EventKind.STARTED,
        EventKind.ANSWERED,
    ]
    assert set(answered.events.values_list("actor_user", flat=True)) == {staff.riyadh_agent.pk}


def test_answered_by_someone_who_cannot_work_there_writes_nothing(client, ministry, staff, sara):
    # given the Makkah agent tries to log an answered request for Riyadh
    client.force_login(staff.makkah_agent)
    response = client.post(
        url("console:intake_answered", caller_token(sara)),
        request_fields(ministry, "fcr", entity=ministry.riyadh, resolution="An answer given."),
    )
    # then it is refused and nothing is written
    assert response.status_code == 403
    assert "You cannot answer requests of this entity" in response.content.decode()
    assert not Request.objects.exists()
    assert not Event.objects.exists()
    assert not OutboxMessage.objects.exists()


def test_service_refuses_a_viewer_and_writes_nothing(ministry, staff, sara):
    with pytest.raises(AccessDenied):
        request_submit_answered(
            beneficiary=sara,
            kind="inquiry",
            category=ministry.exams,
            subject="Exam results date",
            description="When will the results appear?",
            resolution="On the 15th, on Noor.",
            resolution_code="",
            by=staff.quality_officer,
        )
    assert not Request.objects.exists()
    assert not Event.objects.exists()


def test_answered_with_too_short_answer_rolls_back(client, ministry, staff, sara):
    client.force_login(staff.riyadh_agent)
    response = client.post(
        url("console:intake_answered", caller_token(sara)),
        request_fields(ministry, "fcr", entity=ministry.riyadh, resolution="short"),
    )
    assert response.status_code == 400
    assert "between 10 and 10000 characters" in response.content.decode()
    assert not Request.objects.exists()
    assert not Event.objects.exists()


def test_answered_for_the_central_centre_by_central_agent(ministry, staff, sara):
    answered = request_submit_answered(
        beneficiary=sara,
        kind="inquiry",
        category=ministry.exams,
        subject="Exam results date",
        description="When will the results appear?",
        resolution="On the 15th, on Noor.",
        resolution_code="",
        by=staff.central_agent,
    )
    assert answered.entity == ministry.ministry
    assert answered.status == Status.ANSWERED
