"""Insights: reporting periods (Gregorian and Hijri) and the dashboard figures, checked
against counts worked out by hand on fixed data, and scoped by the access layer."""

from __future__ import annotations

import datetime as dt
import itertools
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import translation

from tawasul.cases.models import Request
from tawasul.core.errors import InvalidInput
from tawasul.feedback.models import SatisfactionResponse
from tawasul.insights.models import DailySummary, MonthlySummary
from tawasul.insights.periods import Grain, period_containing, period_parse
from tawasul.insights.selectors import (
    insights_answer_days,
    insights_backlog_ageing,
    insights_headline,
    insights_league,
    insights_trend,
    insights_volume,
    wilson_interval,
)
from tawasul.insights.summary import (
    answer_days_bucket,
    insights_summarise,
    insights_summarise_all,
)
from tests.insights_data import answered_on, submitted_on

RIYADH = ZoneInfo("Asia/Riyadh")


# --- periods -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("grain", "day", "first", "last"),
    [
        ("day", "2026-11-28", "2026-11-28", "2026-11-28"),
        ("week", "2026-11-28", "2026-11-22", "2026-11-28"),  # Sunday 22 to Saturday 28
        ("week", "2026-11-29", "2026-11-29", "2026-12-05"),  # a Sunday starts its week
        ("month", "2026-02-14", "2026-02-01", "2026-02-28"),
        ("month", "2028-02-14", "2028-02-01", "2028-02-29"),
        ("quarter", "2026-11-28", "2026-10-01", "2026-12-31"),
        ("year", "2026-11-28", "2026-01-01", "2026-12-31"),
        # 28 November 2026 is 18 Jumada al-Akhirah 1448: the month runs 11 Nov – 9 Dec
        ("hijri_month", "2026-11-28", "2026-11-11", "2026-12-09"),
        # 1 Muharram 1448 = 16 June 2026; 1 Muharram 1449 = 6 June 2027
        ("hijri_year", "2026-11-28", "2026-06-16", "2027-06-05"),
    ],
)
def test_the_period_holding_a_day(grain: str, day: str, first: str, last: str) -> None:
    period = period_containing(grain, dt.date.fromisoformat(day))
    assert (period.first.isoformat(), period.last.isoformat()) == (first, last)


def test_a_period_is_bounded_by_riyadh_midnights_and_knows_the_one_before() -> None:
    period = period_containing(Grain.MONTH, dt.date(2026, 3, 10))
    assert period.start == dt.datetime(2026, 3, 1, tzinfo=RIYADH)
    assert period.end == dt.datetime(2026, 4, 1, tzinfo=RIYADH)
    assert period.previous() == period_containing(Grain.MONTH, dt.date(2026, 2, 1))
    assert period.following().first == dt.date(2026, 4, 1)
    hijri = period_containing(Grain.HIJRI_MONTH, dt.date(2026, 11, 28))
    assert hijri.previous().last == dt.date(2026, 11, 10)


def test_buckets_cover_the_period_without_gaps() -> None:
    year = period_containing(Grain.YEAR, dt.date(2026, 5, 5))
    assert [b.first.month for b in year.buckets()] == list(range(1, 13))
    hijri_year = period_containing(Grain.HIJRI_YEAR, dt.date(2026, 11, 28))
    months = hijri_year.buckets()
    assert len(months) == 12
    assert months[0].first == hijri_year.first
    assert months[-1].last == hijri_year.last
    assert all(a.last + dt.timedelta(days=1) == b.first for a, b in itertools.pairwise(months))
    assert len(period_containing(Grain.WEEK, dt.date(2026, 11, 28)).buckets()) == 7


def test_labels_in_both_languages() -> None:
    hijri = period_containing(Grain.HIJRI_MONTH, dt.date(2026, 11, 28))
    month = period_containing(Grain.MONTH, dt.date(2026, 11, 28))
    quarter = period_containing(Grain.QUARTER, dt.date(2026, 11, 28))
    with translation.override("en"):
        assert hijri.label == "Jumada al-Akhirah 1448 AH"
        assert month.label == "November 2026"
        assert quarter.label == "Q4 2026"
    with translation.override("ar"):
        assert hijri.label == "جمادى الآخرة 1448 هـ"
        assert month.label == "نوفمبر 2026"


