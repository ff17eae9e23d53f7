"""The call centre's telephony link (CTI): the calls the telephony system reports, the
agent's screen-pop, and each call's line on the request it concerns.

The telephony system posts signed events (`ringing`, `answered`, `ended`) for each call;
`call_event_apply` merges each into one `Call` row per account and call id, whatever the
order they arrive in and however often: a status only moves forward (ringing → answered →
ended or missed), a time already known is kept, a repeated event changes nothing.

While a call rings or is answered, its agent's console shows the caller — recognised by
mobile number, never registered by a call — and their open requests within the agent's
reach (`calls_popped`). The agent links the call to one of them (or opens one from the
pop, which links it) and records an outcome. A linked call is written on its request's
timeline once (`EventKind.CALL_LOGGED`, guarded by `logged_at`) when its after-call work
is over: the call has ended and its outcome is known (given by the telephony system or
recorded by the agent), or the account's wrap-up time has passed without one
(`calls_wrap_up_sweep`). A call missed, or one whose caller hung up before it was answered,
is logged as soon as it ends.

Logs carry ids and event names only: never a number or a name.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tawasul.beneficiaries.models import Beneficiary
from tawasul.cases.intake import CallerRequests, caller_open_requests
from tawasul.cases.models import Request
from tawasul.cases.services import request_call_log
from tawasul.channels.errors import WebhookRefused
from tawasul.channels.inbound import identity_value
from tawasul.channels.models import (
    Call,
    CallOutcome,
    CallStatus,
    ChannelAccount,
    ChannelIdentity,
    ChannelKind,
    IdentityKind,
)
from tawasul.channels.verify import epoch_datetime
from tawasul.core.errors import AccessDenied, Conflict, InvalidInput, NotFound
from tawasul.core.validators import mobile_masked
from tawasul.directory import access
from tawasul.directory.access import Permission

logger = logging.getLogger(__name__)

EVENTS = ("ringing", "answered", "ended")
_NUMBER = re.compile(r"^\+[1-9][0-9]{6,14}$")
CALL_ID_MAX = 100
EXTENSION_MAX = 20
DURATION_MAX = 7 * 24 * 3600
# After a call ends, the agent has this long to record its outcome before it is logged
# without one (an account may set "wrap_up_minutes").
WRAP_UP_MINUTES = 10
WRAP_UP_MAX_MINUTES = 60
# A call still ringing or answered after this long lost its `ended` event: no longer popped.
CALL_STALE = timedelta(hours=4)
POP_LIMIT = 3
SWEEP_LIMIT = 100


# --- the telephony system's events ---------------------------------------------------------


@dataclass(frozen=True)
class CallEvent:
    """One event the telephony system reported, checked and normalised."""

    event: str  # ringing | answered | ended
    call_id: str
    caller: str  # E.164, or "" when the number is withheld
    at: datetime
    agent: str = ""  # user name or e-mail
    extension: str = ""
    duration: int | None = None
    outcome: str = ""


def _malformed(what: str) -> WebhookRefused:
    return WebhookRefused(f"malformed event: {what}", status=400)


def _text(payload: dict[str, Any], key: str, limit: int) -> str:
    value = payload.get(key)
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise _malformed(key)
    text = str(value).strip()
    if len(text) > limit:
        raise _malformed(key)
    return text


def caller_number(raw: str) -> str:
    """The caller's number in E.164 (a Saudi mobile as +9665…), "" when withheld; refuses
    what is not a telephone number."""
    if raw.lower() in ("", "anonymous", "withheld", "private", "unknown"):
        return ""
    number = identity_value(IdentityKind.MOBILE, raw.replace(" ", "").replace("-", ""))
    if not _NUMBER.match(number):
        raise _malformed("from")
    return number


def _moment(value: Any) -> datetime:
    if value is None:
        return timezone.now()
    moment = epoch_datetime(value) if isinstance(value, int | float) else None
    if moment is None:
        raise _malformed("at")
    return moment


def _duration(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _malformed("duration")
    if not 0 <= value <= DURATION_MAX:
        raise _malformed("duration")
    return round(value)


def call_event_parse(body: bytes) -> CallEvent:
    """The event in a webhook's body, or `WebhookRefused` (400) naming what is wrong."""
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise _malformed("not JSON") from None
    if not isinstance(payload, dict):
        raise _malformed("not an object")
    event = payload.get("event")
    if event not in EVENTS:
        raise _malformed("event")
    call_id = _text(payload, "call_id", CALL_ID_MAX)
    if not call_id:
        raise _malformed("call_id")
    outcome = _text(payload, "outcome", 20)
    if outcome not in CallOutcome.values:
        raise _malformed("outcome")
    return CallEvent(
        event=str(event),
        call_id=call_id,
        caller=caller_number(_text(payload, "from", 32)),
        at=_moment(payload.get("at")),
        agent=_text(payload, "agent", 254),
        extension=_text(payload, "extension", EXTENSION_MAX),
        duration=_duration(payload.get("duration")),
        outcome=outcome,
    )


