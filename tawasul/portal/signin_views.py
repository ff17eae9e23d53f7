"""Sign-in by one-time code, the first-sign-in identity (with PDPL consent), and sign-out.

1. `signin/`: a mobile or an e-mail address; a code is sent (the page says the
   same whether or not the address is known to us).
2. `signin/code/`: the code; a known beneficiary is signed in, anyone else goes on to
3. `signin/profile/`: the privacy notice, consent, and who they are.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST

from tawasul.beneficiaries.signin import (
    Destination,
    beneficiary_for_destination,
    beneficiary_sign_up,
    signin_code_send,
    signin_code_verify,
)
from tawasul.core.errors import InvalidInput, RateLimited
from tawasul.core.http import client_ip
from tawasul.portal.errors import form_error_add
from tawasul.portal.session import (
    PENDING_KEY,
    current_beneficiary,
    portal_sign_in,
    portal_sign_out,
    safe_next,
)
from tawasul.portal.signin_forms import CodeForm, ProfileForm, SignInForm

CHALLENGE_KEY = "portal_signin_challenge"  # {"challenge", "channel", "address"} until the code
WRONG_CODE = _("The code is wrong or has expired. Ask for a new code.")


def active_language() -> str:
    return "en" if (get_language() or "ar").startswith("en") else "ar"


def code_minutes() -> int:
    """How long a code stays valid, in whole minutes (for the code pages)."""
    return max(1, int(getattr(settings, "TAWASUL_CODE_TTL_SECONDS", 600)) // 60)


def _signed_in_home() -> str:
    """Where a beneficiary goes after signing in: their requests."""
    return reverse("portal:request_list")


def _onward(request: HttpRequest, name: str) -> HttpResponseRedirect:
    """Redirect to the page `name`, carrying a safe `next` along."""
    target = safe_next(request, "")
    query = f"?{urlencode({'next': target})}" if target else ""
    return redirect(f"{reverse(name)}{query}")


def _destination(data: dict[str, str]) -> Destination:
    return Destination(channel=data["channel"], address=data["address"])


@require_http_methods(["GET", "POST"])
def signin(request: HttpRequest) -> HttpResponse:
    if request.method == "GET" and current_beneficiary(request) is not None:
        return redirect(safe_next(request, _signed_in_home()))
    status = 200
    form = SignInForm(request.POST or None)
    if request.method == "POST":
        status = 400
        if form.is_valid():
            destination: Destination = form.cleaned_data["destination"]
            try:
                challenge = signin_code_send(
                    destination=destination.address,
                    ip=client_ip(request),
                    language=active_language(),
                )
            except RateLimited as error:
                form.add_error(None, str(error.message))
                status = 429
            except InvalidInput as error:
                form.add_error("destination", str(error.message))
            else:
                request.session[CHALLENGE_KEY] = {
                    "challenge": challenge,
                    "channel": destination.channel,
                    "address": destination.address,
                }
                return _onward(request, "portal:signin_code")
    return render(
        request, "portal/signin.html", {"form": form, "next": safe_next(request, "")}, status=status
    )


@require_http_methods(["GET", "POST"])
def signin_code(request: HttpRequest) -> HttpResponse:
    pending = request.session.get(CHALLENGE_KEY)
    if not pending:
        return _onward(request, "portal:signin")
    destination = _destination(pending)
    status = 200
    form = CodeForm(request.POST or None)
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                verified = signin_code_verify(
                    challenge=pending["challenge"], code=form.cleaned_data["code"]
                )
                if verified.destination_digest != destination.digest:  # defence in depth
                    raise InvalidInput(WRONG_CODE, details={"field": "code"})
            except InvalidInput as error:
                form_error_add(form, error)
            else:
                return _code_accepted(request, destination)
    context = {
        "form": form,
        "destination": destination,
        "next": safe_next(request, ""),
        "failed": status == 400 and "code" in form.errors,
        "code_minutes": code_minutes(),
    }
    return render(request, "portal/signin_code.html", context, status=status)


def _code_accepted(request: HttpRequest, destination: Destination) -> HttpResponse:
    """The address is verified: sign its owner in, or ask who they are."""
    request.session.pop(CHALLENGE_KEY, None)
    beneficiary = beneficiary_for_destination(destination)
    if beneficiary is not None:
        portal_sign_in(request, beneficiary)
        return redirect(safe_next(request, _signed_in_home()))
    request.session.cycle_key()  # a verified address is a privilege: no session fixation
    request.session[PENDING_KEY] = {"channel": destination.channel, "address": destination.address}
    return _onward(request, "portal:signin_profile")


@require_http_methods(["GET", "POST"])
def signin_profile(request: HttpRequest) -> HttpResponse:
    pending = request.session.get(PENDING_KEY)
    if not pending:
        return _onward(request, "portal:signin")
    destination = _destination(pending)
    status = 200
    form = ProfileForm(request.POST or None)
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                data = form.cleaned_data
                beneficiary = beneficiary_sign_up(
                    destination=destination,
                    national_id=data["national_id"],
                    full_name=data["full_name"],
                    kind=data["kind"],
                    language=data["language"],
                    consent=data["consent"],
                )
            except InvalidInput as error:
                form_error_add(form, error)
            else:
                portal_sign_in(request, beneficiary)
                return redirect(safe_next(request, _signed_in_home()))
    context = {"form": form, "destination": destination, "next": safe_next(request, "")}
    return render(request, "portal/signin_profile.html", context, status=status)


@require_POST
def signout(request: HttpRequest) -> HttpResponse:
    portal_sign_out(request)
    return redirect("portal:home")


urlpatterns: list[URLPattern] = [
    path("signin/", signin, name="signin"),
    path("signin/code/", signin_code, name="signin_code"),
    path("signin/profile/", signin_profile, name="signin_profile"),
    path("signout/", signout, name="signout"),
]
