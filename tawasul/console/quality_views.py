"""Quality review in the console: the sample queue, the scoring screen, an agent's own
reviews, the calibration table and the per-agent / per-centre summary.

The services and selectors enforce every rule: only quality officers, supervisors,
centre managers and administrators over the request's entity may score, never the
person who wrote the answer; samples out of reach are not found.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_safe

from tawasul.cases.models import Message
from tawasul.console.access import staff_required
from tawasul.core.errors import AccessDenied, DomainError, InvalidInput, NotFound
from tawasul.directory import access
from tawasul.directory.models import Entity
from tawasul.feedback.models import SCORE_MAX, SCORE_MIN, QualityCriterion, QualitySample
from tawasul.feedback.quality import quality_entities, quality_review_record
from tawasul.feedback.selectors import (
    calibration_agreement,
    objection_stats,
    quality_criteria_active,
    quality_reviews_of_agent,
    quality_sample_for_reviewer,
    quality_samples_open,
    quality_summary,
    satisfaction_stats,
)

LIST_LIMIT = 200
SCORE_CHOICES = [(n, str(n)) for n in range(SCORE_MIN, SCORE_MAX + 1)]


def criterion_label(criterion: QualityCriterion) -> str:
    return criterion.name_ar if (get_language() or "ar").startswith("ar") else criterion.name_en


class ReviewForm(forms.Form):
    comment = forms.CharField(
        label=_("Comment for the agent"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    calibration_group = forms.IntegerField(
        label=_("Calibration round (optional)"), required=False, min_value=1
    )

    def __init__(self, *args: Any, criteria: list[QualityCriterion], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.criteria = criteria
        for criterion in criteria:
            self.fields[f"score_{criterion.code}"] = forms.TypedChoiceField(
                label=criterion_label(criterion),
                choices=SCORE_CHOICES,
                coerce=int,
                widget=forms.RadioSelect,
            )

    def scores(self) -> dict[str, int]:
        return {c.code: self.cleaned_data[f"score_{c.code}"] for c in self.criteria}

    def score_fields(self) -> list[forms.BoundField]:
        return [self[f"score_{c.code}"] for c in self.criteria]


class CalibrationForm(forms.Form):
    group = forms.IntegerField(label=_("Calibration round"), min_value=1)


def _user(http: HttpRequest) -> AbstractBaseUser:
    user = http.user
    if not isinstance(user, AbstractBaseUser):  # staff_required comes first; never reached
        raise Http404
    return user


def _not_a_reviewer(http: HttpRequest) -> HttpResponse:
    return render(http, "console/quality_forbidden.html", status=403)


@require_safe
@staff_required
def quality_queue(http: HttpRequest) -> HttpResponse:
    if not quality_entities(http.user).exists():
        return _not_a_reviewer(http)
    items = list(quality_samples_open(http.user)[:LIST_LIMIT])
    return render(http, "console/quality_queue.html", {"items": items})


def _score_page(
    http: HttpRequest, sample: QualitySample, form: ReviewForm, *, status: int = 200
) -> HttpResponse:
    answer = sample.answer_event
    message_pk = answer.data.get("message")
    message = (
        Message.objects.filter(pk=message_pk, request_id=answer.request_id).first()
        if message_pk is not None
        else None
    )
    return render(
        http,
        "console/quality_score.html",
        {
            "sample": sample,
            "case": answer.request,
            "answer_text": message.body if message else answer.request.resolution,
            "form": form,
        },
        status=status,
    )


@require_http_methods(["GET", "HEAD", "POST"])
@staff_required
def quality_score(http: HttpRequest, pk: int) -> HttpResponse:
    try:
        sample = quality_sample_for_reviewer(http.user, pk=pk)
    except NotFound:
        raise Http404 from None
    criteria = quality_criteria_active()
    if http.method != "POST":
        return _score_page(http, sample, ReviewForm(criteria=criteria))
    form = ReviewForm(http.POST, criteria=criteria)
    if not form.is_valid():
        return _score_page(http, sample, form, status=400)
    try:
        quality_review_record(
            answer_event=sample.answer_event,
            by=_user(http),
            scores=form.scores(),
            comment=form.cleaned_data["comment"],
            calibration_group=form.cleaned_data["calibration_group"],
        )
    except DomainError as error:
        messages.error(http, str(error.message))
        status = 400 if isinstance(error, InvalidInput) else error.status
        if isinstance(error, AccessDenied):
            status = 403
        return _score_page(http, sample, form, status=status)
    messages.success(http, _("The review is saved."))
    return redirect(reverse("console:quality"))


@require_safe
@staff_required
def quality_mine(http: HttpRequest) -> HttpResponse:
    reviews = list(quality_reviews_of_agent(http.user)[:LIST_LIMIT])
    return render(http, "console/quality_mine.html", {"reviews": reviews})


@require_safe
@staff_required
def quality_calibration(http: HttpRequest) -> HttpResponse:
    entities = quality_entities(http.user)
    if not entities.exists():
        return _not_a_reviewer(http)
    form = CalibrationForm(http.GET or None)
    agreement = None
    criteria: dict[str, str] = {}
    if form.is_valid():
        requests = access.requests_for(http.user).filter(entity__in=entities.values("pk"))
        agreement = calibration_agreement(form.cleaned_data["group"], requests=requests)
        criteria = {c.code: criterion_label(c) for c in quality_criteria_active()}
    return render(
        http,
        "console/quality_calibration.html",
        {"form": form, "agreement": agreement, "criteria": criteria},
    )


def _merge(
    quality: list[dict[str, Any]],
    satisfaction: list[dict[str, Any]],
    objections: list[dict[str, Any]],
    names: dict[Any, str],
) -> list[dict[str, Any]]:
    rows: dict[Any, dict[str, Any]] = {}
    for source, label in (
        (quality, "quality"),
        (satisfaction, "satisfaction"),
        (objections, "objections"),
    ):
        for row in source:
            if row["key"] is None:
                continue
            rows.setdefault(row["key"], {"key": row["key"], "name": names.get(row["key"], "—")})[
                label
            ] = row
    return sorted(rows.values(), key=lambda row: str(row["name"]))


@require_safe
@staff_required
def quality_summary_page(http: HttpRequest) -> HttpResponse:
    requests = access.requests_for(http.user)
    tables = {}
    for group_by in ("agent", "centre"):
        quality = quality_summary(group_by=group_by, requests=requests)
        satisfaction = satisfaction_stats(group_by=group_by, requests=requests)
        objections = objection_stats(group_by=group_by, requests=requests)
        keys = {row["key"] for row in [*quality, *satisfaction, *objections]} - {None}
        names: dict[Any, str]
        if group_by == "agent":
            users = get_user_model().objects.filter(pk__in=keys)
            names = {u.pk: u.get_full_name() or u.get_username() for u in users}
        else:
            names = {e.pk: str(e.name) for e in Entity.objects.filter(pk__in=keys)}
        tables[group_by] = _merge(quality, satisfaction, objections, names)
    return render(
        http,
        "console/quality_summary.html",
        {"agents": tables["agent"], "centres": tables["centre"]},
    )


urlpatterns: list[URLPattern] = [
    path("quality/", quality_queue, name="quality"),
    path("quality/mine/", quality_mine, name="quality_mine"),
    path("quality/calibration/", quality_calibration, name="quality_calibration"),
    path("quality/summary/", quality_summary_page, name="quality_summary"),
    path("quality/<int:pk>/", quality_score, name="quality_score"),
]