# --- who is calling, who answers ------------------------------------------------------------


def caller_beneficiary(number: str) -> Beneficiary | None:
    """The beneficiary a caller's number belongs to, if any: a mobile or WhatsApp number
    linked to them, else the mobile they registered with. A call never registers anyone."""
    if not number:
        return None
    identity = (
        ChannelIdentity.objects.filter(
            kind__in=(IdentityKind.MOBILE, IdentityKind.WHATSAPP), value=number
        )
        .select_related("beneficiary")
        .order_by("kind", "pk")  # a mobile before a WhatsApp number
        .first()
    )
    if identity is not None:
        return identity.beneficiary
    return Beneficiary.objects.filter(mobile=number).order_by("pk").first()


def call_agent_for(
    account: ChannelAccount, *, agent: str, extension: str
) -> AbstractBaseUser | None:
    """The active staff user who takes the call: named by the event (user name or e-mail),
    else the user the account's `agents` setting maps the extension to; None if neither."""
    users = get_user_model().objects.filter(is_active=True)
    if agent:
        found = users.filter(username=agent).first()
        if found is None and "@" in agent:
            matches = list(users.filter(email__iexact=agent)[:2])
            found = matches[0] if len(matches) == 1 else None
        if found is not None:
            return found
    agents = account.settings.get("agents") if isinstance(account.settings, dict) else None
    if extension and isinstance(agents, dict) and isinstance(agents.get(extension), str):
        return users.filter(username=agents[extension]).first()
    return None


# --- the call's record ---------------------------------------------------------------------


def _wrap_up(account: ChannelAccount) -> timedelta:
    try:
        minutes = float(account.setting("wrap_up_minutes", str(WRAP_UP_MINUTES)))
    except ValueError:
        minutes = WRAP_UP_MINUTES
    return timedelta(minutes=min(max(minutes, 0), WRAP_UP_MAX_MINUTES))


def _calls_locked() -> QuerySet[Call]:
    """Calls whose rows (only theirs, not their line's) are locked until the transaction ends."""
    return Call.objects.select_for_update(of=("self",)).select_related("account")


def _call_locked(account: ChannelAccount, event: CallEvent) -> tuple[Call, bool]:
    """The call's row, locked; created (from this first event) if new."""
    calls = _calls_locked()
    call = calls.filter(account=account, call_id=event.call_id).first()
    if call is not None:
        return call, False
    started = event.at
    if event.event == "ended" and event.duration:
        started = event.at - timedelta(seconds=event.duration)
    try:
        with transaction.atomic():
            call = Call.objects.create(
                account=account,
                call_id=event.call_id,
                caller=event.caller,
                beneficiary=caller_beneficiary(event.caller),
                started_at=started,
            )
    except IntegrityError:  # the same call's first event, received twice at once
        return calls.get(account=account, call_id=event.call_id), False
    return call, True


