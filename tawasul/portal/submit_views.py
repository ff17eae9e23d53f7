"""Sending a new request (one form in three steps) and its confirmation page."""

from __future__ import annotations

from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path

from tawasul.beneficiaries.models import Beneficiary
from tawasul.beneficiaries.services import beneficiary_contact_set
from tawasul.cases.models import Channel, Request
from tawasul.cases.selectors import request_for_beneficiary
from tawasul.cases.services import request_submit
from tawasul.core.errors import DomainError, InvalidInput, NotFound
from tawasul.portal.errors import form_error_add
from tawasul.portal.session import beneficiary_required, current_beneficiary
from tawasul.portal.submit_forms import RequestNewForm
from tawasul.portal.uploads import MAX_FILES


def _signed_in(request: HttpRequest) -> Beneficiary:
    beneficiary = current_beneficiary(request)
    if beneficiary is None:  # beneficiary_required has already sent them to sign in
        raise Http404
    return beneficiary


@beneficiary_required
def request_new(request: HttpRequest) -> HttpResponse:
    beneficiary = _signed_in(request)
    if request.method != "POST":
        form = RequestNewForm(beneficiary=beneficiary)
        return _form_page(request, form)
    form = RequestNewForm(request.POST, request.FILES, beneficiary=beneficiary)
    if not form.is_valid():
        return _form_page(request, form, status=400)
    data = form.cleaned_data
    try:
        # The contact choice and the request stand or fall together.
        with transaction.atomic():
            beneficiary_contact_set(
                beneficiary=beneficiary, preferred_contact=data["preferred_contact"]
            )
            submitted = request_submit(
                beneficiary=beneficiary,
                kind=data["kind"],
                category=int(data["category"]),
                subject=data["subject"],
                description=data["description"],
                channel=Channel.PORTAL,
                entity=int(data["entity"]) if data["entity"] else None,
                attachments=data["attachments"],
            )
    except DomainError as error:
        beneficiary.refresh_from_db(fields=["preferred_contact"])
        form_error_add(form, error)
        status = 400 if isinstance(error, InvalidInput) else error.status
        return _form_page(request, form, status=status)
    return redirect("portal:request_submitted", tracking=submitted.tracking_number)


def _form_page(request: HttpRequest, form: RequestNewForm, *, status: int = 200) -> HttpResponse:
    return render(
        request,
        "portal/request_new.html",
        {"form": form, "max_files": MAX_FILES},
        status=status,
    )


@beneficiary_required
def request_submitted(request: HttpRequest, tracking: str) -> HttpResponse:
    beneficiary = _signed_in(request)
    submitted = _own_request(beneficiary, tracking)
    return render(request, "portal/request_submitted.html", {"submitted": submitted})


def _own_request(beneficiary: Beneficiary, tracking: str) -> Request:
    """The beneficiary's own request with this number; anyone else's is not found."""
    try:
        return request_for_beneficiary(beneficiary, tracking)
    except NotFound:
        raise Http404 from None


urlpatterns: list[URLPattern] = [
    path("requests/new/", request_new, name="request_new"),
    path("requests/<str:tracking>/submitted/", request_submitted, name="request_submitted"),
]
