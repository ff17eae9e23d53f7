"""Open311 GeoReport v2: every endpoint in XML and JSON, every filter, errors in the
spec's shape, partner keys, and no personal data in anything a GET returns."""

from __future__ import annotations

import json
from datetime import UTC, timedelta
from typing import Any
from xml.etree import ElementTree

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from tawasul.api.credentials import api_client_create, credential_revoke
from tawasul.api.models import ApiClient, ClientSubmission, Scope
from tawasul.beneficiaries.models import Beneficiary
from tawasul.cases.models import Channel, Event, Kind, Request, Status
from tawasul.cases.services import (
    request_answer,
    request_cancel,
    request_claim,
    request_start,
    request_submit,
)
from tawasul.core.ids import tracking_number_new

BASE = "/open311/v2/"
PHONE = "0559876543"
EMAIL = "fatimah.reporter@example.com"


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> None:
    cache.clear()


@pytest.fixture
def key(ministry: Any) -> str:
    return api_client_create(name="City app", scopes=[Scope.REQUESTS_CREATE]).secret


def form(key: str, **fields: str) -> dict[str, str]:
    data = {
        "api_key": key,
        "service_code": "exams",
        "address_id": "riyadh",
        "first_name": "Fatimah",
        "last_name": "Zahrani",
        "phone": PHONE,
        "email": EMAIL,
        "description": "The results of my son Omar were not published on time this term.",
    }
    data.update(fields)
    return data


def post(client: Client, data: dict[str, str], fmt: str = "json") -> Any:
    return client.post(f"{BASE}requests.{fmt}", data)


def submitted(client: Client, key: str, **fields: str) -> Request:
    response = post(client, form(key, **fields))
    assert response.status_code == 201, response.content
    return Request.objects.get(tracking_number=response.json()[0]["service_request_id"])


def xml(response: Any) -> ElementTree.Element:
    assert response["Content-Type"].startswith("text/xml")
    return ElementTree.fromstring(response.content)  # noqa: S314 -- our own answer


def assert_error(response: Any, status: int, fmt: str = "json") -> str:
    assert response.status_code == status, response.content
    if fmt == "json":
        body = response.json()
        assert isinstance(body, list)
        assert len(body) == 1
        assert body[0]["code"] == status
        assert body[0]["description"]
        return str(body[0]["description"])
    root = xml(response)
    assert root.tag == "errors"
    error = root.find("error")
    assert error is not None
    assert error.findtext("code") == str(status)
    assert error.findtext("description")
    return str(error.findtext("description"))


# --- discovery and services -----------------------------------------------------------


def test_discovery_in_both_formats(client: Client) -> None:
    body = client.get(f"{BASE}discovery.json").json()
    assert body["changeset"].endswith("Z")
    endpoint = body["endpoints"][0]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == "http://testserver/open311/v2/"
    assert endpoint["formats"] == ["text/xml", "application/json"]

    root = xml(client.get(f"{BASE}discovery.xml"))
    assert root.tag == "discovery"
    formats = [node.text for node in root.iterfind("endpoints/endpoint/formats/format")]
    assert formats == ["text/xml", "application/json"]
    assert root.findtext("endpoints/endpoint/type") == "production"


def test_services_list_active_categories_in_arabic_by_default(
    client: Client, ministry: Any
) -> None:
    ministry.praise_only.is_active = False
    ministry.praise_only.save(update_fields=["is_active"])
    services = {row["service_code"]: row for row in client.get(f"{BASE}services.json").json()}
    assert set(services) == {"exams", "transfer"}
    transfer = services["transfer"]
    assert transfer["service_name"] == "نقل المعلمين"
    assert transfer["metadata"] is True
    assert transfer["type"] == "realtime"
    assert transfer["keywords"] == "inquiry,complaint"
    assert transfer["group"] == "نقل المعلمين"

    root = xml(client.get(f"{BASE}services.xml"))
    assert root.tag == "services"
    by_code = {node.findtext("service_code"): node for node in root.iterfind("service")}
    assert set(by_code) == {"exams", "transfer"}
    assert by_code["exams"].findtext("service_name") == "نتائج الاختبارات"
    assert by_code["exams"].findtext("metadata") == "true"


