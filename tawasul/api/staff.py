"""API v1: the staff console's queues, workspace and actions, for staff tools.

A staff member calls with a personal access token (`Authorization: Bearer twp_…`):
`requests:read` to read, `requests:write` to act. The token acts with its owner's
own grants, through the same access layer and services as the console: a request
out of reach is "not found" (the same answer as a number that does not exist), a
request in reach that the member may not act on is "forbidden".

Each action fetches the request with the permission it needs, calls one service
and answers with the request's summary; an `Idempotency-Key` makes a retry safe.
The beneficiary's contact is masked; `…/reveal` shows it and is logged. The API
never shows a national ID.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any, Literal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import override
from ninja import Field, Query, Router, Schema, Status
from pydantic import AfterValidator

from tawasul.api.auth import StaffAuth, staff_of
from tawasul.api.idempotency import Produced, idempotent
from tawasul.api.models import Scope
from tawasul.api.schemas import ERRORS, Bilingual
from tawasul.beneficiaries.models import Beneficiary
from tawasul.cases import services as svc
from tawasul.cases.models import Category, Channel, Kind, Priority, Request
from tawasul.cases.queues import (
    COUNT_CAP,
    PAGE_SIZE,
    QUEUE_LABELS,
    Queue,
    QueueFilters,
    SlaFilter,
    Sort,
    cursor_valid,
    queue_count,
    queue_filter,
    queue_filter_assignee,
    queue_page,
    queue_requests,
    sla_badge,
)
from tawasul.cases.selectors import request_linked_ids
from tawasul.channels.outbox import recipient_masked
from tawasul.console.workspace_forms import ResolutionCode
from tawasul.console.workspace_views import staff_timeline
from tawasul.core.errors import AccessDenied, InvalidInput, NotFound
from tawasul.core.ids import tracking_number_parse
from tawasul.directory import access
from tawasul.directory.access import Permission
from tawasul.directory.models import Entity
from tawasul.sla.selectors import request_sla_view

router = Router(tags=["staff"])
read = StaffAuth(Scope.REQUESTS_READ)
write = StaffAuth(Scope.REQUESTS_WRITE)
P = Permission
MAX_LIMIT = 100
_BIGINT = 2**63 - 1


# --- input ------------------------------------------------------------------------------


def _storable(value: str) -> str:
    """Text a database can keep: no NUL character, no lone surrogate."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text") from None
    return value


Text = Annotated[str, AfterValidator(_storable)]
Id = Annotated[int, Field(ge=1, le=_BIGINT)]
StatusFilter = Literal[
    "open",
    "new",
    "assigned",
    "in_progress",
    "awaiting_beneficiary",
    "answered",
    "objected",
    "closed",
    "cancelled",
]


class RequestFilters(Schema):
    """The console queue page's filters; `cursor` is the `next_cursor` of the page before."""

    queue: Queue = Queue.SUBTREE
    status: StatusFilter | None = None
    kind: Kind | None = None
    category: Id | None = None
    entity: Id | None = None
    priority: Priority | None = None
    channel: Channel | None = None
    sla: SlaFilter | None = None
    assignee: Text | None = Field(
        None, max_length=150, description="`me`, `none`, a user id or a username"
    )
    q: Text | None = Field(None, max_length=200, description="A tracking number or subject words")
    submitted_from: date | None = Field(None, alias="from")
    submitted_to: date | None = Field(None, alias="to")
    sort: Sort = Sort.NEWEST
    cursor: Text | None = Field(None, max_length=1000)
    limit: int = Field(PAGE_SIZE, ge=1, le=MAX_LIMIT)


class AssignIn(Schema):
    assignee: Id | Annotated[Text, Field(min_length=1, max_length=150)] = Field(
        description="The agent's user id or username"
    )


class BodyIn(Schema):
    body: Text = Field(max_length=10_000)


class QuestionIn(Schema):
    question: Text = Field(max_length=10_000)


class AnswerIn(Schema):
    resolution: Text = Field(max_length=10_000)
    resolution_code: ResolutionCode | None = None


class ForwardIn(Schema):
    entity_id: Id
    reason: Text = Field(max_length=1000)


class ReasonIn(Schema):
    reason: Text = Field(max_length=2000)


