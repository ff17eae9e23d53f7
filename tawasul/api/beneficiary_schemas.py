"""What the mobile app sends and receives: input schemas and the request as the app shows it.

Out of a request the app sees what the portal shows: no national ID, no internal
note or event, no staff name (staff speak as "Beneficiary care team"), and the
beneficiary's own contact details masked.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import override
from ninja import Schema
from pydantic import AfterValidator, Field, StrictInt, StringConstraints

from tawasul.api.schemas import Bilingual
from tawasul.beneficiaries.models import Beneficiary, BeneficiaryKind
from tawasul.cases.models import Attachment, Category, Kind, Message, Request, Status
from tawasul.core.validators import mobile_masked
from tawasul.directory.models import Entity
from tawasul.feedback.models import Objection, SatisfactionResponse
from tawasul.portal.submit_forms import email_masked
from tawasul.portal.timeline import TimelineItem

ID_MAX = 2**63 - 1  # the largest primary key; a bigger number is refused (422), not a 500


def _plain_text(value: str) -> str:
    """Text the database can store: no NUL character, no lone surrogate."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text") from None
    return value


# Strings the database can store, with a generous ceiling (the services check the real limits).
ShortText = Annotated[str, StringConstraints(max_length=254), AfterValidator(_plain_text)]
LongText = Annotated[str, StringConstraints(max_length=20_000), AfterValidator(_plain_text)]


Language = Literal["ar", "en"]
DbId = Annotated[int, Field(ge=1, le=ID_MAX)]
PAGE_MAX = 100


# --- input ----------------------------------------------------------------------------------


class CodeIn(Schema):
    destination: ShortText = Field(
        description="A Saudi mobile number (05XXXXXXXX or +9665XXXXXXXX) or an e-mail address."
    )
    language: Language | None = Field(None, description="The language of the message sent.")


class TokenIn(Schema):
    """Exchange a verified code for tokens; on a first sign-in, say who you are.

    Either `destination` + `challenge` + `code`, or the `signup_token` a first
    sign-in answered with (to finish signing up without a new code).
    """

    destination: ShortText | None = None
    challenge: ShortText | None = None
    code: ShortText | None = None
    signup_token: ShortText | None = None
    national_id: ShortText | None = None
    full_name: ShortText | None = None
    kind: BeneficiaryKind = BeneficiaryKind.OTHER
    language: Language = "ar"
    consent: bool = False

    @property
    def signs_up(self) -> bool:
        return bool(self.full_name or self.national_id or self.consent)


class RefreshIn(Schema):
    refresh_token: ShortText


class RequestIn(Schema):
    kind: Kind
    category_id: DbId
    entity_id: DbId | None = None
    subject: LongText
    description: LongText


class ReplyIn(Schema):
    body: LongText


class ReasonIn(Schema):
    reason: LongText


class ListQuery(Schema):
    status: Literal["open", "answered", "closed", "all"] = "all"
    cursor: str | None = Field(None, max_length=200)
    limit: int = Field(20, ge=1, le=PAGE_MAX)


class RatingIn(Schema):
    score: StrictInt = Field(ge=1, le=5)
    resolved: bool = False
    comment: LongText = ""


# --- output ---------------------------------------------------------------------------------


class ChallengeOut(Schema):
    challenge: str
    expires_in: int = Field(description="Seconds the code stays valid.")


class TokenOut(Schema):
    access_token: str
    refresh_token: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 - the scheme's name, not a secret
    expires_in: int = Field(description="Seconds the access token stays valid.")
    refresh_expires_in: int = Field(description="Seconds the refresh token stays valid.")


class ProfileOut(Schema):
    full_name: str
    mobile_masked: str
    email_masked: str
    language: str
    kind: str
    kind_label: Bilingual
    preferred_contact: str


class NamedOut(Schema):
    id: int
    code: str
    name_ar: str
    name_en: str


class RequestOut(Schema):
    tracking_number: str = Field(description="The digits, as stored and accepted.")
    tracking_display: str = Field(description="Grouped 3-4-4 for reading aloud.")
    status: str
    status_label: Bilingual
    kind: str
    kind_label: Bilingual
    channel: str
    subject: str
    category: NamedOut
    entity: NamedOut
    created_at: datetime
    updated_at: datetime
    answered_at: datetime | None
    closed_at: datetime | None
    expected_answer_by: datetime | None = Field(
        description="When the answer is due under the service-level document."
    )


class RequestPage(Schema):
    items: list[RequestOut]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null at the end."
    )


class AttachmentOut(Schema):
    id: int
    name: str
    content_type: str
    size: int
    uploaded_at: datetime
    from_beneficiary: bool
    message_id: int | None
    url: str


