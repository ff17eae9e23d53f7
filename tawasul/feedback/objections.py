"""Objections (اعتراض): filing one against an answer, and deciding it.

Rules enforced here:
- the beneficiary objects only to the request's latest answer, and only within
  the objection window (`TAWASUL_OBJECTION_WINDOW_MINUTES` business minutes after
  the answer, in the calendar of the centre that owns the request);
- one objection per answer (also a unique constraint);
- the reviewing entity is chosen by `TAWASUL_OBJECTION_REVIEWER`: `supervisor`
  (the answering centre), `parent` (the nearest centre above it) or `central`;
  the review is due `objection_review_minutes` of the request's policy later, in
  the reviewing entity's business time;
- a decision needs SUPERVISE on the request and on the reviewing entity, and is
  refused to the person who wrote the answer;
- upheld: the request reopens (new resolution target), its priority goes up one
  step, it may be reassigned to an agent or forwarded to another centre, and the
  beneficiary is told; rejected: the justification, followed by the recourse
  text, is the public message, and the request closes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from tawasul.beneficiaries.models import Beneficiary
from tawasul.cases import services as case_services
from tawasul.cases.attachments import CheckedFile
from tawasul.cases.models import Event, EventKind, Priority, Request, Status
from tawasul.channels.outbox import notify_beneficiary
from tawasul.core.errors import AccessDenied, Conflict, InvalidInput, NotFound
from tawasul.directory import access
from tawasul.directory.access import Permission
from tawasul.directory.models import CareCentre, Entity
from tawasul.feedback.models import Objection, ObjectionOutcome
from tawasul.sla.business_time import business_minutes_add
from tawasul.sla.calendars import working_calendar_for_entity
from tawasul.sla.clocks import request_calendar, request_targets

User = AbstractBaseUser
REVIEWERS = ("supervisor", "parent", "central")
PRIORITY_STEPS = [Priority.LOW, Priority.NORMAL, Priority.HIGH, Priority.URGENT]
RECOURSE_TEXT = _(
    "If you still disagree with this decision, you may raise it with the Ministry's "
    "central beneficiary-care centre by submitting a new complaint that quotes this "
    "tracking number, or through the other legal channels open to you."
)


# --- reading the rules ----------------------------------------------------------------------


def objection_window_minutes() -> int:
    return int(settings.TAWASUL_OBJECTION_WINDOW_MINUTES)


def objection_window_end(request: Request) -> datetime | None:
    """When the beneficiary's right to object to the current answer ends (None: no answer)."""
    if request.answered_at is None:
        return None
    calendar = request_calendar(request, around=request.answered_at)
    return business_minutes_add(calendar, request.answered_at, objection_window_minutes())


def objection_answer_latest(request: Request) -> Event | None:
    """The request's latest answer event."""
    return (
        Event.objects.filter(request_id=request.pk, kind=EventKind.ANSWERED)
        .order_by("-created_at", "-id")
        .first()
    )


def objection_reviewer_entity(request: Request) -> Entity:
    """The entity whose supervisors review an objection to the request's answer."""
    mode = str(settings.TAWASUL_OBJECTION_REVIEWER)
    if mode not in REVIEWERS:
        raise ValueError(f"TAWASUL_OBJECTION_REVIEWER must be one of {REVIEWERS}")
    if mode == "parent":
        parent = _parent_centre_entity(request.entity)
        if parent is not None:
            return parent
    if mode in ("parent", "central"):
        central = (
            CareCentre.objects.filter(is_central=True, is_active=True)
            .select_related("entity")
            .first()
        )
        if central is not None:
            return central.entity
    return request.entity


def _parent_centre_entity(entity: Entity) -> Entity | None:
    ancestors = list(Entity.objects.get_ancestors(entity))
    centre = (
        CareCentre.objects.filter(entity__in=ancestors, is_active=True)
        .select_related("entity")
        .order_by("-entity__depth")
        .first()
    )
    return centre.entity if centre is not None else None


def objection_review_due(*, request: Request, reviewer_entity: Entity, now: datetime) -> datetime:
    calendar = working_calendar_for_entity(reviewer_entity, around=now)
    return business_minutes_add(calendar, now, request_targets(request).objection_review_minutes)


# --- filing ---------------------------------------------------------------------------------


