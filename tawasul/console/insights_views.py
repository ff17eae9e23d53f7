"""The insights dashboard: the period's key figures against the previous period, the
daily or monthly trend, volume by kind, channel, category, entity and region, and the
backlog's ageing — every figure a link to the queue listing its requests, every table
downloadable as CSV. What the user sees is what the access layer lets them view."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import get_language_bidi
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from tawasul.cases.models import Category
from tawasul.cases.queues import Queue
from tawasul.console.access import staff_required
from tawasul.core.errors import InvalidInput
from tawasul.core.replica import reads_from_replica
from tawasul.insights.emerging import (
    EMERGING_MINIMUM,
    EMERGING_RISE,
    IssueRow,
    TopIssues,
    issue_scores,
    issues_top,
)
from tawasul.insights.emerging_clusters import issue_clusters
from tawasul.insights.models import IssueDimension
from tawasul.insights.periods import GRAIN_LABELS, Grain, ReportPeriod, period_parse
from tawasul.insights.selectors import (
    DIMENSIONS,
    LEAGUE_MINIMUM,
    Headline,
    TrendPoint,
    VolumeRow,
    insights_answer_days,
    insights_backlog_ageing,
    insights_headline,
    insights_league,
    insights_routing,
    insights_trend,
    insights_volume,
    insights_volumes,
    insights_workload,
)

CHART_HEIGHT = 120


def _queue_url(queue: str, **params: Any) -> str:
    base = reverse("console:queue", args=[queue])
    cleaned = {key: value for key, value in params.items() if value not in (None, "")}
    return f"{base}?{urlencode(cleaned)}" if cleaned else base


def _period_params(period: ReportPeriod) -> dict[str, str]:
    return {"from": period.first.isoformat(), "to": period.last.isoformat()}


def _chart(points: list[TrendPoint]) -> dict[str, Any]:
    """Bars of an inline SVG (drawn on the server, no script): height in pixels per bucket.
    In Arabic time runs from right to left, as the page reads."""
    top = max([p.submitted for p in points] + [p.answered for p in points] + [1])
    rtl = get_language_bidi()
    last = len(points) - 1
    return {
        "top": top,
        "height": CHART_HEIGHT,
        "width": max(len(points) * 24, 240),
        "bars": [
            {
                "point": point,
                "x": (last - index if rtl else index) * 24,
                "submitted": round(CHART_HEIGHT * point.submitted / top),
                "answered": round(CHART_HEIGHT * point.answered / top),
                "submitted_y": CHART_HEIGHT - round(CHART_HEIGHT * point.submitted / top),
                "answered_y": CHART_HEIGHT - round(CHART_HEIGHT * point.answered / top),
                "link": _queue_url(Queue.SUBTREE, **_period_params(point.bucket)),
            }
            for index, point in enumerate(points)
        ],
    }


def _headline_rows(headline: Headline, period_link: str) -> list[dict[str, Any]]:
    rows = [
        ("submitted", _("Requests submitted"), headline.submitted, period_link),
        ("answered", _("Requests answered"), headline.answered, ""),
        (
            "resolution_compliance",
            _("Answers within the resolution target (%)"),
            headline.resolution_compliance,
            "",
        ),
        (
            "first_response_compliance",
            _("First responses within target (%)"),
            headline.first_response_compliance,
            "",
        ),
        ("csat", _("Satisfaction (average of 5)"), headline.csat, ""),
        ("resolved_rate", _("Rated as resolved (%)"), headline.resolved_rate, ""),
        ("objection_rate", _("Objections per 100 answers"), headline.objection_rate, ""),
        (
            "transferred_rate",
            _("Answers after a transfer (%)"),
            headline.transferred_rate,
            "",
        ),
        (
            "first_contact_rate",
            _("Answers settled at the first contact (%)"),
            headline.first_contact_rate,
            "",
        ),
        ("forwarded", _("Forwards to another entity"), headline.forwarded, ""),
        (
            "misrouted_rate",
            _("Forwards returned as misrouted (%)"),
            headline.misrouted_rate,
            "",
        ),
    ]
    return [
        {"key": key, "label": label, "change": change, "link": link}
        for key, label, change, link in rows
    ]


def _volume_tables(request: HttpRequest, period: ReportPeriod) -> list[dict[str, Any]]:
    tables = []
    volumes = insights_volumes(user=request.user, period=period)
    for dimension, label in DIMENSIONS.items():
        rows = volumes[dimension]
        tables.append(
            {
                "dimension": dimension,
                "label": label,
                "rows": [
                    (
                        row,
                        # the queues filter by entity, not region: a region's row has no link
                        _queue_url(Queue.SUBTREE, **row.queue_filter, **_period_params(period))
                        if row.queue_filter
                        else "",
                    )
                    for row in rows
                ],
            }
        )
    return tables


def _issue_rows(
    rows: list[IssueRow], period: ReportPeriod, grain: str
) -> list[tuple[IssueRow, str, str]]:
    """Each issue with the queue listing its requests and, for a category, the address of
    its sub-issues (clusters) on this page."""
    linked = []
    for row in rows:
        queue = _queue_url(Queue.SUBTREE, **{row.dimension: row.key}, **_period_params(period))
        clusters = ""
        if row.dimension == IssueDimension.CATEGORY:
            query = urlencode({"grain": grain, "on": period.first.isoformat(), "clusters": row.key})
            clusters = f"?{query}#issue-clusters"
        linked.append((row, queue, clusters))
    return linked


def _issues_section(request: HttpRequest, period: ReportPeriod, grain: str) -> dict[str, Any]:
    """Top categories and entities by volume and by rise, emerging ones marked; the
    clusters of the category asked for (`?clusters=<id>`), over the requests in scope."""
    top: TopIssues = issues_top(user=request.user, period=period)
    titles = {
        (IssueDimension.CATEGORY, "volume"): _("Categories with the most requests"),
        (IssueDimension.CATEGORY, "rise"): _("Categories that rose the most"),
        (IssueDimension.ENTITY, "volume"): _("Entities with the most requests"),
        (IssueDimension.ENTITY, "rise"): _("Entities that rose the most"),
    }
    tables = [
        {
            "id": f"{dimension}-{order}",
            "dimension": dimension,
            "title": title,
            "label": IssueDimension(dimension).label,
            "rows": _issue_rows(
                (top.by_volume if order == "volume" else top.by_rise)[dimension], period, grain
            ),
        }
        for (dimension, order), title in titles.items()
    ]
    chosen = request.GET.get("clusters", "")
    category = (
        Category.objects.filter(pk=int(chosen), depth=1).first() if chosen.isdigit() else None
    )
    return {
        "tables": tables,
        "emerging": len(top.emerging),
        "threshold": settings.TAWASUL_EMERGING_SCORE,
        "minimum": EMERGING_MINIMUM,
        "rise": round(100 * EMERGING_RISE),
        "clusters_of": category.name if category else "",
        "clusters": issue_clusters(category=category, period=period, user=request.user)
        if category
        else [],
    }


@require_GET
@staff_required
@reads_from_replica()
def insights(request: HttpRequest) -> HttpResponse:
    grain = request.GET.get("grain") or Grain.MONTH.value
    try:
        period = period_parse(grain, request.GET.get("on", ""))
    except InvalidInput as error:
        return render(
            request,
            "console/insights_invalid.html",
            {"message": str(error), "grains": GRAIN_LABELS.items()},
            status=400,
        )
    table = request.GET.get("table", "")
    if request.GET.get("format") == "csv":
        return _csv(request, period, table)
    if request.GET.get("format") == "xlsx":
        return _xlsx(request, period)
    now = timezone.now()
    headline = insights_headline(user=request.user, period=period)
    context = {
        "period": period,
        "previous": period.previous(),
        "following": period.following(),
        "grain": grain,
        "grains": GRAIN_LABELS.items(),
        "on": period.first.isoformat(),
        "headline": _headline_rows(headline, _queue_url(Queue.SUBTREE, **_period_params(period))),
        "backlog": headline.backlog,
        "chart": _chart(insights_trend(user=request.user, period=period)),
        "volumes": _volume_tables(request, period),
        "issues": _issues_section(request, period, grain),
        "ageing": [
            (
                bucket,
                _queue_url(
                    Queue.SUBTREE,
                    status="open",
                    **{"from": bucket.submitted_from, "to": bucket.submitted_to},
                ),
            )
            for bucket in insights_backlog_ageing(user=request.user, now=now)
        ],
        "league": [
            (row, _queue_url(Queue.SUBTREE, entity=row.entity_id, **_period_params(period)))
            for row in insights_league(user=request.user, period=period)
        ],
        "league_minimum": LEAGUE_MINIMUM,
        "answer_days": insights_answer_days(user=request.user, period=period),
        "routing": [
            (row, _queue_url(Queue.SUBTREE, entity=row.entity_id, **_period_params(period)))
            for row in insights_routing(user=request.user, period=period)
        ],
        "workload": [
            (row, f"{reverse('console:oversight')}?{urlencode({'agent': row.user_id})}")
            for row in insights_workload(user=request.user, period=period, now=now)
        ],
        "period_queue": _queue_url(Queue.SUBTREE, **_period_params(period)),
        "backlog_queue": _queue_url(Queue.SUBTREE, status="open"),
    }
    return render(request, "console/insights.html", context)


Table = tuple[list[Any], list[list[Any]]]  # a header and its rows


def _trend_table(user: Any, period: ReportPeriod) -> Table:
    return [_("From"), _("To"), _("Submitted"), _("Answered")], [
        [p.bucket.first, p.bucket.last, p.submitted, p.answered]
        for p in insights_trend(user=user, period=period)
    ]


def _league_table(user: Any, period: ReportPeriod) -> Table:
    header = [_("Rank"), _("Entity"), _("Answered"), _("Settled"), "%"]
    return [*header, _("Interval low"), _("Interval high")], [
        [r.rank or "", r.name, r.answered, r.settled, r.compliance, r.low, r.high]
        for r in insights_league(user=user, period=period)
    ]


def _answer_days_table(user: Any, period: ReportPeriod) -> Table:
    return [_("Working days to answer"), _("This period"), _("Previous period")], [
        [row.label, row.current, row.previous]
        for row in insights_answer_days(user=user, period=period)
    ]


def _routing_table(user: Any, period: ReportPeriod) -> Table:
    header = [_("Entity"), _("Submitted"), _("Forwarded"), _("Returned as misrouted"), "%"]
    return header, [
        [r.name, r.submitted, r.forwarded, r.misrouted, r.misrouted_rate.current]
        for r in insights_routing(user=user, period=period)
    ]


def _workload_table(user: Any, period: ReportPeriod) -> Table:
    header = [_("Staff member"), _("In hand"), _("Overdue"), _("Answered in the period")]
    return header, [
        [r.name, r.open, r.overdue, r.answered] for r in insights_workload(user=user, period=period)
    ]


def _emerging_table(user: Any, period: ReportPeriod) -> Table:
    header = [_("Category or entity"), _("Name"), _("Requests"), _("Expected"), _("Baseline")]
    header += [_("Seasonal factor"), _("Score"), _("Change from expected (%)"), _("Emerging")]
    rows = sorted(
        issue_scores(user=user, period=period),
        key=lambda row: (row.dimension, -(row.spike.score or 0.0), row.label),
    )
    return header, [
        [
            IssueDimension(row.dimension).label,
            row.label,
            row.spike.observed,
            row.spike.expected,
            row.spike.baseline,
            row.spike.season,
            row.spike.score,
            row.spike.rise_percent,
            _("Yes") if row.spike.emerging else _("No"),
        ]
        for row in rows
    ]


def _ageing_table(user: Any, period: ReportPeriod) -> Table:
    return [_("Age"), _("Requests in hand")], [
        [bucket.label, bucket.count] for bucket in insights_backlog_ageing(user=user)
    ]


_TABLES = {
    "trend": _trend_table,
    "league": _league_table,
    "answer-days": _answer_days_table,
    "routing": _routing_table,
    "workload": _workload_table,
    "ageing": _ageing_table,
    "emerging": _emerging_table,
}


def _table(request: HttpRequest, period: ReportPeriod, table: str) -> Table | None:
    """One table of the page as a header and rows (None: no such table)."""
    user = request.user
    if table in _TABLES:
        return _TABLES[table](user, period)
    dimension = table.removeprefix("volume-") or "kind"
    if dimension not in DIMENSIONS:
        return None
    rows: list[VolumeRow] = insights_volume(user=user, period=period, dimension=dimension)
    return [str(DIMENSIONS[dimension]), _("This period"), _("Previous period")], [
        [row.label, row.current, row.previous] for row in rows
    ]


def _csv(request: HttpRequest, period: ReportPeriod, table: str) -> HttpResponse:
    """One table of the page as CSV (UTF-8 with a byte-order mark, for spreadsheet programs)."""
    found = _table(request, period, table)
    if found is None:
        return HttpResponse(_("No such table."), status=404, content_type="text/plain")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="tawasul-{table or "volume-kind"}-{period.first.isoformat()}.csv"'
    )
    response.write("\ufeff")
    writer = csv.writer(response)
    header, rows = found
    writer.writerow(header)
    writer.writerows(rows)
    return response


XLSX_TABLES = [
    "trend",
    *(f"volume-{dimension}" for dimension in DIMENSIONS),
    "emerging",
    "answer-days",
    "league",
    "routing",
    "workload",
    "ageing",
]
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _xlsx(request: HttpRequest, period: ReportPeriod) -> HttpResponse:
    """Every table of the page in one workbook, a sheet each, right to left in Arabic."""
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    for table in XLSX_TABLES:
        found = _table(request, period, table)
        if found is None:
            continue
        sheet = book.create_sheet(title=table[:31])
        sheet.sheet_view.rightToLeft = get_language_bidi()
        header, rows = found
        sheet.append([str(cell) for cell in header])
        for row in rows:
            sheet.append([_cell(cell) for cell in row])
    out = io.BytesIO()
    book.save(out)
    response = HttpResponse(out.getvalue(), content_type=XLSX_TYPE)
    response["Content-Disposition"] = (
        f'attachment; filename="tawasul-insights-{period.grain.value}-{period.first}.xlsx"'
    )
    return response


def _cell(value: Any) -> Any:
    """A value as a spreadsheet cell: numbers and dates as they are, text as text."""
    return value if value is None or isinstance(value, int | float | dt.date) else str(value)


urlpatterns: list[URLPattern] = [path("insights/", insights, name="insights")]
