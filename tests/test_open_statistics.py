"""Open statistics: the published figures worked out by hand on fixed data, small cells
hidden (1–4, with a complementary cell where subtraction would give one away), rates on
too few cases hidden, the JSON and CSV shapes, clear 400s, and nothing personal anywhere."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation

from tawasul.cases.models import Kind
from tawasul.core.errors import InvalidInput
from tawasul.feedback.models import SatisfactionResponse
from tawasul.insights.open_statistics import (
    count_cell,
    hidden_cells,
    open_statistics,
    rate_cell,
    statistics_period,
)
from tawasul.insights.periods import Grain, period_containing
from tawasul.insights.summary import insights_summarise
from tests.insights_data import answered_on, submitted_on

RIYADH = ZoneInfo("Asia/Riyadh")
OCTOBER = period_containing(Grain.MONTH, dt.date(2026, 10, 15))
SUBJECT = "Sealed envelope number 7"
DESCRIPTION = "Please keep this private text out of any statistics."


def at(day: str, hour: int = 10) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(hour=hour, tzinfo=RIYADH)


def submit(ministry, who, entity, *, when, kind, channel, category):  # type: ignore[no-untyped-def]
    return submitted_on(
        who,
        entity,
        when=when,
        category=category,
        kind=kind,
        channel=channel,
        subject=SUBJECT,
        description=DESCRIPTION,
    )


def answer(request, agent, *, when, met=True):  # type: ignore[no-untyped-def]
    answered_on(request, agent, when=when, met=met, resolution="Answered with care.")


def rate(request, *, score, resolved, when):  # type: ignore[no-untyped-def]
    SatisfactionResponse.objects.create(
        request=request,
        answer_event=request.events.filter(kind="answered").latest("pk"),
        score=score,
        resolved=resolved,
    )
    SatisfactionResponse.objects.filter(request=request).update(created_at=when)


# October 2026 (17 requests), worked by hand:
#   kind      complaint 8, suggestion 6, inquiry 3          (observation, praise 0)
#   channel   portal 11, e-mail 4, call centre 2            (the others 0)
#   category  transfer 7, exams 10                          (thanks 0)
#   region    riyadh 15, makkah 2                           (every other region 0)
#   days      5 Oct: 8, 12 Oct: 6, 20 Oct: 3; answered 21 Oct: 6 (5 within target)
#   ratings   22 Oct: 5, 4, 4, 3, 5 (average 4.2), 4 of 5 resolved (80 %)
# September 2026: 3 complaints (Riyadh, portal, exams) on 10 Sep, 2 answered on 15 Sep and
# both rated (2 and 3) on 16 Sep.
OCTOBER_REQUESTS = [
    *[("2026-10-05", "complaint", "portal", "transfer", "riyadh")] * 7,
    ("2026-10-05", "complaint", "portal", "exams", "riyadh"),
    *[("2026-10-12", "suggestion", "portal", "exams", "riyadh")] * 3,
    *[("2026-10-12", "suggestion", "email", "exams", "riyadh")] * 3,
    ("2026-10-20", "inquiry", "email", "exams", "riyadh"),
    *[("2026-10-20", "inquiry", "call_centre", "exams", "makkah")] * 2,
]


@pytest.fixture
def two_months(ministry, staff, sara):  # type: ignore[no-untyped-def]
    made = [
        submit(
            ministry,
            sara,
            getattr(ministry, entity),
            when=at(day),
            kind=kind,
            channel=channel,
            category=getattr(ministry, category),
        )
        for day, kind, channel, category, entity in OCTOBER_REQUESTS
    ]
    for index, request in enumerate(made[:6]):
        answer(request, staff.riyadh_agent, when=at("2026-10-21"), met=index < 5)
    for request, score, resolved in zip(
        made[:5], (5, 4, 4, 3, 5), (True, True, True, False, True), strict=True
    ):
        rate(request, score=score, resolved=resolved, when=at("2026-10-22"))
    september = [
        submit(
            ministry,
            sara,
            ministry.riyadh,
            when=at("2026-09-10"),
            kind="complaint",
            channel="portal",
            category=ministry.exams,
        )
        for _ in range(3)
    ]
    for request, score in zip(september[:2], (2, 3), strict=True):
        answer(request, staff.riyadh_agent, when=at("2026-09-15"))
        rate(request, score=score, resolved=True, when=at("2026-09-16"))
    insights_summarise(first=dt.date(2026, 9, 1), last=dt.date(2026, 10, 31))
    return made + september


def published(cell):  # type: ignore[no-untyped-def]
    """A cell as the page would say it: a number, "<5" or None."""
    return "<5" if cell.suppressed else cell.value


def column(table, side="current"):  # type: ignore[no-untyped-def]
    return {row.key: published(getattr(row, side)) for row in table.rows}


# --- the rules, on their own ----------------------------------------------------------------


def test_counts_from_one_to_four_are_hidden_and_zero_is_kept() -> None:
    assert [published(count_cell(n)) for n in (0, 1, 2, 3, 4, 5, 17)] == [
        0,
        "<5",
        "<5",
        "<5",
        "<5",
        5,
        17,
    ]
    assert count_cell(None).value == 0


def test_a_single_small_cell_takes_the_next_smallest_with_it() -> None:
    # total 33 is published: 33 - 10 - 20 would give the 3 away
    assert hidden_cells({"a": 3, "b": 10, "c": 20, "d": 0}) == {"a", "b"}
    # ties on the next smallest are broken by key, whatever the order given
    assert hidden_cells({"z": 7, "y": 7, "x": 2, "w": 30}) == {"x", "y"}


def test_two_small_cells_that_cannot_be_told_apart_protect_each_other() -> None:
    # 2 + 4 = 6 hidden: could be 2+4, 3+3 or 4+2
    assert hidden_cells({"a": 2, "b": 4, "c": 11}) == {"a", "b"}


def test_hidden_cells_whose_sum_gives_them_away_take_more_cells_with_them() -> None:
    # 1 + 1: two hidden cells adding up to 2 can only be 1 and 1
    assert hidden_cells({"a": 1, "b": 1, "c": 30, "d": 40}) == {"a", "b", "c"}
    # a 1 hidden with a 5: a sum of 6 splits only as 1 + 5
    assert hidden_cells({"a": 1, "b": 5, "c": 9, "d": 50}) == {"a", "b", "c"}
    # nothing small, nothing hidden
    assert hidden_cells({"a": 0, "b": 5, "c": 9}) == set()


def test_rates_on_fewer_than_five_cases_are_hidden() -> None:
    assert rate_cell(100.0, cases=4, unit="percent").suppressed
    assert rate_cell(80.0, cases=5, unit="percent").value == 80.0
    nothing = rate_cell(None, cases=0, unit="average")
    assert (nothing.value, nothing.suppressed) == (None, False)


def test_the_period_defaults_to_the_last_complete_month() -> None:
    today = dt.date(2026, 11, 28)
    assert statistics_period(grain="", on="", today=today) == OCTOBER
    quarter = statistics_period(grain="quarter", on="", today=today)
    assert (quarter.first, quarter.last) == (dt.date(2026, 7, 1), dt.date(2026, 9, 30))
    hijri = statistics_period(grain="hijri_month", on="2026-11-28", today=today)
    assert (hijri.first, hijri.last) == (dt.date(2026, 11, 11), dt.date(2026, 12, 9))


@pytest.mark.parametrize(
    ("grain", "on", "code"),
    [
        ("day", "2026-10-05", "period_too_short"),
        ("week", "", "period_too_short"),
        ("fortnight", "2026-10-05", "period_unknown"),
        ("month", "2026-02-31", "date_invalid"),
        ("month", "yesterday", "date_invalid"),
        ("year", "0001-01-01", "date_out_of_range"),
        ("month", "2080-01-15", "date_out_of_range"),
        ("month", "9999-12-31", "date_out_of_range"),  # a date, but no month after it
        ("hijri_year", "1924-09-01", "date_out_of_range"),  # 1343 AH: no Hijri year before
    ],
)
def test_a_bad_period_is_refused_with_its_code(grain: str, on: str, code: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        statistics_period(grain=grain, on=on, today=dt.date(2026, 11, 28))
    assert refused.value.code == code


# --- the figures ----------------------------------------------------------------------------


def test_headline_figures_with_the_previous_month_hidden(two_months) -> None:  # type: ignore[no-untyped-def]
    stats = open_statistics(period=OCTOBER)
    figures = {f.key: (published(f.current), published(f.previous)) for f in stats.headline}
    assert figures == {
        "submitted": (17, "<5"),  # September: 3
        "answered": (6, "<5"),  # September: 2
        "resolution_compliance": (83.3, "<5"),  # 5 of 6; September rests on 2 answers
        "first_response_compliance": (100.0, "<5"),
        "csat": (4.2, "<5"),  # 21 / 5; September rests on 2 ratings
        "resolved_rate": (80.0, "<5"),
    }
    assert stats.previous == period_containing(Grain.MONTH, dt.date(2026, 9, 1))


def test_volume_tables_hide_small_cells_and_their_complement(two_months) -> None:  # type: ignore[no-untyped-def]
    tables = {table.key: table for table in open_statistics(period=OCTOBER).tables}

    # inquiry 3 is hidden; 17 - 8 - 6 would give it away, so suggestion (6) goes too
    assert column(tables["kind"]) == {
        "inquiry": "<5",
        "complaint": 8,
        "suggestion": "<5",
        "observation": 0,
        "praise": 0,
    }
    assert column(tables["kind"], "previous") == {
        "inquiry": 0,
        "complaint": "<5",
        "suggestion": 0,
        "observation": 0,
        "praise": 0,
    }
    # e-mail 4 and call centre 2: two hidden cells adding up to 6 that cannot be told apart
    channel = column(tables["channel"])
    assert (channel["portal"], channel["email"], channel["call_centre"]) == (11, "<5", "<5")
    assert {channel[key] for key in ("app", "social", "walk_in", "open311")} == {0}
    assert column(tables["category"]) == {"exams": 10, "transfer": 7, "thanks": 0}
    # Makkah 2 is hidden, and Riyadh with it (17 - 15 = 2)
    region = column(tables["region"])
    assert (region["riyadh"], region["makkah"]) == ("<5", "<5")
    assert {value for key, value in region.items() if key not in ("riyadh", "makkah")} == {0}
    assert tables["region"].total.current.value == 17


def test_rows_come_in_a_fixed_order_never_by_size(two_months) -> None:  # type: ignore[no-untyped-def]
    tables = {table.key: table for table in open_statistics(period=OCTOBER).tables}
    assert [row.key for row in tables["kind"].rows] == list(Kind.values)
    regions = [row.key for row in tables["region"].rows]
    assert regions[:3] == ["riyadh", "makkah", "madinah"]
    assert regions[-1] == "central"


def test_the_trend_hides_small_days_and_their_complement(two_months) -> None:  # type: ignore[no-untyped-def]
    trend = open_statistics(period=OCTOBER).trend
    assert len(trend) == 31
    submitted = {row.bucket.first.day: published(row.submitted) for row in trend}
    answered = {row.bucket.first.day: published(row.answered) for row in trend}
    assert {day: n for day, n in submitted.items() if n != 0} == {5: 8, 12: "<5", 20: "<5"}
    assert {day: n for day, n in answered.items() if n != 0} == {21: 6}


# --- the endpoints ---------------------------------------------------------------------------


def test_json_shape_with_suppression_flags(client, two_months) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/statistics.json", {"grain": "month", "on": "2026-10-15"})
    assert response.status_code == 200
    assert response["Cache-Control"] == "public, max-age=3600"
    body = response.json()
    assert body["period"]["grain"] == "month"
    assert (body["period"]["first"], body["period"]["last"]) == ("2026-10-01", "2026-10-31")
    assert body["period"]["label_en"] == "October 2026"
    assert body["period"]["label_ar"] == "أكتوبر 2026"
    assert body["period"]["previous"]["first"] == "2026-09-01"
    submitted = body["headline"]["submitted"]
    assert (submitted["current"], submitted["previous"]) == (17, None)
    assert submitted["suppressed"] == {"current": False, "previous": True}
    assert body["headline"]["csat"]["current"] == 4.2
    assert set(body["tables"]) == {"kind", "channel", "category", "region"}
    inquiry = next(row for row in body["tables"]["kind"] if row["key"] == "inquiry")
    assert inquiry["label_en"] == "Inquiry"
    with translation.override("ar"):
        assert inquiry["label_ar"] == str(Kind.INQUIRY.label)
    assert (inquiry["current"], inquiry["suppressed"]["current"]) == (None, True)
    praise = next(row for row in body["tables"]["kind"] if row["key"] == "praise")
    assert (praise["current"], praise["suppressed"]["current"]) == (0, False)
    exams = next(row for row in body["tables"]["category"] if row["key"] == "exams")
    assert (exams["label_en"], exams["current"]) == ("Exam results", 10)
    fifth = body["trend"][4]
    assert (fifth["first"], fifth["submitted"], fifth["suppressed"]) == (
        "2026-10-05",
        8,
        {"submitted": False, "answered": False},
    )
    # the same figures at the English address
    english = client.get("/en/statistics.json", {"grain": "month", "on": "2026-10-15"})
    assert english.json() == body


def test_csv_is_one_long_table_with_marks(client, two_months) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/statistics.csv", {"grain": "month", "on": "2026-10-15"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Cache-Control"] == "public, max-age=3600"
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert list(rows[0]) == [
        "table",
        "key",
        "label_ar",
        "label_en",
        "measure",
        "first",
        "last",
        "value",
    ]
    values = {(r["table"], r["key"], r["measure"], r["first"]): r["value"] for r in rows}
    assert values[("headline", "submitted", "submitted", "2026-10-01")] == "17"
    assert values[("headline", "submitted", "submitted", "2026-09-01")] == "<5"
    assert values[("headline", "csat", "csat", "2026-09-01")] == "n<5"
    assert values[("headline", "resolution_compliance", "resolution_compliance", "2026-10-01")] == (
        "83.3"
    )
    assert values[("kind", "inquiry", "submitted", "2026-10-01")] == "<5"
    assert values[("kind", "suggestion", "submitted", "2026-10-01")] == "<5"
    assert values[("kind", "praise", "submitted", "2026-10-01")] == "0"
    assert values[("region", "makkah", "submitted", "2026-10-01")] == "<5"
    assert values[("trend", "2026-10-05", "submitted", "2026-10-05")] == "8"
    assert values[("trend", "2026-10-21", "answered", "2026-10-21")] == "6"
    assert {r["table"] for r in rows} == {
        "headline",
        "kind",
        "channel",
        "category",
        "region",
        "trend",
    }


def test_the_page_in_arabic_right_to_left_with_both_calendars(client, two_months) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/statistics/", {"grain": "month", "on": "2026-10-15"})
    assert response.status_code == 200
    page = response.content.decode()
    assert 'lang="ar"' in page
    assert 'dir="rtl"' in page
    assert "هـ" in page  # the Hijri date beside the Gregorian one
    assert 'data-figure="submitted"' in page
    assert "&lt;5" in page
    assert page.count('class="bar bar--submitted') == 31
    assert "<script" not in page


def test_the_page_in_english(client, two_months) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/en/statistics/", {"grain": "month", "on": "2026-10-15"})
    assert response.status_code == 200
    page = response.content.decode()
    assert 'lang="en"' in page
    assert 'dir="ltr"' in page
    assert "1 October 2026" in page
    assert "AH" in page
    assert "Requests by Region" in page
    assert "fewer than 5 cases" in page  # September's compliance rests on 2 answers
    assert "/statistics.json?grain=month&amp;on=2026-10-01" in page


def test_the_page_for_a_hijri_year_and_with_no_data(client, db) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/en/statistics/", {"grain": "hijri_year", "on": "2026-11-28"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "1448 AH" in page
    assert page.count('class="bar bar--submitted') == 12


@pytest.mark.parametrize("address", ["/statistics/", "/statistics.json", "/statistics.csv"])
@pytest.mark.parametrize(
    "params",
    [
        {"grain": "fortnight"},
        {"grain": "day", "on": "2026-10-05"},
        {"grain": "month", "on": "2026-02-31"},
        {"grain": "year", "on": "0001-01-01"},
    ],
)
def test_bad_parameters_are_a_clear_400(client, db, address, params) -> None:  # type: ignore[no-untyped-def]
    response = client.get(address, params)
    assert response.status_code == 400
    if address.endswith(".json"):
        body = response.json()
        assert set(body) == {"code", "message"}
        assert set(body["message"]) == {"ar", "en"}
        assert all(body["message"].values())
    elif address.endswith(".csv"):
        assert response["Content-Type"].startswith("text/plain")
    else:
        assert 'role="alert"' in response.content.decode()


def test_the_json_error_names_the_problem(client, db) -> None:  # type: ignore[no-untyped-def]
    body = client.get("/statistics.json", {"grain": "week"}).json()
    assert body["code"] == "period_too_short"
    assert "month" in body["message"]["en"]


def test_nothing_personal_in_any_response(client, ministry, staff, sara, two_months) -> None:  # type: ignore[no-untyped-def]
    params = {"grain": "month", "on": "2026-10-15"}
    bodies = [
        client.get("/statistics/", params).content.decode(),
        client.get("/en/statistics/", params).content.decode(),
        json.dumps(client.get("/statistics.json", params).json(), ensure_ascii=False),
        client.get("/statistics.csv", params).content.decode("utf-8-sig"),
    ]
    secrets = [
        sara.full_name,
        sara.mobile,
        sara.mobile.removeprefix("+966"),
        sara.national_id,
        SUBJECT,
        DESCRIPTION,
        "Answered with care.",
        staff.riyadh_agent.username,
        ministry.riyadh.name_en,  # entities are published by region, never by name
        ministry.riyadh.name_ar,
        *(request.tracking_number for request in two_months),
    ]
    for body in bodies:
        for secret in secrets:
            assert secret not in body


def test_the_figures_take_a_bounded_number_of_queries(  # type: ignore[no-untyped-def]
    client, two_months, django_assert_max_num_queries
) -> None:
    with django_assert_max_num_queries(20):  # whatever the number of rows or days
        assert client.get("/statistics.json", {"grain": "month", "on": "2026-10-15"}).json()


def test_no_sign_in_is_needed(client, db) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/statistics/").status_code == 200
    assert client.get("/statistics.json").json()["period"]["grain"] == "month"
