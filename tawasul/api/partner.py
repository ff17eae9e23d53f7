"""API v1: partner systems submit requests on a person's behalf and follow their status.

A partner (call-centre software, another government system) calls with its key
(`X-API-Key`). It sees only the requests it submitted, and of them only their
progress: never the person's details, never the text of the case.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Annotated, Any, Literal

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import override
from ninja import Field, Query, Router, Schema
from ninja.responses import Status as Reply

from tawasul.api.auth import PartnerAuth, client_of
from tawasul.api.idempotency import idempotent
from tawasul.api.models import ApiClient, ClientSubmission, Scope
from tawasul.api.paging import ensure_known_parameters
from tawasul.api.schemas import ERRORS, Bilingual
from tawasul.api.submissions import (
    Person,
    client_request,
    client_request_submit,
    client_submissions,
)
from tawasul.cases.models import Request, Status
from tawasul.core.errors import InvalidInput, NotFound
from tawasul.core.ids import tracking_number_display, tracking_number_parse

router = Router(tags=["partner"])
create_auth = PartnerAuth(Scope.REQUESTS_CREATE)
read_auth = PartnerAuth(Scope.REQUESTS_READ)

MAX_ID = 2**31 - 1
PAGE_DEFAULT = 50
PAGE_MAX = 100
NO_NUL = r"^[^\x00]*$"


def _text(max_length: int) -> Any:
    return Field(max_length=max_length, pattern=NO_NUL)


Identifier = Annotated[int, Field(ge=1, le=MAX_ID)]


class PersonIn(Schema):
    """Who the request is for. A mobile or an e-mail address is needed to tell them."""

    full_name: str = _text(150)
    mobile: str | None = Field(default=None, max_length=32, pattern=NO_NUL)
    email: str | None = Field(default=None, max_length=254, pattern=NO_NUL)
    national_id: str | None = Field(default=None, max_length=20, pattern=NO_NUL)


class PartnerRequestIn(Schema):
    person: PersonIn
    kind: str = _text(20)
    category_id: Identifier
    entity_id: Identifier | None = None
    subject: str = _text(200)
    description: str = _text(5000)
    channel: Literal["call_centre", "email", "social", "walk_in", "app"]


class NamedRef(Schema):
    id: int
    code: str
    name_ar: str
    name_en: str


class PartnerRequestOut(Schema):
    """A request's progress, without the person and without the text of the case."""

    tracking_number: str
    tracking_display: str
    kind: str
    channel: str
    category: NamedRef
    entity: NamedRef
    status: str
    status_name: Bilingual
    is_open: bool
    submitted_at: datetime
    updated_at: datetime
    expected_at: datetime | None
    answered_at: datetime | None
    closed_at: datetime | None


class PageQuery(Schema):
    cursor: str = Field(default="", max_length=40, description="`next_cursor` of the page before.")
    limit: int = Field(default=PAGE_DEFAULT, ge=1, le=PAGE_MAX)


class PartnerRequestPage(Schema):
    items: list[PartnerRequestOut]
    next_cursor: str | None


def _status_name(status: str) -> Bilingual:
    names = {}
    for language in ("ar", "en"):
        with override(language):
            names[language] = str(Status(status).label)
    return Bilingual(**names)


def _named(row: Any) -> NamedRef:
    return NamedRef(id=row.pk, code=row.code, name_ar=row.name_ar, name_en=row.name_en)


def request_out(request: Request) -> PartnerRequestOut:
    return PartnerRequestOut(
        tracking_number=request.tracking_number,
        tracking_display=tracking_number_display(request.tracking_number),
        kind=request.kind,
        channel=request.channel,
        category=_named(request.category),
        entity=_named(request.entity),
        status=request.status,
        status_name=_status_name(request.status),
        is_open=request.is_open,
        submitted_at=request.created_at,
        updated_at=request.updated_at,
        expected_at=request.resolution_due,
        answered_at=request.answered_at,
        closed_at=request.closed_at,
    )


def _submit(client: ApiClient, payload: PartnerRequestIn) -> tuple[int, dict[str, Any]]:
    person = payload.person
    request = client_request_submit(
        client=client,
        person=Person(
            full_name=person.full_name,
            mobile=person.mobile or "",
            email=person.email or "",
            national_id=person.national_id or "",
        ),
        kind=payload.kind,
        category=payload.category_id,
        entity=payload.entity_id,
        subject=payload.subject,
        description=payload.description,
        channel=payload.channel,
    )
    stored = Request.objects.select_related("category", "entity").get(pk=request.pk)
    return 201, request_out(stored).model_dump(mode="json")


@router.post(
    "/requests",
    auth=create_auth,
    response={201: PartnerRequestOut, **ERRORS},
    summary="Submit a request on a person's behalf",
    description=(
        "Send `Idempotency-Key` to retry safely: a retry with the same key and body "
        "returns the first answer and creates nothing."
    ),
)
def requests_create(
    request: HttpRequest, response: HttpResponse, payload: PartnerRequestIn
) -> Reply[dict[str, Any]]:
    client = client_of(request)
    status, body = idempotent(
        request,
        owner=f"k{client.pk}",
        produce=lambda: _submit(client, payload),
        response=response,
    )
    return Reply(status, body)


def _cursor_decode(cursor: str) -> int | None:
    if not cursor:
        return None
    try:
        value = int(base64.urlsafe_b64decode(cursor.encode("ascii") + b"==").decode("ascii"))
    except (ValueError, UnicodeError, binascii.Error):
        value = 0
    if not 1 <= value <= MAX_ID:
        raise InvalidInput(
            _("This page link is not valid; start again from the first page."),
            code="invalid_cursor",
            details={"field": "cursor"},
        )
    return value


def _cursor_encode(submission: ClientSubmission) -> str:
    return base64.urlsafe_b64encode(str(submission.pk).encode()).decode().rstrip("=")


@router.get(
    "/requests",
    auth=read_auth,
    response={200: PartnerRequestPage, **ERRORS},
    summary="The requests this client submitted, newest first",
)
def requests_list(request: HttpRequest, query: Query[PageQuery]) -> PartnerRequestPage:
    ensure_known_parameters(request, PageQuery.model_fields)
    before = _cursor_decode(query.cursor)
    limit = query.limit
    submissions = client_submissions(client=client_of(request))
    if before is not None:
        submissions = submissions.filter(pk__lt=before)
    rows = list(submissions[: limit + 1])
    page = rows[:limit]
    return PartnerRequestPage(
        items=[request_out(row.request) for row in page],
        next_cursor=_cursor_encode(page[-1]) if len(rows) > limit else None,
    )


@router.get(
    "/requests/{tracking_number}",
    auth=read_auth,
    response={200: PartnerRequestOut, **ERRORS},
    summary="The progress of a request this client submitted",
)
def requests_detail(request: HttpRequest, tracking_number: str) -> PartnerRequestOut:
    digits = tracking_number_parse(tracking_number)
    found = client_request(client=client_of(request), tracking_number=digits) if digits else None
    if found is None:
        raise NotFound(_("No such request."))
    return request_out(found)