def test_a_bad_period_or_date_is_a_clear_error() -> None:
    with pytest.raises(InvalidInput) as unknown:
        period_parse("fortnight", "2026-11-28")
    assert unknown.value.code == "period_unknown"
    with pytest.raises(InvalidInput) as bad:
        period_parse("month", "2026-13-40")
    assert bad.value.code == "date_invalid"
    assert period_parse("month", "2026-11-28").first == dt.date(2026, 11, 1)
    # at the calendars' ends the period after (or before) does not exist: a 400, not a 500
    for grain, on in [
        ("year", "9999-12-31"),
        ("month", "0001-01-01"),
        ("hijri_year", "2077-06-01"),
    ]:
        with pytest.raises(InvalidInput):
            period_parse(grain, on)


# --- figures -------------------------------------------------------------------------------

NOW = dt.datetime(2026, 11, 26, 10, 0, tzinfo=RIYADH)  # a Thursday
THIS_WEEK = period_containing(Grain.WEEK, NOW.date())  # 22–28 November
LAST_WEEK_DAY = dt.datetime(2026, 11, 17, 9, 0, tzinfo=RIYADH)


def submit(ministry, who, entity, *, when, kind="complaint", channel="portal"):  # type: ignore[no-untyped-def]
    return submitted_on(who, entity, when=when, category=ministry.exams, kind=kind, channel=channel)


answer = answered_on


@pytest.fixture
def week(ministry, staff, sara, khalid):  # type: ignore[no-untyped-def]
    """This week: Riyadh 3 complaints (portal) and 1 inquiry (call centre), Makkah 1
    complaint; two Riyadh answers this week (one met, one breached), one rated 4 and
    resolved. Last week: Riyadh 2 complaints, one answered (met) last week."""
    riyadh = [
        submit(ministry, sara, ministry.riyadh, when=NOW - dt.timedelta(days=d)) for d in (0, 1, 2)
    ]
    submit(ministry, khalid, ministry.riyadh, when=NOW, kind="inquiry", channel="call_centre")
    submit(ministry, khalid, ministry.makkah, when=NOW - dt.timedelta(days=1))
    before = [submit(ministry, sara, ministry.riyadh, when=LAST_WEEK_DAY) for _ in range(2)]
    answer(riyadh[0], staff.riyadh_agent, when=NOW, met=True)
    answer(riyadh[1], staff.riyadh_agent, when=NOW, met=False)
    answer(before[0], staff.riyadh_agent, when=LAST_WEEK_DAY, met=True)
    SatisfactionResponse.objects.create(
        request=riyadh[0],
        answer_event=riyadh[0].events.filter(kind="answered").latest("pk"),
        score=4,
        resolved=True,
    )
    SatisfactionResponse.objects.filter(request=riyadh[0]).update(created_at=NOW)
    insights_summarise(first=THIS_WEEK.previous().first, last=THIS_WEEK.last)
    return riyadh


def test_headline_for_the_ministry(staff, week) -> None:  # type: ignore[no-untyped-def]
    headline = insights_headline(user=staff.central_supervisor, period=THIS_WEEK)

    assert (headline.submitted.current, headline.submitted.previous) == (5, 2)
    assert headline.submitted.delta_percent == 150.0
    assert (headline.answered.current, headline.answered.previous) == (2, 1)
    assert headline.resolution_compliance.current == 50.0
    assert headline.resolution_compliance.previous == 100.0
    assert headline.first_response_compliance.current == 100.0
    assert (headline.csat.current, headline.csat.previous) == (4.0, None)
    assert headline.resolved_rate.current == 100.0
    assert headline.objection_rate.current == 0.0
    assert headline.backlog == 4  # 7 submitted, 3 answered


