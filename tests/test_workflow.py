"""The lifecycle table, checked whole against the diagram in DESIGN.md."""

from __future__ import annotations

import itertools

import pytest

from tawasul.cases.models import Status
from tawasul.cases.workflow import TRANSITIONS, Action, allowed_actions, next_status
from tawasul.core.errors import IllegalTransition

S = Status
N, AS, IP, AW, AN, OB, CL, CA = (
    S.NEW, S.ASSIGNED, S.IN_PROGRESS, S.AWAITING_BENEFICIARY,
    S.ANSWERED, S.OBJECTED, S.CLOSED, S.CANCELLED,
)  # fmt: skip

# Written out by hand from the diagram: (action, from) -> to. Everything else is illegal.
EXPECTED = {
    (Action.ASSIGN, N): AS, (Action.ASSIGN, AS): AS, (Action.ASSIGN, IP): IP, (Action.ASSIGN, AW): AW,
    (Action.CLAIM, N): AS,
    (Action.START, AS): IP,
    (Action.REQUEST_INFO, IP): AW,
    (Action.BENEFICIARY_REPLY, N): N, (Action.BENEFICIARY_REPLY, AS): AS,
    (Action.BENEFICIARY_REPLY, IP): IP, (Action.BENEFICIARY_REPLY, AW): IP,
    (Action.REPLY, AS): AS, (Action.REPLY, IP): IP, (Action.REPLY, AW): AW,
    (Action.ANSWER, IP): AN,
    (Action.ACCEPT, AN): CL,
    (Action.CLOSE_ON_EXPIRY, AN): CL,
    (Action.OBJECT, AN): OB,
    (Action.REJECT_OBJECTION, OB): CL,
    (Action.REOPEN, OB): IP,
    (Action.FORWARD, N): N, (Action.FORWARD, AS): N, (Action.FORWARD, IP): N, (Action.FORWARD, AW): N,
    (Action.RETURN, N): N, (Action.RETURN, AS): N, (Action.RETURN, IP): N, (Action.RETURN, AW): N,
    (Action.CANCEL, N): CA, (Action.CANCEL, AS): CA, (Action.CANCEL, IP): CA,
    (Action.CANCEL, AW): CA, (Action.CANCEL, AN): CA, (Action.CANCEL, OB): CA,
    (Action.MERGE, N): CL, (Action.MERGE, AS): CL, (Action.MERGE, IP): CL, (Action.MERGE, AW): CL,
}  # fmt: skip


@pytest.mark.parametrize(("action", "status"), list(itertools.product(Action, Status)))
def test_every_action_from_every_status(action, status):
    expected = EXPECTED.get((action, status))
    if expected is None:
        with pytest.raises(IllegalTransition) as error:
            next_status(action, status)
        assert error.value.details == {"action": str(action), "status": str(status)}
        assert error.value.status == 409
    else:
        assert next_status(action, status) == expected


def test_table_has_no_entry_the_diagram_lacks():
    table = {(a, s): t for a, row in TRANSITIONS.items() for s, t in row.items()}
    assert table == EXPECTED


def test_closed_and_cancelled_are_final():
    assert allowed_actions(S.CLOSED) == []
    assert allowed_actions(S.CANCELLED) == []


def test_unknown_status_is_an_illegal_transition_not_a_crash():
    with pytest.raises(IllegalTransition):
        next_status(Action.ANSWER, "frozen")
