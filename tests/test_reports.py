"""Periodic reports: the Arabic PDF (read back with pdftotext) and the XLSX appendix (read
back with openpyxl) against figures worked out by hand, the weekly and monthly jobs (once
per period and scope, one e-mail per active subscriber who may see the report), preparing
a report on demand from the console with its progress, and who may see which report."""

from __future__ import annotations

import datetime as dt
import io
import re
import shutil
import subprocess
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from huey.contrib.djhuey import HUEY
from openpyxl import load_workbook

from tawasul.channels.models import OutboxMessage
from tawasul.channels.notifications import notification_render_email
from tawasul.core.errors import AccessDenied, NotFound
from tawasul.core.hijri import hijri_label
from tawasul.feedback.models import Objection, SatisfactionResponse
from tawasul.feedback.objections import objection_file, objection_uphold
from tawasul.insights import reports as reports_module
from tawasul.insights.periods import Grain, period_containing
from tawasul.insights.report_models import (
    Report,
    ReportKind,
    ReportStatus,
    ReportSubscription,
)
from tawasul.insights.reports import (
    report_generate,
    report_request,
    report_subscription_set,
    reports_for,
    reports_periodic_create,
)
from tawasul.insights.tasks import report_monthly_task, report_weekly_task
from tests.insights_data import answered_on, submitted_on

pytestmark = pytest.mark.django_db

RIYADH = ZoneInfo("Asia/Riyadh")
DATA_DAY = dt.datetime(2026, 11, 26, 10, 0, tzinfo=RIYADH)  # a Thursday
WEEK = period_containing(Grain.WEEK, DATA_DAY.date())  # Sunday 22 – Saturday 28 November
LAST_WEEK_DAY = dt.datetime(2026, 11, 17, 9, 0, tzinfo=RIYADH)
SUNDAY_MORNING = dt.datetime(2026, 11, 29, 7, 0, tzinfo=RIYADH)  # the weekly job's hour
FIRST_OF_DECEMBER = dt.datetime(2026, 12, 1, 7, 0, tzinfo=RIYADH)  # the monthly job's hour
BIDI_CONTROLS = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")
SUBJECT = "تأخر نتيجة الاختبار"
REASON = "الرد لا يوضح سبب غياب النتيجة من النظام"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def immediate_queue():
    """The project's queue runs each task as it is enqueued (in memory)."""
    HUEY.immediate = True
    yield HUEY
    HUEY.immediate = False


def submit(ministry, who, entity, *, when, kind="complaint", channel="portal"):
    return submitted_on(
        who,
        entity,
        when=when,
        category=ministry.exams,
        kind=kind,
        channel=channel,
        subject=SUBJECT,
        description="لم تظهر نتيجة ابنتي في النظام حتى الآن",
    )


def answer(request, agent, *, when=None, met=True):
    answered_on(request, agent, when=when, met=met, resolution="النتيجة منشورة الآن في النظام")


@pytest.fixture
def week(ministry, staff, sara, khalid):
    """This week (22–28 Nov): Riyadh 3 complaints by portal (24, 25, 26 Nov) and 1 inquiry
    by the call centre (26 Nov), Makkah 1 complaint (25 Nov). Two Riyadh answers on 26 Nov
    (one met, one late), the first rated 4 and resolved; the third complaint was answered,
    objected to on 26 Nov and the objection upheld on 27 Nov (so it is in hand again).
    Last week (17 Nov): Riyadh 2 complaints, one answered that day within target."""
    r1 = submit(ministry, sara, ministry.riyadh, when=DATA_DAY)
    r2 = submit(ministry, sara, ministry.riyadh, when=DATA_DAY - dt.timedelta(days=1))
    r3 = submit(ministry, sara, ministry.riyadh, when=DATA_DAY - dt.timedelta(days=2))
    submit(ministry, khalid, ministry.riyadh, when=DATA_DAY, kind="inquiry", channel="call_centre")
    submit(ministry, khalid, ministry.makkah, when=DATA_DAY - dt.timedelta(days=1))
    before = [submit(ministry, sara, ministry.riyadh, when=LAST_WEEK_DAY) for _ in range(2)]
    answer(r1, staff.riyadh_agent, when=DATA_DAY, met=True)
    answer(r2, staff.riyadh_agent, when=DATA_DAY, met=False)
    answer(before[0], staff.riyadh_agent, when=LAST_WEEK_DAY, met=True)
    SatisfactionResponse.objects.create(
        request=r1,
        answer_event=r1.events.filter(kind="answered").latest("pk"),
        score=4,
        resolved=True,
    )
    SatisfactionResponse.objects.filter(request=r1).update(created_at=DATA_DAY)
    answer(r3, staff.riyadh_agent)  # now: the objection window is open
    objection = objection_file(request=r3, beneficiary=sara, reason=REASON)
    objection_uphold(objection=objection, by=staff.riyadh_supervisor, note="الرد غير مكتمل")
    Objection.objects.filter(pk=objection.pk).update(
        created_at=DATA_DAY + dt.timedelta(hours=2),
        decided_at=DATA_DAY + dt.timedelta(days=1),
    )
    r3.refresh_from_db()
    return r3