def test_services_in_english_by_parameter_or_header(client: Client, ministry: Any) -> None:
    by_param = client.get(f"{BASE}services.json?lang=en").json()
    by_header = client.get(f"{BASE}services.json", HTTP_ACCEPT_LANGUAGE="en").json()
    assert by_param == by_header
    names = {row["service_code"]: row["service_name"] for row in by_param}
    assert names == {"exams": "Exam results", "transfer": "Teacher transfer", "thanks": "Thanks"}
    groups = {row["service_code"]: row["group"] for row in by_param}
    assert groups["thanks"] == "Praise"  # a category of one kind is grouped by the kind


def test_sub_category_is_grouped_under_its_top_level_category(
    client: Client, ministry: Any
) -> None:
    from tawasul.cases.taxonomy import category_create

    category_create(code="exam-appeal", name_ar="تظلم", name_en="Appeal", parent=ministry.exams)
    rows = client.get(f"{BASE}services.json?lang=en").json()
    assert {row["service_code"]: row["group"] for row in rows}["exam-appeal"] == "Exam results"


def test_empty_language_parameter_is_the_default(client: Client, ministry: Any) -> None:
    assert client.get(f"{BASE}services.json?lang=").json() == (
        client.get(f"{BASE}services.json").json()
    )


def test_service_definition_in_both_formats(client: Client, ministry: Any) -> None:
    body = client.get(f"{BASE}services/transfer.json?lang=en").json()
    assert body["service_code"] == "transfer"
    attributes = {row["code"]: row for row in body["attributes"]}
    assert [row["order"] for row in body["attributes"]] == [1, 2, 3]
    kind = attributes["kind"]
    assert kind["datatype"] == "singlevaluelist"
    assert kind["required"] is False
    assert kind["values"] == [
        {"key": "inquiry", "name": "Inquiry"},
        {"key": "complaint", "name": "Complaint"},
    ]
    entity_codes = {value["key"] for value in attributes["entity"]["values"]}
    assert {"moe", "riyadh", "makkah", "ksu", "riyadh-north"} <= entity_codes
    assert attributes["subject"]["datatype"] == "string"

    root = xml(client.get(f"{BASE}services/transfer.xml"))
    assert root.tag == "service_definition"
    codes = [node.findtext("code") for node in root.iterfind("attributes/attribute")]
    assert codes == ["kind", "entity", "subject"]
    keys = [node.findtext("key") for node in root.iterfind("attributes/attribute/values/value")]
    assert keys[:2] == ["inquiry", "complaint"]
    assert root.findtext("attributes/attribute/variable") == "true"


@pytest.mark.parametrize("code", ["nothing", "a%20b", "%00", "x" * 80, "%D8%A7"])
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_unknown_service_is_404(client: Client, ministry: Any, code: str, fmt: str) -> None:
    assert_error(client.get(f"{BASE}services/{code}.{fmt}"), 404, fmt)


def test_inactive_service_is_404(client: Client, ministry: Any) -> None:
    ministry.exams.is_active = False
    ministry.exams.save(update_fields=["is_active"])
    assert_error(client.get(f"{BASE}services/exams.json"), 404)


# --- submitting ------------------------------------------------------------------------


def test_post_creates_the_request_and_returns_id_notice_and_token(
    client: Client, ministry: Any, key: str
) -> None:
    response = post(client, form(key))
    assert response.status_code == 201
    [body] = response.json()
    request = Request.objects.get(tracking_number=body["service_request_id"])
    assert request.channel == Channel.OPEN311
    assert request.kind == Kind.COMPLAINT
    assert request.category == ministry.exams
    assert request.entity == ministry.riyadh
    assert request.subject.startswith("The results of my son")
    assert ClientSubmission.objects.get(request=request).client.name == "City app"
    assert request.beneficiary.full_name == "Fatimah Zahrani"
    assert request.beneficiary.mobile == "+966559876543"
    assert request.beneficiary.email == EMAIL
    assert body["service_notice"]
    assert body["token"]
    token = client.get(f"{BASE}tokens/{body['token']}.json").json()
    assert token == [{"service_request_id": request.tracking_number, "token": body["token"]}]


