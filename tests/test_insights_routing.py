"""The dashboard's first-contact resolution, transfers and misrouting, and staff workload:
worked out by hand on requests moved through the real services, summarised, then read
through the selectors and the console page (both databases)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from tawasul.cases.services import (
    request_answer,
    request_ask_beneficiary,
    request_beneficiary_reply,
    request_claim,
    request_forward,
    request_return,
    request_start,
)
from tawasul.feedback.objections import objection_file
from tawasul.insights.models import DailySummary, MonthlySummary
from tawasul.insights.periods import Grain, period_containing
from tawasul.insights.selectors import (
    insights_headline,
    insights_routing,
    insights_workload,
)
from tawasul.insights.summary import insights_summarise
from tests.insights_data import submitted_on

pytestmark = pytest.mark.django_db

REASON = "ليس من اختصاص هذه الإدارة"


def today_week():  # type: ignore[no-untyped-def]
    """The events these tests make are stamped now: the week (and month) holding today."""
    return period_containing(Grain.WEEK, timezone.localdate())


def work(request, agent, *, answer: bool = True):  # type: ignore[no-untyped-def]
    request_claim(request=request, by=agent)
    request_start(request=request, by=agent)
    if answer:
        request_answer(request=request, by=agent, resolution="The results are now on Noor.")


@pytest.fixture
def handled(ministry, staff, sara, khalid):  # type: ignore[no-untyped-def]
    """Riyadh this week, through the services:
    - A: answered straight away                                  → first contact
    - B: information asked, the parent replied, then answered    → not first contact
    - C: answered, then objected to                              → not first contact
    - D: forwarded by Riyadh to Makkah, answered there           → not first contact
    - E: forwarded by Riyadh to Makkah, returned as misrouted    → a misrouted forward
    - F: forwarded by Riyadh to Makkah, still in hand there
    So Riyadh made 3 forwards and 1 came back; answers: A, B, C by Riyadh, D by Makkah."""
    now = timezone.now()

    def new(who):  # type: ignore[no-untyped-def]
        return submitted_on(who, ministry.riyadh, when=now, category=ministry.exams)

    a, b, c, d, e, f = (new(sara) for _ in range(6))
    work(a, staff.riyadh_agent)
    work(b, staff.riyadh_agent, answer=False)
    request_ask_beneficiary(request=b, by=staff.riyadh_agent, question="Which school is it?")
    request_beneficiary_reply(request=b, beneficiary=sara, body="Al-Noor secondary school.")
    request_answer(request=b, by=staff.riyadh_agent, resolution="The results are now on Noor.")
    work(c, staff.riyadh_agent2)
    objection_file(request=c, beneficiary=sara, reason="The answer does not explain the delay.")
    for request in (d, e, f):
        request_forward(
            request=request, by=staff.riyadh_agent, to_entity=ministry.makkah, reason=REASON
        )
    work(d, staff.makkah_agent)
    request_return(request=e, by=staff.makkah_agent, reason="Belongs to the Riyadh department.")
    period = today_week()
    insights_summarise(first=period.previous().first, last=period.last)
    return {"a": a, "b": b, "c": c, "d": d, "e": e, "f": f}


def test_first_contact_resolution_excludes_follow_ups_and_transfers(
    ministry, staff, handled
) -> None:  # type: ignore[no-untyped-def]
    today = DailySummary.objects.get(day=timezone.localdate(), entity=ministry.riyadh)
    assert (today.answered, today.answered_first_contact) == (3, 1)  # A of A, B, C
    agent, agent2 = staff.riyadh_agent.pk, staff.riyadh_agent2.pk
    assert today.answered_by == {str(agent): 2, str(agent2): 1}  # A and B, C
    makkah = DailySummary.objects.get(day=timezone.localdate(), entity=ministry.makkah)
    assert (makkah.answered, makkah.answered_first_contact) == (1, 0)  # D was forwarded

    headline = insights_headline(user=staff.central_supervisor, period=today_week())
    assert headline.answered.current == 4
    assert headline.first_contact_rate.current == 25.0  # 1 of 4
    assert headline.first_contact_rate.previous is None  # no answer the week before


def test_forwards_and_misrouted_returns_count_against_the_sender(ministry, staff, handled) -> None:  # type: ignore[no-untyped-def]
    riyadh = DailySummary.objects.get(day=timezone.localdate(), entity=ministry.riyadh)
    assert (riyadh.forwarded, riyadh.misrouted) == (3, 1)
    makkah = DailySummary.objects.get(day=timezone.localdate(), entity=ministry.makkah)
    assert (makkah.forwarded, makkah.misrouted) == (0, 0)  # a return is not a forward
    month = MonthlySummary.objects.get(
        day=timezone.localdate().replace(day=1), entity=ministry.riyadh
    )
    assert (month.forwarded, month.misrouted, month.answered_first_contact) == (3, 1, 1)

    headline = insights_headline(user=None, period=today_week())
    assert headline.forwarded.current == 3
    assert headline.misrouted_rate.current == 33.3

    rows = insights_routing(user=staff.central_supervisor, period=today_week())
    # a submission counts under the entity holding the request now: D and F are Makkah's
    assert [(r.entity_id, r.submitted, r.forwarded, r.misrouted) for r in rows] == [
        (ministry.riyadh.pk, 4, 3, 1)
    ]
    assert rows[0].misrouted_rate.current == 33.3


def test_routing_is_scoped_by_the_access_layer(staff, handled) -> None:  # type: ignore[no-untyped-def]
    assert insights_routing(user=staff.makkah_agent, period=today_week()) == []
    assert insights_headline(user=staff.makkah_agent, period=today_week()).forwarded.current == 0
    assert insights_routing(user=staff.outsider, period=today_week()) == []


def test_a_month_reads_the_monthly_rows_with_the_same_figures(staff, handled) -> None:  # type: ignore[no-untyped-def]
    month = period_containing(Grain.MONTH, timezone.localdate())
    headline = insights_headline(user=None, period=month)
    assert (headline.forwarded.current, headline.misrouted_rate.current) == (3, 33.3)
    assert headline.first_contact_rate.current == 25.0


def test_staff_workload_over_the_period(ministry, staff, handled) -> None:  # type: ignore[no-untyped-def]
    rows = {
        row.name: row
        for row in insights_workload(user=staff.riyadh_supervisor, period=today_week())
    }
    # Riyadh's team: agent answered A and B, agent2 answered C; nothing in their hands
    # (E came back unassigned, C is objected and waits for review)
    assert (rows["riyadh_agent"].answered, rows["riyadh_agent2"].answered) == (2, 1)
    assert "makkah_agent" not in rows
    everyone = {
        row.name: row
        for row in insights_workload(user=staff.central_supervisor, period=today_week())
    }
    assert (everyone["makkah_agent"].answered, everyone["makkah_agent"].open) == (1, 0)
    # the week before: no answer by anyone
    before = today_week().previous()
    assert all(
        row.answered == 0 for row in insights_workload(user=staff.central_supervisor, period=before)
    )
    # a viewer of figures who supervises no team sees no named staff
    assert insights_workload(user=staff.executive, period=today_week()) == []
    assert insights_workload(user=staff.riyadh_agent, period=today_week()) == []


def page(client, user, **params):  # type: ignore[no-untyped-def]
    client.force_login(user)
    with translation.override("en"):
        url = reverse("console:insights")
    return client.get(url, {"grain": "week", "on": timezone.localdate().isoformat(), **params})


def test_the_page_shows_routing_and_workload_with_links(client, ministry, staff, handled) -> None:  # type: ignore[no-untyped-def]
    body = page(client, staff.riyadh_supervisor).content.decode()
    assert 'data-figure="first_contact_rate"' in body
    assert 'data-figure="misrouted_rate"' in body
    assert f'<tr data-entity="{ministry.riyadh.pk}"><th scope="row">' in body
    assert 'id="workload"' in body
    agent = staff.riyadh_agent.pk
    assert f'href="/en/console/oversight/?agent={agent}"' in body or f"?agent={agent}" in body
    # an agent sees the routing of its entity but no workload table
    body = page(client, staff.riyadh_agent).content.decode()
    assert 'id="routing"' in body
    assert 'id="workload"' not in body


def test_routing_and_workload_download_as_csv(client, ministry, staff, handled) -> None:  # type: ignore[no-untyped-def]
    response = page(client, staff.riyadh_supervisor, format="csv", table="routing")
    lines = response.content.decode("utf-8-sig").splitlines()
    assert lines[0] == "Entity,Submitted,Forwarded,Returned as misrouted,%"
    assert lines[1:] == [f"{ministry.riyadh.name},4,3,1,33.3"]
    response = page(client, staff.riyadh_supervisor, format="csv", table="workload")
    lines = response.content.decode("utf-8-sig").splitlines()
    assert lines[0] == "Staff member,In hand,Overdue,Answered in the period"
    assert "riyadh_agent,0,0,2" in lines[1:]


def test_an_old_answer_counts_on_its_day_and_previous_period(ministry, staff, sara) -> None:  # type: ignore[no-untyped-def]
    # first contact is decided by what happened to the request, whenever the answer
    # day: an answer dated the week before counts in the previous period's rate
    request = submitted_on(sara, ministry.riyadh, when=timezone.now(), category=ministry.exams)
    work(request, staff.riyadh_agent)
    before = today_week().previous()
    from tawasul.cases.models import Request

    Request.objects.filter(pk=request.pk).update(
        answered_at=timezone.make_aware(dt.datetime.combine(before.first, dt.time(10)))
    )
    insights_summarise(first=before.first, last=today_week().last)
    headline = insights_headline(user=None, period=today_week())
    assert (headline.first_contact_rate.current, headline.first_contact_rate.previous) == (
        None,
        100.0,
    )
