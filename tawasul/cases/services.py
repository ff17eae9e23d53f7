"""Every write on a request. Each service is atomic, checks permission through
`directory.access`, asks `workflow.next_status` before changing status, and writes
its event (and any outbox notification) in the same transaction."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from tawasul.beneficiaries.models import Beneficiary
from tawasul.cases.attachments import CheckedFile, attachment_store
from tawasul.cases.models import (
    Attachment,
    Category,
    Channel,
    Event,
    EventKind,
    Kind,
    Message,
    Priority,
    Request,
    RequestLink,
    Visibility,
)
from tawasul.cases.queues import queue_counts_forget
from tawasul.cases.search import search_text_append, search_text_of
from tawasul.cases.workflow import Action, next_status
from tawasul.channels.outbox import notify_beneficiary
from tawasul.channels.webhooks import webhooks_enqueue_for_event
from tawasul.core.errors import AccessDenied, Conflict, IllegalTransition, InvalidInput, NotFound
from tawasul.core.ids import tracking_number_new
from tawasul.core.memo import memoised
from tawasul.directory import access
from tawasul.directory.access import Permission
from tawasul.directory.models import CareCentre, Entity
from tawasul.feedback.survey import survey_invite
from tawasul.sla.clocks import (
    sla_clock_answered,
    sla_clock_first_response,
    sla_clock_pause,
    sla_clock_prepare,
    sla_clock_reopen,
    sla_clock_resume,
    sla_clock_stop,
    sla_clock_transferred,
)

User = AbstractBaseUser
P = Permission


# --- helpers ------------------------------------------------------------------


def _text(value: str, *, field: str, minimum: int, maximum: int) -> str:
    text = (value or "").strip()
    if len(text) < minimum or len(text) > maximum:
        raise InvalidInput(
            format_lazy(
                _("This field must be between {min} and {max} characters."),
                min=minimum,
                max=maximum,
            ),
            code="length",
            details={"field": field, "min": minimum, "max": maximum},
        )
    return text


def _choice(value: str, choices: type[Kind] | type[Channel] | type[Priority], field: str) -> str:
    if value not in choices.values:
        raise InvalidInput(
            _("Unknown value for this field."), code="choice", details={"field": field}
        )
    return value


def entity_receiving(entity: Entity | None) -> Entity:
    """The entity whose centre receives a request sent to `entity`.

    The nearest active centre on the way up the tree; with no entity chosen,
    the central centre (triage). Kept in the reference memo per entity.
    """
    if entity is not None and not entity.is_active:
        raise InvalidInput(
            _("This entity does not receive requests."),
            code="entity_inactive",
            details={"field": "entity"},
        )
    return memoised(
        ("receiving-entity", entity.pk if entity is not None else None),
        lambda: _entity_receiving(entity),
    )


def _entity_receiving(entity: Entity | None) -> Entity:
    if entity is None:
        centre = (
            CareCentre.objects.filter(is_central=True, is_active=True)
            .select_related("entity")
            .first()
        )
        if centre is None:
            raise InvalidInput(
                _("Choose the entity your request is for."),
                code="entity_required",
                details={"field": "entity"},
            )
        return centre.entity
    ancestry = [*Entity.objects.get_ancestors(entity), entity]
    with_centre = set(
        CareCentre.objects.filter(entity__in=ancestry, is_active=True).values_list(
            "entity_id", flat=True
        )
    )
    for candidate in reversed(ancestry):
        if candidate.pk in with_centre:
            return candidate
    return _entity_receiving(None)


def _lock(request: Request) -> Request:
    """The request's row, locked until the end of the transaction."""
    return (
        Request.objects.select_for_update()
        .select_related("entity", "beneficiary")
        .get(pk=request.pk)
    )


