"""Console: minister meetings — the queue and one meeting request with every action the
viewer may take (availability and exports: `meeting_schedule_views`).

Who may do what is decided by `meetings.permissions` alone: someone who sees no meeting
request gets 404, a screener who tries to decide (or the other way round) gets 403.
Each action is a plain POST form: it parses, calls one meeting service, and redirects
back; a refusal shows the service's message with its status and changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.models import AbstractBaseUser
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST, require_safe

from tawasul.cases.models import Category, Request
from tawasul.console import meeting_forms as mf
from tawasul.console import meeting_schedule_views
from tawasul.console.meeting_access import host_by_pk, meeting_role_required, staff_user
from tawasul.core.errors import DomainError, InvalidInput, NotFound
from tawasul.core.ids import tracking_number_display
from tawasul.core.templatetags.tawasul_dates import dual_datetime_label
from tawasul.directory import access
from tawasul.directory.models import Entity
from tawasul.meetings import scheduling as sched
from tawasul.meetings import services as svc
from tawasul.meetings.models import MeetingRequest, MeetingStatus, MeetingStep
from tawasul.meetings.permissions import meeting_ensure, meeting_for_staff, meeting_roles
from tawasul.meetings.scheduling import meeting_booking_current
from tawasul.meetings.selectors import (
    meeting_contact_masked,
    meeting_offered_slots,
    meeting_slots_open,
)
from tawasul.meetings.staff_selectors import (
    StaffTimelineEntry,
    meeting_actions_of,
    meeting_hosts,
    meeting_outcome_of,
    meeting_staff_timeline,
    meeting_status_counts,
    meetings_due_first,
)
from tawasul.meetings.workflow import MeetingMove, MeetingRole, meeting_allowed_actions

R, M = MeetingRole, MeetingMove
QUEUE_LIMIT = 200
SLOT_HORIZON = dt.timedelta(days=120)
Data = dict[str, Any]
Choices = list[tuple[Any, Any]]


# --- the queue --------------------------------------------------------------------------------


def _tabs(counts: dict[str, int]) -> list[dict[str, Any]]:
    open_count = sum(counts.get(status, 0) for status in mf.QueueFilterForm.OPEN)
    return [
        {"value": mf.OPEN_FILTER, "label": _("All open"), "count": open_count},
        *(
            {"value": value, "label": label, "count": counts.get(value, 0)}
            for value, label in MeetingStatus.choices
        ),
        {"value": mf.ALL_FILTER, "label": _("All"), "count": sum(counts.values())},
    ]


@require_safe
@meeting_role_required(R.VIEW)
def meeting_queue(http: HttpRequest) -> HttpResponse:
    form = mf.QueueFilterForm(http.GET or None)
    current = form.chosen()
    rows = list(meetings_due_first(http.user, statuses=form.statuses())[:QUEUE_LIMIT])
    context = {
        "form": form,
        "current": current,
        "tabs": _tabs(meeting_status_counts(http.user)),
        "rows": rows,
        "limit": QUEUE_LIMIT,
        "can_decide": R.DECIDE in meeting_roles(http.user),
        "now": timezone.now(),
    }
    return render(http, "console/meeting_queue.html", context)


# --- choices for the action forms -------------------------------------------------------------


def _host_choices(*, delegates_only: bool = False) -> Choices:
    return [
        (host.pk, str(host))
        for host in meeting_hosts()
        if not (delegates_only and host.is_minister)
    ]


def _slot_choices(meeting: MeetingRequest) -> Choices:
    if meeting.host is None:
        return []
    now = timezone.now()
    open_slots = meeting_slots_open(host=meeting.host, start=now, end=now + SLOT_HORIZON)
    return [
        (
            item.slot.pk,
            str(_("{when} · {place} · free seats: {free}")).format(
                when=dual_datetime_label(item.slot.starts_at),
                place=item.slot.place or _("Video call"),
                free=item.free_seats,
            ),
        )
        for item in open_slots
    ]


def _entity_choices() -> Choices:
    entities = Entity.objects.filter(is_active=True, centre__is_active=True).order_by("path")
    return [(entity.pk, entity.name) for entity in entities]


def _category_choices() -> Choices:
    return [(c.pk, c.name) for c in Category.objects.filter(is_active=True).order_by("path")]


def _open_action_choices(meeting: MeetingRequest) -> Choices:
    return [
        (action.pk, f"{action.description[:80]} — {action.entity.name}")
        for action in meeting_actions_of(meeting)
        if action.request_id is None
    ]


CHOICES: dict[str, Callable[[MeetingRequest], dict[str, Choices]]] = {
    "convert": lambda m: {"entity": _entity_choices(), "category": _category_choices()},
    "approve": lambda m: {"host": [("", _("The minister")), *_host_choices()]},
    "delegate": lambda m: {"host": _host_choices(delegates_only=True)},
    "offer": lambda m: {"slots": _slot_choices(m)},
    "book": lambda m: {"slot": _slot_choices(m)},
    "reschedule": lambda m: {"slot": _slot_choices(m)},
    "action_add": lambda m: {"entity": _entity_choices()},
    "action_request": lambda m: {
        "action": _open_action_choices(m),
        "category": _category_choices(),
    },
}


# --- the actions ------------------------------------------------------------------------------


def _forward(by: AbstractBaseUser, meeting: MeetingRequest, data: Data) -> Promise:
    svc.meeting_forward(meeting=meeting, by=by, note=data["note"])
    return _("Forwarded to the minister's office.")


def _decline(by: AbstractBaseUser, meeting: MeetingRequest, data: Data) -> Promise:
    svc.meeting_decline(meeting=meeting, by=by, reason=data["reason"])
    return _("The meeting request is declined; the beneficiary is told why.")


def _convert(by: AbstractBaseUser, meeting: MeetingRequest, data: Data) -> str:
    request = svc.meeting_convert(
        meeting=meeting, by=by, entity=data["entity"], category=data["category"], kind=data["kind"]
    )
    return str(_("Turned into request {tracking}.")).format(tracking=request.tracking_display)


def _approve(by: AbstractBaseUser, meeting: MeetingRequest, data: Data) -> Promise:
    svc.meeting_approve(meeting=meeting, by=by, host=host_by_pk(data["host"]))
    return _("Approved; the meeting now awaits a date.")


def _delegate(by: AbstractBaseUser, meeting: MeetingRequest, data: Data) -> Promise:
    host = host_by_pk(data["host"])
    if host is None:
        raise InvalidInput(_("Choose who will receive the beneficiary."), code="host_required")
    svc.meeting_delegate(meeting=meeting, by=by, host=host)
    return _("Delegated; the meeting now awaits a date.")


def _offer(by: AbstractBaseUser, meeting: MeetingRequest, data: Data) -> Promise:
    sched.meeting_offer(meeting=meeting, slots=data["slots"], by=by)
    return _("The dates are offered; the beneficiary will pick one.")


def _book(by: AbstractBaseUser, meeting: MeetingRequest, data: Data) -> Promise:
    sched.meeting_book(meeting=meeting, slot=data["slot"], by=by)
    return _("The meeting is scheduled.")


def _reschedule(by: AbstractBaseUser, meeting: MeetingRequest, data: Data) -> Promise:
    sched.meeting_reschedule(meeting=meeting, slot=data["slot"], by=by, reason=data["reason"])
    return _("The meeting is moved.")


def _cancel(by: AbstractBaseUser, meeting: MeetingRequest, data: Data) -> Promise:
    sched.meeting_cancel(meeting=meeting, by=by, reason=data["reason"])
    return _("The meeting is cancelled.")


def _held(by: AbstractBaseUser, meeting: MeetingRequest, data: Data) -> Promise:
    sched.meeting_mark_held(meeting=meeting, by=by)
    return _("The meeting is marked as held.")


def _no_show(by: AbstractBaseUser, meeting: MeetingRequest, data: Data) -> Promise:
    sched.meeting_mark_no_show(meeting=meeting, by=by)
    return _("The meeting is marked as missed.")


def _outcome(by: AbstractBaseUser, meeting: MeetingRequest, data: Data) -> Promise:
    svc.meeting_outcome_record(meeting=meeting, by=by, summary=data["summary"])
    return _("The record of the meeting is saved.")


def _action_add(by: AbstractBaseUser, meeting: MeetingRequest, data: Data) -> Promise:
    entity = Entity.objects.get(pk=data["entity"])
    svc.meeting_action_add(meeting=meeting, by=by, description=data["description"], entity=entity)
    return _("Follow-up action added.")


def _action_request(by: AbstractBaseUser, meeting: MeetingRequest, data: Data) -> str:
    action = next(a for a in meeting_actions_of(meeting) if a.pk == data["action"])
    request = svc.meeting_action_open_request(
        action=action, by=by, category=data["category"], kind=data["kind"]
    )
    return str(_("Request {tracking} opened for the action.")).format(
        tracking=request.tracking_display
    )


def _note(by: AbstractBaseUser, meeting: MeetingRequest, data: Data) -> Promise:
    svc.meeting_note(meeting=meeting, by=by, body=data["body"])
    return _("Note added.")


Runner = Callable[[AbstractBaseUser, MeetingRequest, Data], str | Promise]


@dataclass(frozen=True)
class MeetingAct:
    """One action: its form, what it runs, and the role it needs (None: decline, whose
    role depends on the status)."""

    form: type[mf.ChoicesForm]
    run: Runner
    role: MeetingRole | None


ACTS: dict[str, MeetingAct] = {
    "forward": MeetingAct(mf.ForwardForm, _forward, R.SCREEN),
    "decline": MeetingAct(mf.ReasonForm, _decline, None),
    "convert": MeetingAct(mf.ConvertForm, _convert, R.SCREEN),
    "approve": MeetingAct(mf.ApproveForm, _approve, R.DECIDE),
    "delegate": MeetingAct(mf.DelegateForm, _delegate, R.DECIDE),
    "offer": MeetingAct(mf.OfferForm, _offer, R.DECIDE),
    "book": MeetingAct(mf.BookForm, _book, R.DECIDE),
    "reschedule": MeetingAct(mf.RescheduleForm, _reschedule, R.DECIDE),
    "cancel": MeetingAct(mf.ReasonForm, _cancel, R.DECIDE),
    "held": MeetingAct(mf.EmptyForm, _held, R.DECIDE),
    "no_show": MeetingAct(mf.EmptyForm, _no_show, R.DECIDE),
    "outcome": MeetingAct(mf.OutcomeForm, _outcome, R.DECIDE),
    "action_add": MeetingAct(mf.ActionForm, _action_add, R.DECIDE),
    "action_request": MeetingAct(mf.ActionRequestForm, _action_request, R.DECIDE),
    "note": MeetingAct(mf.NoteForm, _note, R.VIEW),
}


def _role_for(act: MeetingAct, meeting: MeetingRequest) -> MeetingRole:
    if act.role is not None:
        return act.role
    return R.SCREEN if meeting.status == MeetingStatus.SUBMITTED else R.DECIDE


def _form(action: str, meeting: MeetingRequest, data: Any = None) -> mf.ChoicesForm:
    choices = CHOICES[action](meeting) if action in CHOICES else {}
    return ACTS[action].form(data, prefix=action, choices=choices)


# --- the page ---------------------------------------------------------------------------------


def _visible_actions(
    user: AbstractBaseUser, meeting: MeetingRequest, *, recorded: bool
) -> set[str]:
    """The actions the page offers: the lifecycle allows them and the viewer's role may."""
    roles = meeting_roles(user)
    allowed = set(meeting_allowed_actions(meeting.status))
    screen, decide = R.SCREEN in roles, R.DECIDE in roles
    moves = {
        "forward": screen and M.FORWARD in allowed,
        "convert": screen and M.CONVERT in allowed,
        "decline": (screen and M.SCREEN_DECLINE in allowed)
        or (decide and M.OFFICE_DECLINE in allowed),
        "approve": decide and M.APPROVE in allowed,
        "delegate": decide and M.DELEGATE in allowed,
        "offer": decide and M.OFFER in allowed,
        "book": decide and M.BOOK in allowed,
        "reschedule": decide and M.RESCHEDULE in allowed,
        "cancel": decide and M.CANCEL in allowed,
        "held": decide and M.HOLD in allowed,
        "no_show": decide and M.NO_SHOW in allowed,
        "outcome": decide and meeting.status == MeetingStatus.HELD and not recorded,
        "action_add": decide and meeting.status == MeetingStatus.HELD,
        "action_request": decide and meeting.status == MeetingStatus.HELD,
        "note": True,
    }
    return {name for name, shown in moves.items() if shown}


