"""Open311 GeoReport v2: discovery, services, and requests (read and submit).

Plain Django views: Open311 speaks XML and form posts. Each view parses its
parameters, calls one selector or service, and renders the document in the
format its address ends with. Reading needs no key (public data only, see
`selectors`); submitting needs a partner key with the `requests:create` scope.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt

from tawasul.api import credentials
from tawasul.api.auth import rate_limit
from tawasul.api.models import ApiClient, Scope
from tawasul.api.open311 import documents, selectors
from tawasul.api.open311.params import (
    Open311Error,
    Params,
    bad,
    date_window,
    statuses,
    tracking_numbers,
)
from tawasul.api.open311.render import JSON, XML, document_response, error_response
from tawasul.api.open311.submission import submission_parse
from tawasul.api.submissions import client_request_submit
from tawasul.cases.models import Channel
from tawasul.core.errors import AccessDenied, DomainError, NotFound, RateLimited
from tawasul.core.http import client_ip
from tawasul.core.ids import tracking_number_display, tracking_number_parse

View = Callable[..., HttpResponse]
SIGNING_SALT = "tawasul.open311.token"
_SLUG = re.compile(r"^[-a-zA-Z0-9_]{1,60}$")
_STATUS_OF_ERROR = {NotFound: 404, AccessDenied: 403, RateLimited: 429}


def jurisdiction() -> str:
    return str(getattr(settings, "TAWASUL_OPEN311_JURISDICTION", "tawasul"))


def _language(request: HttpRequest, params: Params) -> str:
    """`lang` when it names a language we speak, else the caller's Accept-Language."""
    chosen = params.get("lang") or ""
    if chosen in ("ar", "en"):
        return chosen
    return translation.get_language_from_request(request)


def _params(request: HttpRequest) -> Params:
    return Params(request.POST if request.method == "POST" else request.GET)


def _domain_status(error: DomainError) -> int:
    for kind, status in _STATUS_OF_ERROR.items():
        if isinstance(error, kind):
            return status
    return 400


def _answer(request: HttpRequest, fmt: str, view: View, kwargs: dict[str, Any]) -> HttpResponse:
    params = _params(request)
    with translation.override(_language(request, params)):
        try:
            found = params.get("jurisdiction_id")
            if found is not None and found != jurisdiction():
                raise Open311Error(404, _("Unknown jurisdiction."))
            return view(request, fmt, params, **kwargs)
        except Open311Error as error:
            return error_response(fmt, error.status, error.description)
        except DomainError as error:
            response = error_response(fmt, _domain_status(error), error.message)
            if isinstance(error, RateLimited):
                response["Retry-After"] = str(error.details.get("retry_after", 60))
            return response


def open311_view(*methods: str) -> Callable[[View], View]:
    """An Open311 endpoint: its methods, its language, its errors in Open311's shape."""

    def decorate(view: View) -> View:
        @csrf_exempt
        @wraps(view)
        def wrapped(request: HttpRequest, fmt: str, **kwargs: Any) -> HttpResponse:
            if request.method not in methods:
                response = error_response(fmt, 405, _("This method is not allowed here."))
                response["Allow"] = ", ".join(methods)
                return response
            try:
                return _answer(request, fmt, view, kwargs)
            except (MultiPartParserError, RequestDataTooBig):
                return error_response(fmt, 400, _("The request body could not be read."))

        return wrapped

    return decorate


def _reader_limit(request: HttpRequest) -> None:
    """Anonymous reads are limited per address, like the rest of the API."""
    rate_limit(bucket=f"o311:{client_ip(request)}", per_minute=settings.TAWASUL_API_RATE)


# --- discovery and services --------------------------------------------------------


@open311_view("GET", "HEAD")
def discovery(request: HttpRequest, fmt: str, params: Params) -> HttpResponse:
    base = request.build_absolute_uri(reverse("open311:discovery", kwargs={"fmt": fmt}))
    url = base.rsplit("discovery.", 1)[0]
    return document_response(fmt, "discovery", documents.discovery_document(url=url))


@open311_view("GET", "HEAD")
def services(request: HttpRequest, fmt: str, params: Params) -> HttpResponse:
    _reader_limit(request)
    return document_response(fmt, "services", documents.services_document())


