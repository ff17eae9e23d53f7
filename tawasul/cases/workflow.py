"""The request lifecycle as data: which action moves which status where.

```
new → assigned → in_progress ⇄ awaiting_beneficiary
                    ↓
                 answered ──(accept / window expires)──→ closed
                    ↓ (objection)
                 objected ──(rejected, justified)──→ closed
                    └──(upheld)──→ in_progress (reopened, new SLA)
any open state → cancelled (withdrawn / spam, with reason)
any working state → closed (merged into another request, the survivor)
```
`next_status` is the one guard: every service asks it before changing a request.
"""

from __future__ import annotations

from enum import StrEnum

from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from tawasul.cases.models import Status
from tawasul.core.errors import IllegalTransition


class Action(StrEnum):
    ASSIGN = "assign"
    CLAIM = "claim"
    START = "start"
    REQUEST_INFO = "request_info"
    BENEFICIARY_REPLY = "beneficiary_reply"
    REPLY = "reply"
    ANSWER = "answer"
    ACCEPT = "accept"
    CLOSE_ON_EXPIRY = "close_on_expiry"
    OBJECT = "object"
    REJECT_OBJECTION = "reject_objection"
    REOPEN = "reopen"
    FORWARD = "forward"
    RETURN = "return"
    CANCEL = "cancel"
    MERGE = "merge"


S = Status
_WORKING = (S.NEW, S.ASSIGNED, S.IN_PROGRESS, S.AWAITING_BENEFICIARY)
_OPEN = (*_WORKING, S.ANSWERED, S.OBJECTED)

TRANSITIONS: dict[Action, dict[Status, Status]] = {
    Action.ASSIGN: {
        S.NEW: S.ASSIGNED,
        S.ASSIGNED: S.ASSIGNED,
        S.IN_PROGRESS: S.IN_PROGRESS,
        S.AWAITING_BENEFICIARY: S.AWAITING_BENEFICIARY,
    },
    Action.CLAIM: {S.NEW: S.ASSIGNED},
    Action.START: {S.ASSIGNED: S.IN_PROGRESS},
    Action.REQUEST_INFO: {S.IN_PROGRESS: S.AWAITING_BENEFICIARY},
    Action.BENEFICIARY_REPLY: {
        S.NEW: S.NEW,
        S.ASSIGNED: S.ASSIGNED,
        S.IN_PROGRESS: S.IN_PROGRESS,
        S.AWAITING_BENEFICIARY: S.IN_PROGRESS,
    },
    Action.REPLY: {
        S.ASSIGNED: S.ASSIGNED,
        S.IN_PROGRESS: S.IN_PROGRESS,
        S.AWAITING_BENEFICIARY: S.AWAITING_BENEFICIARY,
    },
    Action.ANSWER: {S.IN_PROGRESS: S.ANSWERED},
    Action.ACCEPT: {S.ANSWERED: S.CLOSED},
    Action.CLOSE_ON_EXPIRY: {S.ANSWERED: S.CLOSED},
    Action.OBJECT: {S.ANSWERED: S.OBJECTED},
    Action.REJECT_OBJECTION: {S.OBJECTED: S.CLOSED},
    Action.REOPEN: {S.OBJECTED: S.IN_PROGRESS},
    Action.FORWARD: dict.fromkeys(_WORKING, S.NEW),
    Action.RETURN: dict.fromkeys(_WORKING, S.NEW),
    Action.CANCEL: dict.fromkeys(_OPEN, S.CANCELLED),
    Action.MERGE: dict.fromkeys(_WORKING, S.CLOSED),
}


def next_status(action: Action, current: str) -> Status:
    """The status `action` leads to from `current`; IllegalTransition if it may not."""
    try:
        return TRANSITIONS[action][Status(current)]
    except (KeyError, ValueError):
        raise IllegalTransition(
            format_lazy(
                _("This action is not possible while the request is “{status}”."),
                status=Status(current).label if current in Status.values else current,
            ),
            details={"action": str(action), "status": current},
        ) from None


def allowed_actions(current: str) -> list[Action]:
    """Actions the lifecycle allows from `current` (before permissions are considered)."""
    return [action for action, table in TRANSITIONS.items() if current in table]
