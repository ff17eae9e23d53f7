"""Portal: the beneficiary's minister-meeting requests — the list, asking for a meeting
(every eligibility rule shown before, every failed one explained after), one request with
its public timeline, picking an offered date, and withdrawing.

Each view parses with a form, calls one selector or service, and renders. A meeting
request that is not the signed-in beneficiary's is "not found", whatever the address.
Bad input shows the form again (400); a step the service refuses shows its message with
its status (409) and changes nothing.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST, require_safe

from tawasul.beneficiaries.models import Beneficiary
from tawasul.core.errors import DomainError, InvalidInput, NotFound
from tawasul.core.ids import tracking_number_parse
from tawasul.meetings.eligibility import meeting_rules_check
from tawasul.meetings.models import MeetingRequest
from tawasul.meetings.permissions import meeting_for_beneficiary
from tawasul.meetings.scheduling import meeting_pick
from tawasul.meetings.selectors import (
    MeetingPublicDetail,
    meeting_follow_up_choices,
    meeting_public_detail,
    meetings_of_beneficiary,
)
from tawasul.meetings.services import (
    MeetingIneligible,
    meeting_request_submit,
    meeting_withdraw,
)
from tawasul.portal.errors import form_error_add
from tawasul.portal.meeting_forms import MeetingRequestForm, MeetingWithdrawForm, SlotPickForm
from tawasul.portal.session import beneficiary_required, current_beneficiary

PAGE_SIZE = 20


def _beneficiary(http: HttpRequest) -> Beneficiary:
    beneficiary = current_beneficiary(http)
    if beneficiary is None:  # beneficiary_required comes first; never reached
        raise Http404
    return beneficiary


def _meeting(http: HttpRequest, tracking: str) -> MeetingRequest:
    """The signed-in beneficiary's meeting request with this number, or 404."""
    digits = tracking_number_parse(tracking) or ""
    try:
        return meeting_for_beneficiary(_beneficiary(http), tracking_number=digits)
    except NotFound:
        raise Http404 from None


def _to_detail(meeting: MeetingRequest) -> HttpResponse:
    return redirect(reverse("portal:meeting_detail", args=[meeting.tracking_number]))


# --- the list and asking for a meeting -------------------------------------------------------


@require_safe
@beneficiary_required
def meeting_list(http: HttpRequest) -> HttpResponse:
    meetings = meetings_of_beneficiary(_beneficiary(http))
    page = Paginator(meetings, PAGE_SIZE).get_page(http.GET.get("page"))
    return render(http, "portal/meeting_list.html", {"page": page})


@beneficiary_required
def meeting_new(http: HttpRequest) -> HttpResponse:
    beneficiary = _beneficiary(http)
    choices = list(meeting_follow_up_choices(beneficiary))
    if http.method != "POST":
        return _new_page(http, beneficiary, MeetingRequestForm(choices=choices))
    form = MeetingRequestForm(http.POST, choices=choices)
    if not form.is_valid():
        return _new_page(http, beneficiary, form, status=400)
    data = form.cleaned_data
    try:
        meeting = meeting_request_submit(
            beneficiary=beneficiary,
            subject=data["subject"],
            summary=data["summary"],
            follow_ups=data["follow_ups"],
            preferences=data["preferences"],
        )
    except MeetingIneligible as error:
        refusals = _refusal_messages(error)
        return _new_page(http, beneficiary, form, refusals=refusals, status=error.status)
    except DomainError as error:
        form_error_add(form, error)
        status = 400 if isinstance(error, InvalidInput) else error.status
        return _new_page(http, beneficiary, form, status=status)
    messages.success(
        http,
        _("Your meeting request has been sent. Its tracking number is %(number)s.")
        % {"number": meeting.tracking_display},
    )
    return _to_detail(meeting)