def _event(
    request: Request,
    kind: EventKind,
    *,
    from_status: str = "",
    by: User | None = None,
    by_beneficiary: bool = False,
    is_public: bool = True,
    data: dict[str, Any] | None = None,
) -> Event:
    event = Event.objects.create(
        request=request,
        kind=kind,
        from_status=from_status,
        to_status=request.status,
        actor_user_id=by.pk if by is not None else None,
        by_beneficiary=by_beneficiary,
        is_public=is_public,
        data=data or {},
    )
    webhooks_enqueue_for_event(event)  # outbox: same transaction, sent after commit
    if by is not None or request.assignee_id is not None:  # their queue tabs change now
        transaction.on_commit(
            partial(queue_counts_forget, by.pk if by is not None else None, request.assignee_id),
            robust=True,
        )
    return event


def _move(request: Request, action: Action, *, fields: Sequence[str] = ()) -> str:
    """Apply the lifecycle guard and save; return the previous status."""
    previous = request.status
    request.status = next_status(action, previous)
    request.save(update_fields=["status", "updated_at", *fields])
    return previous


def _own(request: Request, beneficiary: Beneficiary) -> None:
    if request.beneficiary_id != beneficiary.pk:
        raise NotFound(_("No such request."))


def _message(
    request: Request,
    body: str,
    *,
    by: User | None = None,
    from_beneficiary: bool = False,
    visibility: str = Visibility.PUBLIC,
    channel: str = "",
) -> Message:
    message = Message.objects.create(
        request=request,
        author_user_id=by.pk if by is not None else None,
        from_beneficiary=from_beneficiary,
        visibility=visibility,
        channel=channel,
        body=_text(body, field="body", minimum=1, maximum=10_000),
    )
    search_text_append(request, message.body)  # notes too: staff search only (decision 0011)
    return message


# --- submission -----------------------------------------------------------------


def request_submit(
    *,
    beneficiary: Beneficiary,
    kind: str,
    category: Category | int | None,
    subject: str,
    description: str,
    channel: str = Channel.PORTAL,
    entity: Entity | int | None = None,
    priority: str = Priority.NORMAL,
    attachments: Sequence[CheckedFile] = (),
    by: User | None = None,
    notify: bool = True,
) -> Request:
    """Record a new request, give it a tracking number and acknowledge it.

    `by` is the staff member taking it on the beneficiary's behalf (call centre,
    walk-in); None when the beneficiary sends it themselves. Without `notify` the
    acknowledgement is left to the caller (a public mention is acknowledged in public).
    """
    kind = _choice(kind, Kind, "kind")
    channel = _choice(channel, Channel, "channel")
    priority = _choice(priority, Priority, "priority")
    subject = _text(subject, field="subject", minimum=3, maximum=200)
    description = _text(description, field="description", minimum=10, maximum=5000)
    category_obj = _category(category, kind)
    entity_obj = _entity(entity)
    receiving = entity_receiving(entity_obj)
    if by is not None and not access.staff_scope(by).is_staff:
        raise AccessDenied(_("Only staff may take a request on someone's behalf."))
    request = Request(
        beneficiary=beneficiary,
        kind=kind,
        category=category_obj,
        channel=channel,
        priority=priority,
        subject=subject,
        description=description,
        entity=receiving,
        search_text=search_text_of(subject, description),
    )
    with transaction.atomic():
        sla_clock_prepare(request)  # the clocks go in with the INSERT
        _create_with_unique_number(request)
        _event(
            request,
            EventKind.SUBMITTED,
            by=by,
            by_beneficiary=by is None,
            data={"entity": receiving.pk, "channel": channel},
        )
        for checked in attachments:
            attachment_store(
                request=request,
                checked=checked,
                from_beneficiary=True,
                uploaded_by_id=by.pk if by else None,
            )
        if notify:  # a request just submitted has no channel to answer by yet
            notify_beneficiary(request=request, template="acknowledgement", routed=False)
    return request


def _category(value: Category | int | None, kind: str) -> Category:
    if value is None or value == "":
        raise InvalidInput(
            _("Choose a category."), code="category_required", details={"field": "category"}
        )
    category = (
        value
        if isinstance(value, Category)
        else memoised(("category", value), lambda: Category.objects.filter(pk=value).first())
    )
    if category is None or not category.is_active:
        raise InvalidInput(
            _("Unknown category."), code="category_unknown", details={"field": "category"}
        )
    if not category.allows(kind):
        raise InvalidInput(
            _("This category does not take this kind of request."),
            code="category_kind",
            details={"field": "category"},
        )
    return category


