"""The meeting-request lifecycle as data: which action moves which status where.

```
submitted ──forward──→ forwarded ──approve / delegate──→ approved ──offer──→ offered
    │                      │                               │  └──book──→ scheduled ←─pick─┘
    ├─decline─→ declined ←─┘ (office declines)
    └─convert─→ converted (an ordinary request)
scheduled ──reschedule──→ scheduled;  scheduled ──held / no-show──→ held / no_show
approved, offered, scheduled ──cancel (office)──→ cancelled
any open status ──withdraw (beneficiary)──→ cancelled
```
`next_status` is the one guard; `ACTION_ROLE` says who may ask for each action.
"""

from __future__ import annotations

from enum import StrEnum

from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from tawasul.core.errors import IllegalTransition
from tawasul.meetings.models import MeetingStatus


class MeetingMove(StrEnum):
    FORWARD = "forward"
    SCREEN_DECLINE = "screen_decline"
    CONVERT = "convert"
    APPROVE = "approve"
    DELEGATE = "delegate"
    OFFICE_DECLINE = "office_decline"
    OFFER = "offer"
    BOOK = "book"
    PICK = "pick"
    RESCHEDULE = "reschedule"
    HOLD = "hold"
    NO_SHOW = "no_show"
    CANCEL = "cancel"
    WITHDRAW = "withdraw"


class MeetingRole(StrEnum):
    VIEW = "view"  # read meeting requests and their staff timeline
    SCREEN = "screen"  # the central care centre: forward, decline, convert
    DECIDE = "decide"  # the minister's office: decide, manage slots, schedule, record
    BENEFICIARY = "beneficiary"  # the person who asked


S = MeetingStatus
A = MeetingMove
_OPEN = (S.SUBMITTED, S.FORWARDED, S.APPROVED, S.OFFERED, S.SCHEDULED)

TRANSITIONS: dict[MeetingMove, dict[MeetingStatus, MeetingStatus]] = {
    A.FORWARD: {S.SUBMITTED: S.FORWARDED},
    A.SCREEN_DECLINE: {S.SUBMITTED: S.DECLINED},
    A.CONVERT: {S.SUBMITTED: S.CONVERTED},
    A.APPROVE: {S.FORWARDED: S.APPROVED},
    A.DELEGATE: {S.FORWARDED: S.APPROVED},
    A.OFFICE_DECLINE: {S.FORWARDED: S.DECLINED},
    A.OFFER: {S.APPROVED: S.OFFERED, S.OFFERED: S.OFFERED},
    A.BOOK: {S.APPROVED: S.SCHEDULED, S.OFFERED: S.SCHEDULED},
    A.PICK: {S.OFFERED: S.SCHEDULED},
    A.RESCHEDULE: {S.SCHEDULED: S.SCHEDULED},
    A.HOLD: {S.SCHEDULED: S.HELD},
    A.NO_SHOW: {S.SCHEDULED: S.NO_SHOW},
    A.CANCEL: dict.fromkeys((S.APPROVED, S.OFFERED, S.SCHEDULED), S.CANCELLED),
    A.WITHDRAW: dict.fromkeys(_OPEN, S.CANCELLED),
}

ACTION_ROLE: dict[MeetingMove, MeetingRole] = {
    A.FORWARD: MeetingRole.SCREEN,
    A.SCREEN_DECLINE: MeetingRole.SCREEN,
    A.CONVERT: MeetingRole.SCREEN,
    A.APPROVE: MeetingRole.DECIDE,
    A.DELEGATE: MeetingRole.DECIDE,
    A.OFFICE_DECLINE: MeetingRole.DECIDE,
    A.OFFER: MeetingRole.DECIDE,
    A.BOOK: MeetingRole.DECIDE,
    A.PICK: MeetingRole.BENEFICIARY,
    A.RESCHEDULE: MeetingRole.DECIDE,
    A.HOLD: MeetingRole.DECIDE,
    A.NO_SHOW: MeetingRole.DECIDE,
    A.CANCEL: MeetingRole.DECIDE,
    A.WITHDRAW: MeetingRole.BENEFICIARY,
}


def meeting_next_status(action: MeetingMove, current: str) -> MeetingStatus:
    """The status `action` leads to from `current`; IllegalTransition if it may not."""
    try:
        return TRANSITIONS[action][MeetingStatus(current)]
    except (KeyError, ValueError):
        raise IllegalTransition(
            format_lazy(
                _("This action is not possible while the meeting request is “{status}”."),
                status=MeetingStatus(current).label if current in MeetingStatus.values else current,
            ),
            details={"action": str(action), "status": current},
        ) from None


def meeting_allowed_actions(current: str) -> list[MeetingMove]:
    """Actions the lifecycle allows from `current` (before roles are considered)."""
    return [action for action, table in TRANSITIONS.items() if current in table]
