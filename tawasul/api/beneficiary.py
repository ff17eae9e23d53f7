"""API v1 for the mobile app: sign-in by one-time code (`/auth/…`) and the beneficiary's own
requests (`/me/…`).

The same services as the portal: `signin_code_send` / `signin_code_verify` /
`beneficiary_sign_up` to sign in, `request_submit` (channel APP) and the
beneficiary actions to act, `public_timeline` to read. Someone else's request and
a number that does not exist get the same 404. Sign-in answers the same whether or
not an address is known; only a verified code tells the app it must sign up.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import FileResponse, HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from ninja import Router, Status
from ninja.files import UploadedFile
from ninja.params import File, Form, Header, Query

from tawasul.api import beneficiary_schemas as out
from tawasul.api.auth import beneficiary_auth, beneficiary_of
from tawasul.api.beneficiary_schemas import (
    CodeIn,
    DbId,
    ListQuery,
    RatingIn,
    ReasonIn,
    RefreshIn,
    ReplyIn,
    RequestIn,
    TokenIn,
)
from tawasul.api.credentials import (
    TokenPair,
    beneficiary_sign_out,
    beneficiary_tokens_issue,
    beneficiary_tokens_refresh,
    credential_digest,
)
from tawasul.api.idempotency import idempotent
from tawasul.api.models import BeneficiaryToken
from tawasul.api.paging import cursor_decode, ensure_known_parameters, keyset_page
from tawasul.api.schemas import ERRORS
from tawasul.beneficiaries.models import Beneficiary
from tawasul.beneficiaries.signin import (
    Destination,
    beneficiary_for_destination,
    beneficiary_sign_up,
    destination_parse,
    signin_code_send,
    signin_code_verify,
)
from tawasul.cases.attachments import attachment_check
from tawasul.cases.models import Channel, Request
from tawasul.cases.models import Status as RequestStatus
from tawasul.cases.selectors import (
    attachment_for_beneficiary,
    attachments_public,
    request_for_beneficiary,
    requests_of_beneficiary_page,
)
from tawasul.cases.services import (
    request_accept,
    request_beneficiary_attach,
    request_beneficiary_reply,
    request_cancel,
    request_submit,
)
from tawasul.cases.workflow import Action, allowed_actions
from tawasul.core.errors import InvalidInput, NotFound
from tawasul.core.http import client_ip
from tawasul.feedback.objections import objection_file, objection_window_end
from tawasul.feedback.selectors import satisfaction_answer_latest, satisfaction_of_answer
from tawasul.feedback.services import satisfaction_record
from tawasul.portal.timeline import public_timeline

router = Router(tags=["app"])
WRONG_CODE = _("The code is wrong or has expired. Ask for a new code.")
SIGNUP_FIELDS = ["national_id", "full_name", "kind", "language", "consent"]


def _ttl() -> int:
    return int(getattr(settings, "TAWASUL_CODE_TTL_SECONDS", 600))


# --- sign-in ----------------------------------------------------------------------------------


@router.post(
    "/auth/code",
    response={202: out.ChallengeOut, **ERRORS},
    summary="Send a sign-in code to a mobile or an e-mail address",
    description="The answer is the same whether or not the address is known.",
)
def auth_code(request: HttpRequest, payload: CodeIn) -> Status[out.ChallengeOut]:
    challenge = signin_code_send(
        destination=payload.destination,
        ip=client_ip(request),
        language=payload.language or "ar",
    )
    return Status(202, out.ChallengeOut(challenge=challenge, expires_in=_ttl()))


@router.post(
    "/auth/token",
    response={200: out.TokenOut, **ERRORS},
    summary="Exchange a sign-in code for tokens (and sign up on a first sign-in)",
    description=(
        "Send `destination`, `challenge` and `code`. A person we do not know yet gets 422 "
        "`signup_required` with a `signup_token` in `details`: send it back with `national_id`, "
        "`full_name`, `kind`, `language` and `consent: true` (or send those with the code)."
    ),
)
def auth_token(request: HttpRequest, payload: TokenIn) -> out.TokenOut:
    destination, signup_token = _verified_destination(payload)
    beneficiary = beneficiary_for_destination(destination)
    if beneficiary is None:
        beneficiary = _sign_up(destination, payload, signup_token)
    return _token_out(beneficiary_tokens_issue(beneficiary=beneficiary))


def _verified_destination(payload: TokenIn) -> tuple[Destination, str | None]:
    """The address the caller proved they own: by the code, or by an earlier code's sign-up
    token."""
    if payload.signup_token:
        return _signup_pending(payload.signup_token), payload.signup_token
    missing = [name for name in ("destination", "challenge", "code") if not getattr(payload, name)]
    if missing:
        raise InvalidInput(
            _("Send the address, the challenge and the code you received."),
            code="required",
            details={"fields": missing},
        )
    target = destination_parse(payload.destination or "")
    verified = signin_code_verify(challenge=payload.challenge or "", code=payload.code or "")
    if verified.destination_digest != target.digest:
        raise InvalidInput(WRONG_CODE, code="code_invalid", details={"field": "code"})
    return target, None


def _sign_up(destination: Destination, payload: TokenIn, signup_token: str | None) -> Beneficiary:
    """A verified address nobody has yet: who they are, with consent (the portal's profile
    step). Until it succeeds, a sign-up token stands in for the verified address."""
    token = signup_token or _signup_pending_store(destination)
    if not payload.signs_up:
        raise InvalidInput(
            _(
                "Welcome. To finish signing up, tell us who you are "
                "and agree to the privacy notice."
            ),
            code="signup_required",
            details={"signup_token": token, "fields": SIGNUP_FIELDS, "expires_in": _ttl()},
        )
    try:
        beneficiary = beneficiary_sign_up(
            destination=destination,
            national_id=payload.national_id or "",
            full_name=payload.full_name or "",
            kind=str(payload.kind),
            language=payload.language,
            consent=payload.consent,
        )
    except InvalidInput as error:
        details = {**error.details, "signup_token": token}
        raise InvalidInput(error.message, code=error.code, details=details) from None
    cache.delete(_signup_key(token))
    return beneficiary


def _signup_key(token: str) -> str:
    return f"api-signup:{credential_digest(token)}"


def _signup_pending_store(destination: Destination) -> str:
    token = secrets.token_urlsafe(24)
    address = {"channel": destination.channel, "address": destination.address}
    cache.set(_signup_key(token), address, timeout=_ttl())
    return token


def _signup_pending(token: str) -> Destination:
    pending = cache.get(_signup_key(token))
    if not isinstance(pending, dict):
        raise InvalidInput(
            _("This sign-up has expired. Ask for a new code."),
            code="signup_expired",
            details={"field": "signup_token"},
        )
    return Destination(channel=pending["channel"], address=pending["address"])


def _token_out(pair: TokenPair) -> out.TokenOut:
    return out.TokenOut(
        access_token=pair.access,
        refresh_token=pair.refresh,
        expires_in=settings.TAWASUL_API_ACCESS_MINUTES * 60,
        refresh_expires_in=settings.TAWASUL_API_REFRESH_DAYS * 86400,
    )


@router.post(
    "/auth/refresh",
    response={200: out.TokenOut, **ERRORS},
    summary="A new token pair for a refresh token (each refresh token works once)",
    description="Presenting a refresh token a second time signs out the whole sign-in.",
)
def auth_refresh(request: HttpRequest, payload: RefreshIn) -> out.TokenOut:
    return _token_out(beneficiary_tokens_refresh(refresh=payload.refresh_token))


@router.post(
    "/auth/revoke",
    response={204: None, **ERRORS},
    auth=beneficiary_auth,
    summary="Sign out: the access token and its refresh tokens stop working",
)
def auth_revoke(request: HttpRequest) -> Status[None]:
    token: BeneficiaryToken = request.auth  # type: ignore[attr-defined]
    beneficiary_sign_out(token=token)
    return Status(204, None)


# --- profile and requests ---------------------------------------------------------------------


@router.get(
    "/me",
    response={200: out.ProfileOut, **ERRORS},
    auth=beneficiary_auth,
    summary="My profile (mobile and e-mail masked)",
)
def me(request: HttpRequest) -> out.ProfileOut:
    return out.profile_out(beneficiary_of(request))


@router.get(
    "/me/requests",
    response={200: out.RequestPage, **ERRORS},
    auth=beneficiary_auth,
    summary="My requests, newest first (cursor pagination)",
)
def me_requests(request: HttpRequest, query: Query[ListQuery]) -> out.RequestPage:
    ensure_known_parameters(request, ListQuery.model_fields)
    after = cursor_decode(query.cursor) if query.cursor else None
    rows = requests_of_beneficiary_page(
        beneficiary_of(request),
        status_group=None if query.status == "all" else query.status,
        after=after,
        limit=query.limit + 1,
    )
    page, next_cursor = keyset_page(rows, query.limit)
    return out.RequestPage(items=[out.request_out(case) for case in page], next_cursor=next_cursor)


@router.post(
    "/me/requests",
    response={201: out.RequestOut, **ERRORS},
    auth=beneficiary_auth,
    summary="Send a new request",
    description=(
        "With an `Idempotency-Key` header, a retry returns the first answer and creates "
        "nothing; the same key with a different body is refused (422 `idempotency_key_reused`)."
    ),
)
def me_request_submit(
    request: HttpRequest,
    payload: RequestIn,
    response: HttpResponse,
    idempotency_key: str | None = Header(None, alias="Idempotency-Key", max_length=100),  # type: ignore[type-arg]
) -> Status[dict[str, Any]]:
    beneficiary = beneficiary_of(request)

    def produce() -> tuple[int, dict[str, Any]]:
        case = request_submit(
            beneficiary=beneficiary,
            kind=str(payload.kind),
            category=payload.category_id,
            entity=payload.entity_id,
            subject=payload.subject,
            description=payload.description,
            channel=Channel.APP,
        )
        return 201, out.request_out(case).model_dump(mode="json")

    status, body = idempotent(
        request, owner=f"b{beneficiary.pk}", produce=produce, response=response
    )
    return Status(status, body)


def _own(request: HttpRequest, tracking_number: str) -> Request:
    return request_for_beneficiary(beneficiary_of(request), tracking_number)


def _actions(case: Request) -> out.ActionsOut:
    allowed = allowed_actions(case.status)
    answer = satisfaction_answer_latest(case)
    can_object = Action.OBJECT in allowed
    return out.ActionsOut(
        can_reply=Action.BENEFICIARY_REPLY in allowed,
        can_accept=Action.ACCEPT in allowed,
        can_object=can_object,
        # Once answered, the choices are accept or object (as in the portal).
        can_withdraw=Action.CANCEL in allowed
        and case.status not in (RequestStatus.ANSWERED, RequestStatus.OBJECTED),
        can_rate=answer is not None and satisfaction_of_answer(answer) is None,
        objection_window_ends_at=objection_window_end(case) if can_object else None,
    )


def _detail(case: Request) -> out.RequestDetailOut:
    return out.request_detail_out(
        case,
        actions=_actions(case),
        timeline=public_timeline(case),
        attachments=list(attachments_public(case)),
    )


@router.get(
    "/me/requests/{tracking_number}",
    response={200: out.RequestDetailOut, **ERRORS},
    auth=beneficiary_auth,
    summary="One of my requests, with its public timeline and files",
    description="The number may have dashes or spaces and Arabic-Indic digits.",
)
def me_request(request: HttpRequest, tracking_number: str) -> out.RequestDetailOut:
    return _detail(_own(request, tracking_number))


@router.post(
    "/me/requests/{tracking_number}/replies",
    response={201: out.MessageOut, **ERRORS},
    auth=beneficiary_auth,
    summary="Write in the request's thread (also answers a question from the care centre)",
)
def me_request_reply(
    request: HttpRequest, tracking_number: str, payload: ReplyIn
) -> Status[out.MessageOut]:
    message = request_beneficiary_reply(
        request=_own(request, tracking_number),
        beneficiary=beneficiary_of(request),
        body=payload.body,
    )
    return Status(201, out.message_out(message))


@router.post(
    "/me/requests/{tracking_number}/accept",
    response={200: out.RequestOut, **ERRORS},
    auth=beneficiary_auth,
    summary="Accept the answer; the request closes",
)
def me_request_accept(request: HttpRequest, tracking_number: str) -> out.RequestOut:
    case = request_accept(
        request=_own(request, tracking_number), beneficiary=beneficiary_of(request)
    )
    return out.request_out(case)


@router.post(
    "/me/requests/{tracking_number}/objection",
    response={201: out.ObjectionOut, **ERRORS},
    auth=beneficiary_auth,
    summary="Object to the answer, within the objection window",
)
def me_request_object(
    request: HttpRequest, tracking_number: str, payload: ReasonIn
) -> Status[out.ObjectionOut]:
    objection = objection_file(
        request=_own(request, tracking_number),
        beneficiary=beneficiary_of(request),
        reason=payload.reason,
    )
    objection.request.refresh_from_db(fields=["status"])
    return Status(201, out.objection_out(objection))


@router.post(
    "/me/requests/{tracking_number}/rating",
    response={201: out.RatingOut, **ERRORS},
    auth=beneficiary_auth,
    summary="Rate the latest answer (once per answer)",
)
def me_request_rate(
    request: HttpRequest, tracking_number: str, payload: RatingIn
) -> Status[out.RatingOut]:
    rating = satisfaction_record(
        request=_own(request, tracking_number),
        beneficiary=beneficiary_of(request),
        score=payload.score,
        resolved=payload.resolved,
        comment=payload.comment,
    )
    return Status(201, out.rating_out(rating))


@router.post(
    "/me/requests/{tracking_number}/withdraw",
    response={200: out.RequestOut, **ERRORS},
    auth=beneficiary_auth,
    summary="Withdraw an open request, with a reason",
)
def me_request_withdraw(
    request: HttpRequest, tracking_number: str, payload: ReasonIn
) -> out.RequestOut:
    case = request_cancel(
        request=_own(request, tracking_number),
        beneficiary=beneficiary_of(request),
        reason=payload.reason,
    )
    return out.request_out(case)


# --- files ------------------------------------------------------------------------------------


@router.post(
    "/me/requests/{tracking_number}/attachments",
    response={201: out.AttachmentOut, **ERRORS},
    auth=beneficiary_auth,
    summary="Add a file to an open request (optionally to one of my messages)",
    description="PDF, images or Word; checked by its bytes (413 too large, 415 other types).",
)
def me_attachment_upload(
    request: HttpRequest,
    tracking_number: str,
    file: File[UploadedFile],
    message_id: Form[DbId | None] = None,
) -> Status[out.AttachmentOut]:
    case = _own(request, tracking_number)
    file.seek(0)
    checked = attachment_check(
        name=file.name or "", content=file.read(settings.TAWASUL_ATTACHMENT_MAX_BYTES + 1)
    )
    attachment = request_beneficiary_attach(
        request=case, beneficiary=beneficiary_of(request), checked=checked, message_id=message_id
    )
    return Status(201, out.attachment_out(attachment, case.tracking_number))


def _binary_types() -> dict[str, Any]:
    binary = {"schema": {"type": "string", "format": "binary"}}
    return dict.fromkeys(settings.TAWASUL_ATTACHMENT_TYPES, binary)


@router.get(
    "/me/requests/{tracking_number}/attachments/{attachment_id}",
    response=ERRORS,
    auth=beneficiary_auth,
    url_name="me_attachment_download",
    summary="Download one of the request's files",
    openapi_extra={"responses": {200: {"description": "The file", "content": _binary_types()}}},
)
def me_attachment_download(
    request: HttpRequest, tracking_number: str, attachment_id: DbId
) -> FileResponse:
    attachment = attachment_for_beneficiary(beneficiary_of(request), tracking_number, attachment_id)
    try:
        handle = attachment.file.open("rb")
    except OSError:
        raise NotFound(_("No such file.")) from None
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=attachment.original_name,
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