@open311_view("GET", "HEAD")
def service_definition(request: HttpRequest, fmt: str, params: Params, code: str) -> HttpResponse:
    _reader_limit(request)
    category = selectors.service_for_code(code) if _SLUG.match(code) else None
    if category is None:
        raise Open311Error(404, _("Unknown service_code."))
    return document_response(
        fmt, "service_definition", documents.service_definition_document(category)
    )


# --- requests ------------------------------------------------------------------------


@open311_view("GET", "HEAD", "POST")
def requests(request: HttpRequest, fmt: str, params: Params) -> HttpResponse:
    if request.method == "POST":
        return _requests_create(request, fmt, params)
    _reader_limit(request)
    start, end = date_window(
        params.instant("start_date"), params.instant("end_date"), now=timezone.now()
    )
    query = selectors.RequestFilter(
        tracking_numbers=tracking_numbers(params),
        service_codes=params.listed("service_code") or [],
        start=start,
        end=end,
        statuses=statuses(params),
    )
    size = params.integer("page_size", default=1000, low=1, high=selectors.MAX_RESULTS)
    page = params.integer("page", default=1, low=1, high=100_000)
    extended = params.flag("extensions")
    rows = selectors.requests_public(query, offset=(page - 1) * size, limit=size, notes=extended)
    document = [documents.request_document(row, extended=extended) for row in rows]
    return document_response(fmt, "service_requests", document)


@open311_view("GET", "HEAD")
def request_detail(request: HttpRequest, fmt: str, params: Params, request_id: str) -> HttpResponse:
    _reader_limit(request)
    digits = tracking_number_parse(request_id)
    found = selectors.request_public(digits) if digits else None
    if found is None:
        raise Open311Error(404, _("Unknown service_request_id."))
    extended = params.flag("extensions")
    document = [documents.request_document(found, extended=extended)]
    return document_response(fmt, "service_requests", document)


def token_for(tracking_number: str) -> str:
    return signing.Signer(salt=SIGNING_SALT).sign(tracking_number)


def _tracking_of_token(token: str) -> str | None:
    try:
        return signing.Signer(salt=SIGNING_SALT).unsign(token)
    except signing.BadSignature:
        return None


@open311_view("GET", "HEAD")
def token(request: HttpRequest, fmt: str, params: Params, token: str) -> HttpResponse:
    _reader_limit(request)
    digits = tracking_number_parse(_tracking_of_token(token) or "")
    found = selectors.request_public(digits) if digits else None
    if found is None:
        raise Open311Error(404, _("Unknown token."))
    document = [{"service_request_id": found.tracking_number, "token": token}]
    return document_response(fmt, "service_requests", document)


def _partner(params: Params, request: HttpRequest) -> ApiClient:
    key = params.get("api_key") or request.headers.get("X-API-Key", "").strip()
    if not key:
        raise Open311Error(403, _("An api_key is required to submit a request."))
    client = credentials.api_client_for_key(key)
    if client is None:
        raise Open311Error(403, _("This api_key is not valid."))
    if Scope.REQUESTS_CREATE not in client.scopes:
        raise Open311Error(403, _("This api_key may not submit requests."))
    rate_limit(bucket=f"k{client.pk}", per_minute=client.rate_limit_per_minute)
    return client


def _requests_create(request: HttpRequest, fmt: str, params: Params) -> HttpResponse:
    client = _partner(params, request)
    code = params.get("service_code")
    if code is None:
        raise bad(_("The service_code is required."))
    category = selectors.service_for_code(code) if _SLUG.match(code) else None
    if category is None:
        raise Open311Error(404, _("Unknown service_code."))
    parsed = submission_parse(params, category)
    created = client_request_submit(
        client=client,
        person=parsed.person,
        kind=parsed.kind,
        category=category,
        entity=parsed.entity,
        subject=parsed.subject,
        description=parsed.description,
        channel=Channel.OPEN311,
    )
    notice = format_lazy(
        _("Received with the tracking number {number}. We will send news by SMS or e-mail."),
        number=tracking_number_display(created.tracking_number),
    )
    document = [
        {
            "service_request_id": created.tracking_number,
            "token": token_for(created.tracking_number),
            "service_notice": notice,
            "account_id": None,
        }
    ]
    return document_response(fmt, "service_requests", document, status=201)


def unknown(request: HttpRequest, path: str) -> HttpResponse:
    """Any other address under Open311: 404 in Open311's shape."""
    fmt = XML if path.endswith(".xml") else JSON
    return error_response(fmt, 404, _("There is nothing at this address."))