@pytest.fixture
def emails(staff):
    for user in (
        staff.executive,
        staff.central_supervisor,
        staff.riyadh_supervisor,
        staff.riyadh_agent,
        staff.makkah_agent,
    ):
        user.email = f"{user.username}@moe.example"
        user.save(update_fields=["email"])
    return staff


def weekly_report():
    """The ministry's report of the week, prepared on Sunday morning."""
    [report] = reports_periodic_create(kind=ReportKind.WEEKLY, now=SUNDAY_MORNING)
    return report_generate(report_id=report.pk, now=SUNDAY_MORNING)


def pdf_text(report: Report) -> str:
    with report.pdf.open("rb") as handle:
        data = handle.read()
    assert data.startswith(b"%PDF")
    text = subprocess.run(
        ["pdftotext", "-", "-"],  # noqa: S607
        input=data,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return BIDI_CONTROLS.sub("", text)


def workbook(report: Report):
    with report.xlsx.open("rb") as handle:
        return load_workbook(io.BytesIO(handle.read()))


def rows_of(sheet) -> list[tuple]:
    return list(sheet.iter_rows(values_only=True))


def label(text: str) -> str:
    with translation.override("ar"):
        return str(translation.gettext(text))


# --- the PDF and the XLSX --------------------------------------------------------------------


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
def test_the_pdf_is_arabic_in_reading_order_with_both_calendars(ministry, week, sara) -> None:
    report = weekly_report()

    assert (report.status, report.progress) == (ReportStatus.DONE, 100)
    text = pdf_text(report)
    for arabic in ("الأرقام الرئيسية", "هذه الفترة", "الفترة السابقة", "قيد المعالجة الآن"):
        assert arabic in text  # the labels, letters in logical order
    assert "الإدارة العامة للتعليم بمنطقة مكة المكرمة" in text  # the volume by entity
    assert "نتائج الاختبارات" in text  # the upheld objection's category
    assert week.tracking_display in text  # … and its tracking number
    hijri = hijri_label(WEEK.first, "ar").split()  # day, month (one or two words), year, هـ
    assert " ".join(hijri[1:-2]) in text  # the Hijri month, in reading order
    assert hijri[-2] in text  # the Hijri year (1448)
    assert "نوفمبر" in text  # the Gregorian month
    assert "2026" in text
    for private in (sara.full_name, SUBJECT, REASON, sara.mobile):
        assert private not in text  # no names, no text the person wrote


def test_the_xlsx_holds_the_figures_worked_out_by_hand(ministry, week) -> None:
    report = weekly_report()
    book = workbook(report)
    summary, trend, by_kind, *_volumes, ageing, objections = book.worksheets

    assert summary.sheet_view.rightToLeft
    figures = {row[0]: row[1:4] for row in rows_of(summary) if row and row[0]}
    assert figures[label("Requests submitted")] == (5, 2, 150.0)
    assert figures[label("Requests answered")] == (2, 1, 100.0)
    assert figures[label("Answers within the resolution target (%)")] == (50.0, 100.0, -50.0)
    assert figures[label("Satisfaction (average of 5)")][:2] == (4.0, None)
    assert figures[label("Objections per 100 answers")][:2] == (50.0, 0.0)
    # r1 and r2 (this week) and last week's answer: no transfer, no question, no objection
    # (r3's objection came after its answer, given outside the week)
    assert figures[label("Answers settled at the first contact (%)")][:2] == (100.0, 100.0)
    assert figures[label("Forwards to another entity")][:2] == (0, 0)
    assert figures[label("In hand now")][0] == 4  # r3 reopened, the inquiry, Makkah, last week's
    assert figures[label("From")][0].date() == WEEK.first
    assert figures[label("To")][0].date() == WEEK.last

    daily = [(row[0].date().day, row[2], row[3]) for row in rows_of(trend)[1:]]
    assert daily == [
        (22, 0, 0),
        (23, 0, 0),
        (24, 1, 0),
        (25, 2, 0),
        (26, 2, 2),
        (27, 0, 0),
        (28, 0, 0),
    ]
    with translation.override("ar"):
        complaint, inquiry = "شكوى", "استفسار"
    kinds = {row[0]: tuple(row[1:3]) for row in rows_of(by_kind)[1:]}
    assert kinds == {complaint: (4, 2), inquiry: (1, 0)}
    # on Sunday morning the four requests in hand are 3, 4, 5 and 12 days old
    assert [row[1] for row in rows_of(ageing)[1:]] == [0, 0, 3, 1, 0, 0]
    assert rows_of(objections)[1:] == [
        (week.tracking_display, "نتائج الاختبارات", dt.datetime(2026, 11, 27))  # noqa: DTZ001
    ]


def test_an_entity_report_counts_only_its_subtree(ministry, staff, week) -> None:
    asked = report_request(period=WEEK, entity=ministry.riyadh, by=staff.riyadh_supervisor)
    report = report_generate(report_id=asked.pk, now=SUNDAY_MORNING)
    figures = {row[0]: row[1:3] for row in rows_of(workbook(report).worksheets[0]) if row[0]}

    assert figures[label("Requests submitted")] == (4, 2)  # Makkah's complaint is not here
    assert figures[label("In hand now")][0] == 3


def test_the_progress_moves_while_the_report_is_prepared(
    ministry, staff, week, monkeypatch
) -> None:
    asked = report_request(period=WEEK, entity=ministry.riyadh, by=staff.riyadh_supervisor)
    seen = []

    def watched(name):
        real = getattr(reports_module, name)

        def step(figures):
            seen.append(Report.objects.values_list("status", "progress").get(pk=asked.pk))
            return real(figures)

        monkeypatch.setattr(reports_module, name, step)

    watched("report_pdf")
    watched("report_xlsx")
    assert (asked.status, asked.progress) == (ReportStatus.QUEUED, 0)

    report = report_generate(report_id=asked.pk)

    assert seen == [(ReportStatus.RUNNING, 50), (ReportStatus.RUNNING, 80)]
    assert (report.status, report.progress) == (ReportStatus.DONE, 100)
    assert report_generate(report_id=asked.pk).status == ReportStatus.DONE  # not made again
    assert len(seen) == 2


def test_a_failure_is_recorded_on_the_report(ministry, week, monkeypatch) -> None:
    def broken(figures):
        raise RuntimeError("the printer is on fire")

    monkeypatch.setattr(reports_module, "report_pdf", broken)
    report = weekly_report()

    assert report.status == ReportStatus.FAILED
    assert "RuntimeError" in report.error
    assert not report.pdf
    assert OutboxMessage.objects.filter(template="report_ready").count() == 0


# --- the periodic jobs -----------------------------------------------------------------------


@pytest.fixture
def subscribers(ministry, emails):
    staff = emails
    report_subscription_set(user=staff.executive, entity=None, weekly=True, monthly=True)
    report_subscription_set(
        user=staff.riyadh_supervisor, entity=ministry.riyadh, weekly=True, monthly=False
    )
    report_subscription_set(user=staff.central_supervisor, entity=None, weekly=True, monthly=True)
    ReportSubscription.objects.filter(user=staff.central_supervisor).update(active=False)
    # a subscription left from a grant since removed: Makkah's agent may not see the ministry
    ReportSubscription.objects.create(user=staff.makkah_agent, weekly=True, monthly=True)
    return staff


def report_mails() -> list[str]:
    return sorted(
        OutboxMessage.objects.filter(template="report_ready").values_list("recipient", flat=True)
    )


def test_the_weekly_job_makes_each_report_once_and_mails_each_subscriber_once(
    ministry, week, subscribers
) -> None:
    report_weekly_task.call_local(now=SUNDAY_MORNING)

    reports = Report.objects.filter(kind=ReportKind.WEEKLY).order_by("pk")
    assert [(r.first, r.last, r.entity_id, r.status) for r in reports] == [
        (WEEK.first, WEEK.last, None, ReportStatus.DONE),
        (WEEK.first, WEEK.last, ministry.riyadh.pk, ReportStatus.DONE),
    ]
    assert report_mails() == ["executive@moe.example", "riyadh_supervisor@moe.example"]
    message = OutboxMessage.objects.get(recipient="executive@moe.example")
    assert message.context["report_url"].endswith(reverse("console:report", args=[reports[0].pk]))

    assert report_weekly_task.call_local(now=SUNDAY_MORNING) == 0  # again: nothing new
    assert Report.objects.filter(kind=ReportKind.WEEKLY).count() == 2
    assert len(report_mails()) == 2


def test_the_monthly_job_reports_on_the_month_just_ended(ministry, week, subscribers) -> None:
    assert report_monthly_task.call_local(now=FIRST_OF_DECEMBER) == 1

    [report] = Report.objects.filter(kind=ReportKind.MONTHLY)
    assert (report.first, report.last, report.entity_id) == (
        dt.date(2026, 11, 1),
        dt.date(2026, 11, 30),
        None,  # nobody subscribed to Riyadh's monthly report
    )
    assert report_mails() == ["executive@moe.example"]
    figures = {row[0]: row[1:3] for row in rows_of(workbook(report).worksheets[0]) if row[0]}
    assert figures[label("Requests submitted")] == (7, 0)

    report_monthly_task.call_local(now=FIRST_OF_DECEMBER)
    assert Report.objects.filter(kind=ReportKind.MONTHLY).count() == 1
    assert report_mails() == ["executive@moe.example"]


def runs_at(task, *when: int) -> bool:
    """Whether the consumer's scheduler starts `task` at this (naive, UTC) minute."""
    return task.s().validate_datetime(dt.datetime(*when))  # noqa: DTZ001


def test_the_jobs_run_at_seven_in_riyadh() -> None:
    # the queue's clock is UTC: 07:00 in Riyadh is 04:00 UTC
    assert runs_at(report_weekly_task, 2026, 11, 29, 4, 0)  # a Sunday
    assert not runs_at(report_weekly_task, 2026, 11, 29, 7, 0)
    assert not runs_at(report_weekly_task, 2026, 11, 30, 4, 0)  # a Monday
    assert runs_at(report_monthly_task, 2026, 12, 1, 4, 0)
    assert not runs_at(report_monthly_task, 2026, 12, 1, 4, 1)
    assert not runs_at(report_monthly_task, 2026, 12, 2, 4, 0)


def test_the_email_links_to_the_report_and_carries_no_figures() -> None:
    context = {"portal_url": "https://tawasul.moe.example/", "report_url": ""}
    with translation.override("ar"):
        text = render_to_string("notifications/report_ready_email.txt", context)
        html = render_to_string("notifications/report_ready_email.html", context)
        linked = render_to_string(
            "notifications/report_ready_email.html",
            {**context, "report_url": "https://tawasul.moe.example/console/reports/7/"},
        )
    assert "https://tawasul.moe.example/console/reports/" in text
    assert 'href="https://tawasul.moe.example/console/reports/"' in html
    assert 'href="https://tawasul.moe.example/console/reports/7/"' in linked
    assert not re.search(r"\d", text.replace("https://tawasul.moe.example/console/reports/", ""))


def test_the_outbox_can_render_the_report_email(ministry, week, subscribers) -> None:
    report_weekly_task.call_local(now=SUNDAY_MORNING)
    message = OutboxMessage.objects.filter(template="report_ready").first()

    rendered = notification_render_email(message)

    assert "/console/reports/" in rendered.text


# --- on demand, from the console -------------------------------------------------------------


@pytest.mark.usefixtures("week", "immediate_queue")
def test_preparing_now_from_the_console_runs_to_done(
    client, staff, django_capture_on_commit_callbacks
) -> None:
    client.force_login(staff.central_supervisor)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("console:report_generate"),
            {"grain": "week", "on": "2026-11-26", "entity": ""},
        )

    report = Report.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("console:report", args=[report.pk])
    assert (report.kind, report.first, report.last) == (ReportKind.ON_DEMAND, WEEK.first, WEEK.last)
    assert (report.status, report.progress) == (ReportStatus.DONE, 100)
    assert report.requested_by == staff.central_supervisor

    fragment = client.get(
        reverse("console:report_progress", args=[report.pk]), HTTP_HX_REQUEST="true"
    )
    assert fragment.status_code == 200
    body = fragment.content.decode()
    assert 'data-status="done"' in body
    assert "hx-trigger" not in body  # finished: the polling stops
    assert reverse("console:report_download", args=[report.pk, "pdf"]) in body

    pdf = client.get(reverse("console:report_download", args=[report.pk, "pdf"]))
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert b"".join(pdf.streaming_content).startswith(b"%PDF")
    xlsx = client.get(reverse("console:report_download", args=[report.pk, "xlsx"]))
    assert xlsx.status_code == 200
    assert load_workbook(io.BytesIO(b"".join(xlsx.streaming_content))).worksheets