def _is_over(call: Call) -> bool:
    return call.status in (CallStatus.ENDED, CallStatus.MISSED)


class _Changes:
    """The fields an event changed on a call."""

    def __init__(self, call: Call) -> None:
        self.call = call
        self.fields: set[str] = set()

    def put(self, name: str, value: Any) -> None:
        if getattr(self.call, name) != value:
            setattr(self.call, name, value)
            self.fields.add(name)


def _merge_answered(changes: _Changes, event: CallEvent) -> None:
    call = changes.call
    if call.answered_at is None:
        changes.put("answered_at", event.at)
    if call.status == CallStatus.MISSED:  # its `ended` came first
        changes.put("status", CallStatus.ENDED)
    elif call.status == CallStatus.RINGING:
        changes.put("status", CallStatus.ANSWERED)


def _merge_ended(changes: _Changes, event: CallEvent) -> None:
    call = changes.call
    if call.ended_at is None:
        changes.put("ended_at", event.at)
    if event.duration is not None:
        changes.put("duration_seconds", event.duration)
    if event.duration and call.answered_at is None:  # they talked, though `answered` is late
        changes.put("answered_at", event.at - timedelta(seconds=event.duration))
    if call.status in (CallStatus.RINGING, CallStatus.ANSWERED):
        changes.put("status", CallStatus.ENDED if call.answered_at else CallStatus.MISSED)


def _merge(call: Call, event: CallEvent, agent: AbstractBaseUser | None) -> set[str]:
    """Fold one event into the call; the names of the fields it changed."""
    changes = _Changes(call)
    if event.at < call.started_at:
        changes.put("started_at", event.at)
    if not call.caller and event.caller:
        changes.put("caller", event.caller)
        changes.put("beneficiary", caller_beneficiary(event.caller))
    if agent is not None and (call.agent_id is None or event.event == "answered"):
        changes.put("agent", agent)
    if event.extension and (not call.extension or event.event == "answered"):
        changes.put("extension", event.extension)
    if event.outcome and not call.outcome:
        changes.put("outcome", event.outcome)
    if event.event == "answered":
        _merge_answered(changes, event)
    elif event.event == "ended":
        _merge_ended(changes, event)
    if call.duration_seconds is None and call.ended_at is not None and _is_over(call):
        talked = (call.ended_at - call.answered_at) if call.answered_at else timedelta(0)
        changes.put("duration_seconds", max(int(talked.total_seconds()), 0))
    return changes.fields


def call_event_apply(*, account: ChannelAccount, event: CallEvent) -> Call:
    """Merge one event of the telephony system into its call (created by the first one that
    arrives); idempotent and order-tolerant. A linked call whose after-call work is over
    is logged on its request in the same transaction."""
    agent = call_agent_for(account, agent=event.agent, extension=event.extension)
    with transaction.atomic():
        call, created = _call_locked(account, event)
        changed = _merge(call, event, agent)
        if changed:
            call.save(update_fields=sorted(changed))
        _log_if_done(call, now=timezone.now())
    logger.info("cti event: call=%s event=%s new=%s", call.public_id, event.event, created)
    return call


# --- the call on its request's timeline ------------------------------------------------------


def _log_if_done(call: Call, *, now: datetime) -> bool:
    """Write the call on its request's timeline if it is linked, not yet written, over, and
    its after-call work is done (an outcome, a missed call, or the wrap-up time passed).
    The call's row must be locked by the caller's transaction."""
    if call.request_id is None or call.logged_at is not None or not _is_over(call):
        return False
    ended = call.ended_at or now
    if not (
        call.outcome
        or call.status == CallStatus.MISSED
        or call.agent_id is None
        or now - ended >= _wrap_up(call.account)
    ):
        return False
    data: dict[str, Any] = {
        "call": str(call.public_id),
        "duration_seconds": call.duration_seconds or 0,
        "outcome": call.outcome,
        "agent": call.agent_id,
    }
    if call.status == CallStatus.MISSED:
        data["missed"] = True
    agent = call.agent if call.agent_id is not None else None
    request_call_log(request=Request(pk=call.request_id), by=agent, data=data)
    call.logged_at = now
    call.save(update_fields=["logged_at"])
    logger.info("call logged: call=%s request=%d", call.public_id, call.request_id)
    return True


