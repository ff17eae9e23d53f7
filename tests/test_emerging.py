"""Top and emerging issues (issue 12): the spike test on synthetic series with known spikes
and yearly peaks, the reading of the summary against counts worked out by hand, clusters
that recover planted topics, the daily alert (each issue once, one e-mail per recipient),
the dashboard's section scoped by the access layer, and the minister's report (PDF, XLSX)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import random
import shutil
from collections import Counter
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import translation
from openpyxl import load_workbook

from tawasul.cases.models import Request
from tawasul.channels.models import OutboxMessage
from tawasul.channels.notifications import notification_render_email
from tawasul.core.ids import tracking_number_new
from tawasul.directory.models import Role, StaffGrant
from tawasul.insights.emerging import (
    IssueRow,
    issue_scores,
    spike_test,
    spike_window,
)
from tawasul.insights.emerging_clusters import issue_clusters
from tawasul.insights.emerging_tasks import emerging_issues_task
from tawasul.insights.models import EmergingIssue
from tawasul.insights.periods import Grain, ReportPeriod, period_containing
from tawasul.insights.report_models import ReportKind
from tawasul.insights.reports import report_generate, reports_periodic_create
from tawasul.insights.summary import insights_summarise

RIYADH = ZoneInfo("Asia/Riyadh")
THRESHOLD = 3.0
WIDENING = 1 + math.pi / 16  # the variance of a median of eight periods

# --- the spike test on synthetic series --------------------------------------------------------

SERIES_FIRST, SERIES_LAST = dt.date(2024, 1, 1), dt.date(2026, 12, 31)
# Results day and the admission week recur each year on the same weekday (364 days apart).
RESULTS_DAYS = (dt.date(2024, 6, 19), dt.date(2025, 6, 18), dt.date(2026, 6, 17))
ADMISSION_WEEKS = (dt.date(2024, 8, 18), dt.date(2025, 8, 17), dt.date(2026, 8, 16))
SPIKE_DAY = dt.date(2026, 3, 11)  # a Wednesday: 130 requests instead of ~40
SPIKE_WEEK = dt.date(2026, 10, 4)  # Sunday 4 – Saturday 10 October: 80 % more every day
BLIP_DAY = dt.date(2026, 4, 15)


def synthetic_series(scale: float = 1.0, seed: int = 2026) -> dict[dt.date, int]:
    """Poisson counts a day: 40 on working days, 12 on Fridays and Saturdays (× `scale`);
    results day five times busier (the day after 2.5 times), the admission week twice,
    every year; one planted spike day and one planted spike week in 2026."""
    rng = np.random.default_rng(seed)
    series, day = {}, SERIES_FIRST
    while day <= SERIES_LAST:
        rate = (12.0 if day.isoweekday() in (5, 6) else 40.0) * scale
        if day in RESULTS_DAYS:
            rate *= 5
        if day - dt.timedelta(days=1) in RESULTS_DAYS:
            rate *= 2.5
        if any(0 <= (day - first).days < 7 for first in ADMISSION_WEEKS):
            rate *= 2
        if 0 <= (day - SPIKE_WEEK).days < 7:
            rate *= 1.8
        if day == SPIKE_DAY:
            rate = 130 * scale
        series[day] = int(rng.poisson(rate))
        day += dt.timedelta(days=1)
    return series


def spike_of(series: dict[dt.date, int], period: ReportPeriod, *, seasons: bool = True):  # type: ignore[no-untyped-def]
    """The spike test of `period` over the series, as `issue_scores` runs it per key."""
    window = spike_window(period, start=SERIES_FIRST, through=period.last)
    if not seasons:
        window = type(window)(window.period, window.through, window.history, [])
    counts = {
        p.first: sum(series.get(p.first + dt.timedelta(days=n), 0) for n in range(p.days))
        for p in window.periods
    }
    return window.test(counts)


def flagged(series: dict[dt.date, int], grain: Grain, year: int = 2026) -> list[dt.date]:
    flagged, day = [], dt.date(year, 1, 1)
    while day.year == year:
        period = period_containing(grain, day)
        if spike_of(series, period).emerging:
            flagged.append(period.first)
        day = period.last + dt.timedelta(days=1)
    return flagged


@pytest.fixture(autouse=True)
def _threshold(settings):
    settings.TAWASUL_EMERGING_SCORE = THRESHOLD


def test_a_planted_spike_day_and_week_are_found_and_nothing_else() -> None:
    series = synthetic_series()

    planted_week = {SPIKE_WEEK + dt.timedelta(days=n) for n in range(7)}
    days = flagged(series, Grain.DAY)
    assert SPIKE_DAY in days
    assert set(days) <= {SPIKE_DAY} | planted_week  # and some days of the planted week
    assert len(flagged(series, Grain.DAY, 2025)) <= 1  # noise: a day in a year at most
    assert flagged(series, Grain.WEEK) == [SPIKE_WEEK]
    assert flagged(series, Grain.WEEK, 2025) == []
    assert flagged(series, Grain.MONTH) == []  # a week's rise is lost in its month


def test_a_peak_that_recurs_each_year_is_expected_not_flagged() -> None:
    series = synthetic_series()
    results_day = period_containing(Grain.DAY, RESULTS_DAYS[-1])
    admission = period_containing(Grain.WEEK, ADMISSION_WEEKS[-1])

    for period in (results_day, admission):
        spike = spike_of(series, period)
        assert not spike.emerging
        assert spike.season > 1.5  # last year's same time was that much busier
        # without the season the same counts are a spike: the season is what spares them
        assert spike_of(series, period, seasons=False).emerging


def test_a_blip_of_few_requests_is_not_an_issue() -> None:
    history = [1, 0, 1, 2, 1, 1, 0, 1]
    spike = spike_test(observed=6, history=history, threshold=THRESHOLD)

    assert spike.score is not None
    assert spike.score >= THRESHOLD  # a large z: five above a baseline of one …
    assert not spike.emerging  # … but six requests are not an issue (minimum 10)
    assert spike_test(observed=16, history=history, threshold=THRESHOLD).emerging


def test_the_score_is_a_poisson_z_widened_by_a_noisy_history() -> None:
    steady = spike_test(observed=30, history=[10] * 8, threshold=THRESHOLD)
    assert (steady.baseline, steady.expected) == (10.0, 10.0)
    # z = 20 / sqrt(10 × (1 + π/16) + 1): Poisson, widened for the median of 8 periods
    assert steady.score == round(20 / math.sqrt(10 * WIDENING + 1), 2)
    assert steady.emerging

    # a key that swings between 10 and 60 is not news at 90
    noisy = spike_test(observed=90, history=[10, 60, 12, 58, 9, 61, 11, 59], threshold=THRESHOLD)
    assert noisy.expected == 35.0
    assert noisy.score is not None
    assert noisy.score < THRESHOLD
    assert not noisy.emerging

    # a large key's drift: 5 % over 5,000 is a z of 3.2, not an issue (rise under 50 %)
    large = spike_test(observed=5250, history=[5000] * 8, threshold=THRESHOLD)
    assert large.score is not None
    assert large.score > THRESHOLD
    assert not large.emerging

    # too little history to judge
    assert spike_test(observed=50, history=[1, 2], threshold=THRESHOLD).expected is None


def test_the_season_is_shrunk_toward_one_when_last_year_was_small() -> None:
    big = spike_test(observed=0, history=[10] * 8, last_years=[(300, [50] * 8)])
    small = spike_test(observed=0, history=[10] * 8, last_years=[(3, [1] * 8)])

    assert big.season == round(305 / 55, 3)  # close to 300 / 50
    assert small.season == round(8 / 6, 3)  # far from 3 / 1


# --- data in the database ---------------------------------------------------------------------

TOPICS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "results": (
        ("تأخر ظهور نتيجة الاختبار", "خطأ في درجات الاختبار النهائي", "لم تظهر نتائج الفصل"),
        (
            "نتيجة الاختبار النهائي لم تظهر في نظام نور",
            "الدرجات المرصودة في مادة الرياضيات غير صحيحة",
            "نطلب مراجعة ورقة الاختبار وإعادة التصحيح",
            "الشهادة لا تحتوي على درجة الاختبار الأخير",
            "رصد الدرجات متأخر منذ أسبوع والنتيجة غير معلنة",
        ),
    ),
    "transport": (
        ("تأخر الحافلة المدرسية", "سائق النقل المدرسي", "إلغاء خط الحافلة"),
        (
            "الحافلة تتأخر كل صباح عن موعدها",
            "سائق الحافلة يقود بسرعة عالية في الحي",
            "النقل المدرسي لم يعد يمر على حينا",
            "الطلاب ينتظرون الحافلة في الشمس طويلاً",
            "خط سير الحافلة تغير دون إبلاغ أولياء الأمور",
        ),
    ),
    "absence": (
        ("غياب معلم الرياضيات", "غياب المعلمة المتكرر", "حصص بدون معلم"),
        (
            "المعلم غائب منذ ثلاثة أسابيع ولا يوجد بديل",
            "الحصص تمر بدون معلم والطلاب في الفصل وحدهم",
            "المعلمة لم تحضر الحصص هذا الشهر",
            "نطلب تعيين معلم بديل لمادة العلوم",
            "غياب المعلم أثر على مستوى الطلاب في الفصل",
        ),
    ),
}
COMMON = (
    "السلام عليكم ورحمة الله",
    "أرجو حل المشكلة بسرعة",
    "ابني في الصف الرابع الابتدائي",
    "في ابتدائية الأمير سلطان بالرياض",
    "وشكراً لكم",
    "المدرسة لم ترد على اتصالاتنا",
    "نرجو المتابعة والاهتمام",
)


def topic_texts(rng: random.Random, topic: str, count: int) -> list[tuple[str, str]]:
    subjects, phrases = TOPICS[topic]
    texts = []
    for _ in range(count):
        parts = rng.sample(phrases, 2) + rng.sample(COMMON, 3)
        rng.shuffle(parts)
        texts.append((rng.choice(subjects), "، ".join(parts) + "."))
    return texts


def make_requests(who, entity, category, when, texts) -> list[Request]:  # type: ignore[no-untyped-def]
    """Requests as they were filed, dated `when` (test data, written directly)."""
    made = Request.objects.bulk_create(
        Request(
            tracking_number=tracking_number_new(),
            kind="complaint",
            channel="portal",
            category=category,
            beneficiary=who,
            entity=entity,
            subject=subject,
            description=description,
        )
        for subject, description in texts
    )
    Request.objects.filter(pk__in=[r.pk for r in made]).update(created_at=when)
    return made


D = dt.date(2026, 11, 25)  # a Wednesday
HISTORY = [4, 5, 6, 5, 4, 6, 5, 5]  # the same weekday 1…8 weeks before
LAST_YEAR, LAST_YEAR_HISTORY = 12, 4  # 364 days before, and each of its 8 weeks before
ON_THE_DAY = 30
START = D - dt.timedelta(days=500)


def at(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(10), tzinfo=RIYADH)


@pytest.fixture
def history(ministry, sara):  # type: ignore[no-untyped-def]
    """Riyadh, category exams: HISTORY on the same weekday of the eight weeks before D,
    LAST_YEAR requests 364 days before D and LAST_YEAR_HISTORY on each of its eight weeks
    before, ON_THE_DAY requests on D (three topics). Makkah, teacher transfer: one request
    500 days before D (the summary's first day) and three on D. Summarised."""
    rng = random.Random(12)
    riyadh, exams = ministry.riyadh, ministry.exams

    def texts(count: int) -> list[tuple[str, str]]:
        return topic_texts(rng, rng.choice(list(TOPICS)), count)

    make_requests(sara, ministry.makkah, ministry.transfer, at(START), texts(1))
    for weeks, count in enumerate(HISTORY, start=1):
        make_requests(sara, riyadh, exams, at(D - dt.timedelta(weeks=weeks)), texts(count))
    year_ago = D - dt.timedelta(days=364)
    make_requests(sara, riyadh, exams, at(year_ago), texts(LAST_YEAR))
    for weeks in range(1, 9):
        when = at(year_ago - dt.timedelta(weeks=weeks))
        make_requests(sara, riyadh, exams, when, texts(LAST_YEAR_HISTORY))
    today = [
        request
        for topic in TOPICS
        for request in make_requests(sara, riyadh, exams, at(D), topic_texts(rng, topic, 10))
    ]
    make_requests(sara, ministry.makkah, ministry.transfer, at(D), texts(3))
    insights_summarise(first=START, last=D)
    return today


def scores_of(rows: list[IssueRow]) -> dict[tuple[str, str], IssueRow]:
    return {(row.dimension, row.key): row for row in rows}


# --- the summary read against figures worked out by hand ---------------------------------------


@pytest.mark.usefixtures("history")
def test_a_day_is_read_from_the_summary_as_worked_out_by_hand(
    ministry, django_assert_max_num_queries
) -> None:
    with django_assert_max_num_queries(5):
        rows = scores_of(issue_scores(user=None, period=period_containing(Grain.DAY, D)))

    # baseline: median of 4 5 6 5 4 6 5 5 = 5; season: the busiest of the days 364, 365 and
    # 366 back, (12 + 5) / (4 + 5) against (0 + 5) / (0 + 5); MAD 0.5 is well under Poisson
    season = 17 / 9
    expected = 5 * season
    for key in (("category", str(ministry.exams.pk)), ("entity", str(ministry.riyadh.pk))):
        spike = rows[key].spike
        assert (spike.observed, spike.baseline, spike.season) == (30, 5.0, round(season, 3))
        assert spike.expected == round(expected, 2)
        assert spike.score == round((30 - expected) / math.sqrt(expected * WIDENING + 1), 2)
        assert spike.emerging
    makkah = rows[("entity", str(ministry.makkah.pk))].spike
    assert (makkah.observed, makkah.expected, makkah.score) == (3, 0.0, 3.0)
    assert not makkah.emerging  # three requests where there were none: not an issue
    assert rows[("category", str(ministry.transfer.pk))].spike.observed == 3


@pytest.mark.usefixtures("history")
def test_a_week_so_far_and_a_month_are_read_as_worked_out_by_hand(ministry) -> None:
    key = ("category", str(ministry.exams.pk))
    week = period_containing(Grain.WEEK, D)  # Sunday 22 – Saturday 28 November

    spike = scores_of(issue_scores(user=None, period=week, through=D))[key].spike

    # four days counted (Sunday to Wednesday): the full weeks before scaled by 4/7
    share = 4 / 7
    season = (LAST_YEAR * share + 5) / (LAST_YEAR_HISTORY * share + 5)  # 52 weeks back
    assert spike.observed == ON_THE_DAY
    assert spike.baseline == round(5 * share, 2)
    assert spike.season == round(season, 3)
    assert spike.expected == round(5 * share * season, 2)

    # November: 6 + 5 + 4 history requests and D's 30. The months before: October 20,
    # September 5, then nothing (median 0). November 2025: 12 + 3 × 4, against October
    # 2025 (5 × 4) and nothing before; July 2025 began before the first summarised day
    month = period_containing(Grain.MONTH, D)
    complete = scores_of(issue_scores(user=None, period=month, through=month.last))[key].spike
    assert (complete.observed, complete.baseline, complete.expected) == (45, 0.0, 0.0)
    assert complete.season == round((24 + 5) / 5, 3)
    # the month so far (to 25 November): its days, last year's November scaled by 25/30
    so_far = scores_of(issue_scores(user=None, period=month, through=D))[key].spike
    assert so_far.observed == 45
    assert so_far.season == round((24 * 25 / 30 + 5) / 5, 3)


def test_without_history_nothing_is_judged(client, ministry, staff, sara) -> None:
    make_requests(
        sara, ministry.riyadh, ministry.exams, at(D), topic_texts(random.Random(1), "results", 40)
    )
    insights_summarise(first=D, last=D)
    month = period_containing(Grain.MONTH, D)

    [exams, riyadh] = sorted(
        issue_scores(user=None, period=month, through=D), key=lambda r: r.dimension
    )
    assert (exams.spike.observed, exams.spike.expected, exams.spike.emerging) == (40, None, False)
    assert riyadh.spike.expected is None
    response = page(client, staff.riyadh_supervisor, grain="month")  # a month still running
    assert response.status_code == 200
    assert "issue--emerging" not in response.text


# --- clusters ----------------------------------------------------------------------------------


def test_clusters_recover_the_planted_topics(ministry, sara) -> None:
    rng = random.Random(7)
    topic_of = {}
    for topic in TOPICS:
        for request in make_requests(
            sara, ministry.riyadh, ministry.exams, at(D), topic_texts(rng, topic, 60)
        ):
            topic_of[request.pk] = topic
    week = period_containing(Grain.WEEK, D)

    clusters = issue_clusters(category=ministry.exams, period=week)

    assert sum(cluster.size for cluster in clusters) == 180
    dominant = []
    for cluster in clusters:
        topic, count = Counter(topic_of[pk] for pk in cluster.request_ids).most_common(1)[0]
        assert count / cluster.size >= 0.8, (cluster.terms, count, cluster.size)
        dominant.append(topic)
        assert {pk for pk, _tracking in cluster.examples} <= set(cluster.request_ids)
        assert len(cluster.terms) == 5
    assert set(dominant) == set(TOPICS)  # each topic found
    assert issue_clusters(category=ministry.exams, period=week) == clusters  # deterministic
    assert issue_clusters(category=ministry.transfer, period=week) == []  # no text to group


# --- the daily alert ----------------------------------------------------------------------------

MORNING_AFTER = dt.datetime.combine(D + dt.timedelta(days=1), dt.time(6, 30), tzinfo=RIYADH)


@pytest.fixture
def centre(staff, ministry):  # type: ignore[no-untyped-def]
    """E-mail addresses for the staff; a centre manager at the ministry beside its supervisor."""
    manager = get_user_model().objects.create_user(username="central_manager", password="x-Y-z-123")
    StaffGrant.objects.create(user=manager, entity=ministry.ministry, role=Role.CENTRE_MANAGER)
    for user in (
        staff.central_supervisor,
        staff.central_agent,
        staff.quality_officer,
        staff.executive,
        staff.riyadh_supervisor,
        manager,
    ):
        user.email = f"{user.username}@moe.example"
        user.save(update_fields=["email"])
    return manager


@pytest.mark.usefixtures("history", "centre")
def test_the_daily_job_records_each_issue_once_and_mails_the_centre_once(ministry) -> None:
    first = emerging_issues_task.call_local(now=MORNING_AFTER)
    again = emerging_issues_task.call_local(now=MORNING_AFTER)

    issues = EmergingIssue.objects.order_by("grain", "dimension")
    exams, riyadh = str(ministry.exams.pk), str(ministry.riyadh.pk)
    assert sorted((i.grain, i.dimension, i.key) for i in issues) == [
        ("day", "category", exams),
        ("day", "entity", riyadh),
        ("month", "category", exams),
        ("month", "entity", riyadh),
        ("week", "category", exams),
        ("week", "entity", riyadh),
    ]
    assert all(issue.announced_at is not None for issue in issues)
    day = issues.get(grain="day", dimension="category")
    assert (day.first, day.last, day.observed) == (D, D, ON_THE_DAY)
    week = issues.get(grain="week", dimension="category")
    assert (week.first, week.last) == (dt.date(2026, 11, 22), D)  # the week so far
    clusters = day.detail["clusters"]
    assert clusters
    assert sum(cluster["size"] for cluster in clusters) == ON_THE_DAY
    assert set(clusters[0]) == {"terms", "size", "examples"}
    assert set(clusters[0]["examples"][0]) == {"id", "tracking"}  # no text of a request

    mails = OutboxMessage.objects.filter(template="emerging_issues")
    assert sorted(mails.values_list("recipient", flat=True)) == [
        "central_manager@moe.example",
        "central_supervisor@moe.example",
    ]
    assert (first, again) == (2, 0)
    message = mails.first()
    assert message is not None
    assert set(message.context) == {"dashboard_url"}
    assert message.context["dashboard_url"].endswith(
        f"{reverse('console:insights')}?grain=day&on={D}#issues"
    )
    rendered = notification_render_email(message)
    assert "/console/insights/?grain=day" in rendered.text
    assert "سارة" not in rendered.text


def test_the_job_runs_at_half_past_six_in_riyadh() -> None:
    def runs_at(*when: int) -> bool:
        return emerging_issues_task.s().validate_datetime(dt.datetime(*when))  # noqa: DTZ001

    assert runs_at(2026, 11, 26, 3, 30)  # UTC
    assert not runs_at(2026, 11, 26, 6, 30)


@pytest.mark.usefixtures("history", "centre")
def test_an_issue_recorded_on_another_worker_is_not_announced_twice(ministry) -> None:
    from tawasul.insights.emerging import emerging_issues_announce, emerging_issues_detect

    created = emerging_issues_detect(now=MORNING_AFTER)
    assert emerging_issues_detect(now=MORNING_AFTER) == []  # the second worker makes none
    assert emerging_issues_announce(now=MORNING_AFTER) == 2
    assert emerging_issues_announce(now=MORNING_AFTER) == 0
    assert len(created) == EmergingIssue.objects.count() == 6


# --- the dashboard --------------------------------------------------------------------------------


def page(client, user, **params):  # type: ignore[no-untyped-def]
    client.force_login(user)
    query = {"grain": "day", "on": D.isoformat(), **params}
    return client.get(reverse("console:insights"), query)


def keys_shown(response, table: str) -> set[str]:  # type: ignore[no-untyped-def]
    for section in response.context["issues"]["tables"]:
        if section["id"] == table:
            return {row.key for row, _queue, _clusters in section["rows"]}
    raise AssertionError(table)


@pytest.mark.usefixtures("history")
def test_the_dashboard_section_is_scoped_like_the_rest(client, ministry, staff) -> None:
    exams, transfer = str(ministry.exams.pk), str(ministry.transfer.pk)
    riyadh, makkah = str(ministry.riyadh.pk), str(ministry.makkah.pk)

    central = page(client, staff.central_supervisor)
    assert keys_shown(central, "category-volume") == {exams, transfer}
    assert keys_shown(central, "entity-volume") == {riyadh, makkah}
    assert f'data-key="{exams}" class="issue--emerging" data-emerging="1"' in central.text

    ours = page(client, staff.riyadh_supervisor)
    assert keys_shown(ours, "category-volume") == {exams}
    assert keys_shown(ours, "entity-volume") == {riyadh}

    theirs = page(client, staff.makkah_agent)
    assert keys_shown(theirs, "category-volume") == {transfer}  # counted within its scope
    assert keys_shown(theirs, "entity-rise") == {makkah}
    assert "issue--emerging" not in theirs.text


def test_the_clusters_link_to_the_workspace_within_scope(client, ministry, staff, history) -> None:
    exams = str(ministry.exams.pk)
    ours = page(client, staff.riyadh_supervisor, clusters=exams)
    clusters = ours.context["issues"]["clusters"]
    assert clusters
    pk, tracking = clusters[0].examples[0]
    assert f'href="{reverse("console:request", args=[pk])}"' in ours.text
    assert tracking in ours.text

    theirs = page(client, staff.makkah_agent, clusters=exams)
    assert theirs.context["issues"]["clusters"] == []
    assert not any(request.tracking_display in theirs.text for request in history)


@pytest.mark.usefixtures("history")
def test_the_emerging_table_downloads_as_csv_and_in_the_workbook(client, ministry, staff) -> None:
    response = page(client, staff.makkah_agent, format="csv", table="emerging")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    with translation.override("ar"):
        names = {row[1] for row in rows[1:]}
        assert names == {ministry.transfer.name, ministry.makkah.name}

    book = load_workbook(io.BytesIO(page(client, staff.central_supervisor, format="xlsx").content))
    sheet = [tuple(row) for row in book["emerging"].iter_rows(values_only=True)]
    with translation.override("ar"):
        exams_row = next(row for row in sheet if row[1] == ministry.exams.name)
    assert exams_row[2] == ON_THE_DAY
    assert exams_row[-1] == label("Yes")


# --- the minister's report ----------------------------------------------------------------------


def label(text: str) -> str:
    with translation.override("ar"):
        return str(translation.gettext(text))


@pytest.fixture
def weekly_report(settings, tmp_path, history):  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path / "media"
    sunday = dt.datetime(2026, 11, 29, 7, 0, tzinfo=RIYADH)
    [report] = reports_periodic_create(kind=ReportKind.WEEKLY, now=sunday)
    return report_generate(report_id=report.pk, now=sunday)


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
def test_the_report_pdf_has_the_top_and_emerging_issues(ministry, weekly_report, history) -> None:
    from tests.test_reports import pdf_text

    text = pdf_text(weekly_report)

    assert label("Top and emerging issues") in text
    assert "نتائج الاختبارات" in text  # the emerging category …
    week = period_containing(Grain.WEEK, D)
    clusters = issue_clusters(category=ministry.exams, period=week)
    assert clusters[0].examples[0][1] in text  # … its clusters' tracking numbers
    for request in history[:5]:
        assert request.subject not in text  # never what a person wrote
        assert request.description[:30] not in text


def test_the_report_workbook_has_the_issues_sheet(ministry, weekly_report) -> None:
    with weekly_report.xlsx.open("rb") as handle:
        book = load_workbook(io.BytesIO(handle.read()))
    title = label("Top and emerging issues")[:31]

    assert title in book.sheetnames
    assert book.sheetnames.index(title) < book.sheetnames.index(label("Backlog by age")[:31])
    rows = [tuple(row) for row in book[title].iter_rows(values_only=True)]
    exams = next(row for row in rows if row[1] == "نتائج الاختبارات")
    assert exams[2] == ON_THE_DAY
    assert exams[-1] == label("Yes")
    clustered = [row for row in rows if row[0] == "نتائج الاختبارات"]
    assert clustered  # the clusters: words, size, tracking numbers
    assert sum(row[2] for row in clustered) == ON_THE_DAY


@pytest.mark.django_db
def test_a_platform_without_a_directory_has_nobody_to_alert() -> None:
    from tawasul.directory.models import Entity
    from tawasul.insights.emerging import alert_recipients

    assert not Entity.objects.exists()
    assert alert_recipients() == []
