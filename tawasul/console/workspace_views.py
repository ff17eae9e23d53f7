"""The request workspace: one request, its beneficiary, its whole timeline and every action.

The request is fetched through `access.request_for_staff` (out of reach → 404).
Each action is a plain POST form handled by `request_act`: it parses with a
form, calls one service, and redirects back to the page (or to the console home
when the request has left the user's reach, e.g. after a forward). A refused
action shows the service's message on the page with its status (400 bad input,
403 not allowed, 409 not possible now) and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST, require_safe

from tawasul.beneficiaries.models import Beneficiary
from tawasul.cases import services as svc
from tawasul.cases.canned import canned_for_request, canned_render
from tawasul.cases.models import (
    Attachment,
    Category,
    Event,
    EventKind,
    Message,
    Priority,
    Request,
    Visibility,
)
from tawasul.cases.selectors import request_linked_ids
from tawasul.cases.workflow import Action, allowed_actions
from tawasul.channels.calls import call_logged_detail
from tawasul.channels.outbox import recipient_masked
from tawasul.console import workspace_forms as wf
from tawasul.console.access import staff_required
from tawasul.console.channel_views import identities_panel
from tawasul.console.similar_views import similar_panel
from tawasul.console.suggestion_views import suggestion_panel_context
from tawasul.core.errors import DomainError, InvalidInput, NotFound
from tawasul.core.ids import tracking_number_display
from tawasul.directory import access
from tawasul.directory.access import Permission
from tawasul.directory.models import Entity
from tawasul.sla.selectors import request_sla_view

P = Permission


def _user(http: HttpRequest) -> AbstractBaseUser:
    user = http.user
    if not isinstance(user, AbstractBaseUser):  # staff_required comes first; never reached
        raise Http404
    return user


def _case(http: HttpRequest, pk: int) -> Request:
    try:
        return access.request_for_staff(http.user, pk=pk)
    except NotFound:
        raise Http404 from None


def _page_url(case: Request) -> str:
    return reverse("console:request", args=[case.pk])


# --- the staff timeline -------------------------------------------------------------------


@dataclass
class StaffTimelineItem:
    """One line of the staff timeline: an event, with its message and files if any."""

    kind: str
    at: datetime
    who: str | Promise
    is_public: bool
    detail: str = ""
    message: Message | None = None
    attachments: list[Attachment] = field(default_factory=list)

    @property
    def label(self) -> str | Promise:
        return EventKind(self.kind).label if self.kind in EventKind.values else self.kind

    @property
    def is_internal_message(self) -> bool:
        return self.message is not None and self.message.visibility == Visibility.INTERNAL


def _who(event: Event) -> str | Promise:
    if event.by_beneficiary:
        return _("The beneficiary")
    user = event.actor_user
    if user is None:
        return _("System")
    return user.get_full_name() or user.get_username()


Names = dict[str, dict[int, str]]


def _transfer_detail(data: dict[str, Any], names: Names) -> str:
    entities = names["entity"]
    return str(_("From {source} to {target}: {reason}")).format(
        source=entities.get(data.get("from_entity", 0), "?"),
        target=entities.get(data.get("to_entity", 0), "?"),
        reason=data.get("reason", ""),
    )


def _assignee_detail(data: dict[str, Any], names: Names) -> str:
    return names["user"].get(data.get("assignee", 0), "")


def _category_detail(data: dict[str, Any], names: Names) -> str:
    categories = names["category"]
    return f"{categories.get(data.get('from', 0), '?')} → {categories.get(data.get('to', 0), '?')}"


def _priority_detail(data: dict[str, Any], names: Names) -> str:
    labels = {str(value): str(label) for value, label in Priority.choices}
    return f"{labels.get(str(data.get('from')), '?')} → {labels.get(str(data.get('to')), '?')}"


def _other_detail(data: dict[str, Any], names: Names) -> str:
    number = tracking_number_display(str(data.get("tracking_number", "")))
    reason = data.get("reason", "")
    return f"{number} — {reason}" if reason else number


def _reason_detail(data: dict[str, Any], names: Names) -> str:
    return str(data.get("reason", ""))


def _answer_detail(data: dict[str, Any], names: Names) -> str:
    code = str(data.get("resolution_code", ""))
    return {str(v): str(label) for v, label in wf.ResolutionCode.choices}.get(code, code)


_DETAILS: dict[str, Callable[[dict[str, Any], Names], str]] = {
    EventKind.FORWARDED: _transfer_detail,
    EventKind.RETURNED: _transfer_detail,
    EventKind.ASSIGNED: _assignee_detail,
    EventKind.CLAIMED: _assignee_detail,
    EventKind.RECATEGORISED: _category_detail,
    EventKind.REPRIORITISED: _priority_detail,
    EventKind.LINKED: _other_detail,
    EventKind.MERGED: _other_detail,
    EventKind.MERGED_FROM: _other_detail,
    EventKind.CANCELLED: _reason_detail,
    EventKind.ANSWERED: _answer_detail,
    EventKind.CALL_LOGGED: call_logged_detail,
}


def _detail(event: Event, names: Names) -> str:
    """A line saying what the event changed (where to, from what to what, why)."""
    describe = _DETAILS.get(event.kind)
    data = event.data if isinstance(event.data, dict) else {}
    return describe(data, names) if describe is not None else ""


def _names(events: list[Event]) -> Names:
    """Names of the entities, agents and categories the events refer to (three queries)."""
    entity_ids: set[int] = set()
    user_ids: set[int] = set()
    category_ids: set[int] = set()
    for event in events:
        data = event.data if isinstance(event.data, dict) else {}
        entity_ids.update(
            v for k in ("from_entity", "to_entity") if isinstance(v := data.get(k), int)
        )
        if isinstance(assignee := data.get("assignee"), int):
            user_ids.add(assignee)
        if event.kind == EventKind.RECATEGORISED:
            category_ids.update(v for k in ("from", "to") if isinstance(v := data.get(k), int))
    users = get_user_model().objects.filter(pk__in=user_ids) if user_ids else []
    return {
        "entity": {e.pk: e.name for e in Entity.objects.filter(pk__in=entity_ids)}
        if entity_ids
        else {},
        "user": {u.pk: u.get_full_name() or u.get_username() for u in users},
        "category": {c.pk: c.name for c in Category.objects.filter(pk__in=category_ids)}
        if category_ids
        else {},
    }


def staff_timeline(case: Request) -> list[StaffTimelineItem]:
    """Every event of the request, internal ones included, with messages and files.

    A constant number of queries whatever the length of the history.
    """
    events = list(case.events.select_related("actor_user").order_by("created_at", "pk"))
    by_id = {message.pk: message for message in case.messages.all()}
    files: dict[int | None, list[Attachment]] = {}
    for attachment in case.attachments.order_by("uploaded_at", "pk"):
        files.setdefault(attachment.message_id, []).append(attachment)
    names = _names(events)
    items: list[StaffTimelineItem] = []
    shown: set[int] = set()
    for event in events:
        message_id = event.data.get("message") if isinstance(event.data, dict) else None
        message = by_id.get(message_id) if isinstance(message_id, int) else None
        if message is not None:
            shown.add(message.pk)
        attached = files.get(message.pk, []) if message is not None else []
        if event.kind == EventKind.SUBMITTED:
            attached = files.get(None, [])
        items.append(
            StaffTimelineItem(
                kind=event.kind,
                at=event.created_at,
                who=_who(event),
                is_public=event.is_public,
                detail=_detail(event, names),
                message=message,
                attachments=attached,
            )
        )
    return items


def _last_transfer(case: Request) -> Event | None:
    return (
        case.events.filter(kind__in=[EventKind.FORWARDED, EventKind.RETURNED])
        .order_by("-created_at", "-id")
        .first()
    )


# --- choices ------------------------------------------------------------------------------


def _agent_choices(case: Request) -> list[tuple[int, str]]:
    grants = access.grant_holders(case.entity, P.WORK).select_related("user").order_by("user_id")
    seen: dict[int, str] = {}
    for grant in grants:
        seen.setdefault(grant.user_id, grant.user.get_full_name() or grant.user.get_username())
    return list(seen.items())


def _category_choices(case: Request) -> list[tuple[int, str]]:
    categories = Category.objects.filter(is_active=True).order_by("path")
    return [(c.pk, c.name) for c in categories if c.allows(case.kind) and c.pk != case.category_id]


def _entity_choices(case: Request) -> list[tuple[int, str]]:
    entities = (
        Entity.objects.filter(is_active=True, centre__is_active=True)
        .exclude(pk=case.entity_id)
        .order_by("path")
    )
    return [(e.pk, e.name) for e in entities]


# --- the page -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Abilities:
    """Which actions the page offers: the lifecycle allows them and the user may."""

    claim: bool
    assign: bool
    start: bool
    reply: bool
    request_info: bool
    answer: bool
    note: bool
    recategorise: bool
    priority: bool
    forward: bool
    return_: bool
    link: bool
    merge: bool
    cancel: bool

    @property
    def any_work(self) -> bool:
        return any(vars(self).values())


def _abilities(user: AbstractBaseUser, case: Request) -> Abilities:
    allowed = set(allowed_actions(case.status))
    work = access.can(user, P.WORK, case)
    assign = access.can(user, P.ASSIGN, case)
    handling = work and (case.assignee_id == user.pk or assign)
    last = _last_transfer(case) if work and Action.RETURN in allowed else None
    return Abilities(
        claim=work and Action.CLAIM in allowed and case.assignee_id is None,
        assign=assign and Action.ASSIGN in allowed,
        start=handling and Action.START in allowed,
        reply=handling and Action.REPLY in allowed,
        request_info=handling and Action.REQUEST_INFO in allowed,
        answer=handling and Action.ANSWER in allowed,
        note=access.can(user, P.NOTE, case),
        recategorise=work and case.is_open,
        priority=work and case.is_open,
        forward=work and Action.FORWARD in allowed,
        return_=last is not None
        and last.kind == EventKind.FORWARDED
        and last.data.get("to_entity") == case.entity_id,
        link=work,
        merge=work and Action.MERGE in allowed,
        cancel=access.can(user, P.SUPERVISE, case) and Action.CANCEL in allowed,
    )


def _beneficiary_panel(beneficiary: Beneficiary, *, revealed: bool) -> dict[str, str]:
    if revealed:
        return {
            "name": beneficiary.full_name,
            "national_id": beneficiary.national_id or "",
            "mobile": beneficiary.mobile,
            "email": beneficiary.email,
        }
    return {
        "name": beneficiary.full_name,
        "national_id": beneficiary.masked_national_id,
        "mobile": beneficiary.masked_mobile,
        "email": recipient_masked(channel="email", recipient=beneficiary.email)
        if beneficiary.email
        else "",
    }


def _page(
    http: HttpRequest,
    case: Request,
    *,
    status: int = 200,
    revealed: Beneficiary | None = None,
    bound: dict[str, forms.Form] | None = None,
) -> HttpResponse:
    user = _user(http)
    can = _abilities(user, case)
    language = translation.get_language() or settings.LANGUAGE_CODE
    canned = list(canned_for_request(case)) if can.reply else []
    canned_choices = [(c.pk, c.title(language)) for c in canned]
    picked = wf.CannedPickForm(http.GET or None, canned=canned_choices)
    reply_initial = ""
    if can.reply and "canned" in http.GET and picked.is_valid():
        chosen = next(c for c in canned if c.pk == picked.cleaned_data["canned"])
        reply_initial = canned_render(chosen, case, language)
    linked = access.requests_for(user).filter(pk__in=request_linked_ids(case))
    forms_ = {
        "assign": wf.AssignForm(agents=_agent_choices(case)) if can.assign else None,
        "reply": wf.BodyForm(initial={"body": reply_initial}, prefix="reply"),
        "note": wf.BodyForm(prefix="note"),
        "request_info": wf.BodyForm(prefix="info"),
        "answer": wf.AnswerForm(),
        "recategorise": wf.CategoryForm(categories=_category_choices(case))
        if can.recategorise
        else None,
        "priority": wf.PriorityForm(initial={"priority": case.priority}),
        "forward": wf.ForwardForm(entities=_entity_choices(case)) if can.forward else None,
        "return": wf.ReasonForm(prefix="return"),
        "link": wf.TrackingForm(prefix="link"),
        "merge": wf.MergeForm(prefix="merge"),
        "cancel": wf.ReasonForm(prefix="cancel"),
        **(bound or {}),
    }
    context: dict[str, Any] = {
        "case": case,
        "can": can,
        "sla": request_sla_view(case),
        "max_transfers": settings.TAWASUL_MAX_TRANSFERS,
        "beneficiary": _beneficiary_panel(revealed or case.beneficiary, revealed=bool(revealed)),
        "revealed": revealed is not None,
        "identities": identities_panel(user, case, revealed=revealed is not None),
        "timeline": staff_timeline(case),
        "linked": list(linked.order_by("created_at")),
        "merged_into": case.merged_into if case.merged_into_id else None,
        "canned": [
            {"pk": c.pk, "title": c.title(language), "text": canned_render(c, case, language)}
            for c in canned
        ],
        "canned_form": picked,
        "forms": forms_,
        "can_view_merged_into": case.merged_into_id is not None
        and access.requests_for(user).filter(pk=case.merged_into_id).exists(),
        "similar": similar_panel(http, case) if "similar" in http.GET else None,
        "suggestion_panel": suggestion_panel_context(http, case),
    }
    return render(http, "console/request.html", context, status=status)


@require_safe
@staff_required
def request_page(http: HttpRequest, pk: int) -> HttpResponse:
    return _page(http, _case(http, pk))


@require_POST
@staff_required
def request_reveal(http: HttpRequest, pk: int) -> HttpResponse:
    """The page with the beneficiary's data unmasked, for this response only (logged)."""
    case = _case(http, pk)
    try:
        beneficiary = svc.request_reveal_beneficiary(request=case, by=_user(http))
    except DomainError as error:
        return _refuse(http, case, error)
    return _page(http, case, revealed=beneficiary)