def _entity(value: Entity | int | None) -> Entity | None:
    if value is None or value == "":
        return None
    entity = value if isinstance(value, Entity) else Entity.objects.filter(pk=value).first()
    if entity is None:
        raise InvalidInput(_("Unknown entity."), code="entity_unknown", details={"field": "entity"})
    return entity


def _create_with_unique_number(request: Request) -> Request:
    """Insert `request` under a new tracking number, drawing again on a collision."""
    for _attempt in range(8):
        request.tracking_number = tracking_number_new()
        try:
            with transaction.atomic():
                request.save(force_insert=True)
                return request
        except IntegrityError:
            continue
    raise Conflict(_("Could not allocate a tracking number; please try again."))


# --- staff actions ----------------------------------------------------------------


def request_assign(*, request: Request, assignee: User, by: User) -> Request:
    """Assign the request to an agent who may work on it."""
    with transaction.atomic():
        locked = _lock(request)
        access.ensure_can(by, P.ASSIGN, locked)
        if not access.can(assignee, P.WORK, locked):
            raise InvalidInput(
                _("This person cannot work on requests of this entity."),
                code="assignee_out_of_scope",
                details={"field": "assignee"},
            )
        locked.assignee_id = assignee.pk
        previous = _move(locked, Action.ASSIGN, fields=["assignee"])
        _event(
            locked,
            EventKind.ASSIGNED,
            from_status=previous,
            by=by,
            is_public=False,
            data={"assignee": assignee.pk},
        )
    return locked


def request_claim(*, request: Request, by: User) -> Request:
    """Take an unassigned request for oneself; of two agents claiming at once, one wins."""
    with transaction.atomic():
        locked = _lock(request)
        access.ensure_can(by, P.WORK, locked)
        if locked.assignee_id is not None:
            raise Conflict(
                _("Someone else has already taken this request."), code="already_claimed"
            )
        locked.assignee_id = by.pk
        previous = _move(locked, Action.CLAIM, fields=["assignee"])
        _event(
            locked,
            EventKind.CLAIMED,
            from_status=previous,
            by=by,
            is_public=False,
            data={"assignee": by.pk},
        )
    return locked


def _ensure_assignee_or_supervisor(request: Request, by: User) -> None:
    access.ensure_can(by, P.WORK, request)
    if request.assignee_id != by.pk and not access.can(by, P.ASSIGN, request):
        raise AccessDenied(_("Only the assigned agent or a supervisor may do this."))


def request_start(*, request: Request, by: User) -> Request:
    with transaction.atomic():
        locked = _lock(request)
        _ensure_assignee_or_supervisor(locked, by)
        previous = _move(locked, Action.START)
        _event(locked, EventKind.STARTED, from_status=previous, by=by)
    return locked


def _first_response(request: Request) -> list[str]:
    if request.first_response_at is None:
        request.first_response_at = timezone.now()
        return ["first_response_at"]
    return []


def request_ask_beneficiary(*, request: Request, by: User, question: str) -> Request:
    """Ask the beneficiary for information; the request waits for their reply."""
    with transaction.atomic():
        locked = _lock(request)
        _ensure_assignee_or_supervisor(locked, by)
        fields = _first_response(locked)
        previous = _move(locked, Action.REQUEST_INFO, fields=fields)
        message = _message(locked, question, by=by)
        _event(
            locked,
            EventKind.INFO_REQUESTED,
            from_status=previous,
            by=by,
            data={"message": message.pk},
        )
        sla_clock_pause(locked)
        notify_beneficiary(request=locked, template="info_requested", message=message)
    return locked


def request_reply(*, request: Request, by: User, body: str) -> Message:
    """A public reply that does not change the status."""
    with transaction.atomic():
        locked = _lock(request)
        _ensure_assignee_or_supervisor(locked, by)
        fields = _first_response(locked)
        previous = _move(locked, Action.REPLY, fields=fields)
        message = _message(locked, body, by=by)
        _event(locked, EventKind.REPLIED, from_status=previous, by=by, data={"message": message.pk})
        sla_clock_first_response(locked)
        notify_beneficiary(request=locked, template="replied", message=message)
    return message


