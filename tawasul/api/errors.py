"""One JSON shape for every API error: `code`, `message` in Arabic and English, `details`.

    {"code": "not_found", "message": {"ar": "…", "en": "…"}, "details": {}}

Domain errors keep their own status; a few codes map to the HTTP status the web
expects (413 for a file that is too large, 415 for a file type we do not take).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import override
from django.views import defaults
from ninja.errors import AuthenticationError, HttpError, ValidationError

from tawasul.core.errors import AccessDenied, DomainError, InvalidInput, NotFound

if TYPE_CHECKING:
    from django.utils.functional import Promise
    from ninja import NinjaAPI

logger = logging.getLogger(__name__)

STATUS_BY_CODE = {"file_too_large": 413, "file_type": 415}
_LOCATIONS = {"body", "payload", "data", "query", "path", "form", "file", "header"}


def _both(message: str | Promise) -> dict[str, str]:
    result = {}
    for language in ("ar", "en"):
        with override(language):
            result[language] = str(message)
    return result


def error_body(
    code: str, message: str | Promise, details: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {"code": code, "message": _both(message), "details": details or {}}


def error_response(
    api: NinjaAPI, request: HttpRequest, status: int, body: dict[str, Any]
) -> HttpResponse:
    response = api.create_response(request, body, status=status)
    if status == 429:
        response["Retry-After"] = str(body.get("details", {}).get("retry_after", 60))
    if status == 401:
        response["WWW-Authenticate"] = "Bearer"
    return response


def _validation_details(errors: list[dict[str, Any]]) -> dict[str, Any]:
    """Pydantic's errors as `{"fields": {"subject": ["…"]}}` (input locations dropped)."""
    fields: dict[str, list[str]] = {}
    for error in errors:
        location = [str(part) for part in error.get("loc", ()) if part not in _LOCATIONS]
        fields.setdefault(".".join(location) or "body", []).append(str(error.get("msg", "")))
    return {"fields": fields}


def install(api: NinjaAPI) -> None:
    """Register the handlers on the API."""

    @api.exception_handler(DomainError)
    def domain(request: HttpRequest, exc: DomainError) -> HttpResponse:
        status = STATUS_BY_CODE.get(exc.code, exc.status)
        return error_response(api, request, status, error_body(exc.code, exc.message, exc.details))

    @api.exception_handler(ValidationError)
    def invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        body = error_body(
            "invalid",
            _("Some fields are missing or not valid."),
            _validation_details(list(exc.errors)),
        )
        return error_response(api, request, 422, body)

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        body = error_body(
            "unauthenticated", _("Sign in first: the credential is missing, wrong or expired.")
        )
        return error_response(api, request, 401, body)

    @api.exception_handler(Http404)
    def missing(request: HttpRequest, exc: Http404) -> HttpResponse:
        error = NotFound(_("Not found."))
        return error_response(api, request, 404, error_body(error.code, error.message))

    @api.exception_handler(PermissionDenied)
    def denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
        error = AccessDenied(_("You may not do this."))
        return error_response(api, request, 403, error_body(error.code, error.message))

    @api.exception_handler(RequestDataTooBig)
    def too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
        body = error_body("too_large", _("The request is too large."))
        return error_response(api, request, 413, body)

    @api.exception_handler(HttpError)
    def unreadable(request: HttpRequest, exc: HttpError) -> HttpResponse:
        """Ninja's own errors (a body that is not JSON) in the one shape."""
        body = error_body("bad_request", _("The request body could not be read."))
        return error_response(api, request, exc.status_code, body)

    @api.exception_handler(MultiPartParserError)
    def malformed_multipart(request: HttpRequest, exc: MultiPartParserError) -> HttpResponse:
        body = error_body("bad_request", _("The request body could not be read."))
        return error_response(api, request, 400, body)

    @api.exception_handler(Exception)
    def unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
        logger.exception("API error on %s %s", request.method, request.path)
        body = error_body("server_error", _("Something went wrong on our side. Try again later."))
        return error_response(api, request, 500, body)


def invalid_field(field: str, message: str | Promise, code: str = "invalid") -> InvalidInput:
    return InvalidInput(message, code=code, details={"field": field})


def _api_path(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """The project's 404: the API's JSON shape under /api/, Django's page elsewhere."""
    if _api_path(request):
        body = error_body("not_found", _("Not found."))
        return JsonResponse(body, status=404, json_dumps_params={"ensure_ascii": False})
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if _api_path(request):
        body = error_body("server_error", _("Something went wrong on our side. Try again later."))
        return JsonResponse(body, status=500, json_dumps_params={"ensure_ascii": False})
    return defaults.server_error(request)
