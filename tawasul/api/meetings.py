"""API v1 for the app: the beneficiary's minister-meeting requests (`/me/meetings/…`).

The same services as the portal: `meeting_rules_check` before asking,
`meeting_request_submit` to ask (with `Idempotency-Key`), `meeting_public_detail` to
read, `meeting_pick` and `meeting_withdraw` to act. Someone else's meeting request and
a number that does not exist get the same 404.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from ninja import Router, Status
from ninja.params import Header, Query

from tawasul.api import meeting_schemas as out
from tawasul.api.auth import beneficiary_auth, beneficiary_of
from tawasul.api.idempotency import idempotent
from tawasul.api.meeting_schemas import MeetingIn, MeetingListQuery, NoQuery, PickIn, WithdrawIn
from tawasul.api.paging import cursor_decode, ensure_known_parameters, keyset_page
from tawasul.api.schemas import ERRORS
from tawasul.beneficiaries.models import Beneficiary
from tawasul.cases.selectors import request_for_beneficiary
from tawasul.core.errors import InvalidInput, NotFound
from tawasul.core.ids import tracking_number_parse
from tawasul.meetings.eligibility import meeting_rules_check
from tawasul.meetings.models import MeetingRequest
from tawasul.meetings.permissions import meeting_for_beneficiary
from tawasul.meetings.scheduling import meeting_pick
from tawasul.meetings.selectors import meeting_public_detail, meetings_of_beneficiary_page
from tawasul.meetings.services import PreferredPeriod, meeting_request_submit, meeting_withdraw

router = Router(tags=["meetings"])


def _own(request: HttpRequest, tracking_number: str) -> MeetingRequest:
    digits = tracking_number_parse(tracking_number) or ""
    return meeting_for_beneficiary(beneficiary_of(request), tracking_number=digits)


def _follow_up_ids(beneficiary: Beneficiary, numbers: list[str]) -> list[int]:
    """The beneficiary's requests named by tracking number; any other number is invalid."""
    try:
        return [request_for_beneficiary(beneficiary, number).pk for number in numbers]
    except NotFound:
        raise InvalidInput(
            _("A meeting can only follow up your own requests."),
            code="follow_up_unknown",
            details={"field": "follow_ups"},
        ) from None


def _detail(meeting: MeetingRequest) -> out.MeetingDetailOut:
    return out.meeting_detail_out(meeting_public_detail(meeting))


@router.get(
    "/eligibility",
    response={200: out.EligibilityOut, **ERRORS},
    auth=beneficiary_auth,
    summary="May I ask for a meeting now? Every rule in force, met or not, and why",
)
def me_meeting_eligibility(request: HttpRequest) -> out.EligibilityOut:
    ensure_known_parameters(request, NoQuery.model_fields)
    checks = meeting_rules_check(beneficiary=beneficiary_of(request))
    return out.EligibilityOut(
        eligible=all(check.passed for check in checks),
        rules=[out.rule_out(check) for check in checks],
    )


@router.get(
    "",
    response={200: out.MeetingPage, **ERRORS},
    auth=beneficiary_auth,
    summary="My meeting requests, newest first (cursor pagination)",
)
def me_meetings(request: HttpRequest, query: Query[MeetingListQuery]) -> out.MeetingPage:
    ensure_known_parameters(request, MeetingListQuery.model_fields)
    after = cursor_decode(query.cursor) if query.cursor else None
    rows = meetings_of_beneficiary_page(beneficiary_of(request), after=after, limit=query.limit + 1)
    page, next_cursor = keyset_page(rows, query.limit)
    return out.MeetingPage(
        items=[out.meeting_out(meeting) for meeting in page], next_cursor=next_cursor
    )


@router.post(
    "",
    response={201: out.MeetingDetailOut, **ERRORS},
    auth=beneficiary_auth,
    summary="Ask for a meeting with the minister",
    description=(
        "`follow_ups` are tracking numbers of my earlier requests; one must have been answered "
        "or closed. A refusal by the eligibility rules is 409 `not_eligible` with every refused "
        "rule in `details.refusals`. With an `Idempotency-Key` header, a retry returns the "
        "first answer and creates nothing."
    ),
)
def me_meeting_submit(
    request: HttpRequest,
    payload: MeetingIn,
    response: HttpResponse,
    idempotency_key: str | None = Header(None, alias="Idempotency-Key", max_length=100),  # type: ignore[type-arg]
) -> Status[dict[str, Any]]:
    beneficiary = beneficiary_of(request)

    def produce() -> tuple[int, dict[str, Any]]:
        meeting = meeting_request_submit(
            beneficiary=beneficiary,
            subject=payload.subject,
            summary=payload.summary,
            follow_ups=_follow_up_ids(beneficiary, payload.follow_ups),
            preferences=[
                PreferredPeriod(period.first_day, period.last_day, period.part_of_day)
                for period in payload.preferences
            ],
        )
        return 201, _detail(meeting).model_dump(mode="json")

    status, body = idempotent(
        request, owner=f"b{beneficiary.pk}", produce=produce, response=response
    )
    return Status(status, body)


@router.get(
    "/{tracking_number}",
    response={200: out.MeetingDetailOut, **ERRORS},
    auth=beneficiary_auth,
    summary="One of my meeting requests: public timeline, dates offered, booking",
    description="The number may have dashes or spaces and Arabic-Indic digits.",
)
def me_meeting(request: HttpRequest, tracking_number: str) -> out.MeetingDetailOut:
    return _detail(_own(request, tracking_number))


@router.post(
    "/{tracking_number}/pick",
    response={200: out.MeetingDetailOut, **ERRORS},
    auth=beneficiary_auth,
    summary="Pick one of the dates offered",
    description="A date filled meanwhile is 409 `slot_full`; a date not offered is 422.",
)
def me_meeting_pick(
    request: HttpRequest, tracking_number: str, payload: PickIn
) -> out.MeetingDetailOut:
    meeting = _own(request, tracking_number)
    meeting_pick(meeting=meeting, beneficiary=beneficiary_of(request), slot=payload.slot_id)
    meeting.refresh_from_db()
    return _detail(meeting)


@router.post(
    "/{tracking_number}/withdraw",
    response={200: out.MeetingDetailOut, **ERRORS},
    auth=beneficiary_auth,
    summary="Withdraw an open meeting request (a booked date is freed)",
)
def me_meeting_withdraw(
    request: HttpRequest, tracking_number: str, payload: WithdrawIn
) -> out.MeetingDetailOut:
    meeting = meeting_withdraw(
        meeting=_own(request, tracking_number),
        beneficiary=beneficiary_of(request),
        reason=payload.reason,
    )
    return _detail(meeting)