class TimelineItemOut(Schema):
    kind: str
    label: Bilingual
    at: datetime
    by_beneficiary: bool
    who: Bilingual
    body: str
    attachment_ids: list[int]


class ActionsOut(Schema):
    can_reply: bool
    can_accept: bool
    can_object: bool
    can_withdraw: bool
    can_rate: bool
    objection_window_ends_at: datetime | None


class RequestDetailOut(RequestOut):
    description: str
    actions: ActionsOut
    timeline: list[TimelineItemOut]
    attachments: list[AttachmentOut]


class MessageOut(Schema):
    id: int
    body: str
    created_at: datetime


class ObjectionOut(Schema):
    id: int
    outcome: str
    created_at: datetime
    request_status: str


class RatingOut(Schema):
    id: int
    score: int
    resolved: bool
    comment: str
    created_at: datetime


# --- rendering ------------------------------------------------------------------------------


def bilingual(label: str | Promise) -> Bilingual:
    texts = {}
    for language in ("ar", "en"):
        with override(language):
            texts[language] = str(label)
    return Bilingual(**texts)


def _local(value: datetime | None) -> datetime | None:
    return timezone.localtime(value) if value is not None else None


def _named(row: Category | Entity) -> NamedOut:
    return NamedOut(id=row.pk, code=row.code, name_ar=row.name_ar, name_en=row.name_en)


def profile_out(beneficiary: Beneficiary) -> ProfileOut:
    return ProfileOut(
        full_name=beneficiary.full_name,
        mobile_masked=mobile_masked(beneficiary.mobile),
        email_masked=email_masked(beneficiary.email) if beneficiary.email else "",
        language=beneficiary.language,
        kind=beneficiary.kind,
        kind_label=bilingual(BeneficiaryKind(beneficiary.kind).label),
        preferred_contact=beneficiary.preferred_contact,
    )


def _request_fields(case: Request) -> dict[str, object]:
    return {
        "tracking_number": case.tracking_number,
        "tracking_display": case.tracking_display,
        "status": case.status,
        "status_label": bilingual(Status(case.status).label),
        "kind": case.kind,
        "kind_label": bilingual(Kind(case.kind).label),
        "channel": case.channel,
        "subject": case.subject,
        "category": _named(case.category),
        "entity": _named(case.entity),
        "created_at": _local(case.created_at),
        "updated_at": _local(case.updated_at),
        "answered_at": _local(case.answered_at),
        "closed_at": _local(case.closed_at),
        "expected_answer_by": _local(case.resolution_due) if case.is_open else None,
    }


def request_out(case: Request) -> RequestOut:
    return RequestOut(**_request_fields(case))  # type: ignore[arg-type]


def attachment_out(attachment: Attachment, tracking_number: str) -> AttachmentOut:
    return AttachmentOut(
        id=attachment.pk,
        name=attachment.original_name,
        content_type=attachment.content_type,
        size=attachment.size,
        uploaded_at=timezone.localtime(attachment.uploaded_at),
        from_beneficiary=attachment.from_beneficiary,
        message_id=attachment.message_id,
        url=reverse(
            "api-v1:me_attachment_download",
            kwargs={"tracking_number": tracking_number, "attachment_id": attachment.pk},
        ),
    )


def timeline_item_out(item: TimelineItem) -> TimelineItemOut:
    return TimelineItemOut(
        kind=item.kind,
        label=bilingual(item.label),
        at=timezone.localtime(item.at),
        by_beneficiary=item.by_beneficiary,
        who=bilingual(item.who),
        body=item.body,
        attachment_ids=[attachment.pk for attachment in item.attachments],
    )


def request_detail_out(
    case: Request,
    *,
    actions: ActionsOut,
    timeline: list[TimelineItem],
    attachments: list[Attachment],
) -> RequestDetailOut:
    return RequestDetailOut(
        **_request_fields(case),  # type: ignore[arg-type]
        description=case.description,
        actions=actions,
        timeline=[timeline_item_out(item) for item in timeline],
        attachments=[attachment_out(row, case.tracking_number) for row in attachments],
    )


def message_out(message: Message) -> MessageOut:
    return MessageOut(
        id=message.pk, body=message.body, created_at=timezone.localtime(message.created_at)
    )


def objection_out(objection: Objection) -> ObjectionOut:
    return ObjectionOut(
        id=objection.pk,
        outcome=objection.outcome,
        created_at=timezone.localtime(objection.created_at),
        request_status=objection.request.status,
    )


def rating_out(rating: SatisfactionResponse) -> RatingOut:
    return RatingOut(
        id=rating.pk,
        score=rating.score,
        resolved=rating.resolved,
        comment=rating.comment,
        created_at=timezone.localtime(rating.created_at),
    )
