"""Schemas of the staff API and how a request is rendered in them.

Input text must be storable (no NUL, no lone surrogate) so bad input is a 422,
never a database error. Output shows what the console shows: the beneficiary's
contact masked (first name and initials in lists), never a national ID.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, Literal

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import override
from ninja import Field, Schema
from pydantic import AfterValidator, BeforeValidator

from tawasul.api.schemas import Bilingual
from tawasul.beneficiaries.models import Beneficiary
from tawasul.cases.models import Category, Channel, Kind, Message, Priority, Request
from tawasul.cases.queues import COUNT_CAP, PAGE_SIZE, Queue, SlaFilter, Sort, sla_badge
from tawasul.cases.selectors import request_linked_ids
from tawasul.channels.outbox import recipient_masked
from tawasul.console.workspace_forms import ResolutionCode
from tawasul.console.workspace_views import staff_timeline
from tawasul.directory import access
from tawasul.directory.models import Entity
from tawasul.insights.similar import SimilarReason, SimilarRequest
from tawasul.sla.selectors import request_sla_view

MAX_LIMIT = 100
BIGINT = 2**63 - 1

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
Id = Annotated[int, Field(ge=1, le=BIGINT)]


def _iso_date_text(value: Any) -> Any:
    """Only `YYYY-MM-DD` (pydantic would also take a number of seconds)."""
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        raise ValueError("must be a date as YYYY-MM-DD")
    return value


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
Day = Annotated[date, BeforeValidator(_iso_date_text)]
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
    q: Text | None = Field(
        None,
        max_length=200,
        description="A tracking number, or words found in the subject, description or thread",
    )
    submitted_from: Day | None = Field(None, alias="from")
    submitted_to: Day | None = Field(None, alias="to")
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


class SimilarQuery(Schema):
    limit: int = Field(8, ge=1, le=20, description="How many similar requests, at most")


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
    # e-mail, social, sms … when it came in or went out through a channel; "" otherwise
    channel: str
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


class SimilarOut(Schema):
    """A request like the one asked about (never anything about its beneficiary)."""

    tracking_number: str
    tracking_display: str
    subject: str
    status: str
    kind: str
    category: NamedOut
    entity: NamedOut
    created_at: datetime
    score: float = Field(
        ge=0,
        le=1,
        description="0.70·text + 0.15·same beneficiary + 0.10·same entity + 0.05·same "
        "category (the last two within the period)",
    )
    text_score: float = Field(ge=0, le=1, description="Cosine similarity of the texts")
    reasons: list[SimilarReason]
    near_duplicate: bool = Field(description="Score of 0.80 or more")
    linked: bool = Field(description="Already linked to the request asked about")
    merged: bool = Field(description="The request asked about was merged into this one")


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


def bilingual(label: str | Promise) -> Bilingual:
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


def member_out(user: Any) -> StaffMemberOut | None:
    if user is None:
        return None
    name = user.get_full_name() or user.get_username()
    return StaffMemberOut(id=user.pk, username=user.get_username(), name=name)


def summary_out(case: Request, now: datetime) -> RequestSummaryOut:
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
        assignee=member_out(case.assignee),
        beneficiary_name=name_masked(case.beneficiary.full_name),
        sla=SlaBadgeOut(code=badge.code, label=bilingual(badge.label)),
        first_response_due=case.first_response_due,
        resolution_due=case.resolution_due,
        created_at=case.created_at,
        updated_at=case.updated_at,
        transfer_count=case.transfer_count,
    )


def similar_out(found: SimilarRequest) -> SimilarOut:
    other = found.request
    return SimilarOut(
        tracking_number=other.tracking_number,
        tracking_display=other.tracking_display,
        subject=other.subject,
        status=other.status,
        kind=other.kind,
        category=_named(other.category),
        entity=_named(other.entity),
        created_at=other.created_at,
        score=found.score,
        text_score=found.text_score,
        reasons=list(found.reasons),
        near_duplicate=found.near_duplicate,
        linked=found.linked,
        merged=found.merged,
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


def message_out(message: Message) -> MessageOut:
    return MessageOut(
        id=message.pk,
        visibility=message.visibility,
        from_beneficiary=message.from_beneficiary,
        author=member_out(message.author_user),
        body=message.body,
        channel=message.channel,
        created_at=message.created_at,
    )


def _thread(case: Request) -> list[MessageOut]:
    messages = case.messages.select_related("author_user").order_by("created_at", "pk")
    return [message_out(message) for message in messages]


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


def detail_out(user: AbstractBaseUser, case: Request) -> RequestDetailOut:
    now = timezone.now()
    linked = access.requests_for(user).filter(pk__in=request_linked_ids(case))
    merged_into = case.merged_into.tracking_number if case.merged_into is not None else None
    return RequestDetailOut(
        **summary_out(case, now).model_dump(),
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
