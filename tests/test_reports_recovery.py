"""Reports that go wrong: a worker killed while preparing one (the report is queued again,
then fails as stalled after the last attempt), a failed weekly report tried again after a
doubling back-off (an on-demand one is not), a queue message lost (enqueued again), two
recovery sweeps at once (each report prepared once), a stale worker that cannot fail the
try that replaced it, and "try again" from the console.

Reports break for real: `report_pdf` of `tawasul.insights.reports` is swapped for a
printer that raises when told (an error, or `WorkerKilled` — what a killed process looks
like to the database: a report left running); everything else is the real service on
the real database, and the queue runs each task as it is enqueued."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape
from huey.contrib.djhuey import HUEY

from tawasul.channels.models import OutboxMessage
from tawasul.core.errors import Conflict, NotFound
from tawasul.insights import reports as reports_module
from tawasul.insights.report_models import REPORT_STALLED, Report, ReportKind, ReportStatus
from tawasul.insights.report_recovery import report_retry, report_retry_backoff, reports_recover
from tawasul.insights.reports import (
    report_generate,
    report_request,
    report_subscription_set,
    reports_periodic_create,
)
from tawasul.insights.tasks import reports_recover_task
from tests.test_reports import FIRST_OF_DECEMBER, SUNDAY_MORNING, WEEK
from tests.threads import race

pytestmark = pytest.mark.django_db

STALLED = dt.timedelta(minutes=31)  # past TAWASUL_REPORT_STALL_MINUTES (30)
NOTHING = {"stalled_requeued": 0, "stalled_failed": 0, "failed_retried": 0, "lost_enqueued": 0}


class WorkerKilled(BaseException):
    """The worker's process stopped dead: report_generate catches only errors, so the
    report stays `running`, as after a SIGKILL."""


class Printer:
    """Stands in for `report_pdf`: raises what it is told to for the next calls, prints
    for real otherwise (one PDF at a time: WeasyPrint is not known to be thread-safe)."""

    def __init__(self, real: Callable[[Any], bytes]) -> None:
        self.real = real
        self.breaks: list[BaseException] = []
        self.printed = 0
        self.lock = threading.Lock()

    def __call__(self, figures: Any) -> bytes:
        with self.lock:
            if self.breaks:
                raise self.breaks.pop(0)
            self.printed += 1
            return self.real(figures)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def printer(monkeypatch) -> Printer:
    printer = Printer(reports_module.report_pdf)
    monkeypatch.setattr(reports_module, "report_pdf", printer)
    return printer


@pytest.fixture
def immediate_queue():
    """The project's queue runs each task as it is enqueued (in memory)."""
    HUEY.immediate = True
    yield HUEY
    HUEY.immediate = False


@pytest.fixture
def subscriber(staff):
    """The executive receives the ministry's weekly report by e-mail."""
    staff.executive.email = "executive@moe.example"
    staff.executive.save(update_fields=["email"])
    report_subscription_set(user=staff.executive, entity=None, weekly=True, monthly=False)
    return staff.executive


def weekly_report() -> Report:
    """The ministry's weekly report, queued (no worker asked yet)."""
    [report] = reports_periodic_create(kind=ReportKind.WEEKLY, now=SUNDAY_MORNING)
    return report


def killed_while_preparing(report: Report, printer: Printer) -> Report:
    printer.breaks.append(WorkerKilled())
    with pytest.raises(WorkerKilled):
        report_generate(report_id=report.pk)
    return fresh(report)


def failed_while_preparing(report: Report, printer: Printer) -> Report:
    printer.breaks.append(RuntimeError("the printer is on fire"))
    report_generate(report_id=report.pk)
    return fresh(report)


def fresh(report: Report) -> Report:
    return Report.objects.get(pk=report.pk)


def later(delta: dt.timedelta) -> dt.datetime:
    return timezone.now() + delta


def files_exist(report: Report) -> bool:
    storage = report.pdf.storage
    return bool(report.pdf and report.xlsx) and all(
        storage.exists(name) for name in (report.pdf.name, report.xlsx.name)
    )


