"""Two agents claiming the same request at the same moment: exactly one wins.

Real threads, each with its own database connection, released together by a
barrier. On PostgreSQL the row lock (SELECT … FOR UPDATE) serialises them; on
SQLite the IMMEDIATE transaction does.
"""

from __future__ import annotations

import pytest
from django.db import connection

from tawasul.cases.models import EventKind, Request
from tawasul.cases.services import request_claim, request_submit
from tawasul.core.errors import Conflict
from tests.threads import race

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("attempt", range(5))
def test_two_agents_claim_at_once_exactly_one_wins(ministry, staff, sara, attempt):
    request = request_submit(
        beneficiary=sara,
        kind="inquiry",
        category=ministry.exams,
        subject="سؤال عن النتائج",
        description="متى تظهر نتائج الفصل الثاني؟",
        entity=ministry.riyadh,
    )
    agents = [staff.riyadh_agent, staff.riyadh_agent2]
    outcomes = race(
        [lambda agent=agent: request_claim(request=request, by=agent) for agent in agents]
    )

    winners = [o for o in outcomes if isinstance(o, Request)]
    losers = [o for o in outcomes if isinstance(o, Conflict)]
    assert (len(winners), len(losers)) == (1, 1), outcomes
    request.refresh_from_db()
    assert request.assignee_id == winners[0].assignee_id
    assert request.events.filter(kind=EventKind.CLAIMED).count() == 1


def test_the_race_runs_on_the_configured_database(on_postgres):
    assert connection.vendor == "postgresql"