def test_a_waiting_report_polls_its_progress(client, ministry, staff) -> None:
    report = report_request(period=WEEK, entity=ministry.riyadh, by=staff.riyadh_supervisor)
    client.force_login(staff.riyadh_supervisor)

    page = client.get(reverse("console:report", args=[report.pk]))
    fragment = client.get(
        reverse("console:report_progress", args=[report.pk]), HTTP_HX_REQUEST="true"
    )
    plain = client.get(reverse("console:report_progress", args=[report.pk]))

    assert page.status_code == 200
    assert 'hx-trigger="every 2s"' in page.content.decode()
    assert 'http-equiv="refresh"' in page.content.decode()  # without JavaScript
    assert fragment.status_code == 200
    assert 'hx-trigger="every 2s"' in fragment.content.decode()
    assert "<html" not in fragment.content.decode()
    assert plain.status_code == 302
    assert (
        client.get(reverse("console:report_download", args=[report.pk, "pdf"])).status_code == 404
    )


# --- who sees what ---------------------------------------------------------------------------


@pytest.fixture
def two_reports(ministry, staff):
    ministry_wide = report_request(period=WEEK, entity=None, by=staff.central_supervisor)
    riyadh = report_request(period=WEEK, entity=ministry.riyadh, by=staff.riyadh_supervisor)
    return ministry_wide, riyadh


