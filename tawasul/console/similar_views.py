"""Similar requests in the console: the workspace's panel and the intake's check.

The workspace loads its "Similar requests" panel after the page, with htmx
(`request_similar`), so the page itself stays as fast as before; without JavaScript
the panel's link reopens the workspace with the panel in place (`?similar=1`). Each
row offers the workspace's own link and merge actions: the same forms, posted to the
same `request_act` endpoint, with the other request's tracking number filled in; the
services check every permission again.

At intake, once the agent has typed what the caller describes, htmx asks
`intake_similar` for the requests like it (the caller's own first), so a repeated
call does not become a second request.
"""

from __future__ import annotations

from dataclasses import dataclass

from django import forms
from django.contrib.auth.models import AbstractBaseUser
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_safe

from tawasul.cases.models import Request
from tawasul.cases.workflow import Action, allowed_actions
from tawasul.console import workspace_forms as wf
from tawasul.console.access import staff_required
from tawasul.console.intake_views import caller_from_token
from tawasul.core.errors import NotFound
from tawasul.directory import access
from tawasul.directory.access import Permission
from tawasul.insights.similar import SimilarReason, SimilarRequest, similar_requests

P = Permission
INTAKE_LIMIT = 5
INTAKE_TEXT_CHARS = 2000


@dataclass(frozen=True)
class SimilarRow:
    """One similar request as the panel shows it, with the actions the user may take."""

    found: SimilarRequest
    link_form: forms.Form | None
    merge_form: forms.Form | None

    @property
    def other(self) -> Request:
        return self.found.request

    @property
    def same_beneficiary(self) -> bool:
        return SimilarReason.SAME_BENEFICIARY in self.found.reasons


@dataclass(frozen=True)
class SimilarPanel:
    """What the panel shows: the rows, best first, and whether actions are offered."""

    rows: list[SimilarRow]
    actions: bool

    @property
    def near_duplicates(self) -> int:
        return sum(row.found.near_duplicate for row in self.rows)


def _forms(
    user: AbstractBaseUser, found: SimilarRequest, *, link: bool, merge: bool
) -> tuple[forms.Form | None, forms.Form | None]:
    """The workspace's link and merge forms for this row, if the user may use them."""
    other = found.request
    if not access.can(user, P.WORK, other):
        return None, None
    ids = f"similar-{other.pk}-%s"  # the workspace's own forms keep their ids
    number = {"tracking_number": other.tracking_display}
    link_form = (
        wf.TrackingForm(prefix="link", initial=number, auto_id=ids)
        if link and not found.linked
        else None
    )
    mergeable = merge and other.is_open and other.merged_into_id is None and not found.merged
    merge_form = wf.MergeForm(prefix="merge", initial=number, auto_id=ids) if mergeable else None
    return link_form, merge_form


def similar_panel(http: HttpRequest, case: Request) -> SimilarPanel:
    """The panel of `case` for the signed-in staff member."""
    user = http.user
    if not isinstance(user, AbstractBaseUser):  # staff_required comes first; never reached
        raise Http404
    work = access.can(user, P.WORK, case)
    merge = work and Action.MERGE in allowed_actions(case.status)
    rows = []
    for found in similar_requests(user=user, request=case):
        link_form, merge_form = _forms(user, found, link=work, merge=merge)
        rows.append(SimilarRow(found=found, link_form=link_form, merge_form=merge_form))
    return SimilarPanel(rows=rows, actions=work)


def _fragment(http: HttpRequest, template_context: dict[str, object]) -> HttpResponse:
    response = render(http, "console/similar_panel.html", template_context)
    patch_vary_headers(response, ["HX-Request"])
    response["Cache-Control"] = "private, no-store"
    return response


@require_safe
@staff_required
def request_similar(http: HttpRequest, pk: int) -> HttpResponse:
    """The panel, for htmx; anyone else gets the workspace with the panel in place."""
    try:
        case = access.request_for_staff(http.user, pk=pk)
    except NotFound:
        raise Http404 from None
    if http.headers.get("HX-Request") != "true":
        return redirect(reverse("console:request", args=[case.pk]) + "?similar=1#similar")
    return _fragment(http, {"case": case, "similar": similar_panel(http, case)})


def _number(value: str | None) -> int | None:
    return int(value) if value and value.isascii() and value.isdigit() and len(value) < 10 else None


@require_safe
@staff_required
def intake_similar(http: HttpRequest, token: str) -> HttpResponse:
    """Requests like what the caller describes (the request form's subject, description,
    entity and category as typed so far): the caller's own and those of the entity or
    category, within the agent's view."""
    caller = caller_from_token(token)
    subject = http.GET.get("req-subject", "").strip()[:INTAKE_TEXT_CHARS]
    description = http.GET.get("req-description", "").strip()[:INTAKE_TEXT_CHARS]
    if not (subject or description):
        return _fragment(http, {"intake_result": True, "similar": None})
    chosen = {
        field: number
        for field in ("entity", "category")
        if (number := _number(http.GET.get(f"req-{field}"))) is not None
    }
    described = Request(
        beneficiary=caller,
        subject=subject,
        description=description,
        **{f"{field}_id": number for field, number in chosen.items()},
    )
    found = similar_requests(user=http.user, request=described, limit=INTAKE_LIMIT)
    rows = [SimilarRow(found=row, link_form=None, merge_form=None) for row in found]
    return _fragment(http, {"intake_result": True, "similar": SimilarPanel(rows, actions=False)})


urlpatterns: list[URLPattern] = [
    path("requests/<int:pk>/similar/panel/", request_similar, name="request_similar"),
    path("intake/caller/<str:token>/similar/", intake_similar, name="intake_similar"),
]