def request_note(*, request: Request, by: User, body: str) -> Message:
    """An internal note, never shown to the beneficiary."""
    with transaction.atomic():
        locked = _lock(request)
        access.ensure_can(by, P.NOTE, locked)
        message = _message(locked, body, by=by, visibility=Visibility.INTERNAL)
        _event(
            locked,
            EventKind.NOTE_ADDED,
            from_status=locked.status,
            by=by,
            is_public=False,
            data={"message": message.pk},
        )
    return message


def request_answer(
    *, request: Request, by: User, resolution: str, resolution_code: str = ""
) -> Request:
    """Give the answer; the beneficiary may accept it or object."""
    text = _text(resolution, field="resolution", minimum=10, maximum=10_000)
    code = (resolution_code or "").strip()[:30]
    with transaction.atomic():
        locked = _lock(request)
        _ensure_assignee_or_supervisor(locked, by)
        locked.resolution, locked.resolution_code = text, code
        locked.answered_at = timezone.now()
        fields = ["resolution", "resolution_code", "answered_at", *_first_response(locked)]
        previous = _move(locked, Action.ANSWER, fields=fields)
        message = _message(locked, text, by=by)
        answer = _event(
            locked,
            EventKind.ANSWERED,
            from_status=previous,
            by=by,
            data={"message": message.pk, "resolution_code": code},
        )
        sla_clock_answered(locked)
        notify_beneficiary(request=locked, template="answered", message=message)
        survey_invite(request=locked, answer_event=answer)
    return locked


def request_forward(*, request: Request, by: User, to_entity: Entity, reason: str) -> Request:
    """Send the request to another entity's centre, with a reason; transfers are capped."""
    reason = _text(reason, field="reason", minimum=3, maximum=1000)
    with transaction.atomic():
        locked = _lock(request)
        access.ensure_can(by, P.WORK, locked)
        target = entity_receiving(to_entity)
        if target.pk == locked.entity_id:
            raise InvalidInput(
                _("The request is already with this entity."),
                code="same_entity",
                details={"field": "to_entity"},
            )
        _count_transfer(locked)
        source = locked.entity
        locked.entity, locked.assignee = target, None
        previous = _move(locked, Action.FORWARD, fields=["entity", "assignee", "transfer_count"])
        _event(
            locked,
            EventKind.FORWARDED,
            from_status=previous,
            by=by,
            data={"from_entity": source.pk, "to_entity": target.pk, "reason": reason},
        )
        sla_clock_transferred(locked, returned=False)
    return locked


def _count_transfer(request: Request) -> None:
    if request.transfer_count >= settings.TAWASUL_MAX_TRANSFERS:
        raise Conflict(
            _(
                "This request has been transferred too many times; "
                "ask a supervisor of the central centre."
            ),
            code="too_many_transfers",
        )
    request.transfer_count += 1


def request_return(*, request: Request, by: User, reason: str) -> Request:
    """Send a misrouted request back to the entity that forwarded it."""
    reason = _text(reason, field="reason", minimum=3, maximum=1000)
    with transaction.atomic():
        locked = _lock(request)
        access.ensure_can(by, P.WORK, locked)
        last = (
            locked.events.filter(kind__in=[EventKind.FORWARDED, EventKind.RETURNED])
            .order_by("-created_at", "-id")
            .first()
        )
        if (
            last is None
            or last.kind != EventKind.FORWARDED
            or last.data.get("to_entity") != locked.entity_id
        ):
            raise InvalidInput(
                _("Only a request forwarded to your entity can be returned."), code="not_forwarded"
            )
        source = Entity.objects.get(pk=last.data["from_entity"])
        _count_transfer(locked)
        current = locked.entity
        locked.entity, locked.assignee = source, None
        previous = _move(locked, Action.RETURN, fields=["entity", "assignee", "transfer_count"])
        _event(
            locked,
            EventKind.RETURNED,
            from_status=previous,
            by=by,
            data={"from_entity": current.pk, "to_entity": source.pk, "reason": reason},
        )
        sla_clock_transferred(locked, returned=True)
    return locked