def test_an_entity_user_sees_its_entity_report_not_the_ministry_one(
    client, staff, two_reports
) -> None:
    ministry_wide, riyadh = two_reports
    Report.objects.update(status=ReportStatus.DONE, progress=100, pdf="reports/x.pdf")
    client.force_login(staff.riyadh_agent)

    archive = client.get(reverse("console:reports"))
    assert archive.status_code == 200
    assert f'data-report="{riyadh.pk}"' in archive.content.decode()
    assert f'data-report="{ministry_wide.pk}"' not in archive.content.decode()
    assert client.get(reverse("console:report", args=[riyadh.pk])).status_code == 200
    for name, args in (
        ("console:report", [ministry_wide.pk]),
        ("console:report_progress", [ministry_wide.pk]),
        ("console:report_download", [ministry_wide.pk, "pdf"]),
        ("console:report_download", [ministry_wide.pk, "xlsx"]),
    ):
        assert client.get(reverse(name, args=args)).status_code == 404
    client.force_login(staff.makkah_agent)
    assert client.get(reverse("console:report", args=[riyadh.pk])).status_code == 404
    assert list(reports_for(staff.executive)) == list(reports_for(staff.central_agent))
    assert set(reports_for(staff.executive)) == {ministry_wide, riyadh}


def test_the_archive_reads_a_fixed_number_of_queries(
    client, ministry, staff, django_assert_max_num_queries
) -> None:
    client.force_login(staff.central_supervisor)
    report_request(period=WEEK, entity=None, by=staff.central_supervisor)
    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse("console:reports")).status_code == 200
    for entity in (ministry.riyadh, ministry.makkah, ministry.university, None):
        report_request(period=WEEK, entity=entity, by=staff.central_supervisor)

    with django_assert_max_num_queries(len(few)):
        page = client.get(reverse("console:reports"))

    assert page.content.decode().count("data-report=") == 5


