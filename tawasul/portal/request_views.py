"""My requests and the request page: read, reply, accept, object, rate, withdraw, download.

Each view parses with a form, calls one selector or service, and renders. A
request that is not the signed-in beneficiary's is "not found", whatever the
address. A refused action shows the service's message with its status (409 for
a step the lifecycle does not allow, 400 for bad input) and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST, require_safe
from django_stubs_ext import StrOrPromise

from tawasul.beneficiaries.models import Beneficiary
from tawasul.cases.models import Request, Status
from tawasul.cases.selectors import (
    attachment_for_beneficiary,
    request_for_beneficiary,
    requests_of_beneficiary,
)
from tawasul.cases.services import (
    request_accept,
    request_beneficiary_reply,
    request_cancel,
)
from tawasul.cases.workflow import Action, allowed_actions
from tawasul.core.errors import DomainError, InvalidInput, NotFound
from tawasul.feedback.objections import objection_file, objection_window_end
from tawasul.feedback.selectors import (
    satisfaction_answer_latest,
    satisfaction_answer_to_rate,
    satisfaction_of_answer,
)
from tawasul.feedback.services import satisfaction_record
from tawasul.portal.errors import form_error_add
from tawasul.portal.request_forms import (
    ObjectionForm,
    RatingForm,
    ReplyForm,
    RequestFilterForm,
    WithdrawForm,
)
from tawasul.portal.session import beneficiary_required, current_beneficiary
from tawasul.portal.timeline import public_timeline

PAGE_SIZE = 20


def _beneficiary(http: HttpRequest) -> Beneficiary:
    beneficiary = current_beneficiary(http)
    if beneficiary is None:  # beneficiary_required comes first; never reached
        raise Http404
    return beneficiary


def _case(http: HttpRequest, tracking: str) -> Request:
    """The signed-in beneficiary's request with this number, or 404."""
    try:
        return request_for_beneficiary(_beneficiary(http), tracking)
    except NotFound:
        raise Http404 from None


def _to_detail(case: Request) -> HttpResponse:
    return redirect(reverse("portal:request_detail", args=[case.tracking_number]))


# --- reading ------------------------------------------------------------------------------


@require_safe
@beneficiary_required
def request_list(http: HttpRequest) -> HttpResponse:
    form = RequestFilterForm(http.GET)
    valid = form.is_valid()
    filters = form.cleaned_data if valid else {}
    requests = requests_of_beneficiary(
        _beneficiary(http),
        status_group=filters.get("status") or None,
        kind=filters.get("kind") or None,
    )
    page = Paginator(requests, PAGE_SIZE).get_page(http.GET.get("page"))
    return render(
        http,
        "portal/request_list.html",
        {"form": form, "page": page, "filtered": any(filters.values())},
        status=200 if valid else 400,
    )


_DECIDED = (Status.ANSWERED, Status.OBJECTED)


def _detail(
    http: HttpRequest,
    case: Request,
    *,
    status: int = 200,
    reply_form: ReplyForm | None = None,
    withdraw_form: WithdrawForm | None = None,
) -> HttpResponse:
    actions = allowed_actions(case.status)
    answer = satisfaction_answer_latest(case)
    rating = satisfaction_of_answer(answer) if answer is not None else None
    return render(
        http,
        "portal/request_detail.html",
        {
            "case": case,
            "timeline": public_timeline(case),
            "can_reply": Action.BENEFICIARY_REPLY in actions,
            "can_accept": Action.ACCEPT in actions,
            "can_object": Action.OBJECT in actions,
            "objection_window_end": objection_window_end(case)
            if Action.OBJECT in actions
            else None,
            # Once answered, the choices are accept or object; withdrawing is for work in hand.
            "can_withdraw": Action.CANCEL in actions and case.status not in _DECIDED,
            "can_rate": answer is not None and rating is None,
            "rating": rating,
            "reply_form": reply_form or ReplyForm(),
            "withdraw_form": withdraw_form or WithdrawForm(),
        },
        status=status,
    )


@require_safe
@beneficiary_required
def request_detail(http: HttpRequest, tracking: str) -> HttpResponse:
    return _detail(http, _case(http, tracking))


@require_safe
@beneficiary_required
def attachment_download(http: HttpRequest, tracking: str, pk: int) -> FileResponse:
    try:
        attachment = attachment_for_beneficiary(_beneficiary(http), tracking, pk)
        handle = attachment.file.open("rb")
    except (NotFound, OSError):
        raise Http404 from None
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=attachment.original_name,
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


# --- acting -------------------------------------------------------------------------------


def _refusal(http: HttpRequest, case: Request, error: DomainError) -> HttpResponse:
    """The request page again, with the service's message and its status; nothing changed."""
    if isinstance(error, NotFound):
        raise Http404
    messages.error(http, str(error.message))
    return _detail(http, case, status=400 if isinstance(error, InvalidInput) else error.status)


