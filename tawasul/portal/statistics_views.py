"""Open statistics for the public (issue 11): a page, and the same figures as JSON and CSV.

Delivery only: parse `?grain=…&on=…`, call `open_statistics`, render; the rules of what is
published and what is hidden live in `tawasul.insights.open_statistics`. No sign-in. A bad
period is a 400 with a message in Arabic and English, never a 500.

The JSON and the CSV carry both languages' labels whatever the address, and shared caches
may keep them for an hour (`Cache-Control: public, max-age=3600`). The page is not marked
public: it carries the visitor's CSRF token (the language switch) and sign-in state.

The CSV is one long table, one line per published value, with a header line:
`table,key,label_ar,label_en,measure,first,last,value` —

* `table`: headline, kind, channel, category, region or trend;
* `key`: the figure (headline), the row's key (a kind, a channel, a category's code, a
  region's code, "central", "other"), the first day of the part of the period (trend);
* `measure`: what the value measures — submitted, answered (counts of requests), or
  resolution_compliance, first_response_compliance, resolved_rate (percent), csat
  (average score of 5);
* `first`, `last`: the days the value covers (the period, the previous period, or the part);
* `value`: a number; `<5` a hidden count; `n<5` a hidden rate or average; empty when there
  is nothing to compute it on.
"""

from __future__ import annotations

import csv
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import get_language_bidi
from django.views.decorators.http import require_safe

from tawasul.core.errors import InvalidInput
from tawasul.insights.open_statistics import (
    COUNT_MARK,
    MIN_CASES,
    PUBLISHED_GRAINS,
    RATE_MARK,
    SMALL_CELL,
    Cell,
    OpenStatistics,
    TrendRow,
    bilingual,
    open_statistics,
    statistics_period,
)
from tawasul.insights.periods import GRAIN_LABELS, ReportPeriod

PUBLIC_CACHE = "public, max-age=3600"
CHART_HEIGHT = 120
BAR_STEP = 24  # pixels per part of the period: two bars of 10 and a gap
HIDDEN_MARK_HEIGHT = 3  # a hidden cell is drawn as a thin mark, never at its height


def _period_of(request: HttpRequest) -> ReportPeriod:
    return statistics_period(grain=request.GET.get("grain", ""), on=request.GET.get("on", ""))


# --- the page ----------------------------------------------------------------------------


@require_safe
def statistics(request: HttpRequest) -> HttpResponse:
    grains = [(grain.value, GRAIN_LABELS[grain]) for grain in PUBLISHED_GRAINS]
    try:
        period = _period_of(request)
    except InvalidInput as error:
        failed: dict[str, Any] = {
            "error": error.message,
            "grains": grains,
            "grain": request.GET.get("grain"),
        }
        return render(request, "portal/statistics.html", failed, status=400)
    stats = open_statistics(period=period)
    query = urlencode({"grain": period.grain.value, "on": period.first.isoformat()})
    following = period.following()
    context: dict[str, Any] = {
        "stats": stats,
        "period": period,
        "grains": grains,
        "grain": period.grain.value,
        "on": period.first.isoformat(),
        "following": following if following.first <= timezone.localdate() else None,
        "chart": _chart(stats.trend),
        "json_url": f"{reverse('portal:statistics_json')}?{query}",
        "csv_url": f"{reverse('portal:statistics_csv')}?{query}",
    }
    return render(request, "portal/statistics.html", context)


def _chart(trend: list[TrendRow]) -> dict[str, Any]:
    """Bars of an inline SVG drawn on the server (no script), scaled on published cells
    only; a hidden cell is a thin mark. In Arabic time runs from right to left."""
    published = [
        cell.value for row in trend for cell in (row.submitted, row.answered) if cell.value
    ]
    top = max([*published, 1])
    rtl = get_language_bidi()
    last = len(trend) - 1
    return {
        "top": int(top),
        "height": CHART_HEIGHT,
        "width": max(len(trend) * BAR_STEP, 240),
        "bars": [
            {
                "row": row,
                "x": (last - index if rtl else index) * BAR_STEP,
                "submitted": _bar(row.submitted, top),
                "answered": _bar(row.answered, top),
            }
            for index, row in enumerate(trend)
        ],
    }


def _bar(cell: Cell, top: float) -> dict[str, Any]:
    height = (
        HIDDEN_MARK_HEIGHT if cell.suppressed else round(CHART_HEIGHT * (cell.value or 0) / top)
    )
    return {"height": height, "y": CHART_HEIGHT - height, "hidden": cell.suppressed}


# --- JSON ----------------------------------------------------------------------------------