def test_a_department_sees_only_its_subtree(staff, week) -> None:  # type: ignore[no-untyped-def]
    makkah = insights_headline(user=staff.makkah_agent, period=THIS_WEEK)
    assert (makkah.submitted.current, makkah.submitted.previous, makkah.backlog) == (1, 0, 1)
    rows = insights_volume(user=staff.makkah_agent, period=THIS_WEEK, dimension="entity")
    assert [(row.current, row.previous) for row in rows] == [(1, 0)]
    assert insights_headline(user=staff.outsider, period=THIS_WEEK).submitted.current == 0


def test_volume_by_kind_channel_and_entity_with_the_previous_week(ministry, staff, week) -> None:  # type: ignore[no-untyped-def]
    by_kind = insights_volume(user=staff.central_supervisor, period=THIS_WEEK, dimension="kind")
    assert [(row.key, row.current, row.previous) for row in by_kind] == [
        ("complaint", 4, 2),
        ("inquiry", 1, 0),
    ]
    assert by_kind[0].queue_filter == {"kind": "complaint"}
    by_channel = insights_volume(
        user=staff.central_supervisor, period=THIS_WEEK, dimension="channel"
    )
    assert {row.key: row.current for row in by_channel} == {"portal": 4, "call_centre": 1}
    by_entity = insights_volume(user=staff.central_supervisor, period=THIS_WEEK, dimension="entity")
    assert [(row.key, row.current) for row in by_entity] == [
        (str(ministry.riyadh.pk), 4),
        (str(ministry.makkah.pk), 1),
    ]
    by_category = insights_volume(
        user=staff.central_supervisor, period=THIS_WEEK, dimension="category"
    )
    assert sum(row.current for row in by_category) == 5


def test_trend_counts_each_day_of_the_week(staff, week) -> None:  # type: ignore[no-untyped-def]
    points = insights_trend(user=staff.central_supervisor, period=THIS_WEEK)
    assert [p.bucket.first.day for p in points] == [22, 23, 24, 25, 26, 27, 28]
    assert [p.submitted for p in points] == [0, 0, 1, 2, 2, 0, 0]
    assert [p.answered for p in points] == [0, 0, 0, 0, 2, 0, 0]


def test_backlog_ageing_in_whole_days(staff, week) -> None:  # type: ignore[no-untyped-def]
    buckets = insights_backlog_ageing(user=staff.central_supervisor, now=NOW)
    # in hand: one inquiry today, one Riyadh complaint two days old, Makkah one day old,
    # last week's unanswered complaint nine days old
    assert [b.count for b in buckets] == [1, 2, 0, 1, 0, 0]
    assert (buckets[1].submitted_from, buckets[1].submitted_to) == (
        dt.date(2026, 11, 24),
        dt.date(2026, 11, 25),
    )
    assert buckets[-1].submitted_from is None


# --- the daily summary -------------------------------------------------------------------


def test_the_summary_has_a_row_a_day_and_entity(ministry, week) -> None:  # type: ignore[no-untyped-def]
    row = DailySummary.objects.get(day=NOW.date(), entity=ministry.riyadh)
    # today in Riyadh: one complaint (portal) and one inquiry (call centre) submitted,
    # two complaints answered (one within target)
    assert (row.submitted, row.answered) == (2, 2)
    assert row.submitted_by["kind"] == {"complaint": 1, "inquiry": 1}
    assert row.submitted_by["channel"] == {"portal": 1, "call_centre": 1}
    assert (row.resolution_met, row.resolution_breached) == (1, 1)
    assert DailySummary.objects.filter(entity=ministry.makkah).count() == 1