def _detail(entry: StaffTimelineEntry) -> str:
    """A line saying what the event carried: host, date and place, reason, note, number."""
    data = entry.data
    parts: list[str] = []
    if data.get("host_name"):
        parts.append(f"{data['host_name']} — {data.get('host_title', '')}")
    if entry.when_label:
        parts.append(entry.when_label)
    if data.get("place"):
        parts.append(str(data["place"]))
    elif data.get("video"):
        parts.append(str(_("Video call")))
    if data.get("tracking_number"):
        parts.append(tracking_number_display(str(data["tracking_number"])))
    if data.get("step") in MeetingStep.values and data.get("step"):
        parts.append(str(MeetingStep(data["step"]).label))
    for key in ("reason", "note"):
        if data.get(key):
            parts.append(str(data[key]))
    return " · ".join(parts)


def _reachable(
    user: AbstractBaseUser, meeting: MeetingRequest, requests: list[Request]
) -> set[int]:
    """Which of the linked requests (followed up, or the one it became) the viewer may open."""
    linked = [request.pk for request in requests]
    if meeting.converted_request_id:
        linked.append(meeting.converted_request_id)
    return set(access.requests_for(user).filter(pk__in=linked).values_list("pk", flat=True))


def _page(
    http: HttpRequest,
    meeting: MeetingRequest,
    *,
    status: int = 200,
    bound: dict[str, forms.Form] | None = None,
) -> HttpResponse:
    user = staff_user(http)
    outcome = meeting_outcome_of(meeting)
    visible = _visible_actions(user, meeting, recorded=outcome is not None)
    follow_ups = list(meeting.follow_ups.order_by("created_at"))
    reachable = _reachable(user, meeting, follow_ups)
    forms_: dict[str, forms.Form] = {action: _form(action, meeting) for action in visible}
    forms_.update(bound or {})
    context: dict[str, Any] = {
        "meeting": meeting,
        "beneficiary": {"name": meeting.beneficiary.full_name, **meeting_contact_masked(meeting)},
        "follow_ups": [{"request": r, "reachable": r.pk in reachable} for r in follow_ups],
        "converted_reachable": meeting.converted_request_id in reachable,
        "preferences": list(meeting.preferences.all()),
        "timeline": [(entry, _detail(entry)) for entry in meeting_staff_timeline(meeting)],
        "booking": meeting_booking_current(meeting),
        "offered": meeting_offered_slots(meeting),
        "outcome": outcome,
        "actions": meeting_actions_of(meeting),
        "visible": visible,
        "can_decide": R.DECIDE in meeting_roles(user),
        "forms": forms_,
        "now": timezone.now(),
    }
    return render(http, "console/meeting.html", context, status=status)