class MergeIn(Schema):
    into: Text = Field(max_length=30, description="The surviving request's tracking number")
    reason: Text = Field(max_length=1000)


class LinkIn(Schema):
    other: Text = Field(max_length=30, description="The related request's tracking number")


class PriorityIn(Schema):
    priority: Priority


class CategoryIn(Schema):
    category_id: Id


# --- output -----------------------------------------------------------------------------


class NamedOut(Schema):
    id: int
    code: str
    name_ar: str
    name_en: str


class StaffMemberOut(Schema):
    id: int
    username: str
    name: str


class SlaBadgeOut(Schema):
    code: str
    label: Bilingual


class RequestSummaryOut(Schema):
    tracking_number: str
    tracking_display: str
    subject: str
    status: str
    kind: str
    channel: str
    priority: str
    category: NamedOut
    entity: NamedOut
    assignee: StaffMemberOut | None
    beneficiary_name: str = Field(description="Masked: first name and initials")
    sla: SlaBadgeOut
    first_response_due: datetime | None
    resolution_due: datetime | None
    created_at: datetime
    updated_at: datetime
    transfer_count: int


class RequestPageOut(Schema):
    count: int = Field(description=f"At most {COUNT_CAP}; see `count_capped`")
    count_capped: bool
    next_cursor: str | None
    results: list[RequestSummaryOut]


class QueueOut(Schema):
    name: str
    label: Bilingual
    count: int
    count_capped: bool


class BeneficiaryOut(Schema):
    name: str
    mobile: str
    email: str
    kind: str
    language: str
    preferred_contact: str


class ContactOut(Schema):
    name: str
    mobile: str
    email: str


class MessageOut(Schema):
    id: int
    visibility: str
    from_beneficiary: bool
    author: StaffMemberOut | None
    body: str
    created_at: datetime


class MessageCreatedOut(Schema):
    message: MessageOut
    request: RequestSummaryOut


class EventOut(Schema):
    kind: str
    label: str
    at: datetime
    actor: str
    is_public: bool
    detail: str
    message_id: int | None


class AttachmentOut(Schema):
    id: int
    name: str
    content_type: str
    size: int
    from_beneficiary: bool
    message_id: int | None
    uploaded_at: datetime


class SlaOut(Schema):
    first_response_due: datetime | None
    first_response_state: str
    first_response_remaining_minutes: int | None
    resolution_due: datetime | None
    resolution_state: str
    resolution_remaining_minutes: int | None
    stage: str
    working_day_minutes: int


class LinkedOut(Schema):
    tracking_number: str
    subject: str
    status: str


class RequestDetailOut(RequestSummaryOut):
    description: str
    resolution: str
    resolution_code: str
    cancel_reason: str
    first_response_at: datetime | None
    answered_at: datetime | None
    closed_at: datetime | None
    max_transfers: int
    beneficiary: BeneficiaryOut
    thread: list[MessageOut]
    events: list[EventOut]
    attachments: list[AttachmentOut]
    clocks: SlaOut
    linked: list[LinkedOut]
    merged_into: str | None


# --- rendering --------------------------------------------------------------------------


def _both(label: str | Promise) -> Bilingual:
    texts = {}
    for language in ("ar", "en"):
        with override(language):
            texts[language] = str(label)
    return Bilingual(**texts)


def name_masked(full_name: str) -> str:
    """The first name, then the initial of every other name: `سارة ع•••`."""
    first, *others = full_name.split() or [""]
    return " ".join([first, *(f"{other[:1]}•••" for other in others)])


def _named(node: Category | Entity) -> NamedOut:
    return NamedOut(id=node.pk, code=node.code, name_ar=node.name_ar, name_en=node.name_en)


def _member(user: Any) -> StaffMemberOut | None:
    if user is None:
        return None
    name = user.get_full_name() or user.get_username()
    return StaffMemberOut(id=user.pk, username=user.get_username(), name=name)