@require_safe
@staff_required
def request_attachment(http: HttpRequest, pk: int, attachment: int) -> FileResponse:
    case = _case(http, pk)
    found = case.attachments.filter(pk=attachment).first()
    if found is None:
        raise Http404
    try:
        handle = found.file.open("rb")
    except OSError:
        raise Http404 from None
    response = FileResponse(
        handle, as_attachment=True, filename=found.original_name, content_type=found.content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


# --- acting -------------------------------------------------------------------------------


def _refuse(
    http: HttpRequest,
    case: Request,
    error: DomainError,
    bound: dict[str, forms.Form] | None = None,
) -> HttpResponse:
    if isinstance(error, NotFound):
        raise Http404
    messages.error(http, str(error.message))
    status = 400 if isinstance(error, InvalidInput) else error.status
    return _page(http, case, status=status, bound=bound)


def _other(http: HttpRequest, digits: str) -> Request:
    """The other request of a link or a merge, within the user's reach."""
    try:
        return access.request_for_staff(http.user, tracking_number=digits)
    except NotFound:
        raise InvalidInput(
            _("No request with this tracking number is within your reach."),
            code="other_not_found",
            details={"field": "tracking_number"},
        ) from None


Data = dict[str, Any]
Runner = Callable[[HttpRequest, Request, Data], str | Promise]


@dataclass(frozen=True)
class Act:
    """One workspace action: its form (and prefix), and what it does with the cleaned data."""

    form: Callable[..., forms.Form]
    run: Runner
    prefix: str | None = None


def _assign(http: HttpRequest, case: Request, data: Data) -> Promise:
    assignee = get_user_model().objects.get(pk=data["assignee"])
    svc.request_assign(request=case, assignee=assignee, by=_user(http))
    return _("Assigned.")


def _forward(http: HttpRequest, case: Request, data: Data) -> str:
    target = Entity.objects.get(pk=data["to_entity"])
    moved = svc.request_forward(
        request=case, by=_user(http), to_entity=target, reason=data["reason"]
    )
    return str(_("Forwarded to {entity}.")).format(entity=moved.entity.name)


def _merge(http: HttpRequest, case: Request, data: Data) -> str:
    survivor = _other(http, data["tracking_number"])
    svc.request_merge(request=case, into=survivor, by=_user(http), reason=data["reason"])
    done = str(_("Merged into {tracking}.")).format(tracking=survivor.tracking_display)
    if survivor.beneficiary_id != case.beneficiary_id:
        done += " " + str(_("Note: the two requests were sent by different beneficiaries."))
    return done


def _link(http: HttpRequest, case: Request, data: Data) -> str:
    other = _other(http, data["tracking_number"])
    svc.request_link(request=case, other=other, by=_user(http))
    return str(_("Linked to {tracking}.")).format(tracking=other.tracking_display)


def _simple(service: Callable[..., object], done: Promise, **fields: str) -> Runner:
    """A runner calling `service(request=, by=, **{param: data[field]})`."""

    def run(http: HttpRequest, case: Request, data: Data) -> Promise:
        service(request=case, by=_user(http), **{k: data[v] for k, v in fields.items()})
        return done

    return run


ACTS: dict[str, Act] = {
    "claim": Act(wf.EmptyForm, _simple(svc.request_claim, _("You have taken this request."))),
    "assign": Act(
        lambda *a, case, **k: wf.AssignForm(*a, agents=_agent_choices(case), **k), _assign
    ),
    "start": Act(wf.EmptyForm, _simple(svc.request_start, _("Work started."))),
    "reply": Act(
        wf.BodyForm, _simple(svc.request_reply, _("Reply sent."), body="body"), prefix="reply"
    ),
    "note": Act(
        wf.BodyForm, _simple(svc.request_note, _("Note added."), body="body"), prefix="note"
    ),
    "request_info": Act(
        wf.BodyForm,
        _simple(svc.request_ask_beneficiary, _("Question sent."), question="body"),
        prefix="info",
    ),
    "answer": Act(
        wf.AnswerForm,
        _simple(
            svc.request_answer,
            _("Answer sent."),
            resolution="resolution",
            resolution_code="resolution_code",
        ),
    ),
    "recategorise": Act(
        lambda *a, case, **k: wf.CategoryForm(*a, categories=_category_choices(case), **k),
        _simple(svc.request_recategorise, _("Category changed."), category="category"),
    ),
    "priority": Act(
        wf.PriorityForm,
        _simple(svc.request_set_priority, _("Priority changed."), priority="priority"),
    ),
    "forward": Act(
        lambda *a, case, **k: wf.ForwardForm(*a, entities=_entity_choices(case), **k), _forward
    ),
    "return": Act(
        wf.ReasonForm,
        _simple(svc.request_return, _("Returned to the entity that sent it."), reason="reason"),
        prefix="return",
    ),
    "link": Act(wf.TrackingForm, _link, prefix="link"),
    "merge": Act(wf.MergeForm, _merge, prefix="merge"),
    "cancel": Act(
        wf.ReasonForm,
        _simple(svc.request_cancel, _("Request cancelled."), reason="reason"),
        prefix="cancel",
    ),
}
_NEEDS_CASE = {"assign", "recategorise", "forward"}


@require_POST
@staff_required
def request_act(http: HttpRequest, pk: int, action: str) -> HttpResponse:
    act = ACTS.get(action)
    if act is None:
        raise Http404
    case = _case(http, pk)
    extra: dict[str, Any] = {"case": case} if action in _NEEDS_CASE else {}
    form = act.form(http.POST, prefix=act.prefix, **extra)
    if not form.is_valid():
        messages.error(http, _("Please correct the form and try again."))
        return _page(http, case, status=400, bound={action: form})
    try:
        done = act.run(http, case, form.cleaned_data)
    except DomainError as error:
        return _refuse(http, case, error, bound={action: form})
    messages.success(http, str(done))
    fresh = access.requests_for(http.user).filter(pk=case.pk).exists()
    return redirect(_page_url(case) if fresh else reverse("console:home"))


urlpatterns: list[URLPattern] = [
    path("requests/<int:pk>/", request_page, name="request"),
    path("requests/<int:pk>/reveal/", request_reveal, name="request_reveal"),
    path(
        "requests/<int:pk>/files/<int:attachment>/",
        request_attachment,
        name="request_attachment",
    ),
    path("requests/<int:pk>/<slug:action>/", request_act, name="request_act"),
]