def request_cancel(
    *, request: Request, reason: str, by: User | None = None, beneficiary: Beneficiary | None = None
) -> Request:
    """Cancel an open request: withdrawn by its beneficiary or by a supervisor (spam, duplicate)."""
    reason = _text(reason, field="reason", minimum=3, maximum=1000)
    with transaction.atomic():
        locked = _lock(request)
        if beneficiary is not None:
            _own(locked, beneficiary)
        else:
            access.ensure_can(by, P.SUPERVISE, locked)  # type: ignore[arg-type]
        locked.cancel_reason, locked.closed_at = reason, timezone.now()
        previous = _move(locked, Action.CANCEL, fields=["cancel_reason", "closed_at"])
        _event(
            locked,
            EventKind.CANCELLED,
            from_status=previous,
            by=by,
            by_beneficiary=beneficiary is not None,
            data={"reason": reason},
        )
        sla_clock_stop(locked)
    return locked


def request_reopen(*, request: Request, by: User, reason: str) -> Request:
    """Reopen an objected request (objection upheld): back to work, answer cleared."""
    reason = _text(reason, field="reason", minimum=3, maximum=2000)
    with transaction.atomic():
        locked = _lock(request)
        access.ensure_can(by, P.SUPERVISE, locked)
        locked.answered_at = None
        previous = _move(locked, Action.REOPEN, fields=["answered_at"])
        _event(locked, EventKind.REOPENED, from_status=previous, by=by, data={"reason": reason})
        sla_clock_reopen(locked)
    return locked


def request_reject_objection(*, request: Request, by: User, justification: str) -> Request:
    """Close an objected request, with the justification the beneficiary will read."""
    justification = _text(justification, field="justification", minimum=10, maximum=5000)
    with transaction.atomic():
        locked = _lock(request)
        access.ensure_can(by, P.SUPERVISE, locked)
        locked.closed_at = timezone.now()
        previous = _move(locked, Action.REJECT_OBJECTION, fields=["closed_at"])
        message = _message(locked, justification, by=by)
        _event(
            locked,
            EventKind.OBJECTION_REJECTED,
            from_status=previous,
            by=by,
            data={"message": message.pk},
        )
    return locked


# --- beneficiary actions ------------------------------------------------------------


def request_beneficiary_reply(
    *,
    request: Request,
    beneficiary: Beneficiary,
    body: str,
    attachments: Sequence[CheckedFile] = (),
    channel: str = "",
) -> Message:
    """The beneficiary writes in the thread; a request waiting on them resumes. `channel`:
    the e-mail, social or SMS channel it came in by (empty: the portal or the app)."""
    with transaction.atomic():
        locked = _lock(request)
        _own(locked, beneficiary)
        previous = _move(locked, Action.BENEFICIARY_REPLY)
        message = _message(locked, body, from_beneficiary=True, channel=channel)
        for checked in attachments:
            attachment_store(
                request=locked, checked=checked, message=message, from_beneficiary=True
            )
        _event(
            locked,
            EventKind.BENEFICIARY_REPLIED,
            from_status=previous,
            by_beneficiary=True,
            data={"message": message.pk, "attachments": len(attachments)}
            | ({"channel": channel} if channel else {}),
        )
        sla_clock_resume(locked)
    return message


def request_accept(*, request: Request, beneficiary: Beneficiary) -> Request:
    with transaction.atomic():
        locked = _lock(request)
        _own(locked, beneficiary)
        locked.closed_at = timezone.now()
        previous = _move(locked, Action.ACCEPT, fields=["closed_at"])
        _event(locked, EventKind.ACCEPTED, from_status=previous, by_beneficiary=True)
    return locked