@require_safe
def statistics_json(request: HttpRequest) -> HttpResponse:
    try:
        period = _period_of(request)
    except InvalidInput as error:
        body = {"code": error.code, "message": error.messages()}
        return JsonResponse(body, status=400, json_dumps_params={"ensure_ascii": False})
    response = JsonResponse(
        _as_json(open_statistics(period=period)), json_dumps_params={"ensure_ascii": False}
    )
    response["Cache-Control"] = PUBLIC_CACHE
    return response


def _as_json(stats: OpenStatistics) -> dict[str, Any]:
    return {
        "period": {
            "grain": stats.period.grain.value,
            **_days_json(stats.period),
            "provisional": stats.provisional,
            "previous": _days_json(stats.previous),
        },
        "headline": {
            figure.key: {
                **_labels_json(figure.label),
                "unit": figure.current.unit,
                **_cells_json(current=figure.current, previous=figure.previous),
            }
            for figure in stats.headline
        },
        "tables": {
            table.key: [
                {
                    "key": row.key,
                    **_labels_json(row.label),
                    **_cells_json(current=row.current, previous=row.previous),
                }
                for row in table.rows
            ]
            for table in stats.tables
        },
        "trend": [
            {
                "first": row.bucket.first.isoformat(),
                "last": row.bucket.last.isoformat(),
                **_labels_json(row.label),
                **_cells_json(submitted=row.submitted, answered=row.answered),
            }
            for row in stats.trend
        ],
        "rules": {"counts_hidden_below": SMALL_CELL, "rates_need_cases": MIN_CASES},
    }


def _days_json(period: ReportPeriod) -> dict[str, Any]:
    label = bilingual(lambda: period.label)
    return {
        "first": period.first.isoformat(),
        "last": period.last.isoformat(),
        **_labels_json(label),
    }


def _labels_json(label: Any) -> dict[str, str]:
    return {"label_ar": label.ar, "label_en": label.en}


def _cells_json(**cells: Cell) -> dict[str, Any]:
    """`{"current": 12, "previous": null, "suppressed": {"current": false, "previous": true}}`"""
    return {
        **{name: cell.value for name, cell in cells.items()},
        "suppressed": {name: cell.suppressed for name, cell in cells.items()},
    }


# --- CSV -----------------------------------------------------------------------------------

CSV_HEADER = ["table", "key", "label_ar", "label_en", "measure", "first", "last", "value"]


@require_safe
def statistics_csv(request: HttpRequest) -> HttpResponse:
    try:
        period = _period_of(request)
    except InvalidInput as error:
        messages = error.messages()
        text = f"{messages['ar']}\n{messages['en']}\n"
        return HttpResponse(text, status=400, content_type="text/plain; charset=utf-8")
    stats = open_statistics(period=period)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="tawasul-statistics-{period.grain.value}-{period.first}.csv"'
    )
    response["Cache-Control"] = PUBLIC_CACHE
    response.write("\ufeff")  # a byte-order mark, for spreadsheet programs
    writer = csv.writer(response)
    writer.writerow(CSV_HEADER)
    writer.writerows(_csv_lines(stats))
    return response


def _csv_lines(stats: OpenStatistics) -> list[list[Any]]:
    current, previous = stats.period, stats.previous
    lines: list[list[Any]] = []
    for figure in stats.headline:
        for period, cell in ((current, figure.current), (previous, figure.previous)):
            lines.append(
                _csv_line(
                    "headline", figure.key, figure.label, figure.key, period=period, cell=cell
                )
            )
    for table in stats.tables:
        for row in table.rows:
            for period, cell in ((current, row.current), (previous, row.previous)):
                lines.append(
                    _csv_line(table.key, row.key, row.label, "submitted", period=period, cell=cell)
                )
    for point in stats.trend:
        key = point.bucket.first.isoformat()
        for measure, cell in (("submitted", point.submitted), ("answered", point.answered)):
            lines.append(
                _csv_line("trend", key, point.label, measure, period=point.bucket, cell=cell)
            )
    return lines


def _csv_line(
    table: str, key: str, label: Any, measure: str, *, period: ReportPeriod, cell: Cell
) -> list[Any]:
    return [table, key, label.ar, label.en, measure, period.first, period.last, _csv_value(cell)]


def _csv_value(cell: Cell) -> Any:
    if cell.suppressed:
        return COUNT_MARK if cell.unit == "count" else RATE_MARK
    return "" if cell.value is None else cell.value


urlpatterns: list[URLPattern] = [
    path("statistics/", statistics, name="statistics"),
    path("statistics.json", statistics_json, name="statistics_json"),
    path("statistics.csv", statistics_csv, name="statistics_csv"),
]