def objection_file(
    *,
    request: Request,
    beneficiary: Beneficiary,
    reason: str,
    attachments: Sequence[CheckedFile] = (),
) -> Objection:
    """The beneficiary objects to the latest answer, within the window; once per answer."""
    text = (reason or "").strip()
    now = timezone.now()
    with transaction.atomic():
        locked = Request.objects.select_for_update().select_related("entity").get(pk=request.pk)
        if locked.beneficiary_id != beneficiary.pk:
            raise NotFound(_("No such request."))
        answer = objection_answer_latest(locked)
        if answer is not None and Objection.objects.filter(answer_event=answer).exists():
            raise Conflict(_("You have already objected to this answer."), code="already_objected")
        end = objection_window_end(locked)
        if locked.status == Status.ANSWERED and end is not None and now >= end:
            raise Conflict(
                _("The time to object to this answer has ended."), code="objection_window_closed"
            )
        case_services.request_object(
            request=locked, beneficiary=beneficiary, reason=text, attachments=attachments
        )
        if answer is None:  # request_object refuses a request never answered; never reached
            raise Conflict(_("There is no answer to object to."), code="not_answered")
        reviewer_entity = objection_reviewer_entity(locked)
        try:
            with transaction.atomic():
                return Objection.objects.create(
                    request=locked,
                    answer_event=answer,
                    reason=text,
                    reviewer_entity=reviewer_entity,
                    review_due=objection_review_due(
                        request=locked, reviewer_entity=reviewer_entity, now=now
                    ),
                )
        except IntegrityError:
            raise Conflict(
                _("You have already objected to this answer."), code="already_objected"
            ) from None


# --- deciding -------------------------------------------------------------------------------


def _lock_pending(objection: Objection, by: User) -> Objection:
    locked = (
        Objection.objects.select_for_update()
        .select_related("request", "request__entity", "answer_event", "reviewer_entity")
        .get(pk=objection.pk)
    )
    objection_ensure_reviewer(locked, by)
    if locked.outcome != ObjectionOutcome.PENDING:
        raise Conflict(_("This objection has already been decided."), code="already_decided")
    return locked


def objection_ensure_reviewer(objection: Objection, by: User) -> None:
    """SUPERVISE on the request and the reviewing entity, and not the answer's author."""
    access.ensure_can(by, Permission.SUPERVISE, objection.request)
    if not access.can_on_entity(by, Permission.SUPERVISE, objection.reviewer_entity):
        raise AccessDenied(_("This objection is reviewed by another centre."))
    if objection.answer_event.actor_user_id == by.pk:
        raise AccessDenied(
            _("You wrote the answer under objection; someone else must review it."),
            code="reviewer_is_answerer",
        )


def _decide(objection: Objection, *, by: User, outcome: str, justification: str) -> None:
    objection.outcome = outcome
    objection.justification = justification
    objection.reviewer_id = by.pk
    objection.decided_by_id = by.pk
    objection.decided_at = timezone.now()
    objection.save(
        update_fields=["outcome", "justification", "reviewer", "decided_by", "decided_at"]
    )


def _priority_above(priority: str) -> str | None:
    index = PRIORITY_STEPS.index(Priority(priority))
    return PRIORITY_STEPS[index + 1] if index + 1 < len(PRIORITY_STEPS) else None


def objection_uphold(
    *,
    objection: Objection,
    by: User,
    note: str,
    reassign_to: User | Entity | None = None,
) -> Objection:
    """Uphold: reopen (new resolution target), raise the priority, optionally reassign
    to an agent or forward to another centre, and tell the beneficiary."""
    with transaction.atomic():
        locked = _lock_pending(objection, by)
        request = case_services.request_reopen(request=locked.request, by=by, reason=note)
        higher = _priority_above(request.priority)
        if higher is not None:
            request = case_services.request_set_priority(request=request, by=by, priority=higher)
        if isinstance(reassign_to, Entity):
            request = case_services.request_forward(
                request=request, by=by, to_entity=reassign_to, reason=note
            )
        elif reassign_to is not None:
            request = case_services.request_assign(request=request, assignee=reassign_to, by=by)
        _decide(locked, by=by, outcome=ObjectionOutcome.UPHELD, justification=note.strip())
        notify_beneficiary(request=request, template="objection_upheld")
    return locked


def objection_recourse_text(language: str) -> str:
    with translation.override(language):
        return str(RECOURSE_TEXT)


def objection_reject(*, objection: Objection, by: User, justification: str) -> Objection:
    """Reject: the justification and the recourse text are the public message; it closes."""
    text = (justification or "").strip()
    if len(text) < 10:
        raise InvalidInput(
            _("Explain the decision in at least 10 characters."),
            code="length",
            details={"field": "justification", "min": 10},
        )
    with transaction.atomic():
        locked = _lock_pending(objection, by)
        recourse = objection_recourse_text(locked.request.beneficiary.language)
        request = case_services.request_reject_objection(
            request=locked.request, by=by, justification=f"{text}\n\n{recourse}"
        )
        _decide(locked, by=by, outcome=ObjectionOutcome.REJECTED, justification=text)
        notify_beneficiary(request=request, template="objection_rejected")
    return locked


def objection_window_prefilter(now: datetime) -> datetime:
    """Answers older than this *may* have a closed window: business minutes never
    pass faster than wall-clock minutes."""
    return now - timedelta(minutes=objection_window_minutes())