def test_post_in_xml(client: Client, ministry: Any, key: str) -> None:
    response = post(client, form(key), fmt="xml")
    assert response.status_code == 201
    root = xml(response)
    assert root.tag == "service_requests"
    number = root.findtext("request/service_request_id")
    assert Request.objects.filter(tracking_number=number, channel=Channel.OPEN311).exists()
    token = root.findtext("request/token")
    token_root = xml(client.get(f"{BASE}tokens/{token}.xml"))
    assert token_root.findtext("request/service_request_id") == number
    assert token_root.findtext("request/token") == token


def test_attributes_choose_kind_entity_and_subject(client: Client, ministry: Any, key: str) -> None:
    request = submitted(
        client,
        key,
        service_code="transfer",
        **{
            "attribute[kind]": "inquiry",
            "attribute[entity]": "ksu",
            "attribute[subject]": "Transfer dates",
        },
    )
    assert (request.kind, request.entity, request.subject) == (
        Kind.INQUIRY,
        ministry.university,
        "Transfer dates",
    )


def test_default_kind_is_the_first_the_category_takes(
    client: Client, ministry: Any, key: str
) -> None:
    assert submitted(client, key, service_code="thanks").kind == Kind.PRAISE


@pytest.mark.parametrize(
    ("location", "expected"),
    [
        ({"address_id": "makkah"}, "makkah"),
        ({"address_id": "", "lat": "21.54", "long": "39.17"}, "makkah"),  # Jeddah
        ({"address_id": "", "lat": "24.69", "long": "46.72"}, "riyadh"),
        ({"address_id": "", "address_string": "North Riyadh Office, King Fahd Rd"}, "riyadh"),
        ({"address_id": "", "address_string": "حي النسيم، مكة المكرمة"}, "makkah"),
        ({"address_id": "", "address_string": "Somewhere unknown"}, "moe"),
        # the entity attribute wins over the place
        ({"attribute[entity]": "makkah", "lat": "24.69", "long": "46.72"}, "makkah"),
    ],
)
def test_location_chooses_the_receiving_entity(
    client: Client, ministry: Any, key: str, location: dict[str, str], expected: str
) -> None:
    assert submitted(client, key, **location).entity.code == expected


def test_partner_entity_receives_when_the_place_names_none(client: Client, ministry: Any) -> None:
    issued = api_client_create(
        name="Makkah app", scopes=[Scope.REQUESTS_CREATE], entity=ministry.makkah
    )
    request = submitted(client, issued.secret, address_id="", address_string="Unknown street")
    assert request.entity == ministry.makkah


def test_known_mobile_is_the_same_beneficiary_and_is_not_changed(
    client: Client, ministry: Any, key: str, sara: Beneficiary
) -> None:
    request = submitted(client, key, phone="0551234567", email="", first_name="Someone")
    assert request.beneficiary == sara
    sara.refresh_from_db()
    assert sara.full_name == "سارة العتيبي"
    assert sara.email == ""


def test_empty_optional_parameters_are_as_if_absent(
    client: Client, ministry: Any, key: str
) -> None:
    empty = dict.fromkeys(
        ["email", "first_name", "last_name", "lat", "long", "address_string", "media_url"], ""
    )
    empty.update({"device_id": "", "account_id": "", "attribute[kind]": ""})
    empty.update({"attribute[subject]": "", "attribute[entity]": "", "jurisdiction_id": ""})
    request = submitted(client, key, **empty)
    assert request.kind == Kind.COMPLAINT
    assert request.entity == ministry.riyadh
    assert request.beneficiary.full_name == "—"
    assert request.beneficiary.email == ""


