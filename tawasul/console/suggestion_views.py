"""The routing suggestion in the request workspace: the category and the competent entity the
classifiers propose, how sure they are, or that they abstained (manual triage).

`suggestion_panel_context` builds the panel for the workspace page (made on the spot when
the request is open and has none yet). Where a proposal differs from the request and the
user may act on it, the panel offers it: the category through `request_recategorise`
(`suggestion_apply_category`, below), the entity through the workspace's own forward
action, its form filled in with the suggested entity and a reason the agent may edit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.models import AbstractBaseUser
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import URLPattern, path, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from tawasul.cases import services as svc
from tawasul.cases.models import Request
from tawasul.cases.workflow import Action, allowed_actions
from tawasul.console.access import staff_required
from tawasul.core.errors import DomainError, NotFound
from tawasul.directory import access
from tawasul.directory.access import Permission
from tawasul.insights.suggestions import suggest, suggestions_for_staff
from tawasul.insights.text_models import Suggestion, TextTarget

P = Permission


@dataclass(frozen=True)
class SuggestionLine:
    """One target of the panel, ready to show."""

    target: str
    title: str | Promise
    name: str
    percent: int
    abstained: bool
    version: int | None
    apply_url: str = ""  # the category: one click applies it
    forward_url: str = ""  # the entity: the forward form, filled in
    entity_id: int | None = None
    reason: str | Promise = ""


def _category_line(suggestion: Suggestion, case: Request, *, may_change: bool) -> SuggestionLine:
    category = suggestion.category
    offered = (
        may_change
        and not suggestion.abstained
        and category is not None
        and category.pk != case.category_id
        and category.is_active
        and category.allows(case.kind)
    )
    return SuggestionLine(
        target=TextTarget.CATEGORY,
        title=_("Category"),
        name=category.name if category is not None else "",
        percent=round(suggestion.confidence * 100),
        abstained=suggestion.abstained or category is None,
        version=suggestion.model.version if suggestion.model is not None else None,
        apply_url=reverse("console:suggestion_apply_category", args=[case.pk]) if offered else "",
    )


def _entity_line(suggestion: Suggestion, case: Request, *, may_forward: bool) -> SuggestionLine:
    entity = suggestion.entity
    offered = (
        may_forward
        and not suggestion.abstained
        and entity is not None
        and entity.pk != case.entity_id
        and entity.is_active
    )
    return SuggestionLine(
        target=TextTarget.ENTITY,
        title=_("Competent entity"),
        name=entity.name if entity is not None else "",
        percent=round(suggestion.confidence * 100),
        abstained=suggestion.abstained or entity is None,
        version=suggestion.model.version if suggestion.model is not None else None,
        forward_url=reverse("console:request_act", args=[case.pk, "forward"]) if offered else "",
        entity_id=entity.pk if entity is not None else None,
        reason=_("Sent to the entity competent for this request."),
    )


def suggestion_panel_context(http: HttpRequest, case: Request) -> dict[str, Any] | None:
    """The panel of a request the user may see (None: no panel, nothing suggested)."""
    user = http.user
    if not access.can(user, P.VIEW, case):
        return None
    found = list(suggestions_for_staff(user, case))
    if case.is_open and len(found) < len(TextTarget.values):
        made = suggest(case, known=found)
        if len(made) > len(found):  # read again, with their models, categories and entities
            found = list(suggestions_for_staff(user, case))
    if not found:
        return None
    work = access.can(user, P.WORK, case)
    may_forward = work and Action.FORWARD in allowed_actions(case.status)
    lines = [
        _category_line(s, case, may_change=work and case.is_open)
        if s.target == TextTarget.CATEGORY
        else _entity_line(s, case, may_forward=may_forward)
        for s in sorted(found, key=lambda s: TextTarget.values.index(s.target))
    ]
    return {"lines": lines}


def _user(http: HttpRequest) -> AbstractBaseUser:
    user = http.user
    if not isinstance(user, AbstractBaseUser):  # staff_required comes first; never reached
        raise Http404
    return user


@require_POST
@staff_required
def suggestion_apply_category(http: HttpRequest, pk: int) -> HttpResponse:
    """Move the request to the category its suggestion proposes (the service checks that
    the user may, and that the request is open)."""
    try:
        case = access.request_for_staff(http.user, pk=pk)
    except NotFound:
        raise Http404 from None
    page = reverse("console:request", args=[case.pk])
    suggestion = (
        suggestions_for_staff(http.user, case)
        .filter(target=TextTarget.CATEGORY, abstained=False, category__isnull=False)
        .first()
    )
    if suggestion is None or suggestion.category is None:
        messages.error(http, _("There is no category suggestion to apply."))
        return redirect(page)
    try:
        svc.request_recategorise(request=case, by=_user(http), category=suggestion.category)
    except NotFound:
        raise Http404 from None
    except DomainError as error:
        messages.error(http, str(error.message))
        return redirect(page)
    messages.success(
        http, str(_("Category changed to {name}.")).format(name=suggestion.category.name)
    )
    return redirect(page)


urlpatterns: list[URLPattern] = [
    path(
        "requests/<int:pk>/suggestion/category/",
        suggestion_apply_category,
        name="suggestion_apply_category",
    ),
]