def mails() -> list[str]:
    return list(
        OutboxMessage.objects.filter(template="report_ready").values_list("recipient", flat=True)
    )


def label(text: str) -> str:
    """The message as an Arabic page shows it (escaped as in the HTML)."""
    with translation.override("ar"):
        return escape(translation.gettext(text))


# --- a worker killed while preparing ----------------------------------------------------------


@pytest.mark.usefixtures("immediate_queue")
def test_a_report_left_running_by_a_killed_worker_is_queued_again_and_prepared(
    ministry, subscriber, printer, django_capture_on_commit_callbacks
) -> None:
    # Given a worker killed while it prepared the weekly report
    report = killed_while_preparing(weekly_report(), printer)
    assert (report.status, report.attempts, report.progress) == (ReportStatus.RUNNING, 1, 50)
    assert report.started_at is not None

    # When the sweep runs before the stall delay, then after it
    assert reports_recover() == NOTHING
    with django_capture_on_commit_callbacks(execute=True):
        counts = reports_recover(now=later(STALLED))

    # Then it was put back in the queue once, prepared by the next worker, and mailed once
    assert counts == {**NOTHING, "stalled_requeued": 1}
    report = fresh(report)
    assert (report.status, report.progress, report.attempts) == (ReportStatus.DONE, 100, 2)
    assert files_exist(report)
    assert report.error == ""
    assert mails() == [subscriber.email]


def test_a_report_stalled_on_its_last_attempt_fails_as_stalled(
    client, ministry, staff, printer
) -> None:
    # Given a report whose worker was killed on each of its three attempts
    report = weekly_report()
    for attempt in range(1, 4):
        report = killed_while_preparing(report, printer)
        assert (report.status, report.attempts) == (ReportStatus.RUNNING, attempt)
        counts = reports_recover(now=later(STALLED))
        assert counts["stalled_requeued"] == (1 if attempt < 3 else 0)

    # Then the last sweep failed it as stalled, and no later sweep tries it again
    assert counts == {**NOTHING, "stalled_failed": 1}
    report = fresh(report)
    assert (report.status, report.error, report.attempts) == (
        ReportStatus.FAILED,
        REPORT_STALLED,
        3,
    )
    assert report.finished_at is not None
    assert not report.retries_by_itself
    assert reports_recover(now=later(dt.timedelta(days=1))) == NOTHING
    assert fresh(report).status == ReportStatus.FAILED
    assert printer.printed == 0

    # And its page says so, in words, with its attempts and a way to try again
    client.force_login(staff.central_supervisor)
    page = client.get(reverse("console:report", args=[report.pk])).content.decode()
    assert label("Preparing the report stopped before it finished, each time it was tried.") in (
        page
    )
    assert 'id="report-attempt"' in page
    assert 'id="report-retry-form"' in page
    assert "csrfmiddlewaretoken" in page


def test_a_worker_taken_for_dead_cannot_fail_the_try_that_replaced_it(
    ministry, printer, monkeypatch
) -> None:
    # Given a slow first worker: while it prints, the sweep takes it for dead and a second
    # worker claims the report (and is itself killed, leaving its attempt running)
    report = weekly_report()
    real_xlsx = reports_module.report_xlsx

    def slow_xlsx(figures):
        monkeypatch.setattr(reports_module, "report_xlsx", real_xlsx)
        assert reports_recover(now=later(STALLED))["stalled_requeued"] == 1
        killed_while_preparing(report, printer)
        raise RuntimeError("the first worker fails at last")

    monkeypatch.setattr(reports_module, "report_xlsx", slow_xlsx)

    # When the first worker fails after all
    first = report_generate(report_id=report.pk)

    # Then its failure is not written over the second attempt, which is still running
    assert (first.status, first.attempts) == (ReportStatus.RUNNING, 2)
    assert first.error == ""
    assert reports_recover(now=later(STALLED))["stalled_requeued"] == 1
    assert report_generate(report_id=report.pk).status == ReportStatus.DONE
    assert fresh(report).attempts == 3