def _summary(case: Request, now: datetime) -> RequestSummaryOut:
    badge = sla_badge(case, now=now)
    return RequestSummaryOut(
        tracking_number=case.tracking_number,
        tracking_display=case.tracking_display,
        subject=case.subject,
        status=case.status,
        kind=case.kind,
        channel=case.channel,
        priority=case.priority,
        category=_named(case.category),
        entity=_named(case.entity),
        assignee=_member(case.assignee),
        beneficiary_name=name_masked(case.beneficiary.full_name),
        sla=SlaBadgeOut(code=badge.code, label=_both(badge.label)),
        first_response_due=case.first_response_due,
        resolution_due=case.resolution_due,
        created_at=case.created_at,
        updated_at=case.updated_at,
        transfer_count=case.transfer_count,
    )


def _beneficiary(person: Beneficiary) -> BeneficiaryOut:
    email = recipient_masked(channel="email", recipient=person.email) if person.email else ""
    return BeneficiaryOut(
        name=person.full_name,
        mobile=person.masked_mobile,
        email=email,
        kind=person.kind,
        language=person.language,
        preferred_contact=person.preferred_contact,
    )


def _thread(case: Request) -> list[MessageOut]:
    return [
        MessageOut(
            id=message.pk,
            visibility=message.visibility,
            from_beneficiary=message.from_beneficiary,
            author=_member(message.author_user),
            body=message.body,
            created_at=message.created_at,
        )
        for message in case.messages.select_related("author_user").order_by("created_at", "pk")
    ]


def _events(case: Request) -> list[EventOut]:
    return [
        EventOut(
            kind=item.kind,
            label=str(item.label),
            at=item.at,
            actor=str(item.who),
            is_public=item.is_public,
            detail=item.detail,
            message_id=item.message.pk if item.message is not None else None,
        )
        for item in staff_timeline(case)
    ]


def _attachments(case: Request) -> list[AttachmentOut]:
    return [
        AttachmentOut(
            id=found.pk,
            name=found.original_name,
            content_type=found.content_type,
            size=found.size,
            from_beneficiary=found.from_beneficiary,
            message_id=found.message_id,
            uploaded_at=found.uploaded_at,
        )
        for found in case.attachments.order_by("uploaded_at", "pk")
    ]


def _clocks(case: Request, now: datetime) -> SlaOut:
    view = request_sla_view(case, now=now)
    return SlaOut(
        first_response_due=view.first_response_due,
        first_response_state=view.first_response_state,
        first_response_remaining_minutes=view.first_response_remaining,
        resolution_due=view.resolution_due,
        resolution_state=view.resolution_state,
        resolution_remaining_minutes=view.resolution_remaining,
        stage=view.stage,
        working_day_minutes=view.working_day_minutes,
    )


def _detail(user: AbstractBaseUser, case: Request) -> RequestDetailOut:
    now = timezone.now()
    linked = access.requests_for(user).filter(pk__in=request_linked_ids(case))
    merged_into = case.merged_into.tracking_number if case.merged_into is not None else None
    return RequestDetailOut(
        **_summary(case, now).model_dump(),
        description=case.description,
        resolution=case.resolution,
        resolution_code=case.resolution_code,
        cancel_reason=case.cancel_reason,
        first_response_at=case.first_response_at,
        answered_at=case.answered_at,
        closed_at=case.closed_at,
        max_transfers=settings.TAWASUL_MAX_TRANSFERS,
        beneficiary=_beneficiary(case.beneficiary),
        thread=_thread(case),
        events=_events(case),
        attachments=_attachments(case),
        clocks=_clocks(case, now),
        linked=[
            LinkedOut(tracking_number=row.tracking_number, subject=row.subject, status=row.status)
            for row in linked.order_by("created_at", "pk")
        ],
        merged_into=merged_into,
    )


# --- who and which request --------------------------------------------------------------


def _staff(http: HttpRequest) -> AbstractBaseUser:
    """The token's owner, who must hold at least one grant."""
    user: AbstractBaseUser = staff_of(http)
    if not access.staff_scope(user).is_staff:
        raise AccessDenied(_("This account holds no staff role."), code="not_staff")
    return user


def _case(user: AbstractBaseUser, tracking_number: str, permission: Permission) -> Request:
    """The request, if within reach (404 otherwise, whatever the number looks like)."""
    digits = tracking_number_parse(tracking_number)
    if digits is None:
        raise NotFound(_("No such request."))
    return access.request_for_staff(user, tracking_number=digits, permission=permission)