def test_the_admin_lists_reports_read_only(client, ministry, staff, two_reports) -> None:
    ministry_wide, riyadh = two_reports
    staff.riyadh_supervisor.is_staff = True
    staff.riyadh_supervisor.save(update_fields=["is_staff"])
    client.force_login(staff.riyadh_supervisor)

    listing = client.get(reverse("admin:insights_report_changelist"))

    assert listing.status_code == 200
    assert reverse("admin:insights_report_change", args=[riyadh.pk]) in listing.content.decode()
    assert reverse("admin:insights_report_change", args=[ministry_wide.pk]) not in (
        listing.content.decode()
    )
    assert client.get(reverse("admin:insights_report_change", args=[riyadh.pk])).status_code == 200
    assert client.get(reverse("admin:insights_report_add")).status_code == 403


def test_anonymous_and_grantless_users_are_kept_out(client, staff, two_reports) -> None:
    ministry_wide, _riyadh = two_reports
    for url in (
        reverse("console:reports"),
        reverse("console:report", args=[ministry_wide.pk]),
        reverse("console:report_download", args=[ministry_wide.pk, "pdf"]),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert reverse("console:login") in response["Location"]
    client.force_login(staff.outsider)
    assert client.get(reverse("console:reports")).status_code == 403


@pytest.mark.parametrize(
    ("who", "data"),
    [
        ("central_supervisor", {"grain": "fortnight", "on": "2026-11-26", "entity": ""}),
        ("central_supervisor", {"grain": "week", "on": "26/11/2026", "entity": ""}),
        ("central_supervisor", {"grain": "week", "on": "2999-01-01", "entity": ""}),
        ("central_supervisor", {"grain": "hijri_month", "on": "1800-01-01", "entity": ""}),
        ("riyadh_agent", {"grain": "week", "on": "2026-11-26", "entity": ""}),  # not ministry-wide
        ("riyadh_agent", {"grain": "week", "on": "2026-11-26", "entity": "makkah"}),  # out of reach
    ],
)
def test_bad_input_shows_the_form_again(client, ministry, staff, who, data) -> None:
    if data["entity"] == "makkah":
        data = {**data, "entity": str(ministry.makkah.pk)}
    client.force_login(getattr(staff, who))

    response = client.post(reverse("console:report_generate"), data)

    assert response.status_code == 400
    assert 'id="report-request-form"' in response.content.decode()
    assert "errorlist" in response.content.decode()
    assert not Report.objects.exists()


def test_the_services_refuse_a_scope_out_of_reach(ministry, staff) -> None:
    with pytest.raises(AccessDenied):
        report_request(period=WEEK, entity=None, by=staff.riyadh_agent)
    with pytest.raises(NotFound):
        report_request(period=WEEK, entity=ministry.makkah, by=staff.riyadh_agent)
    with pytest.raises(AccessDenied):
        report_subscription_set(user=staff.riyadh_agent, entity=None, weekly=True, monthly=False)


def test_subscription_settings_in_the_console(client, ministry, staff) -> None:
    client.force_login(staff.riyadh_supervisor)
    url = reverse("console:report_subscription")

    refused = client.post(url, {"weekly": "on", "entity": ""})  # the ministry is out of reach
    saved = client.post(url, {"weekly": "on", "entity": str(ministry.riyadh_office.pk)})

    assert refused.status_code == 400
    assert saved.status_code == 302
    subscription = ReportSubscription.objects.get(user=staff.riyadh_supervisor)
    assert (subscription.entity, subscription.weekly, subscription.monthly) == (
        ministry.riyadh_office,
        True,
        False,
    )
    assert subscription.active
    page = client.get(reverse("console:reports")).content.decode()
    assert 'id="subscription-state"' in page

    client.post(url, {"entity": str(ministry.riyadh.pk)})  # neither: unsubscribed
    subscription.refresh_from_db()
    assert not subscription.active