def _meeting(http: HttpRequest, pk: int) -> MeetingRequest:
    try:
        return meeting_for_staff(http.user, pk=pk)
    except NotFound:
        raise Http404 from None


@require_safe
@meeting_role_required(R.VIEW)
def meeting_page(http: HttpRequest, pk: int) -> HttpResponse:
    return _page(http, _meeting(http, pk))


def _refuse(
    http: HttpRequest,
    meeting: MeetingRequest,
    error: DomainError,
    bound: dict[str, forms.Form] | None = None,
) -> HttpResponse:
    if isinstance(error, NotFound):
        raise Http404
    messages.error(http, str(error.message))
    status = 400 if isinstance(error, InvalidInput) else error.status
    return _page(http, meeting, status=status, bound=bound)


@require_POST
@meeting_role_required(R.VIEW)
def meeting_act(http: HttpRequest, pk: int, action: str) -> HttpResponse:
    act = ACTS.get(action)
    if act is None:
        raise Http404
    meeting = _meeting(http, pk)
    try:
        meeting_ensure(http.user, _role_for(act, meeting))
    except DomainError as error:
        return _refuse(http, meeting, error)
    form = _form(action, meeting, http.POST)
    if not form.is_valid():
        messages.error(http, _("Please correct the form and try again."))
        return _page(http, meeting, status=400, bound={action: form})
    try:
        done = act.run(staff_user(http), meeting, form.cleaned_data)
    except DomainError as error:
        return _refuse(http, meeting, error, bound={action: form})
    messages.success(http, str(done))
    return redirect(reverse("console:meeting", args=[meeting.pk]))


urlpatterns: list[URLPattern] = [
    path("meetings/", meeting_queue, name="meetings"),
    *meeting_schedule_views.urlpatterns,
    path("meetings/<int:pk>/", meeting_page, name="meeting"),
    path("meetings/<int:pk>/<slug:action>/", meeting_act, name="meeting_act"),
]
