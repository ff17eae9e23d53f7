"""The beneficiary's portal session: who is signed in, and what one may track.

Beneficiaries are not Django users: after a one-time code they get a session
that names their beneficiary id (the session key is rotated at sign-in). A
person following one request without an account gets a session that names that
request only, read-only.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from tawasul.beneficiaries.models import Beneficiary

BENEFICIARY_KEY = "portal_beneficiary_id"
PENDING_KEY = "portal_pending_destination"  # {"channel", "address"} after a code, before identity
TRACKED_KEY = "portal_tracked_request_id"

View = Callable[..., HttpResponseBase]


def portal_sign_in(request: HttpRequest, beneficiary: Beneficiary) -> None:
    """Start a signed-in session for `beneficiary` (new session key: no fixation)."""
    request.session.cycle_key()
    request.session.pop(PENDING_KEY, None)
    request.session[BENEFICIARY_KEY] = beneficiary.pk


def portal_sign_out(request: HttpRequest) -> None:
    request.session.flush()


def current_beneficiary(request: HttpRequest) -> Beneficiary | None:
    """The signed-in beneficiary, read once per request."""
    cached: Beneficiary | None = getattr(request, "_portal_beneficiary", None)
    if cached is not None:
        return cached
    pk = request.session.get(BENEFICIARY_KEY)
    beneficiary = Beneficiary.objects.filter(pk=pk).first() if pk else None
    request._portal_beneficiary = beneficiary  # type: ignore[attr-defined]
    return beneficiary


def beneficiary_required(view: View) -> View:
    """Send anyone not signed in to the sign-in page, then back here."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if current_beneficiary(request) is None:
            return redirect(f"{reverse('portal:signin')}?next={request.get_full_path()}")
        return view(request, *args, **kwargs)

    return wrapper


def safe_next(request: HttpRequest, default: str) -> str:
    """The `next` address if it stays on this site, else `default`."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default