# --- failed reports tried again -----------------------------------------------------------------


@pytest.mark.parametrize(("attempts", "minutes"), [(0, 10), (1, 10), (2, 20), (3, 40), (4, 80)])
def test_the_back_off_doubles_after_each_attempt(attempts, minutes) -> None:
    assert report_retry_backoff(attempts) == dt.timedelta(minutes=minutes)


@pytest.mark.usefixtures("immediate_queue")
def test_a_failed_weekly_report_is_tried_again_after_its_back_off_and_not_before(
    ministry, subscriber, printer, django_capture_on_commit_callbacks
) -> None:
    # Given the weekly report failed on its first attempt
    report = failed_while_preparing(weekly_report(), printer)
    assert (report.status, report.attempts) == (ReportStatus.FAILED, 1)
    assert report.retries_by_itself
    failed_at = report.finished_at

    # When the sweep runs 9 minutes later, then 10 (the printer breaks once more)
    assert reports_recover(now=failed_at + dt.timedelta(minutes=9)) == NOTHING
    assert fresh(report).status == ReportStatus.FAILED
    printer.breaks.append(RuntimeError("still on fire"))
    with django_capture_on_commit_callbacks(execute=True):
        counts = reports_recover(now=failed_at + dt.timedelta(minutes=10, seconds=1))

    # Then it was tried again and failed again: the next pause is 20 minutes
    assert counts == {**NOTHING, "failed_retried": 1}
    report = fresh(report)
    assert (report.status, report.attempts) == (ReportStatus.FAILED, 2)
    failed_at = report.finished_at
    assert reports_recover(now=failed_at + dt.timedelta(minutes=19)) == NOTHING
    with django_capture_on_commit_callbacks(execute=True):
        counts = reports_recover(now=failed_at + dt.timedelta(minutes=20, seconds=1))

    # And the third attempt made it, mailed once
    assert counts == {**NOTHING, "failed_retried": 1}
    report = fresh(report)
    assert (report.status, report.attempts, report.error) == (ReportStatus.DONE, 3, "")
    assert files_exist(report)
    assert mails() == [subscriber.email]


def test_a_weekly_report_failed_on_its_last_attempt_stays_failed(ministry, printer) -> None:
    report = weekly_report()
    for _attempt in range(3):
        report = failed_while_preparing(report, printer)
        reports_recover(now=later(dt.timedelta(hours=1)))  # requeued after the first two

    assert (report.status, report.attempts) == (ReportStatus.FAILED, 3)
    assert not report.retries_by_itself
    assert reports_recover(now=later(dt.timedelta(days=7))) == NOTHING
    assert fresh(report).status == ReportStatus.FAILED


def test_a_weekly_report_that_failed_days_ago_is_not_tried_again_by_itself(
    ministry, printer
) -> None:
    # Given the weekly report failed on its first attempt, made three days ago
    report = failed_while_preparing(weekly_report(), printer)
    Report.objects.filter(pk=report.pk).update(
        created_at=timezone.now() - dt.timedelta(days=3),
        finished_at=timezone.now() - dt.timedelta(days=3),
    )

    # Then the sweep leaves it: mailed days late it would mislead (staff may retry it)
    assert not fresh(report).retries_by_itself
    assert reports_recover() == NOTHING
    assert fresh(report).status == ReportStatus.FAILED


def test_a_failed_report_on_demand_is_not_tried_again_by_itself(ministry, staff, printer) -> None:
    asked = report_request(period=WEEK, entity=ministry.riyadh, by=staff.riyadh_supervisor)
    report = failed_while_preparing(asked, printer)

    assert reports_recover(now=later(dt.timedelta(days=1))) == NOTHING
    report = fresh(report)
    assert (report.status, report.attempts) == (ReportStatus.FAILED, 1)
    assert not report.retries_by_itself


# --- a lost queue message -------------------------------------------------------------------


