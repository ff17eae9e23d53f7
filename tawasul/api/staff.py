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
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from ninja import Query, Router, Status

from tawasul.api.auth import StaffAuth, staff_of
from tawasul.api.idempotency import Produced, idempotent
from tawasul.api.models import Scope
from tawasul.api.paging import ensure_known_parameters
from tawasul.api.schemas import ERRORS
from tawasul.api.staff_schemas import (
    BIGINT,
    AnswerIn,
    AssignIn,
    BodyIn,
    CategoryIn,
    ContactOut,
    ForwardIn,
    LinkIn,
    MergeIn,
    MessageCreatedOut,
    PriorityIn,
    QuestionIn,
    QueueOut,
    ReasonIn,
    RequestDetailOut,
    RequestFilters,
    RequestPageOut,
    RequestSummaryOut,
    SimilarOut,
    SimilarQuery,
    bilingual,
    detail_out,
    message_out,
    similar_out,
    summary_out,
)
from tawasul.cases import services as svc
from tawasul.cases.models import Category, Request
from tawasul.cases.queues import (
    COUNT_CAP,
    QUEUE_LABELS,
    QueueFilters,
    cursor_valid,
    queue_count,
    queue_counts,
    queue_filter,
    queue_filter_assignee,
    queue_page,
    queue_requests,
)
from tawasul.core.errors import AccessDenied, InvalidInput, NotFound
from tawasul.core.ids import tracking_number_parse
from tawasul.directory import access
from tawasul.directory.access import Permission
from tawasul.directory.models import Entity
from tawasul.insights.similar import similar_requests

router = Router(tags=["staff"])
read = StaffAuth(Scope.REQUESTS_READ)
write = StaffAuth(Scope.REQUESTS_WRITE)
P = Permission
FILTER_NAMES = frozenset(field.alias or name for name, field in RequestFilters.model_fields.items())


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
    counts = queue_counts(user)
    return [
        QueueOut(
            name=queue.value,
            label=bilingual(QUEUE_LABELS[queue]),
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
    ensure_known_parameters(request, FILTER_NAMES)
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
        results=[summary_out(row, now) for row in page.rows],
    )


@router.get(
    "/requests/{tracking_number}",
    auth=read,
    response={200: RequestDetailOut, **ERRORS},
    summary="One request as the console's workspace shows it",
)
def request_detail(request: HttpRequest, tracking_number: str) -> RequestDetailOut:
    user = _staff(request)
    return detail_out(user, _case(user, tracking_number, P.VIEW))


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


@router.get(
    "/requests/{tracking_number}/similar",
    auth=read,
    response={200: list[SimilarOut], **ERRORS},
    summary="Requests like this one (near-duplicates and related), best first",
)
def request_similar(
    request: HttpRequest, tracking_number: str, query: Query[SimilarQuery]
) -> list[SimilarOut]:
    user = _staff(request)
    ensure_known_parameters(request, ("limit",))
    case = _case(user, tracking_number, P.VIEW)
    found = similar_requests(user=user, request=case, limit=query.limit)
    return [similar_out(row) for row in found]


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
        return 200, summary_out(done, timezone.now()).model_dump(mode="json")

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
        created = MessageCreatedOut(
            message=message_out(message),
            request=summary_out(access.request_for_staff(user, pk=case.pk), timezone.now()),
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
        if digits.isascii() and digits.isdigit() and int(digits) <= BIGINT
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
