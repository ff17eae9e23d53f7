"""The satisfaction survey by link: no sign-in, the signed token is the proof.

A forged or tampered link is "not found" (no detail); an expired one or one whose
answer can no longer be rated is "gone" (410) with a clear message; a second
rating of the same answer is "already answered" (409).
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from tawasul.cases.models import Event
from tawasul.core.errors import Conflict, DomainError, InvalidInput, NotFound
from tawasul.feedback.survey import survey_open, survey_submit
from tawasul.portal.errors import form_error_add
from tawasul.portal.request_forms import RatingForm


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def survey(http: HttpRequest, token: str) -> HttpResponse:
    try:
        answer = survey_open(token)
    except DomainError as error:
        return _closed(http, error)
    if http.method != "POST":
        return _page(http, token, answer, RatingForm())
    form = RatingForm(http.POST)
    if form.is_valid():
        try:
            survey_submit(
                token=token,
                score=form.cleaned_data["score"],
                resolved=form.cleaned_data["resolved"],
                comment=form.cleaned_data["comment"],
            )
        except InvalidInput as error:
            form_error_add(form, error)
        except DomainError as error:
            return _closed(http, error)
        else:
            return render(http, "portal/survey_thanks.html", {"case": answer.request})
    return _page(http, token, answer, form, status=400)


def _page(
    http: HttpRequest, token: str, answer: Event, form: RatingForm, *, status: int = 200
) -> HttpResponse:
    context = {"case": answer.request, "answer": answer, "form": form, "token": token}
    return render(http, "portal/survey.html", context, status=status)


def _closed(http: HttpRequest, error: DomainError) -> HttpResponse:
    """Already answered (409) or no longer open (410); a forged link is a bare 404."""
    if isinstance(error, NotFound):
        raise Http404
    context = {"message": error.message, "already": isinstance(error, Conflict)}
    return render(http, "portal/survey_closed.html", context, status=error.status)


urlpatterns: list[URLPattern] = [
    path("survey/<str:token>/", survey, name="survey"),
]