def test_summarising_again_rewrites_and_follows_changes(ministry, week) -> None:  # type: ignore[no-untyped-def]
    before = DailySummary.objects.count()
    insights_summarise(first=THIS_WEEK.previous().first, last=THIS_WEEK.last)
    assert DailySummary.objects.count() == before  # rewritten, not added

    # A request forwarded to Makkah counts there after the next run
    Request.objects.filter(pk=week[2].pk).update(entity=ministry.makkah)
    insights_summarise(first=THIS_WEEK.first, last=THIS_WEEK.last)
    makkah = insights_volume(user=None, period=THIS_WEEK, dimension="entity")
    assert {row.key: row.current for row in makkah}[str(ministry.makkah.pk)] == 2


def test_a_full_rebuild_matches_the_request_table(ministry, staff, week) -> None:  # type: ignore[no-untyped-def]
    DailySummary.objects.all().delete()
    insights_summarise_all()
    headline = insights_headline(user=None, period=THIS_WEEK)
    live = Request.objects.filter(created_at__gte=THIS_WEEK.start, created_at__lt=THIS_WEEK.end)
    assert headline.submitted.current == live.count() == 5


def test_the_page_reads_the_summary_not_the_request_table(ministry, staff, week) -> None:  # type: ignore[no-untyped-def]
    submit(ministry, week[0].beneficiary, ministry.riyadh, when=NOW)  # not summarised yet
    assert insights_headline(user=None, period=THIS_WEEK).submitted.current == 5
    insights_summarise(first=NOW.date(), last=NOW.date())
    assert insights_headline(user=None, period=THIS_WEEK).submitted.current == 6


# --- the console page ----------------------------------------------------------------------


def page(client, user, **params):  # type: ignore[no-untyped-def]
    client.force_login(user)
    with translation.override("en"):
        url = reverse("console:insights")
    return client.get(url, params)


def test_the_dashboard_shows_the_figures_with_links_to_their_queues(client, staff, week) -> None:  # type: ignore[no-untyped-def]
    response = page(client, staff.central_supervisor, grain="week", on="2026-11-26")
    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-figure="submitted"' in body
    assert "from=2026-11-22&amp;to=2026-11-28" in body  # the period's queue
    assert "kind=complaint" in body  # a volume row's queue
    assert body.count("<rect ") == 14  # two bars for each of the seven days
    assert 'id="ageing"' in body


def test_a_department_sees_its_own_figures_only(client, staff, ministry, week) -> None:  # type: ignore[no-untyped-def]
    body = page(client, staff.makkah_agent, grain="week", on="2026-11-26").content.decode()
    assert f'data-key="{ministry.makkah.pk}"' in body
    assert f'data-key="{ministry.riyadh.pk}"' not in body


def test_a_table_downloads_as_csv(client, staff, week) -> None:  # type: ignore[no-untyped-def]
    response = page(
        client,
        staff.central_supervisor,
        grain="week",
        on="2026-11-26",
        format="csv",
        table="volume-kind",
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    lines = response.content.decode("utf-8-sig").splitlines()
    assert lines[1:] == ["Complaint,4,2", "Inquiry,1,0"]  # the English address
    trend = (
        page(
            client,
            staff.central_supervisor,
            grain="week",
            on="2026-11-26",
            format="csv",
            table="trend",
        )
        .content.decode("utf-8-sig")
        .splitlines()
    )
    assert trend[1:] == [
        f"2026-11-{d},2026-11-{d},{n},{a}"
        for d, n, a in [
            (22, 0, 0),
            (23, 0, 0),
            (24, 1, 0),
            (25, 2, 0),
            (26, 2, 2),
            (27, 0, 0),
            (28, 0, 0),
        ]
    ]


def test_bad_parameters_are_a_clear_400(client, staff) -> None:  # type: ignore[no-untyped-def]
    response = page(client, staff.central_supervisor, grain="fortnight")
    assert response.status_code == 400
    assert 'role="alert"' in response.content.decode()
    assert page(client, staff.central_supervisor, on="2026-02-31").status_code == 400
    assert page(client, staff.central_supervisor, grain="year", on="9999-12-31").status_code == 400
    missing = page(client, staff.central_supervisor, format="csv", table="volume-nothing")
    assert missing.status_code == 404


def test_the_dashboard_needs_a_staff_sign_in(client) -> None:  # type: ignore[no-untyped-def]
    with translation.override("en"):
        response = client.get(reverse("console:insights"))
    assert response.status_code in (302, 403)


def test_hijri_months_have_their_own_dashboard(client, staff, week) -> None:  # type: ignore[no-untyped-def]
    response = page(client, staff.central_supervisor, grain="hijri_month", on="2026-11-26")
    assert response.status_code == 200
    assert "1448" in response.content.decode()


# --- the league table ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("successes", "trials", "expected"),
    [
        (3, 3, (43.9, 100.0)),  # Wilson 95 %: 0.4385–1
        (950, 1000, (93.5, 96.2)),  # 0.9346–0.9619
        (0, 10, (0.0, 27.8)),  # 0–0.2775
        (5, 10, (23.7, 76.3)),  # 0.2366–0.7634
    ],
)
def test_wilson_interval_against_published_values(successes, trials, expected) -> None:  # type: ignore[no-untyped-def]
    assert wilson_interval(successes, trials) == expected
    assert wilson_interval(0, 0) is None