def _refusal_messages(error: MeetingIneligible) -> list[str]:
    """Every rule that refused, in the page's language."""
    language = (get_language() or "ar")[:2]
    refusals: list[dict[str, Any]] = error.details.get("refusals", [])
    return [refusal["message"].get(language, refusal["message"]["en"]) for refusal in refusals]


def _new_page(
    http: HttpRequest,
    beneficiary: Beneficiary,
    form: MeetingRequestForm,
    *,
    refusals: list[str] | None = None,
    status: int = 200,
) -> HttpResponse:
    checks = meeting_rules_check(beneficiary=beneficiary)
    context = {
        "form": form,
        "checks": checks,
        "eligible": all(check.passed for check in checks),
        "refusals": refusals or [],
    }
    return render(http, "portal/meeting_new.html", context, status=status)


# --- one meeting request -----------------------------------------------------------------------


def _detail(
    http: HttpRequest,
    detail: MeetingPublicDetail,
    *,
    status: int = 200,
    pick_form: SlotPickForm | None = None,
    withdraw_form: MeetingWithdrawForm | None = None,
) -> HttpResponse:
    context = {
        "meeting": detail.meeting,
        "detail": detail,
        "pick_form": pick_form or SlotPickForm(slots=detail.offered),
        "withdraw_form": withdraw_form or MeetingWithdrawForm(),
    }
    return render(http, "portal/meeting_detail.html", context, status=status)


@require_safe
@beneficiary_required
def meeting_detail(http: HttpRequest, tracking: str) -> HttpResponse:
    return _detail(http, meeting_public_detail(_meeting(http, tracking)))


def _refusal(http: HttpRequest, meeting: MeetingRequest, error: DomainError) -> HttpResponse:
    """The page again, with the service's message and its status; nothing changed."""
    if isinstance(error, NotFound):
        raise Http404
    messages.error(http, str(error.message))
    status = 400 if isinstance(error, InvalidInput) else error.status
    return _detail(http, meeting_public_detail(meeting), status=status)


@require_POST
@beneficiary_required
def meeting_pick_view(http: HttpRequest, tracking: str) -> HttpResponse:
    meeting, beneficiary = _meeting(http, tracking), _beneficiary(http)
    detail = meeting_public_detail(meeting)
    if not detail.can_pick:
        messages.error(http, _("There are no dates offered to choose from."))
        return _detail(http, detail, status=409)
    form = SlotPickForm(http.POST, slots=detail.offered)
    if not form.is_valid():
        return _detail(http, detail, status=400, pick_form=form)
    try:
        meeting_pick(meeting=meeting, beneficiary=beneficiary, slot=form.cleaned_data["slot"])
    except DomainError as error:
        return _refusal(http, meeting, error)
    messages.success(http, _("Your meeting is booked. We will remind you before it."))
    return _to_detail(meeting)


@require_POST
@beneficiary_required
def meeting_withdraw_view(http: HttpRequest, tracking: str) -> HttpResponse:
    meeting, beneficiary = _meeting(http, tracking), _beneficiary(http)
    form = MeetingWithdrawForm(http.POST)
    if not form.is_valid():
        return _detail(http, meeting_public_detail(meeting), status=400, withdraw_form=form)
    try:
        meeting_withdraw(
            meeting=meeting, beneficiary=beneficiary, reason=form.cleaned_data["reason"]
        )
    except DomainError as error:
        return _refusal(http, meeting, error)
    messages.success(http, _("Your meeting request has been withdrawn."))
    return _to_detail(meeting)


urlpatterns: list[URLPattern] = [
    path("meetings/", meeting_list, name="meeting_list"),
    path("meetings/new/", meeting_new, name="meeting_new"),
    path("meetings/<str:tracking>/", meeting_detail, name="meeting_detail"),
    path("meetings/<str:tracking>/pick/", meeting_pick_view, name="meeting_pick"),
    path("meetings/<str:tracking>/withdraw/", meeting_withdraw_view, name="meeting_withdraw"),
]