def _act(
    http: HttpRequest,
    case: Request,
    form: forms.Form,
    service: Callable[[dict[str, Any]], object],
    done: StrOrPromise,
) -> HttpResponse | None:
    """Call the service with a valid form's data: back to the request page on success, the
    refusal page on a domain error, None when the form (with its errors) is to be shown again."""
    if not form.is_valid():
        return None
    try:
        service(form.cleaned_data)
    except InvalidInput as error:
        form_error_add(form, error)
        return None
    except DomainError as error:
        return _refusal(http, case, error)
    messages.success(http, done)
    return _to_detail(case)


@require_POST
@beneficiary_required
def request_reply(http: HttpRequest, tracking: str) -> HttpResponse:
    case, beneficiary = _case(http, tracking), _beneficiary(http)
    form = ReplyForm(http.POST, http.FILES)
    done = _act(
        http,
        case,
        form,
        lambda data: request_beneficiary_reply(
            request=case,
            beneficiary=beneficiary,
            body=data["body"],
            attachments=data["attachments"],
        ),
        _("Your reply has been sent."),
    )
    return done or _detail(http, case, status=400, reply_form=form)


@require_POST
@beneficiary_required
def request_accept_view(http: HttpRequest, tracking: str) -> HttpResponse:
    case = _case(http, tracking)
    try:
        request_accept(request=case, beneficiary=_beneficiary(http))
    except DomainError as error:
        return _refusal(http, case, error)
    messages.success(http, _("Thank you. You accepted the answer and the request is closed."))
    return _to_detail(case)


@require_POST
@beneficiary_required
def request_withdraw(http: HttpRequest, tracking: str) -> HttpResponse:
    case, beneficiary = _case(http, tracking), _beneficiary(http)
    form = WithdrawForm(http.POST)
    done = _act(
        http,
        case,
        form,
        lambda data: request_cancel(request=case, beneficiary=beneficiary, reason=data["reason"]),
        _("Your request has been withdrawn."),
    )
    return done or _detail(http, case, status=400, withdraw_form=form)


@beneficiary_required
def request_object_view(http: HttpRequest, tracking: str) -> HttpResponse:
    case = _case(http, tracking)
    if http.method != "POST":
        if Action.OBJECT not in allowed_actions(case.status):
            messages.info(http, _("You can object only to an answer you have not accepted."))
            return _to_detail(case)
        return _object_page(http, case, ObjectionForm())
    beneficiary = _beneficiary(http)
    form = ObjectionForm(http.POST, http.FILES)
    done = _act(
        http,
        case,
        form,
        lambda data: objection_file(
            request=case,
            beneficiary=beneficiary,
            reason=data["reason"],
            attachments=data["attachments"],
        ),
        _("Your objection has been filed; someone else will review the answer."),
    )
    return done or _object_page(http, case, form, status=400)


def _object_page(
    http: HttpRequest, case: Request, form: ObjectionForm, *, status: int = 200
) -> HttpResponse:
    return render(http, "portal/request_object.html", {"case": case, "form": form}, status=status)


@beneficiary_required
def request_rate(http: HttpRequest, tracking: str) -> HttpResponse:
    case = _case(http, tracking)
    if http.method != "POST":
        if satisfaction_answer_to_rate(case) is None:
            messages.info(http, _("There is no answer waiting for your rating."))
            return _to_detail(case)
        return _rate_page(http, case, RatingForm())
    beneficiary = _beneficiary(http)
    form = RatingForm(http.POST)
    done = _act(
        http,
        case,
        form,
        lambda data: satisfaction_record(
            request=case,
            beneficiary=beneficiary,
            score=data["score"],
            resolved=data["resolved"],
            comment=data["comment"],
        ),
        _("Thank you for rating the answer."),
    )
    return done or _rate_page(http, case, form, status=400)


def _rate_page(
    http: HttpRequest, case: Request, form: RatingForm, *, status: int = 200
) -> HttpResponse:
    return render(http, "portal/request_rate.html", {"case": case, "form": form}, status=status)


urlpatterns: list[URLPattern] = [
    path("requests/", request_list, name="request_list"),
    path("requests/<str:tracking>/", request_detail, name="request_detail"),
    path("requests/<str:tracking>/reply/", request_reply, name="request_reply"),
    path("requests/<str:tracking>/accept/", request_accept_view, name="request_accept"),
    path("requests/<str:tracking>/object/", request_object_view, name="request_object"),
    path("requests/<str:tracking>/rate/", request_rate, name="request_rate"),
    path("requests/<str:tracking>/withdraw/", request_withdraw, name="request_withdraw"),
    path(
        "requests/<str:tracking>/attachments/<int:pk>/",
        attachment_download,
        name="attachment",
    ),
]