@pytest.mark.usefixtures("immediate_queue")
def test_a_report_whose_queue_message_was_lost_is_enqueued_again(
    ministry, staff, django_capture_on_commit_callbacks
) -> None:
    # Given a report asked for whose message never reached a worker (the test's
    # transaction never commits, so nothing is enqueued unless captured below)
    report = report_request(period=WEEK, entity=None, by=staff.central_supervisor)

    # When sweeps run: at once, after five minutes, and again just after
    assert reports_recover() == NOTHING
    assert reports_recover(now=later(dt.timedelta(minutes=6)))["lost_enqueued"] == 1
    assert reports_recover(now=later(dt.timedelta(minutes=7))) == NOTHING  # asked 1 min ago
    assert fresh(report).status == ReportStatus.QUEUED

    # Then one enqueued later, with a worker there, is prepared
    with django_capture_on_commit_callbacks(execute=True):
        counts = reports_recover(now=later(dt.timedelta(minutes=12)))
    assert counts == {**NOTHING, "lost_enqueued": 1}
    report = fresh(report)
    assert (report.status, report.attempts) == (ReportStatus.DONE, 1)
    assert files_exist(report)


def test_the_recovery_job_runs_every_ten_minutes(ministry, staff) -> None:
    report = report_request(period=WEEK, entity=None, by=staff.central_supervisor)

    assert reports_recover_task.call_local(now=later(dt.timedelta(minutes=6))) == {
        **NOTHING,
        "lost_enqueued": 1,
    }
    assert fresh(report).status == ReportStatus.QUEUED  # no commit here: nothing ran it
    schedule = reports_recover_task.s()
    assert schedule.validate_datetime(dt.datetime(2026, 11, 29, 4, 10))  # noqa: DTZ001
    assert schedule.validate_datetime(dt.datetime(2026, 11, 29, 4, 0))  # noqa: DTZ001
    assert not schedule.validate_datetime(dt.datetime(2026, 11, 29, 4, 15))  # noqa: DTZ001


# --- several consumers ----------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("immediate_queue")
@pytest.mark.parametrize("attempt", range(3))
def test_two_concurrent_recoveries_prepare_each_report_once(
    ministry, staff, subscriber, printer, attempt
) -> None:
    # Given the ministry's and Riyadh's weekly reports left running by workers killed 31
    # minutes ago, and the ministry's monthly report queued as long ago but never enqueued
    # (the sweeps run on the real clock: a report claimed during the race is not stalled)
    report_subscription_set(
        user=staff.riyadh_supervisor, entity=ministry.riyadh, weekly=True, monthly=False
    )
    staff.riyadh_supervisor.email = "riyadh_supervisor@moe.example"
    staff.riyadh_supervisor.save(update_fields=["email"])
    weekly = reports_periodic_create(kind=ReportKind.WEEKLY, now=SUNDAY_MORNING)
    for report in weekly:
        killed_while_preparing(report, printer)
    [lost] = reports_periodic_create(kind=ReportKind.MONTHLY, now=FIRST_OF_DECEMBER)
    Report.objects.filter(status=ReportStatus.RUNNING).update(started_at=later(-STALLED))
    Report.objects.filter(pk=lost.pk).update(queued_at=later(-STALLED))

    # When two sweeps (two connections, as on two machines) run at the same moment
    outcomes = race([reports_recover, reports_recover])

    # Then each report was moved once by one of them, and prepared once
    assert not [o for o in outcomes if isinstance(o, BaseException)], outcomes
    assert sum(o["stalled_requeued"] for o in outcomes) == 2
    assert sum(o["lost_enqueued"] for o in outcomes) == 1
    assert printer.printed == 3
    for prepared in [fresh(report) for report in [*weekly, lost]]:
        assert prepared.status == ReportStatus.DONE, prepared.error
        assert files_exist(prepared)
    assert [fresh(r).attempts for r in weekly] == [2, 2]
    assert fresh(lost).attempts == 1
    assert sorted(mails()) == [subscriber.email, "riyadh_supervisor@moe.example"]


# --- "try again" in the console -----------------------------------------------------------------