BAD_FORMS: list[tuple[dict[str, str], int]] = [
    ({"service_code": ""}, 400),
    ({"service_code": "nothing"}, 404),
    ({"address_id": ""}, 400),
    ({"address_id": "atlantis"}, 400),
    ({"address_id": "", "lat": "24.7"}, 400),
    ({"address_id": "", "lat": "north", "long": "46.7"}, 400),
    ({"address_id": "", "lat": "nan", "long": "46.7"}, 400),
    ({"address_id": "", "lat": "46.7", "long": "24.7"}, 400),  # swapped: outside
    ({"description": ""}, 400),
    ({"description": "short"}, 400),
    ({"description": "x" * 4001}, 400),
    ({"description": "Please see <script>alert(1)</script> here"}, 400),
    ({"attribute[subject]": "<b>bold</b> subject"}, 400),
    ({"phone": "12345"}, 400),
    ({"phone": "", "email": ""}, 400),
    ({"email": "not an address"}, 400),
    ({"attribute[colour]": "red"}, 400),
    ({"attribute[kind]": "rant"}, 400),
    ({"service_code": "thanks", "attribute[kind]": "complaint"}, 400),
    ({"attribute[entity]": "nowhere"}, 400),
    ({"description": "A valid description with a \x00 byte"}, 400),
    ({"jurisdiction_id": "elsewhere"}, 404),
]


@pytest.mark.parametrize(("fields", "status"), BAD_FORMS)
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_bad_submissions_write_nothing(
    client: Client, key: str, fields: dict[str, str], status: int, fmt: str
) -> None:
    people = Beneficiary.objects.count()
    assert_error(post(client, form(key, **fields), fmt=fmt), status, fmt)
    assert Request.objects.count() == 0
    assert ClientSubmission.objects.count() == 0
    assert Beneficiary.objects.count() == people


def test_error_descriptions_follow_the_language(client: Client, ministry: Any, key: str) -> None:
    english = assert_error(post(client, form(key, service_code="", lang="en")), 400)
    assert english == "The service_code is required."
    response = client.post(
        f"{BASE}requests.xml", form(key, service_code=""), HTTP_ACCEPT_LANGUAGE="en"
    )
    assert assert_error(response, 400, "xml") == english


def _no_scope_key() -> str:
    return api_client_create(name="Reader", scopes=[Scope.REQUESTS_READ]).secret


def _revoked_key() -> str:
    issued = api_client_create(name="Old", scopes=[Scope.REQUESTS_CREATE])
    credential_revoke(issued.record)
    return issued.secret


@pytest.mark.parametrize(
    "make_key",
    [lambda: "", lambda: "twk_not-a-real-key", lambda: "nonsense", _revoked_key, _no_scope_key],
    ids=["missing", "unknown", "malformed", "revoked", "without-scope"],
)
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_post_needs_a_live_key_with_the_create_scope(
    client: Client, ministry: Any, make_key: Any, fmt: str
) -> None:
    assert_error(post(client, form(make_key()), fmt=fmt), 403, fmt)
    assert Request.objects.count() == 0


def test_missing_key_is_403_even_when_everything_else_is_wrong(
    client: Client, ministry: Any
) -> None:
    assert_error(client.post(f"{BASE}requests.json", {"service_code": "nothing"}), 403)


def test_post_is_rate_limited_per_key(client: Client, ministry: Any) -> None:
    issued = api_client_create(name="Slow", scopes=[Scope.REQUESTS_CREATE])
    ApiClient.objects.filter(pk=issued.record.pk).update(rate_limit_per_minute=1)
    assert post(client, form(issued.secret)).status_code == 201
    response = post(client, form(issued.secret))
    assert_error(response, 429)
    assert response["Retry-After"]
    assert Request.objects.count() == 1


# --- reading requests ------------------------------------------------------------------