def _locked(call: Call) -> Call:
    return _calls_locked().get(pk=call.pk)


def _ensure_agent(call: Call, by: AbstractBaseUser) -> None:
    if call.agent_id != by.pk:
        raise AccessDenied(_("Only the agent who took the call may do this."))


def call_link(*, call: Call, request: Request, by: AbstractBaseUser) -> Call:
    """The agent links their call to one of the requests they can see (once the call is on
    a request's timeline, it stays there). Written on the timeline at once if the call is
    over and its outcome known."""
    if not access.requests_for(by, Permission.VIEW).filter(pk=request.pk).exists():
        raise NotFound(_("Not found."))
    with transaction.atomic():
        call = _locked(call)
        _ensure_agent(call, by)
        if call.request_id == request.pk:
            return call
        if call.logged_at is not None:
            raise Conflict(_("This call is already logged on another request."), code="call_logged")
        call.request = request
        call.save(update_fields=["request"])
        _log_if_done(call, now=timezone.now())
    logger.info("call linked: call=%s request=%d", call.public_id, request.pk)
    return call


def call_open_request(*, call: Call, request: Request, by: AbstractBaseUser) -> Call:
    """The agent opens a request from the pop: a call not yet linked is linked to it."""
    if call.request_id is not None:
        return call
    return call_link(call=call, request=request, by=by)


def call_outcome_set(*, call: Call, outcome: str, by: AbstractBaseUser) -> Call:
    """The agent records what came of their call, during it or after it; a linked call
    that is over is then written on its request's timeline."""
    if not outcome or outcome not in CallOutcome.values:
        raise InvalidInput(
            _("Choose what came of the call."), code="outcome", details={"field": "outcome"}
        )
    with transaction.atomic():
        call = _locked(call)
        _ensure_agent(call, by)
        if call.logged_at is not None and call.outcome != outcome:
            raise Conflict(
                _("This call is already logged on its request; its outcome cannot change."),
                code="call_logged",
            )
        if call.outcome != outcome:
            call.outcome = outcome
            call.save(update_fields=["outcome"])
        _log_if_done(call, now=timezone.now())
    return call