@pytest.fixture
def failed_riyadh_report(ministry, staff, printer) -> Report:
    asked = report_request(period=WEEK, entity=ministry.riyadh, by=staff.riyadh_supervisor)
    return failed_while_preparing(asked, printer)


@pytest.mark.usefixtures("immediate_queue")
def test_staff_who_see_a_failed_report_may_try_it_again(
    client, staff, failed_riyadh_report, django_capture_on_commit_callbacks
) -> None:
    report = failed_riyadh_report
    client.force_login(staff.riyadh_agent)
    page = client.get(reverse("console:report", args=[report.pk])).content.decode()
    assert 'id="report-retry-form"' in page
    assert reverse("console:report_retry", args=[report.pk]) in page

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("console:report_retry", args=[report.pk]))

    assert response.status_code == 302
    assert response["Location"] == reverse("console:report", args=[report.pk])
    report = fresh(report)
    assert (report.status, report.attempts, report.error) == (ReportStatus.DONE, 1, "")
    assert files_exist(report)
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert 'data-status="done"' in page.content.decode()
    assert label("The report is queued to be prepared again.") in page.content.decode()


def test_trying_again_without_a_worker_leaves_the_report_queued(
    client, staff, failed_riyadh_report
) -> None:
    client.force_login(staff.riyadh_supervisor)

    response = client.post(reverse("console:report_retry", args=[failed_riyadh_report.pk]))

    assert response.status_code == 302
    report = fresh(failed_riyadh_report)
    assert (report.status, report.attempts, report.progress, report.error) == (
        ReportStatus.QUEUED,
        0,
        0,
        "",
    )
    assert report.finished_at is None
    page = client.get(response["Location"]).content.decode()
    assert 'hx-trigger="every 2s"' in page  # the page follows the new try


@pytest.mark.parametrize("who", ["makkah_agent", "university_agent"])
def test_a_user_of_another_entity_cannot_try_it_again(
    client, staff, failed_riyadh_report, who
) -> None:
    client.force_login(getattr(staff, who))

    response = client.post(reverse("console:report_retry", args=[failed_riyadh_report.pk]))

    assert response.status_code == 404
    report = fresh(failed_riyadh_report)
    assert (report.status, report.attempts) == (ReportStatus.FAILED, 1)
    with pytest.raises(NotFound):
        report_retry(user=getattr(staff, who), report=report)
    with pytest.raises(NotFound):
        report_retry(user=staff.outsider, report=report)
    assert fresh(report).status == ReportStatus.FAILED


@pytest.mark.parametrize("status", [ReportStatus.QUEUED, ReportStatus.DONE])
def test_only_a_failed_report_may_be_tried_again(client, ministry, staff, printer, status) -> None:
    report = report_request(period=WEEK, entity=ministry.riyadh, by=staff.riyadh_supervisor)
    if status == ReportStatus.DONE:
        report = report_generate(report_id=report.pk)
    assert report.status == status
    client.force_login(staff.riyadh_supervisor)

    response = client.post(reverse("console:report_retry", args=[report.pk]))

    assert response.status_code == 409
    assert label("Only a report that could not be prepared can be tried again.") in (
        response.content.decode()
    )
    assert 'id="report-retry-form"' not in response.content.decode()
    assert (fresh(report).status, fresh(report).attempts) == (status, report.attempts)
    with pytest.raises(Conflict) as refused:
        report_retry(user=staff.riyadh_supervisor, report=report)
    assert refused.value.code == "report_not_failed"


def test_trying_again_needs_a_post(client, staff, failed_riyadh_report) -> None:
    client.force_login(staff.riyadh_supervisor)
    url = reverse("console:report_retry", args=[failed_riyadh_report.pk])

    assert client.get(url).status_code == 405
    assert fresh(failed_riyadh_report).status == ReportStatus.FAILED
    client.logout()
    response = client.post(url)
    assert response.status_code == 302
    assert reverse("console:login") in response["Location"]
    assert fresh(failed_riyadh_report).status == ReportStatus.FAILED