@pytest.fixture
def reports(client: Client, ministry: Any, key: str, staff: Any) -> dict[str, Request]:
    """Three Open311 reports (one answered, one cancelled) and a portal request."""
    first = submitted(client, key)
    answered = submitted(client, key, service_code="transfer", address_id="riyadh")
    cancelled = submitted(client, key, address_id="makkah")
    agent = staff.riyadh_agent
    request_claim(request=answered, by=agent)
    request_start(request=answered, by=agent)
    request_answer(
        request=answered,
        by=agent,
        resolution="Dear Fatimah Zahrani, the transfer list is published.",
        resolution_code="informed",
    )
    request_cancel(request=cancelled, reason="Duplicate report", by=staff.central_supervisor)
    return {
        "first": Request.objects.get(pk=first.pk),
        "answered": Request.objects.get(pk=answered.pk),
        "cancelled": Request.objects.get(pk=cancelled.pk),
    }


def ids(response: Any) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["service_request_id"] for row in response.json()]


def test_requests_list_only_open311_requests_newest_first(
    client: Client, reports: dict[str, Request], sara: Beneficiary, ministry: Any
) -> None:
    portal = request_submit(
        beneficiary=sara,
        kind=Kind.INQUIRY,
        category=ministry.exams,
        subject="Portal question",
        description="A question sent through the portal.",
    )
    listed = ids(client.get(f"{BASE}requests.json"))
    assert portal.tracking_number not in listed
    assert listed == [
        reports["cancelled"].tracking_number,
        reports["answered"].tracking_number,
        reports["first"].tracking_number,
    ]


def test_request_fields(client: Client, reports: dict[str, Request]) -> None:
    answered = reports["answered"]
    rows = client.get(f"{BASE}requests.json?lang=en").json()
    row = next(r for r in rows if r["service_request_id"] == answered.tracking_number)
    assert row["status"] == "open"
    assert row["status_notes"] == "Information given"
    assert row["service_code"] == "transfer"
    assert row["service_name"] == "Teacher transfer"
    assert row["agency_responsible"] == "Riyadh Education"
    assert row["address_id"] == "riyadh"
    assert row["description"] == "Complaint"
    assert row["requested_datetime"].endswith("Z")
    assert row["updated_datetime"].endswith("Z")
    due = answered.resolution_due
    expected = due.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if due else None
    assert row["expected_datetime"] == expected
    cancelled = next(
        r for r in rows if r["service_request_id"] == reports["cancelled"].tracking_number
    )
    assert cancelled["status"] == "closed"
    assert cancelled["status_notes"] == ""
    assert "extended_attributes" not in row
    assert "notes" not in row


def test_requests_list_in_xml(client: Client, reports: dict[str, Request]) -> None:
    root = xml(client.get(f"{BASE}requests.xml"))
    assert root.tag == "service_requests"
    numbers = [node.findtext("service_request_id") for node in root.iterfind("request")]
    assert numbers[-1] == reports["first"].tracking_number
    assert len(numbers) == 3
    first = root.findall("request")[-1]
    assert first.findtext("status") == "open"
    assert first.findtext("lat") == ""
    assert first.findtext("requested_datetime", "").endswith("Z")


def test_service_request_id_list_overrides_the_other_filters(
    client: Client, reports: dict[str, Request]
) -> None:
    first, cancelled = reports["first"].tracking_number, reports["cancelled"].tracking_number
    query = f"service_request_id={first},{cancelled},garbage&status=open&service_code=transfer"
    assert sorted(ids(client.get(f"{BASE}requests.json?{query}"))) == sorted([first, cancelled])
    assert ids(client.get(f"{BASE}requests.json?service_request_id=garbage")) == []


def test_filter_by_service_code(client: Client, reports: dict[str, Request]) -> None:
    assert ids(client.get(f"{BASE}requests.json?service_code=transfer")) == [
        reports["answered"].tracking_number
    ]
    assert len(ids(client.get(f"{BASE}requests.json?service_code=transfer,exams"))) == 3
    assert ids(client.get(f"{BASE}requests.json?service_code=nothing")) == []


