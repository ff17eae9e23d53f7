"""Call-centre intake: find or register the caller, take a request on their behalf,
or log an inquiry answered during the call (first-contact resolution).

The caller's page is addressed by a signed, expiring token rather than the
beneficiary's number, so staff cannot walk through beneficiaries by URL.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core import signing
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from tawasul.beneficiaries.models import Beneficiary
from tawasul.beneficiaries.selectors import beneficiary_find
from tawasul.beneficiaries.services import beneficiary_register
from tawasul.cases.intake import caller_open_requests, request_submit_answered
from tawasul.cases.models import Channel
from tawasul.cases.services import request_submit
from tawasul.console.access import staff_required
from tawasul.console.intake_forms import (
    CallerAnsweredForm,
    CallerLookupForm,
    CallerRegisterForm,
    CallerRequestForm,
)
from tawasul.core.errors import DomainError, InvalidInput

CALLER_SALT = "tawasul.console.intake.caller"
CALLER_TOKEN_AGE = 8 * 3600  # one shift


def caller_token(beneficiary: Beneficiary) -> str:
    return signing.dumps(beneficiary.pk, salt=CALLER_SALT)


def caller_from_token(token: str) -> Beneficiary:
    try:
        pk = signing.loads(token, salt=CALLER_SALT, max_age=CALLER_TOKEN_AGE)
    except signing.BadSignature:
        raise Http404 from None
    beneficiary = Beneficiary.objects.filter(pk=pk).first()
    if beneficiary is None:
        raise Http404
    return beneficiary


def _error_status(error: DomainError) -> int:
    return 400 if isinstance(error, InvalidInput) else error.status


def _form_error(form: Any, error: DomainError) -> None:
    field = error.details.get("field")
    form.add_error(field if field in form.fields else None, str(error.message))


@staff_required
def intake(request: HttpRequest) -> HttpResponse:
    """The lookup box; with a query, the matching callers (masked) and their open requests."""
    if "query" not in request.GET:
        return render(request, "console/intake.html", {"form": CallerLookupForm()})
    form = CallerLookupForm(request.GET)
    if not form.is_valid():
        return render(request, "console/intake.html", {"form": form}, status=400)
    try:
        callers = beneficiary_find(**form.lookup())
    except InvalidInput as error:
        form.add_error("query", str(error.message))
        return render(request, "console/intake.html", {"form": form}, status=400)
    results = [
        {
            "beneficiary": caller,
            "token": caller_token(caller),
            "requests": caller_open_requests(user=request.user, beneficiary=caller),
        }
        for caller in callers
    ]
    return render(
        request, "console/intake.html", {"form": form, "results": results, "searched": True}
    )


@staff_required
def intake_register(request: HttpRequest) -> HttpResponse:
    """Register a new caller (consent to the privacy notice given orally)."""
    if request.method != "POST":
        form = CallerRegisterForm(initial=request.GET.dict())
        return render(request, "console/intake_register.html", {"form": form})
    form = CallerRegisterForm(request.POST)
    if not form.is_valid():
        return render(request, "console/intake_register.html", {"form": form}, status=400)
    data = form.cleaned_data
    try:
        if data["national_id"] and beneficiary_find(national_id=data["national_id"]):
            raise InvalidInput(
                _("A beneficiary with this ID is already registered; search for them instead."),
                code="already_registered",
                details={"field": "national_id"},
            )
        caller = beneficiary_register(
            full_name=data["full_name"],
            national_id=data["national_id"],
            mobile=data["mobile"],
            email=data["email"],
            kind=data["kind"],
            consent=True,
        )
    except DomainError as error:
        _form_error(form, error)
        status = _error_status(error)
        return render(request, "console/intake_register.html", {"form": form}, status=status)
    messages.success(request, _("The caller is registered."))
    return redirect("console:intake_caller", token=caller_token(caller))


def _caller_page(
    request: HttpRequest,
    caller: Beneficiary,
    token: str,
    *,
    request_form: CallerRequestForm | None = None,
    answered_form: CallerAnsweredForm | None = None,
    status: int = 200,
) -> HttpResponse:
    context = {
        "caller": caller,
        "token": token,
        "requests": caller_open_requests(user=request.user, beneficiary=caller),
        "request_form": request_form or CallerRequestForm(prefix="req"),
        "answered_form": answered_form or CallerAnsweredForm(prefix="fcr"),
    }
    return render(request, "console/intake_caller.html", context, status=status)


@staff_required
def intake_caller(request: HttpRequest, token: str) -> HttpResponse:
    return _caller_page(request, caller_from_token(token), token)


@staff_required
@require_POST
def intake_request_new(request: HttpRequest, token: str) -> HttpResponse:
    """Take a request on the caller's behalf (channel: call centre), then open it."""
    caller = caller_from_token(token)
    form = CallerRequestForm(request.POST, prefix="req")
    if not form.is_valid():
        return _caller_page(request, caller, token, request_form=form, status=400)
    data = form.cleaned_data
    try:
        created = request_submit(
            beneficiary=caller,
            kind=data["kind"],
            category=data["category"],
            subject=data["subject"],
            description=data["description"],
            channel=Channel.CALL_CENTRE,
            entity=data["entity"],
            priority=data["priority"],
            by=request.user,  # type: ignore[arg-type]
        )
    except DomainError as error:
        _form_error(form, error)
        status = _error_status(error)
        return _caller_page(request, caller, token, request_form=form, status=status)
    messages.success(
        request,
        format_lazy(_("Request {number} created."), number=created.tracking_display),
    )
    return redirect("console:request", created.pk)


@staff_required
@require_POST
def intake_answered(request: HttpRequest, token: str) -> HttpResponse:
    """Log an inquiry answered during the call as an already answered request."""
    caller = caller_from_token(token)
    form = CallerAnsweredForm(request.POST, prefix="fcr")
    if not form.is_valid():
        return _caller_page(request, caller, token, answered_form=form, status=400)
    data = form.cleaned_data
    try:
        answered = request_submit_answered(
            beneficiary=caller,
            kind=data["kind"],
            category=data["category"],
            subject=data["subject"],
            description=data["description"],
            resolution=data["resolution"],
            resolution_code=data["resolution_code"],
            entity=data["entity"],
            by=request.user,  # type: ignore[arg-type]
        )
    except DomainError as error:
        _form_error(form, error)
        status = _error_status(error)
        return _caller_page(request, caller, token, answered_form=form, status=status)
    messages.success(
        request,
        format_lazy(
            _("Request {number} logged as answered during the call."),
            number=answered.tracking_display,
        ),
    )
    return redirect("console:intake_caller", token=token)


urlpatterns: list[URLPattern] = [
    path("intake/", intake, name="intake"),
    path("intake/register/", intake_register, name="intake_register"),
    path("intake/caller/<str:token>/", intake_caller, name="intake_caller"),
    path("intake/caller/<str:token>/request/", intake_request_new, name="intake_request_new"),
    path("intake/caller/<str:token>/answered/", intake_answered, name="intake_answered"),
]
