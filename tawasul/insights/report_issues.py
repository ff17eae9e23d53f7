"""The minister's report's section on top and emerging issues (issue 12): its context in
the PDF and its sheet in the XLSX appendix. Tracking numbers only, never what a person
wrote: the clusters are shown by their most telling words."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from tawasul.insights.emerging import ReportIssues
from tawasul.insights.models import IssueDimension

PDF_ISSUE_ROWS = 5


def report_issues_context(issues: ReportIssues | None) -> dict[str, Any] | None:
    """The report's top issues: the largest categories, the largest rises of categories
    and entities against their history (emerging ones marked), the clusters."""
    if issues is None:
        return None
    top = issues.top
    rises = sorted(
        [*top.by_rise["category"], *top.by_rise["entity"]],
        key=lambda row: (-(row.spike.score or 0.0), row.label),
    )
    return {
        "largest": top.by_volume["category"][:PDF_ISSUE_ROWS],
        "rises": rises[:PDF_ISSUE_ROWS],
        "emerging": top.emerging,
        "clusters": issues.clusters,
        "threshold": settings.TAWASUL_EMERGING_SCORE,
    }


def report_issues_sheet(sheet: Callable[..., Any], issues: ReportIssues) -> None:
    """Every category and entity tested, largest rise first, then the clusters (tracking
    numbers only, never the text of a request)."""
    header = [_("Category or entity"), _("Name"), _("Requests"), _("Expected"), _("Score")]
    issues_sheet = sheet(
        _("Top and emerging issues"), [*header, _("Change from expected (%)"), _("Emerging")]
    )
    rows = sorted(
        (row for row in issues.top.rows if row.spike.observed or row.spike.expected),
        key=lambda row: (row.dimension, -(row.spike.score or 0.0), row.label),
    )
    for row in rows:
        spike = row.spike
        issues_sheet.append(
            [
                str(IssueDimension(row.dimension).label),
                row.label,
                spike.observed,
                spike.expected,
                spike.score,
                spike.rise_percent,
                str(_("Yes") if spike.emerging else _("No")),
            ]
        )
    issues_sheet.append([])
    issues_sheet.append(
        [
            str(_("Category")),
            str(_("Most telling words")),
            str(_("Requests")),
            str(_("For example")),
        ]
    )
    for row, clusters in issues.clusters:
        for cluster in clusters:
            examples = " · ".join(tracking for _pk, tracking in cluster.examples)
            issues_sheet.append([row.label, " · ".join(cluster.terms), cluster.size, examples])