def request_object(
    *,
    request: Request,
    beneficiary: Beneficiary,
    reason: str,
    attachments: Sequence[CheckedFile] = (),
) -> Request:
    """The beneficiary objects to the answer (with optional files); the request moves to
    `objected`."""
    reason = _text(reason, field="reason", minimum=10, maximum=5000)
    with transaction.atomic():
        locked = _lock(request)
        _own(locked, beneficiary)
        previous = _move(locked, Action.OBJECT)
        message = _message(locked, reason, from_beneficiary=True)
        for checked in attachments:
            attachment_store(
                request=locked, checked=checked, message=message, from_beneficiary=True
            )
        _event(
            locked,
            EventKind.OBJECTED,
            from_status=previous,
            by_beneficiary=True,
            data={"message": message.pk, "attachments": len(attachments)},
        )
    return locked


def request_close_on_expiry(*, request: Request) -> Request:
    """Close an answered request whose objection window has ended (called by a sweep)."""
    with transaction.atomic():
        locked = _lock(request)
        locked.closed_at = timezone.now()
        previous = _move(locked, Action.CLOSE_ON_EXPIRY, fields=["closed_at"])
        _event(locked, EventKind.CLOSED_ON_EXPIRY, from_status=previous)
    return locked


# --- workspace actions: reveal, category, priority, links, merge ----------------------------


def request_reveal_beneficiary(*, request: Request, by: User) -> Beneficiary:
    """The beneficiary's personal data, unmasked; every reveal is logged (internal event)."""
    with transaction.atomic():
        locked = _lock(request)
        access.ensure_can(by, P.VIEW, locked)
        _event(
            locked,
            EventKind.BENEFICIARY_REVEALED,
            from_status=locked.status,
            by=by,
            is_public=False,
        )
    return locked.beneficiary


def _ensure_open(request: Request) -> None:
    if not request.is_open:
        raise IllegalTransition(
            _("This request is finished and can no longer be changed."),
            details={"status": request.status},
        )


def request_call_log(*, request: Request, by: User | None, data: dict[str, Any]) -> Event:
    """A call about the request, written on its timeline (internal: duration, outcome, the
    agent). Call inside the caller's transaction; the request's row is locked here."""
    locked = _lock(request)
    return _event(locked, EventKind.CALL_LOGGED, by=by, is_public=False, data=data)


def request_recategorise(*, request: Request, by: User, category: Category | int) -> Request:
    """Move the request to another category that takes its kind (logged, from → to)."""
    with transaction.atomic():
        locked = _lock(request)
        access.ensure_can(by, P.WORK, locked)
        _ensure_open(locked)
        new = _category(category, locked.kind)
        previous = locked.category_id
        if new.pk == previous:
            raise InvalidInput(
                _("The request is already in this category."),
                code="same_category",
                details={"field": "category"},
            )
        locked.category = new
        locked.save(update_fields=["category", "updated_at"])
        _event(
            locked,
            EventKind.RECATEGORISED,
            from_status=locked.status,
            by=by,
            is_public=False,
            data={"from": previous, "to": new.pk},
        )
    return locked


def request_set_priority(*, request: Request, by: User, priority: str) -> Request:
    """Change the request's priority (logged, from → to)."""
    priority = _choice(priority, Priority, "priority")
    with transaction.atomic():
        locked = _lock(request)
        access.ensure_can(by, P.WORK, locked)
        _ensure_open(locked)
        previous = locked.priority
        if priority == previous:
            raise InvalidInput(
                _("The request already has this priority."),
                code="same_priority",
                details={"field": "priority"},
            )
        locked.priority = priority
        locked.save(update_fields=["priority", "updated_at"])
        _event(
            locked,
            EventKind.REPRIORITISED,
            from_status=locked.status,
            by=by,
            is_public=False,
            data={"from": previous, "to": priority},
        )
    return locked


def _lock_pair(first: Request, second: Request) -> tuple[Request, Request]:
    """Both rows locked, in pk order (no deadlock between two opposite actions)."""
    if first.pk == second.pk:
        raise InvalidInput(
            _("A request cannot be linked to or merged with itself."),
            code="same_request",
            details={"field": "tracking_number"},
        )
    locked = {row.pk: _lock(row) for row in sorted((first, second), key=lambda row: row.pk)}
    return locked[first.pk], locked[second.pk]


