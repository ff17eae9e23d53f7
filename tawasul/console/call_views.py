"""The agent's screen-pop: the call ringing or answered at their desk, on every console page.

The console's base page polls `call_pop` every few seconds (htmx). The answer is the pop's
fragment, 204 when nothing changed since the version the page already shows (so a form the
agent is filling is not redrawn), and 286 — htmx's "stop polling" — for a user no telephony
line concerns. The pop's actions are plain POST forms (enhanced with htmx where the agent
stays on the page): link the call to a request, open a request (which links the call if it
is not linked yet), record the outcome, start a new request for the caller.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django import forms
from django.contrib import messages
from django.contrib.auth.models import AbstractBaseUser
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST, require_safe

from tawasul.cases.models import Request
from tawasul.channels.calls import (
    call_for_agent,
    call_link,
    call_open_request,
    call_outcome_set,
    caller_beneficiary,
    calls_pop_version,
    calls_popped,
    cti_lines_in_reach,
)
from tawasul.channels.models import Call, CallOutcome
from tawasul.console.access import staff_required
from tawasul.console.intake_forms import CallerRegisterForm
from tawasul.console.intake_views import caller_token
from tawasul.core.errors import DomainError, NotFound
from tawasul.directory import access

STOP_POLLING = 286  # htmx stops polling on this status


OUTCOMES = [(value, label) for value, label in CallOutcome.choices if value]


class CallLinkForm(forms.Form):
    request = forms.IntegerField(min_value=1)


class CallOutcomeForm(forms.Form):
    outcome = forms.ChoiceField(label=_("Outcome"), choices=OUTCOMES)


def _user(http: HttpRequest) -> AbstractBaseUser:
    user = http.user
    if not isinstance(user, AbstractBaseUser):  # staff_required comes first; never reached
        raise Http404
    return user


def _call(http: HttpRequest, public_id: str) -> Call:
    try:
        return call_for_agent(http.user, public_id)
    except NotFound:
        raise Http404 from None


def _safe_path(http: HttpRequest, url: str) -> str:
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={http.get_host()}, require_https=http.is_secure()
    ):
        parts = urlsplit(url)
        return parts.path + (f"?{parts.query}" if parts.query else "")
    return ""


def _page_path(http: HttpRequest) -> str:
    """The console page the pop is shown on (htmx names it), to come back to."""
    return _safe_path(http, http.headers.get("HX-Current-URL", "")) or reverse("console:home")


def _pop(http: HttpRequest, *, back: str, notice: Any = None, error: Any = None) -> HttpResponse:
    pops = calls_popped(http.user)
    context: dict[str, Any] = {
        "pops": pops,
        "version": calls_pop_version(pops),
        "next": back,
        "outcomes": OUTCOMES,
        "notice": notice,
        "error": error,
    }
    return render(http, "console/call_pop.html", context)


@require_safe
def call_pop(http: HttpRequest) -> HttpResponse:
    """The pop's fragment for the signed-in agent's calls (polled by every console page)."""
    user = http.user
    if not user.is_authenticated or not access.staff_scope(user).is_staff:
        return HttpResponse(status=STOP_POLLING)
    pops = calls_popped(user)
    if not pops and not cti_lines_in_reach(user):
        return HttpResponse(status=STOP_POLLING)
    if http.GET.get("v") == calls_pop_version(pops):
        return HttpResponse(status=204)
    return _pop(http, back=_page_path(http))


def _done(
    http: HttpRequest, *, notice: Any = None, error: DomainError | None = None
) -> HttpResponse:
    """After an action: the redrawn pop (htmx), else back to the page it was sent from."""
    back = _safe_path(http, http.POST.get("next", "")) or reverse("console:home")
    message = error.message if error is not None else None
    if http.headers.get("HX-Request"):
        return _pop(http, back=back, notice=notice, error=message)
    if message is not None:
        messages.error(http, str(message))
    elif notice is not None:
        messages.success(http, notice)
    return redirect(back)


def _request_in_reach(http: HttpRequest, pk: int) -> Request:
    try:
        return access.request_for_staff(http.user, pk=pk)
    except NotFound:
        raise Http404 from None


@require_POST
@staff_required
def call_link_view(http: HttpRequest, call: str) -> HttpResponse:
    """Link the call to one of the caller's requests."""
    found = _call(http, call)
    form = CallLinkForm(http.POST)
    if not form.is_valid():
        return HttpResponse(status=400)
    case = _request_in_reach(http, form.cleaned_data["request"])
    try:
        call_link(call=found, request=case, by=_user(http))
    except DomainError as error:
        return _done(http, error=error)
    return _done(http, notice=_("The call is linked to the request."))


@require_POST
@staff_required
def call_open_view(http: HttpRequest, call: str, pk: int) -> HttpResponse:
    """Open one of the caller's requests; a call not linked yet is linked to it."""
    found = _call(http, call)
    case = _request_in_reach(http, pk)
    try:
        call_open_request(call=found, request=case, by=_user(http))
    except DomainError as error:
        messages.error(http, str(error.message))
    return redirect("console:request", case.pk)


@require_POST
@staff_required
def call_outcome_view(http: HttpRequest, call: str) -> HttpResponse:
    """Record what came of the call."""
    found = _call(http, call)
    form = CallOutcomeForm(http.POST)
    if not form.is_valid():
        return HttpResponse(status=400)
    try:
        call_outcome_set(call=found, outcome=form.cleaned_data["outcome"], by=_user(http))
    except DomainError as error:
        return _done(http, error=error)
    return _done(http, notice=_("The call's outcome is recorded."))


@require_safe
@staff_required
def call_new_request_view(http: HttpRequest, call: str) -> HttpResponse:
    """Start a request for the caller: a known caller's intake page, else the registration
    form with their number filled in (never put in an address)."""
    found = _call(http, call)
    beneficiary = found.beneficiary or caller_beneficiary(found.caller)
    if beneficiary is not None:
        return redirect("console:intake_caller", token=caller_token(beneficiary))
    form = CallerRegisterForm(initial={"mobile": found.caller})
    return render(http, "console/intake_register.html", {"form": form})


urlpatterns: list[URLPattern] = [
    path("calls/pop/", call_pop, name="call_pop"),
    path("calls/<str:call>/link/", call_link_view, name="call_link"),
    path("calls/<str:call>/open/<int:pk>/", call_open_view, name="call_open"),
    path("calls/<str:call>/outcome/", call_outcome_view, name="call_outcome"),
    path("calls/<str:call>/new-request/", call_new_request_view, name="call_new_request"),
]
