"""Follow one request without an account: tracking number + mobile → code → read-only view.

No enumeration: an unknown number and a known number with the wrong mobile get
the same redirect, the same page and the same rate limit as a match (a decoy
challenge is counted instead of a code being sent), so the form tells nobody
whether a number exists or who sent it.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.views.decorators.http import require_http_methods

from tawasul.beneficiaries.models import CodePurpose
from tawasul.beneficiaries.signin import signin_code_decoy, signin_code_send, signin_code_verify
from tawasul.cases.selectors import request_for_tracking_session, request_id_for_tracking
from tawasul.core.errors import InvalidInput, RateLimited
from tawasul.core.http import client_ip
from tawasul.portal.errors import form_error_add
from tawasul.portal.session import TRACKED_KEY
from tawasul.portal.signin_forms import CodeForm
from tawasul.portal.signin_views import WRONG_CODE, active_language, code_minutes
from tawasul.portal.timeline import public_timeline
from tawasul.portal.track_forms import TrackForm

TRACK_CHALLENGE_KEY = "portal_track_challenge"


def _track_code_send(request: HttpRequest, *, tracking_number: str, mobile: str) -> str:
    """A code to the mobile if it sent this request; otherwise the same, counted, in silence."""
    request_id = request_id_for_tracking(tracking_number=tracking_number, mobile=mobile)
    if request_id is None:
        return signin_code_decoy(destination=mobile, ip=client_ip(request))
    return signin_code_send(
        destination=mobile,
        ip=client_ip(request),
        language=active_language(),
        purpose=CodePurpose.TRACK,
        request_id=request_id,
    )


@require_http_methods(["GET", "POST"])
def track(request: HttpRequest) -> HttpResponse:
    status = 200
    form = TrackForm(request.POST or None)
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                challenge = _track_code_send(
                    request,
                    tracking_number=form.cleaned_data["tracking_number"],
                    mobile=form.cleaned_data["mobile"],
                )
            except RateLimited as error:
                form.add_error(None, str(error.message))
                status = 429
            except InvalidInput as error:
                form_error_add(form, error)
            else:
                request.session[TRACK_CHALLENGE_KEY] = challenge
                return redirect("portal:track_code")
    return render(request, "portal/track.html", {"form": form}, status=status)


@require_http_methods(["GET", "POST"])
def track_code(request: HttpRequest) -> HttpResponse:
    challenge = request.session.get(TRACK_CHALLENGE_KEY)
    if not challenge:
        return redirect("portal:track")
    status = 200
    form = CodeForm(request.POST or None)
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                verified = signin_code_verify(
                    challenge=challenge, code=form.cleaned_data["code"], purpose=CodePurpose.TRACK
                )
            except InvalidInput as error:
                form_error_add(form, error)
            else:
                if verified.request_id is None:  # a decoy never verifies; belt and braces
                    form.add_error("code", str(WRONG_CODE))
                else:
                    request.session.cycle_key()
                    request.session.pop(TRACK_CHALLENGE_KEY, None)
                    request.session[TRACKED_KEY] = verified.request_id
                    return redirect("portal:track_view")
    context = {
        "form": form,
        "failed": status == 400 and "code" in form.errors,
        "code_minutes": code_minutes(),
    }
    return render(request, "portal/track_code.html", context, status=status)


@require_http_methods(["GET"])
def track_view(request: HttpRequest) -> HttpResponse:
    pk = request.session.get(TRACKED_KEY)
    case = request_for_tracking_session(int(pk)) if pk else None
    if case is None:
        request.session.pop(TRACKED_KEY, None)
        return redirect("portal:track")
    context = {"case": case, "timeline": public_timeline(case)}
    return render(request, "portal/track_view.html", context)


urlpatterns: list[URLPattern] = [
    path("track/", track, name="track"),
    path("track/code/", track_code, name="track_code"),
    path("track/view/", track_view, name="track_view"),
]