def _other(user: AbstractBaseUser, tracking_number: str, field: str) -> Request:
    """The other request of a link or a merge: within reach, or a field error."""
    try:
        return _case(user, tracking_number, P.VIEW)
    except NotFound:
        raise InvalidInput(
            _("No request with this tracking number is within your reach."),
            code="other_not_found",
            details={"field": field},
        ) from None


# --- reading ----------------------------------------------------------------------------


@router.get(
    "/queues",
    auth=read,
    response={200: list[QueueOut], **ERRORS},
    summary="The caller's queues with their counts",
)
def queues(request: HttpRequest) -> list[QueueOut]:
    user = _staff(request)
    counts = {queue: queue_count(queue_requests(user=user, queue=queue)) for queue in Queue}
    return [
        QueueOut(
            name=queue.value,
            label=_both(QUEUE_LABELS[queue]),
            count=min(count, COUNT_CAP),
            count_capped=count > COUNT_CAP,
        )
        for queue, count in counts.items()
    ]


def _filters(user: AbstractBaseUser, given: RequestFilters) -> QueueFilters:
    category = entity = None
    if given.category is not None:
        category = Category.objects.filter(pk=given.category, is_active=True).first()
        if category is None:
            raise InvalidInput(
                _("Unknown category."), code="category_unknown", details={"field": "category"}
            )
    if given.entity is not None:
        entity = access.entities_for(user).filter(pk=given.entity).first()
        if entity is None:
            raise InvalidInput(
                _("Unknown entity, or not within your reach."),
                code="entity_unknown",
                details={"field": "entity"},
            )
    return QueueFilters(
        status=given.status or "",
        kind=given.kind or "",
        category=category,
        channel=given.channel or "",
        priority=given.priority or "",
        entity=entity,
        submitted_from=given.submitted_from,
        submitted_to=given.submitted_to,
        sla=given.sla or "",
        q=(given.q or "").strip(),
    )


@router.get(
    "/requests",
    auth=read,
    response={200: RequestPageOut, **ERRORS},
    summary="Requests of a queue, filtered, in keyset pages",
)
def requests_list(request: HttpRequest, filters: Query[RequestFilters]) -> RequestPageOut:
    user = _staff(request)
    if filters.cursor and not cursor_valid(filters.sort, filters.cursor):
        raise InvalidInput(
            _("This page cursor is not valid for this sort."),
            code="cursor_invalid",
            details={"field": "cursor"},
        )
    chosen = queue_filter(queue_requests(user=user, queue=filters.queue), _filters(user, filters))
    chosen = queue_filter_assignee(chosen, user=user, assignee=filters.assignee or "")
    page = queue_page(
        chosen.select_related("beneficiary"),
        sort=filters.sort,
        after=filters.cursor or "",
        size=filters.limit,
    )
    total = queue_count(chosen)
    now = timezone.now()
    return RequestPageOut(
        count=min(total, COUNT_CAP),
        count_capped=total > COUNT_CAP,
        next_cursor=page.next_cursor,
        results=[_summary(row, now) for row in page.rows],
    )


@router.get(
    "/requests/{tracking_number}",
    auth=read,
    response={200: RequestDetailOut, **ERRORS},
    summary="One request as the console's workspace shows it",
)
def request_detail(request: HttpRequest, tracking_number: str) -> RequestDetailOut:
    user = _staff(request)
    return _detail(user, _case(user, tracking_number, P.VIEW))


@router.post(
    "/requests/{tracking_number}/reveal",
    auth=read,
    response={200: ContactOut, **ERRORS},
    summary="The beneficiary's contact, unmasked (every reveal is logged)",
)
def request_reveal(
    request: HttpRequest, response: HttpResponse, tracking_number: str
) -> ContactOut:
    user = _staff(request)
    person = svc.request_reveal_beneficiary(request=_case(user, tracking_number, P.VIEW), by=user)
    response["Cache-Control"] = "private, no-store"
    return ContactOut(name=person.full_name, mobile=person.mobile, email=person.email)


# --- acting -----------------------------------------------------------------------------

Acting = Callable[[AbstractBaseUser, Request], Request]