def test_a_small_perfect_entity_does_not_outrank_a_large_good_one(ministry) -> None:  # type: ignore[no-untyped-def]
    for entity, met, settled in (
        (ministry.riyadh, 950, 1000),
        (ministry.makkah, 25, 25),
        (ministry.university, 3, 3),
    ):
        DailySummary.objects.create(
            day=NOW.date(),
            entity=entity,
            answered=settled,
            resolution_met=met,
            resolution_breached=settled - met,
            summarised_at=NOW,
        )
    league = insights_league(user=None, period=THIS_WEEK)

    # Makkah 25/25 (lower bound 86.7 %) ranks below Riyadh 950/1000 (93.5 %); the
    # university's 3/3 is too few to rank at all
    assert [(row.name, row.rank) for row in league] == [
        (ministry.riyadh.name, 1),
        (ministry.makkah.name, 2),
        (ministry.university.name, None),
    ]
    assert league[0].compliance == 95.0
    assert (league[1].low, league[1].high) == (86.7, 100.0)


def test_the_league_is_scoped_and_on_the_page(client, staff, week) -> None:  # type: ignore[no-untyped-def]
    assert insights_league(user=staff.makkah_agent, period=THIS_WEEK) == []  # no answer
    everyone = insights_league(user=staff.central_supervisor, period=THIS_WEEK)
    assert [(row.name, row.answered, row.rank) for row in everyone] == [
        (week[0].entity.name, 2, None)  # 1 of 2 within target: too few to rank
    ]
    body = page(client, staff.central_supervisor, grain="week", on="2026-11-26").content.decode()
    assert 'id="league"' in body
    csv_lines = (
        page(
            client,
            staff.central_supervisor,
            grain="week",
            on="2026-11-26",
            format="csv",
            table="league",
        )
        .content.decode("utf-8-sig")
        .splitlines()
    )
    assert len(csv_lines) == 2  # the header and Riyadh (Makkah answered nothing this week)


def test_months_add_up_the_days_and_serve_quarters_and_years(ministry, week) -> None:  # type: ignore[no-untyped-def]
    november = MonthlySummary.objects.get(day=dt.date(2026, 11, 1), entity=ministry.riyadh)
    days = DailySummary.objects.filter(entity=ministry.riyadh, day__month=11)
    assert november.submitted == sum(d.submitted for d in days) == 6
    assert november.answered == 3
    assert november.submitted_by["kind"] == {"complaint": 5, "inquiry": 1}

    year = period_containing(Grain.YEAR, NOW.date())
    headline = insights_headline(user=None, period=year)
    assert (headline.submitted.current, headline.answered.current) == (7, 3)
    trend = insights_trend(user=None, period=year)
    assert [p.submitted for p in trend][10] == 7  # November, from the monthly rows

    # Rewriting a day rewrites its month
    Request.objects.filter(pk=week[1].pk).update(kind="inquiry")
    insights_summarise(first=week[1].created_at.date(), last=week[1].created_at.date())
    november = MonthlySummary.objects.get(day=dt.date(2026, 11, 1), entity=ministry.riyadh)
    assert november.submitted_by["kind"] == {"complaint": 4, "inquiry": 2}