def calls_wrap_up_sweep(*, now: datetime | None = None, limit: int = SWEEP_LIMIT) -> int:
    """Log the linked calls whose wrap-up time passed without an outcome; how many.
    Idempotent (each call is claimed under its row lock, `logged_at` decides)."""
    now = now or timezone.now()
    due = Q(pk__in=[])
    for line in ChannelAccount.objects.filter(kind=ChannelKind.CTI):
        due |= Q(account=line, ended_at__lte=now - _wrap_up(line))
    pending = (
        Call.objects.filter(due, status=CallStatus.ENDED, request__isnull=False)
        .filter(logged_at__isnull=True)
        .order_by("ended_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    logged = 0
    for pk in list(pending):
        with transaction.atomic():
            call = _calls_locked().filter(pk=pk, logged_at__isnull=True).first()
            if call is not None and _log_if_done(call, now=now):
                logged += 1
    return logged


def duration_display(seconds: int | None) -> str:
    """A call's length as mm:ss (h:mm:ss past an hour)."""
    total = max(int(seconds or 0), 0)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def outcome_label(code: str) -> str:
    return str(dict(CallOutcome.choices).get(code, code))


def call_logged_detail(data: dict[str, Any], names: dict[str, dict[int, str]]) -> str:
    """The timeline's line for a logged call: its duration and its outcome."""
    if data.get("missed"):
        return str(_("Missed call"))
    return str(_("Duration {duration} · outcome: {outcome}")).format(
        duration=duration_display(data.get("duration_seconds")),
        outcome=outcome_label(str(data.get("outcome", ""))),
    )


# --- the agent's screen-pop -----------------------------------------------------------------


def call_for_agent(user: AbstractBaseUser | AnonymousUser, public_id: str | uuid.UUID) -> Call:
    """The user's own call (taken by them, on a line in their reach), else NotFound."""
    try:
        key = public_id if isinstance(public_id, uuid.UUID) else uuid.UUID(str(public_id))
    except ValueError:
        raise NotFound(_("Not found.")) from None
    call = (
        access.calls_for(user)
        .filter(public_id=key, agent_id=user.pk)
        .select_related("account", "beneficiary", "request")
        .first()
    )
    if call is None:
        raise NotFound(_("Not found."))
    return call


@dataclass(frozen=True)
class CallPop:
    """What the agent's pop shows of one call."""

    call: Call
    beneficiary: Beneficiary | None
    requests: CallerRequests | None

    @property
    def caller_masked(self) -> str:
        return mobile_masked(self.call.caller)

    @property
    def duration(self) -> str:
        return duration_display(self.call.duration_seconds)

    @property
    def linked_unlisted(self) -> Request | None:
        """The request the call is linked to, when the list above does not show it."""
        listed = {r.pk for r in self.requests.visible} if self.requests else set()
        if self.call.request_id is None or self.call.request_id in listed:
            return None
        return self.call.request

    def version(self) -> tuple[Any, ...]:
        call = self.call
        listed = self.requests.visible if self.requests else []
        return (
            str(call.public_id),
            call.status,
            call.outcome,
            call.request_id,
            call.logged_at is not None,
            self.beneficiary.pk if self.beneficiary else None,
            tuple((r.pk, r.status) for r in listed),
            self.requests.hidden_count if self.requests else 0,
        )


def calls_popped(
    user: AbstractBaseUser | AnonymousUser, *, now: datetime | None = None
) -> list[CallPop]:
    """The user's calls to show now: those ringing or answered, and those ended within the
    wrap-up time whose outcome is not yet recorded; with the caller and their open
    requests within the user's reach."""
    now = now or timezone.now()
    if not user.is_authenticated:
        return []
    ended_since = now - timedelta(minutes=WRAP_UP_MAX_MINUTES)
    calls = (
        access.calls_for(user)
        .filter(agent_id=user.pk)
        .filter(
            Q(
                status__in=(CallStatus.RINGING, CallStatus.ANSWERED),
                started_at__gte=now - CALL_STALE,
            )
            | Q(status=CallStatus.ENDED, outcome="", ended_at__gte=ended_since)
        )
        .select_related("account", "beneficiary", "request")
        .order_by("-started_at", "-pk")[:POP_LIMIT]
    )
    pops = []
    for call in calls:
        ended = call.ended_at or now
        if call.status == CallStatus.ENDED and now - ended > _wrap_up(call.account):
            continue
        beneficiary = call.beneficiary or caller_beneficiary(call.caller)
        requests = caller_open_requests(user=user, beneficiary=beneficiary) if beneficiary else None
        pops.append(CallPop(call=call, beneficiary=beneficiary, requests=requests))
    return pops


def calls_pop_version(pops: list[CallPop]) -> str:
    """A short digest of what the pop shows: unchanged, the console need not redraw it."""
    text = repr([pop.version() for pop in pops])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def cti_lines_in_reach(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Whether any active telephony line's centre lies in the user's reach."""
    lines = ChannelAccount.objects.filter(kind=ChannelKind.CTI, is_active=True).select_related(
        "centre__entity"
    )
    return any(access.can_on_entity(user, Permission.VIEW, line.centre.entity) for line in lines)