def test_filter_by_status(client: Client, reports: dict[str, Request]) -> None:
    closed = ids(client.get(f"{BASE}requests.json?status=closed"))
    assert closed == [reports["cancelled"].tracking_number]
    opened = ids(client.get(f"{BASE}requests.json?status=open"))
    assert set(opened) == {reports["first"].tracking_number, reports["answered"].tracking_number}
    assert len(ids(client.get(f"{BASE}requests.json?status=open,closed"))) == 3


def test_filter_by_dates_default_last_90_days(client: Client, reports: dict[str, Request]) -> None:
    old = timezone.now() - timedelta(days=120)
    Request.objects.filter(pk=reports["first"].pk).update(created_at=old)
    number = reports["first"].tracking_number
    assert number not in ids(client.get(f"{BASE}requests.json"))
    start = (old - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert ids(client.get(f"{BASE}requests.json?start_date={start}")) == [number]
    end = (old + timedelta(days=1)).strftime("%Y-%m-%d")
    assert ids(client.get(f"{BASE}requests.json?end_date={end}")) == [number]
    both = f"start_date={start}&end_date={end}"
    assert ids(client.get(f"{BASE}requests.json?{both}")) == [number]


@pytest.mark.parametrize(
    "query",
    [
        "start_date=yesterday",
        "end_date=2025-13-45",
        "start_date=2025-01-01T00:00:00Z&end_date=2025-06-01T00:00:00Z",  # over 90 days
        "start_date=2025-03-01&end_date=2025-02-01",  # ends before it starts
        "start_date=0001-01-01",
        "status=pending",
        "page=0",
        "page=abc",
        "page=99999999999999999999",
        "page_size=1001",
        "page_size=-1",
        "extensions=maybe",
    ],
)
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_bad_filters_are_400(client: Client, ministry: Any, query: str, fmt: str) -> None:
    assert_error(client.get(f"{BASE}requests.{fmt}?{query}"), 400, fmt)


def test_pages(client: Client, reports: dict[str, Request]) -> None:
    everything = ids(client.get(f"{BASE}requests.json"))
    pages = [ids(client.get(f"{BASE}requests.json?page_size=2&page={n}")) for n in (1, 2, 3)]
    assert pages == [everything[:2], everything[2:], []]


def test_empty_parameters_equal_absent_ones(client: Client, reports: dict[str, Request]) -> None:
    empty = (
        "service_request_id=&service_code=&start_date=&end_date=&status=&page=&page_size="
        "&extensions=&jurisdiction_id=&lang="
    )
    for fmt in ("json", "xml"):
        plain = client.get(f"{BASE}requests.{fmt}").content
        assert client.get(f"{BASE}requests.{fmt}?{empty}").content == plain
    number = reports["first"].tracking_number
    assert client.get(f"{BASE}requests/{number}.json?extensions=").content == (
        client.get(f"{BASE}requests/{number}.json").content
    )


def test_extensions_add_attributes_and_public_notes(
    client: Client, reports: dict[str, Request]
) -> None:
    rows = client.get(f"{BASE}requests.json?extensions=true&lang=en").json()
    answered = next(
        r for r in rows if r["service_request_id"] == reports["answered"].tracking_number
    )
    extended = answered["extended_attributes"]
    assert extended["detailed_status"] == Status.ANSWERED
    assert extended["kind"] == "complaint"
    public_kinds = list(
        Event.objects.filter(request=reports["answered"], is_public=True)
        .order_by("created_at", "id")
        .values_list("kind", flat=True)
    )
    assert [note["type"] for note in answered["notes"]] == public_kinds
    assert all(note["datetime"].endswith("Z") for note in answered["notes"])

    root = xml(client.get(f"{BASE}requests.xml?extensions=true"))
    assert root.find("request/extended_attributes/detailed_status") is not None
    assert root.find("request/notes") is not None


def test_list_query_count_does_not_grow_with_rows(
    client: Client, reports: dict[str, Request], django_assert_max_num_queries: Any
) -> None:
    with django_assert_max_num_queries(3):
        client.get(f"{BASE}requests.json?extensions=true")


def test_one_request_in_both_formats(client: Client, reports: dict[str, Request]) -> None:
    number = reports["first"].tracking_number
    body = client.get(f"{BASE}requests/{number}.json").json()
    assert [row["service_request_id"] for row in body] == [number]
    root = xml(client.get(f"{BASE}requests/{number}.xml"))
    assert [node.findtext("service_request_id") for node in root.iterfind("request")] == [number]
    dashed = f"{number[:3]}-{number[3:7]}-{number[7:]}"
    assert ids(client.get(f"{BASE}requests/{dashed}.json")) == [number]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_unknown_request_and_token_are_404(
    client: Client, reports: dict[str, Request], sara: Beneficiary, ministry: Any, fmt: str
) -> None:
    portal = request_submit(
        beneficiary=sara,
        kind=Kind.INQUIRY,
        category=ministry.exams,
        subject="Portal question",
        description="A question sent through the portal.",
    )
    for request_id in (tracking_number_new(), "garbage", "%00", portal.tracking_number):
        assert_error(client.get(f"{BASE}requests/{request_id}.{fmt}"), 404, fmt)
    number = reports["first"].tracking_number
    for token in (f"{number}:forged", number, "%00", "a:b:c"):
        assert_error(client.get(f"{BASE}tokens/{token}.{fmt}"), 404, fmt)


def test_no_personal_data_in_any_get(client: Client, reports: dict[str, Request]) -> None:
    number = reports["answered"].tracking_number
    token = post(client, form(api_client_create(name="Two", scopes=["requests:create"]).secret))
    token_value = token.json()[0]["token"]
    secrets = [
        "Fatimah",
        "Zahrani",
        "559876543",
        EMAIL,
        "Omar",
        "not published on time",
        "the transfer list is published",
    ]
    for fmt in ("json", "xml"):
        for path in (
            f"requests.{fmt}?extensions=true",
            f"requests.{fmt}?extensions=true&lang=en",
            f"requests/{number}.{fmt}?extensions=true",
            f"tokens/{token_value}.{fmt}",
            f"services.{fmt}",
        ):
            text = client.get(BASE + path).content.decode()
            for secret in secrets:
                assert secret not in text, (path, secret)


def test_other_methods_and_addresses(client: Client, ministry: Any) -> None:
    response = client.put(f"{BASE}services.json")
    assert_error(response, 405)
    assert response["Allow"] == "GET, HEAD"
    assert_error(client.get(f"{BASE}services.csv"), 404)
    assert_error(client.get(f"{BASE}nothing/here.xml"), 404, "xml")


def test_jurisdiction(client: Client, ministry: Any) -> None:
    assert client.get(f"{BASE}services.json?jurisdiction_id=tawasul").status_code == 200
    assert_error(client.get(f"{BASE}services.xml?jurisdiction_id=elsewhere"), 404, "xml")


def test_readers_are_rate_limited_by_address(client: Client, ministry: Any, settings: Any) -> None:
    settings.TAWASUL_API_RATE = 2
    assert client.get(f"{BASE}services.json").status_code == 200
    assert client.get(f"{BASE}services.json").status_code == 200
    assert_error(client.get(f"{BASE}services.json"), 429)


def test_xml_escapes_text(client: Client, ministry: Any) -> None:
    from tawasul.cases.taxonomy import category_create

    category_create(code="amp", name_ar="أ & ب <ج>", name_en="A & B <C>\x01")
    root = xml(client.get(f"{BASE}services.xml?lang=en"))
    names = [node.findtext("service_name") for node in root.iterfind("service")]
    assert "A & B <C>" in names
    assert json.loads(client.get(f"{BASE}services.json").content)