def request_link(*, request: Request, other: Request, by: User) -> RequestLink:
    """Link two related requests (both within the user's reach to work on)."""
    with transaction.atomic():
        locked, related = _lock_pair(request, other)
        access.ensure_can(by, P.WORK, locked)
        access.ensure_can(by, P.WORK, related)
        if RequestLink.objects.filter(
            Q(request=locked, related=related) | Q(request=related, related=locked)
        ).exists():
            raise Conflict(_("These requests are already linked."), code="already_linked")
        link = RequestLink.objects.create(request=locked, related=related, created_by_id=by.pk)
        for one, two in ((locked, related), (related, locked)):
            _event(
                one,
                EventKind.LINKED,
                from_status=one.status,
                by=by,
                is_public=False,
                data={"request": two.pk, "tracking_number": two.tracking_number},
            )
    return link


def request_merge(*, request: Request, into: Request, by: User, reason: str) -> Request:
    """Close `request` as a duplicate of `into` (the survivor); its beneficiary is told.

    Both timelines are kept: a public event on the merged request names the
    survivor's tracking number, an internal event on the survivor names the duplicate.
    """
    reason = _text(reason, field="reason", minimum=3, maximum=1000)
    with transaction.atomic():
        merged, survivor = _lock_pair(request, into)
        access.ensure_can(by, P.WORK, merged)
        access.ensure_can(by, P.WORK, survivor)
        if not survivor.is_open or survivor.merged_into_id is not None:
            raise Conflict(
                _("A request can only be merged into an open request."), code="survivor_closed"
            )
        merged.merged_into, merged.closed_at = survivor, timezone.now()
        previous = _move(merged, Action.MERGE, fields=["merged_into", "closed_at"])
        _event(
            merged,
            EventKind.MERGED,
            from_status=previous,
            by=by,
            data={
                "into": survivor.pk,
                "tracking_number": survivor.tracking_number,
                "reason": reason,
            },
        )
        _event(
            survivor,
            EventKind.MERGED_FROM,
            from_status=survivor.status,
            by=by,
            is_public=False,
            data={
                "request": merged.pk,
                "tracking_number": merged.tracking_number,
                "reason": reason,
            },
        )
        sla_clock_stop(merged)
        message = notify_beneficiary(request=merged, template="merged")
        if message is not None:
            message.context = {**message.context, "merged_into": survivor.tracking_number}
            message.save(update_fields=["context"])
    return merged


# --- beneficiary files -------------------------------------------------------------------

BENEFICIARY_FILES_MAX = 20


def request_beneficiary_attach(
    *,
    request: Request,
    beneficiary: Beneficiary,
    checked: CheckedFile,
    message_id: int | None = None,
) -> Attachment:
    """The beneficiary adds a checked file to their open request, alone or on one of their
    own public messages; a public event records it."""
    with transaction.atomic():
        locked = _lock(request)
        _own(locked, beneficiary)
        _ensure_open(locked)
        message = _own_message(locked, message_id)
        if (
            Attachment.objects.filter(request=locked, from_beneficiary=True).count()
            >= BENEFICIARY_FILES_MAX
        ):
            raise Conflict(
                format_lazy(
                    _("A request can hold at most {count} of your files."),
                    count=BENEFICIARY_FILES_MAX,
                ),
                code="too_many_files",
            )
        attachment = attachment_store(
            request=locked, checked=checked, message=message, from_beneficiary=True
        )
        _event(
            locked,
            EventKind.ATTACHMENT_ADDED,
            from_status=locked.status,
            by_beneficiary=True,
            data={"attachment": attachment.pk},
        )
    return attachment


def _own_message(request: Request, message_id: int | None) -> Message | None:
    if message_id is None:
        return None
    message = Message.objects.filter(
        pk=message_id, request=request, from_beneficiary=True, visibility=Visibility.PUBLIC
    ).first()
    if message is None:
        raise InvalidInput(
            _("There is no message of yours with this number on the request."),
            code="message_unknown",
            details={"field": "message_id"},
        )
    return message
