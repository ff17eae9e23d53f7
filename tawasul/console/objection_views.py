"""Objections in the console: the review queue and the review screen.

The queue lists pending objections the user may decide (SUPERVISE on the request
and on the reviewing entity), the oldest due first. The review screen shows the
answer under objection, the beneficiary's reason and two forms: uphold (with a
note and an optional reassignment) and reject (with the justification the
beneficiary will read). The services enforce every rule, including that the
person who wrote the answer may not decide.
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
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST, require_safe

from tawasul.cases.models import Message, Request
from tawasul.console.access import staff_required
from tawasul.core.errors import DomainError, InvalidInput, NotFound
from tawasul.directory import access
from tawasul.directory.access import Permission
from tawasul.feedback.models import Objection, ObjectionOutcome
from tawasul.feedback.objections import objection_reject, objection_uphold
from tawasul.feedback.selectors import objection_for_staff, objections_to_review

QUEUE_LIMIT = 200


class UpholdForm(forms.Form):
    note = forms.CharField(
        label=_("Why the objection is upheld (internal note for the team)"),
        min_length=3,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    reassign_to = forms.TypedChoiceField(
        label=_("Reassign to (optional)"), coerce=int, required=False, empty_value=None
    )

    def __init__(self, *args: Any, agents: list[tuple[int, str]] = (), **kwargs: Any) -> None:  # type: ignore[assignment]
        super().__init__(*args, **kwargs)
        self.fields["reassign_to"].choices = [("", _("Keep the current agent")), *agents]  # type: ignore[attr-defined]


class RejectForm(forms.Form):
    justification = forms.CharField(
        label=_("Justification (the beneficiary will read it)"),
        min_length=10,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 6}),
    )


def _user(http: HttpRequest) -> AbstractBaseUser:
    user = http.user
    if not isinstance(user, AbstractBaseUser):  # staff_required comes first; never reached
        raise Http404
    return user


def _objection(http: HttpRequest, pk: int) -> Objection:
    try:
        return objection_for_staff(http.user, pk=pk)
    except NotFound:
        raise Http404 from None


def _agents(request: Request) -> list[tuple[int, str]]:
    holders = access.grant_holders(request.entity, Permission.WORK).select_related("user")
    seen: dict[int, str] = {}
    for grant in holders.order_by("user__username"):
        user = grant.user
        seen.setdefault(user.pk, user.get_full_name() or user.get_username())
    return list(seen.items())


@require_safe
@staff_required
def objection_queue(http: HttpRequest) -> HttpResponse:
    items = list(objections_to_review(http.user)[:QUEUE_LIMIT])
    return render(http, "console/objection_queue.html", {"items": items, "now": timezone.now()})


def _review_page(
    http: HttpRequest,
    objection: Objection,
    *,
    uphold_form: UpholdForm | None = None,
    reject_form: RejectForm | None = None,
    status: int = 200,
) -> HttpResponse:
    request = objection.request
    answer_message = None
    message_pk = objection.answer_event.data.get("message")
    if message_pk is not None:
        answer_message = Message.objects.filter(pk=message_pk, request=request).first()
    agents = _agents(request)
    pending = objection.outcome == ObjectionOutcome.PENDING
    is_answerer = objection.answer_event.actor_user_id == _user(http).pk
    return render(
        http,
        "console/objection.html",
        {
            "objection": objection,
            "case": request,
            "answer_text": answer_message.body if answer_message else request.resolution,
            "answerer": objection.answer_event.actor_user,
            "pending": pending,
            "is_answerer": is_answerer,
            "uphold_form": uphold_form or UpholdForm(agents=agents),
            "reject_form": reject_form or RejectForm(),
        },
        status=status,
    )


@require_safe
@staff_required
def objection_review(http: HttpRequest, pk: int) -> HttpResponse:
    return _review_page(http, _objection(http, pk))


def _refused(http: HttpRequest, objection: Objection, error: DomainError) -> HttpResponse:
    messages.error(http, str(error.message))
    status = 400 if isinstance(error, InvalidInput) else error.status
    return _review_page(http, objection, status=status)


@require_POST
@staff_required
def objection_uphold_view(http: HttpRequest, pk: int) -> HttpResponse:
    objection = _objection(http, pk)
    form = UpholdForm(http.POST, agents=_agents(objection.request))
    if not form.is_valid():
        return _review_page(http, objection, uphold_form=form, status=400)
    reassign = None
    if form.cleaned_data["reassign_to"] is not None:
        reassign = get_user_model().objects.filter(pk=form.cleaned_data["reassign_to"]).first()
    try:
        objection_uphold(
            objection=objection,
            by=_user(http),
            note=form.cleaned_data["note"],
            reassign_to=reassign,
        )
    except DomainError as error:
        return _refused(http, objection, error)
    messages.success(http, _("The objection is upheld and the request is back in progress."))
    return redirect(reverse("console:objections"))


@require_POST
@staff_required
def objection_reject_view(http: HttpRequest, pk: int) -> HttpResponse:
    objection = _objection(http, pk)
    form = RejectForm(http.POST)
    if not form.is_valid():
        return _review_page(http, objection, reject_form=form, status=400)
    try:
        objection_reject(
            objection=objection, by=_user(http), justification=form.cleaned_data["justification"]
        )
    except DomainError as error:
        return _refused(http, objection, error)
    messages.success(http, _("The objection is rejected and the request is closed."))
    return redirect(reverse("console:objections"))


urlpatterns: list[URLPattern] = [
    path("objections/", objection_queue, name="objections"),
    path("objections/<int:pk>/", objection_review, name="objection"),
    path("objections/<int:pk>/uphold/", objection_uphold_view, name="objection_uphold"),
    path("objections/<int:pk>/reject/", objection_reject_view, name="objection_reject"),
]