def _act(
    http: HttpRequest,
    response: HttpResponse,
    tracking_number: str,
    permission: Permission,
    run: Acting,
) -> Status[dict[str, Any]]:
    """Fetch the request with `permission`, run the service once per Idempotency-Key."""
    user = _staff(http)

    def produce() -> Produced:
        done = run(user, _case(user, tracking_number, permission))
        return 200, _summary(done, timezone.now()).model_dump(mode="json")

    status, body = idempotent(http, owner=f"staff:{user.pk}", produce=produce, response=response)
    return Status(status, body)


def _written(
    http: HttpRequest,
    response: HttpResponse,
    tracking_number: str,
    permission: Permission,
    write_message: Callable[[AbstractBaseUser, Request], Any],
) -> Status[dict[str, Any]]:
    """Like `_act`, for a service that writes a message: 201 with the message."""
    user = _staff(http)

    def produce() -> Produced:
        case = _case(user, tracking_number, permission)
        message = write_message(user, case)
        fresh = Request.objects.select_related("category", "entity", "assignee", "beneficiary")
        created = MessageCreatedOut(
            message=MessageOut(
                id=message.pk,
                visibility=message.visibility,
                from_beneficiary=message.from_beneficiary,
                author=_member(user),
                body=message.body,
                created_at=message.created_at,
            ),
            request=_summary(fresh.get(pk=case.pk), timezone.now()),
        )
        return 201, created.model_dump(mode="json")

    status, body = idempotent(http, owner=f"staff:{user.pk}", produce=produce, response=response)
    return Status(status, body)


ACTED = {200: RequestSummaryOut, **ERRORS}
WRITTEN = {201: MessageCreatedOut, **ERRORS}
PATH = "/requests/{tracking_number}"


@router.post(f"{PATH}/claim", auth=write, response=ACTED, summary="Take the request")
def claim(request: HttpRequest, response: HttpResponse, tracking_number: str) -> Any:
    return _act(
        request,
        response,
        tracking_number,
        P.WORK,
        lambda user, case: svc.request_claim(request=case, by=user),
    )


def _assignee(value: int | str) -> Any:
    people = get_user_model().objects
    digits = str(value)
    found = (
        people.filter(pk=int(digits)).first()
        if digits.isascii() and digits.isdigit() and int(digits) <= _BIGINT
        else people.filter(username=value).first()
    )
    if found is None:
        raise InvalidInput(
            _("No such staff member."), code="assignee_unknown", details={"field": "assignee"}
        )
    return found


@router.post(f"{PATH}/assign", auth=write, response=ACTED, summary="Assign to an agent")
def assign(
    request: HttpRequest, response: HttpResponse, tracking_number: str, data: AssignIn
) -> Any:
    return _act(
        request,
        response,
        tracking_number,
        P.ASSIGN,
        lambda user, case: svc.request_assign(
            request=case, assignee=_assignee(data.assignee), by=user
        ),
    )


@router.post(f"{PATH}/start", auth=write, response=ACTED, summary="Start work")
def start(request: HttpRequest, response: HttpResponse, tracking_number: str) -> Any:
    return _act(
        request,
        response,
        tracking_number,
        P.WORK,
        lambda user, case: svc.request_start(request=case, by=user),
    )


@router.post(f"{PATH}/reply", auth=write, response=WRITTEN, summary="A public reply")
def reply(request: HttpRequest, response: HttpResponse, tracking_number: str, data: BodyIn) -> Any:
    return _written(
        request,
        response,
        tracking_number,
        P.WORK,
        lambda user, case: svc.request_reply(request=case, by=user, body=data.body),
    )


@router.post(f"{PATH}/note", auth=write, response=WRITTEN, summary="An internal note")
def note(request: HttpRequest, response: HttpResponse, tracking_number: str, data: BodyIn) -> Any:
    return _written(
        request,
        response,
        tracking_number,
        P.NOTE,
        lambda user, case: svc.request_note(request=case, by=user, body=data.body),
    )


@router.post(f"{PATH}/ask", auth=write, response=ACTED, summary="Ask the beneficiary")
def ask(
    request: HttpRequest, response: HttpResponse, tracking_number: str, data: QuestionIn
) -> Any:
    return _act(
        request,
        response,
        tracking_number,
        P.WORK,
        lambda user, case: svc.request_ask_beneficiary(
            request=case, by=user, question=data.question
        ),
    )


