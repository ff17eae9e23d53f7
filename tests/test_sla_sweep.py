"""The SLA sweep: warn → breach → escalate, each step once, in order, claimed by one sweep."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.db import connection, transaction

from tawasul.cases.models import EventKind, Request, SlaStage, SlaState, Status
from tawasul.cases.services import (
    request_answer,
    request_ask_beneficiary,
    request_claim,
    request_start,
    request_submit,
)
from tawasul.channels.delivery import outbox_drain
from tawasul.channels.models import OutboxMessage
from tawasul.sla.clocks import sla_clock_start
from tawasul.sla.sweep import sla_due_requests, sla_sweep
from tawasul.sla.tasks import sla_sweep_task
from tests.threads import race

RIYADH = ZoneInfo("Asia/Riyadh")


def riyadh(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=RIYADH)


# A clock started Thursday 3 December 2026 at 14:00 with the default targets:
STARTED = riyadh(2026, 12, 3, 14, 0)
WARNING = riyadh(2026, 12, 9, 12, 15)  # 75 % of 5 working days
DUE = riyadh(2026, 12, 10, 14, 0)  # 5 working days
ESCALATION = riyadh(2026, 12, 13, 14, 0)  # 1 working day after the due instant
SLA_KINDS = [EventKind.SLA_WARNED, EventKind.SLA_BREACHED, EventKind.SLA_ESCALATED]


@pytest.fixture
def emails(staff):
    for user in (staff.riyadh_agent, staff.riyadh_supervisor, staff.central_supervisor):
        user.email = f"{user.username}@moe.example"
        user.save(update_fields=["email"])
    return staff


def clocked_request(ministry, beneficiary, *, started=STARTED):
    request = request_submit(
        beneficiary=beneficiary,
        kind="complaint",
        category=ministry.exams,
        subject="تأخر نتيجة الاختبار",
        description="لم تظهر نتيجة ابني في نظام نور حتى الآن.",
        entity=ministry.riyadh,
    )
    sla_clock_start(fresh(request), now=started)
    return fresh(request)


def fresh(request):
    return Request.objects.select_related("entity", "sla_policy").get(pk=request.pk)


def sla_events(request):
    return list(
        request.events.filter(kind__in=SLA_KINDS).order_by("id").values_list("kind", flat=True)
    )


def staff_mail(request):
    return list(
        OutboxMessage.objects.filter(request=request, template__startswith="sla_")
        .order_by("id")
        .values_list("template", "recipient")
    )


def test_each_step_happens_once_in_order(ministry, emails, sara):
    # Given a request assigned to an agent, clock started Thursday 14:00
    request = clocked_request(ministry, sara)
    request_claim(request=request, by=emails.riyadh_agent)
    minute = dt.timedelta(minutes=1)

    # Before the warning instant: nothing
    assert sla_sweep(now=WARNING - minute).steps == 0

    # At the warning instant: the assignee is warned, once
    assert sla_sweep(now=WARNING).warned == 1
    assert sla_sweep(now=WARNING).steps == 0
    assert fresh(request).sla_stage == SlaStage.WARNED
    assert fresh(request).sla_next_at == DUE

    # At the due instant: breached, the centre's supervisor told
    assert sla_sweep(now=DUE).breached == 1
    assert sla_sweep(now=DUE).steps == 0
    breached = fresh(request)
    assert breached.sla_resolution_state == SlaState.BREACHED
    assert breached.sla_next_at == ESCALATION

    # One working day later: escalated to the parent entity's centre (the ministry's)
    assert sla_sweep(now=ESCALATION).escalated == 1
    assert sla_sweep(now=ESCALATION + dt.timedelta(days=30)).steps == 0
    escalated = fresh(request)
    assert escalated.sla_stage == SlaStage.ESCALATED
    assert escalated.sla_next_at is None
    assert escalated.entity == ministry.riyadh  # only notified by default

    # And the timeline and the outbox hold each step once, internal to staff
    assert sla_events(request) == SLA_KINDS
    assert not request.events.filter(kind__in=SLA_KINDS, is_public=True).exists()
    assert staff_mail(request) == [
        ("sla_warning", "riyadh_agent@moe.example"),
        ("sla_breached", "riyadh_supervisor@moe.example"),
        ("sla_escalated", "central_supervisor@moe.example"),
    ]
    escalation = request.events.get(kind=EventKind.SLA_ESCALATED)
    assert escalation.data["to_entity"] == ministry.ministry.pk


def test_a_late_sweep_catches_up_every_step_in_order(ministry, emails, sara):
    request = clocked_request(ministry, sara)

    counts = sla_sweep(now=ESCALATION + dt.timedelta(days=2))

    assert (counts.warned, counts.breached, counts.escalated) == (1, 1, 1)
    assert sla_events(request) == SLA_KINDS


@pytest.mark.django_db(transaction=True)
def test_a_batch_is_one_transaction_with_one_outbox_wake_up(ministry, emails, sara, monkeypatch):
    # Given five requests whose warning is due, and the outbox wake-ups counted
    requests = [clocked_request(ministry, sara) for _ in range(5)]
    from tawasul.channels import outbox

    wake_ups: list[int] = []
    monkeypatch.setattr(outbox, "_enqueue_drain", lambda: wake_ups.append(1))

    # When one sweep performs them (committing for real)
    counts = sla_sweep(now=WARNING)

    # Then every request is warned (event and e-mail) and the outbox is woken once
    assert counts.warned == 5
    assert all(sla_events(r) == [EventKind.SLA_WARNED] for r in requests)
    assert all(len(staff_mail(r)) == 1 for r in requests)
    assert wake_ups == [1]


def test_a_failing_step_rolls_its_batch_back_and_the_next_sweep_redoes_it(
    ministry, emails, sara, monkeypatch
):
    # Given two due requests and a sweep that fails after moving the rows and writing the
    # e-mails (when it asks for the outbox wake-up), before writing the events
    requests = [clocked_request(ministry, sara) for _ in range(2)]
    from tawasul.sla import sweep

    real = sweep.outbox_wake_after_commit

    def failing() -> None:
        assert all(fresh(r).sla_stage == SlaStage.WARNED for r in requests)  # written
        assert all(len(staff_mail(r)) == 1 for r in requests)
        raise RuntimeError("queue gone")

    monkeypatch.setattr(sweep, "outbox_wake_after_commit", failing)
    with pytest.raises(RuntimeError):
        sla_sweep(now=WARNING)

    # Then nothing of the batch stays: no claim, no event, no e-mail
    for request in requests:
        assert fresh(request).sla_stage == SlaStage.NONE
        assert sla_events(request) == []
        assert staff_mail(request) == []

    # And the next sweep performs both steps once
    monkeypatch.setattr(sweep, "outbox_wake_after_commit", real)
    assert sla_sweep(now=WARNING).warned == 2
    assert all(sla_events(r) == [EventKind.SLA_WARNED] for r in requests)
    assert all(len(staff_mail(r)) == 1 for r in requests)


def test_an_unassigned_request_warns_the_centre_supervisors(ministry, emails, sara):
    request = clocked_request(ministry, sara)

    sla_sweep(now=WARNING)

    assert staff_mail(request) == [("sla_warning", "riyadh_supervisor@moe.example")]


def test_staff_without_an_email_are_skipped(ministry, staff, sara):
    request = clocked_request(ministry, sara)

    counts = sla_sweep(now=WARNING)

    assert counts.warned == 1
    assert staff_mail(request) == []
    assert request.events.get(kind=EventKind.SLA_WARNED).data["notified"] == 0


def test_a_paused_or_answered_request_is_left_alone(ministry, emails, sara):
    # Given one request waiting on the beneficiary and one answered
    paused = clocked_request(ministry, sara)
    request_claim(request=paused, by=emails.riyadh_agent)
    request_start(request=paused, by=emails.riyadh_agent)
    request_ask_beneficiary(request=paused, by=emails.riyadh_agent, question="أرسل رقم الطالب.")
    answered = clocked_request(ministry, sara)
    request_claim(request=answered, by=emails.riyadh_agent)
    request_start(request=answered, by=emails.riyadh_agent)
    request_answer(request=answered, by=emails.riyadh_agent, resolution="ظهرت النتيجة في نور.")

    # When the sweep runs long after both were due
    counts = sla_sweep(now=ESCALATION + dt.timedelta(days=30))

    # Then nothing happens to either
    assert counts.steps == 0
    assert sla_events(paused) == sla_events(answered) == []


def test_escalation_can_hand_the_request_to_the_parent_centre(ministry, emails, sara, settings):
    settings.TAWASUL_SLA_ESCALATION_REASSIGN = True
    request = clocked_request(ministry, sara)
    request_claim(request=request, by=emails.riyadh_agent)

    sla_sweep(now=ESCALATION)

    after = fresh(request)
    assert after.entity == ministry.ministry
    assert (after.status, after.assignee_id) == (Status.NEW, None)
    forwarded = after.events.filter(kind=EventKind.FORWARDED).get()
    assert forwarded.data["reason"] == "sla_escalation"
    assert after.transfer_count == 1


def test_the_staff_emails_render(ministry, emails, sara, channels_in_memory):
    request = clocked_request(ministry, sara)

    sla_sweep(now=ESCALATION)
    outbox_drain(limit=10)

    subjects = [message.subject for message in mail.outbox if message.to[0].endswith("moe.example")]
    assert len(subjects) == 3
    assert all(request.tracking_display in subject for subject in subjects)


def test_the_periodic_job_runs_the_sweep(ministry, emails, sara):
    request = clocked_request(ministry, sara, started=riyadh(2026, 1, 4, 9, 0))

    steps = sla_sweep_task.call_local()

    assert steps == 3
    assert sla_events(request) == SLA_KINDS


def test_the_sweep_selects_through_its_index(ministry, sara):
    clocked_request(ministry, sara)
    query = sla_due_requests(now=DUE).values_list("pk", flat=True)[:500]

    if connection.vendor == "postgresql":
        # A handful of rows: make the planner show whether the index is usable at all
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
            plan = query.explain()
    else:
        plan = query.explain()

    assert "req_sla_next" in plan, plan


# --- concurrency ----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(3))
def test_two_concurrent_sweeps_perform_each_step_exactly_once(ministry, emails, sara, attempt):
    # Given ten requests all three steps late
    requests = [clocked_request(ministry, sara) for _ in range(10)]
    late = ESCALATION + dt.timedelta(days=1)

    # When two sweeps (two connections, as on two machines) run at the same moment
    outcomes = race([lambda: sla_sweep(now=late), lambda: sla_sweep(now=late)])

    # Then every step happened exactly once, split between them
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    assert sum(o.steps for o in outcomes) == 30
    for request in requests:
        assert sla_events(request) == SLA_KINDS
        assert len(staff_mail(request)) == 3
        assert fresh(request).sla_stage == SlaStage.ESCALATED


def test_the_race_ran_on_postgresql_in_the_postgresql_pass(on_postgres):
    assert connection.vendor == "postgresql"