def test_every_table_downloads_in_one_workbook(client, staff, week) -> None:  # type: ignore[no-untyped-def]
    from io import BytesIO

    from openpyxl import load_workbook

    response = page(client, staff.central_supervisor, grain="week", on="2026-11-26", format="xlsx")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(BytesIO(response.content))
    assert book.sheetnames == [
        "trend",
        "volume-kind",
        "volume-channel",
        "volume-category",
        "volume-entity",
        "volume-region",
        "emerging",
        "answer-days",
        "league",
        "routing",
        "workload",
        "ageing",
    ]
    kinds = [[cell.value for cell in row] for row in book["volume-kind"].iter_rows()]
    assert kinds[1:] == [["Complaint", 4, 2], ["Inquiry", 1, 0]]
    trend = [[cell.value for cell in row] for row in book["trend"].iter_rows(min_row=2)]
    assert [row[2] for row in trend] == [0, 0, 1, 2, 2, 0, 0]


def test_answers_after_a_transfer_and_working_days_to_answer(ministry, staff, week) -> None:  # type: ignore[no-untyped-def]
    # The two answers of this week: one of a request forwarded once, answered the same
    # morning it was submitted (Thursday 26 November); the other submitted Wednesday 25 at
    # 10:00 and answered Thursday 26 at 10:00 — one working day of 08:00–15:00 later
    Request.objects.filter(pk=week[0].pk).update(transfer_count=1)
    Request.objects.filter(pk=week[0].pk).update(answered_at=NOW + dt.timedelta(hours=2))
    insights_summarise(first=THIS_WEEK.previous().first, last=THIS_WEEK.last)

    headline = insights_headline(user=None, period=THIS_WEEK)
    assert headline.transferred_rate.current == 50.0  # 1 of 2 answers
    assert headline.transferred_rate.previous == 0.0

    days = {
        row.key: (row.current, row.previous)
        for row in insights_answer_days(user=None, period=THIS_WEEK)
    }
    # last week's one answer came the moment it was submitted (0 working days)
    assert days == {"1": (2, 1), "3": (0, 0), "5": (0, 0), "10": (0, 0), "more": (0, 0)}

    # An answer nine working days after submission lands in "6–10"
    Request.objects.filter(pk=week[1].pk).update(
        created_at=NOW - dt.timedelta(days=12), answered_at=NOW
    )  # Saturday 14 Nov 10:00 → Thursday 26 Nov 10:00: 9 working days and 2 hours
    insights_summarise(first=THIS_WEEK.previous().first, last=THIS_WEEK.last)
    days = {row.key: row.current for row in insights_answer_days(user=None, period=THIS_WEEK)}
    assert (days["1"], days["10"]) == (1, 1)


@pytest.mark.parametrize(
    ("working_days", "bucket"),
    [(0, "1"), (1, "1"), (1.01, "3"), (3, "3"), (5, "5"), (9.5, "10"), (10.5, "more")],
)
def test_answer_day_buckets(working_days, bucket) -> None:  # type: ignore[no-untyped-def]
    assert answer_days_bucket(working_days) == bucket


def test_regions_are_named_in_the_active_language(staff, week) -> None:  # type: ignore[no-untyped-def]
    with translation.override("ar"):
        rows = insights_volume(user=None, period=THIS_WEEK, dimension="region")
        assert [(row.label, row.current) for row in rows] == [("الرياض", 4), ("مكة المكرمة", 1)]
    with translation.override("en"):
        rows = insights_volume(user=None, period=THIS_WEEK, dimension="region")
        assert [row.label for row in rows] == ["Riyadh", "Makkah"]