@router.post(f"{PATH}/answer", auth=write, response=ACTED, summary="Give the answer")
def answer(
    request: HttpRequest, response: HttpResponse, tracking_number: str, data: AnswerIn
) -> Any:
    return _act(
        request,
        response,
        tracking_number,
        P.WORK,
        lambda user, case: svc.request_answer(
            request=case,
            by=user,
            resolution=data.resolution,
            resolution_code=data.resolution_code or "",
        ),
    )


def _entity(pk: int) -> Entity:
    found = Entity.objects.filter(pk=pk).first()
    if found is None:
        raise InvalidInput(
            _("Unknown entity."), code="entity_unknown", details={"field": "entity_id"}
        )
    return found


@router.post(f"{PATH}/forward", auth=write, response=ACTED, summary="Forward to another entity")
def forward(
    request: HttpRequest, response: HttpResponse, tracking_number: str, data: ForwardIn
) -> Any:
    return _act(
        request,
        response,
        tracking_number,
        P.WORK,
        lambda user, case: svc.request_forward(
            request=case, by=user, to_entity=_entity(data.entity_id), reason=data.reason
        ),
    )


@router.post(f"{PATH}/return", auth=write, response=ACTED, summary="Return a misrouted request")
def return_(
    request: HttpRequest, response: HttpResponse, tracking_number: str, data: ReasonIn
) -> Any:
    return _act(
        request,
        response,
        tracking_number,
        P.WORK,
        lambda user, case: svc.request_return(request=case, by=user, reason=data.reason),
    )


@router.post(f"{PATH}/merge", auth=write, response=ACTED, summary="Merge into another request")
def merge(request: HttpRequest, response: HttpResponse, tracking_number: str, data: MergeIn) -> Any:
    return _act(
        request,
        response,
        tracking_number,
        P.WORK,
        lambda user, case: svc.request_merge(
            request=case, into=_other(user, data.into, "into"), by=user, reason=data.reason
        ),
    )


def _link(user: AbstractBaseUser, case: Request, other: str) -> Request:
    svc.request_link(request=case, other=_other(user, other, "other"), by=user)
    return case


@router.post(f"{PATH}/link", auth=write, response=ACTED, summary="Link a related request")
def link(request: HttpRequest, response: HttpResponse, tracking_number: str, data: LinkIn) -> Any:
    return _act(
        request,
        response,
        tracking_number,
        P.WORK,
        lambda user, case: _link(user, case, data.other),
    )


@router.post(f"{PATH}/cancel", auth=write, response=ACTED, summary="Cancel the request")
def cancel(
    request: HttpRequest, response: HttpResponse, tracking_number: str, data: ReasonIn
) -> Any:
    return _act(
        request,
        response,
        tracking_number,
        P.SUPERVISE,
        lambda user, case: svc.request_cancel(request=case, by=user, reason=data.reason),
    )


@router.post(f"{PATH}/reopen", auth=write, response=ACTED, summary="Reopen an objected request")
def reopen(
    request: HttpRequest, response: HttpResponse, tracking_number: str, data: ReasonIn
) -> Any:
    return _act(
        request,
        response,
        tracking_number,
        P.SUPERVISE,
        lambda user, case: svc.request_reopen(request=case, by=user, reason=data.reason),
    )


@router.post(f"{PATH}/priority", auth=write, response=ACTED, summary="Change the priority")
def priority(
    request: HttpRequest, response: HttpResponse, tracking_number: str, data: PriorityIn
) -> Any:
    return _act(
        request,
        response,
        tracking_number,
        P.WORK,
        lambda user, case: svc.request_set_priority(
            request=case, by=user, priority=data.priority.value
        ),
    )


@router.post(f"{PATH}/category", auth=write, response=ACTED, summary="Change the category")
def category(
    request: HttpRequest, response: HttpResponse, tracking_number: str, data: CategoryIn
) -> Any:
    return _act(
        request,
        response,
        tracking_number,
        P.WORK,
        lambda user, case: svc.request_recategorise(
            request=case, by=user, category=data.category_id
        ),
    )
