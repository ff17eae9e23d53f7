"""The periodic reports: who may see them, asking for one, preparing it (an Arabic PDF
and an XLSX appendix, with progress), and telling the subscribers it is ready.

A report is a row first (`queued`); preparing it is claimed by one conditional UPDATE
(`queued` → `running`), so any number of workers may try and one does it. The figures
come from the insights selectors with `user=None` — every request, narrowed to the
report's entity subtree — after the daily summary of the period and the one before it
has been refreshed. The weekly and monthly reports are made once per period and scope
(the ministry, and each entity someone subscribed to); when one is ready each active
subscriber who may still see it gets an e-mail through the outbox, carrying a link to
the report's console page and nothing else — never a figure, never a file.

Each claim counts an attempt and stamps `started_at`; the worker's progress and failure
are written only while its attempt holds the report, so a worker taken for dead cannot
fail the try that replaced it (whichever try finishes first makes the report ready).
Recovering reports a worker left behind, and retrying failed ones: `report_recovery`.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from tawasul.channels.models import OutboxChannel
from tawasul.channels.outbox import notify_address
from tawasul.core.errors import AccessDenied, InvalidInput, NotFound
from tawasul.core.hijri import hijri_label
from tawasul.core.templatetags.tawasul_dates import dual_date_label, dual_datetime_label
from tawasul.directory import access
from tawasul.directory.access import Permission
from tawasul.directory.models import Entity
from tawasul.feedback.models import Objection, ObjectionOutcome
from tawasul.insights.emerging import ReportIssues, issues_for_report
from tawasul.insights.periods import Grain, ReportPeriod, period_containing
from tawasul.insights.report_issues import report_issues_context, report_issues_sheet
from tawasul.insights.report_models import (
    PERIODIC_KINDS,
    Report,
    ReportKind,
    ReportStatus,
    ReportSubscription,
)
from tawasul.insights.selectors import (
    DIMENSIONS,
    AgeBucket,
    Change,
    Headline,
    TrendPoint,
    VolumeRow,
    insights_backlog_ageing,
    insights_headline,
    insights_trend,
    insights_volumes,
)
from tawasul.insights.summary import insights_summarise

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

    User = AbstractBaseUser | AnonymousUser

logger = logging.getLogger(__name__)

NOTIFICATION = "report_ready"
OBJECTIONS_LISTED = 10
PDF_VOLUME_ROWS = 10
CHART_WIDTH = 600
CHART_HEIGHT = 110
# Progress (%) after each step of preparing a report.
PROGRESS_CLAIMED = 5
PROGRESS_SUMMARISED = 20
PROGRESS_FIGURES = 50
PROGRESS_PDF = 80
PROGRESS_XLSX = 95
_PERIODIC_GRAIN = {ReportKind.WEEKLY: Grain.WEEK, ReportKind.MONTHLY: Grain.MONTH}

HEADLINE_LABELS = (
    ("submitted", _("Requests submitted")),
    ("answered", _("Requests answered")),
    ("resolution_compliance", _("Answers within the resolution target (%)")),
    ("first_response_compliance", _("First responses within target (%)")),
    ("csat", _("Satisfaction (average of 5)")),
    ("resolved_rate", _("Rated as resolved (%)")),
    ("objection_rate", _("Objections per 100 answers")),
    ("transferred_rate", _("Answers after a transfer (%)")),
    ("first_contact_rate", _("Answers settled at the first contact (%)")),
    ("forwarded", _("Forwards to another entity")),
    ("misrouted_rate", _("Forwards returned as misrouted (%)")),
)


# --- who may see which report -------------------------------------------------------------


def reports_ministry_wide(user: User | None) -> bool:
    """Whether the user's view covers the whole ministry (every root of the entity tree):
    only they see, ask for and subscribe to the ministry-wide reports."""
    scope = access.staff_scope(user)
    prefixes = scope.prefixes(Permission.VIEW)
    if "" in prefixes:
        return True
    roots = list(Entity.objects.get_root_nodes().values_list("path", flat=True))
    return bool(roots) and all(scope.covers(Permission.VIEW, path) for path in roots)


def report_entities_for(user: User) -> QuerySet[Entity]:
    """The active entities the user may have a report of (those they may view)."""
    return access.entities_for(user, Permission.VIEW).filter(is_active=True).order_by("path")


def reports_for(user: User) -> QuerySet[Report]:
    """The reports the user may see: those of entities they may view, and the
    ministry-wide ones when their view covers the whole ministry."""
    prefixes = access.staff_scope(user).prefixes(Permission.VIEW)
    reports = Report.objects.select_related("entity", "requested_by")
    if not prefixes:
        return reports.none()
    if "" in prefixes:
        return reports.all()
    visible = Q(entity__in=access.entities_for(user, Permission.VIEW).values("pk"))
    if reports_ministry_wide(user):
        visible |= Q(entity__isnull=True)
    return reports.filter(visible)


def report_for_staff(user: User, *, pk: int) -> Report:
    """One report the user may see; NotFound otherwise (its existence is not revealed)."""
    report = reports_for(user).filter(pk=pk).first()
    if report is None:
        raise NotFound(_("No such report."))
    return report


def report_visible_to(user: User, report: Report) -> bool:
    if report.entity is None:
        return reports_ministry_wide(user)
    return access.can_on_entity(user, Permission.VIEW, report.entity)


def _ensure_scope(user: User, entity: Entity | None) -> None:
    if entity is None and not reports_ministry_wide(user):
        raise AccessDenied(
            _("Only staff who see the whole ministry may choose the ministry-wide report."),
            code="report_scope",
        )
    if entity is not None and not access.can_on_entity(user, Permission.VIEW, entity):
        raise NotFound(_("No such entity."))


# --- asking for reports --------------------------------------------------------------------


def report_period_due(*, kind: str, now: dt.datetime | None = None) -> ReportPeriod:
    """The last complete week (Sunday–Saturday) or month before today (Riyadh)."""
    today = timezone.localdate(now or timezone.now())
    return period_containing(_PERIODIC_GRAIN[ReportKind(kind)], today).previous()


def report_request(*, period: ReportPeriod, entity: Entity | None, by: User) -> Report:
    """A report on demand, queued; the worker is asked to prepare it after commit."""
    _ensure_scope(by, entity)
    if period.first > timezone.localdate():
        raise InvalidInput(
            _("This period has not started yet."), code="period_future", details={"field": "on"}
        )
    with transaction.atomic():
        report = Report.objects.create(
            kind=ReportKind.ON_DEMAND,
            grain=period.grain,
            first=period.first,
            last=period.last,
            entity=entity,
            requested_by_id=by.pk if by.is_authenticated else None,
        )
        enqueue_after_commit(report.pk)
    return report


def _enqueue(report_id: int) -> None:
    from tawasul.insights.tasks import report_generate_task

    report_generate_task(report_id)


def enqueue_after_commit(report_id: int) -> None:
    transaction.on_commit(lambda: _enqueue(report_id), robust=True)


def reports_periodic_create(*, kind: str, now: dt.datetime | None = None) -> list[Report]:
    """Queue the weekly or monthly reports due now that do not exist yet: the
    ministry's, and one per active entity with an active subscriber to this kind. A
    report already made for the same kind, period and scope is never made again."""
    kind = ReportKind(kind)
    period = report_period_due(kind=kind, now=now)
    subscribed = _subscriptions(kind).filter(entity__isnull=False).values("entity")
    scopes: list[Entity | None] = [None]
    scopes += list(Entity.objects.filter(pk__in=subscribed, is_active=True).order_by("path"))
    created = []
    for entity in scopes:
        try:
            with transaction.atomic():
                report = Report.objects.create(
                    kind=kind,
                    grain=period.grain,
                    first=period.first,
                    last=period.last,
                    entity=entity,
                )
        except IntegrityError:  # made already (perhaps by another worker just now)
            continue
        created.append(report)
    return created


def reports_periodic_run(*, kind: str, now: dt.datetime | None = None) -> int:
    """Queue the reports of `kind` due now and prepare every one of that period still
    waiting (including any a stopped worker left queued); how many were prepared."""
    reports_periodic_create(kind=kind, now=now)
    period = report_period_due(kind=kind, now=now)
    waiting = Report.objects.filter(
        kind=kind, first=period.first, status=ReportStatus.QUEUED
    ).order_by("pk")
    prepared = 0
    for report_id in list(waiting.values_list("pk", flat=True)):
        report = report_generate(report_id=report_id, now=now)
        if report is not None and report.status == ReportStatus.DONE:
            prepared += 1
    return prepared


# --- preparing a report ---------------------------------------------------------------------


@dataclass(frozen=True)
class NotableObjection:
    """An upheld objection, listed by tracking number and category only."""

    tracking: str
    category: str
    decided_on: dt.date


@dataclass(frozen=True)
class VolumeTable:
    dimension: str
    label: str
    rows: list[VolumeRow]


@dataclass(frozen=True)
class ReportFigures:
    title: str
    scope: str
    period: ReportPeriod
    made_at: dt.datetime
    headline: Headline
    trend: list[TrendPoint]
    volumes: list[VolumeTable]
    ageing: list[AgeBucket]
    objections: list[NotableObjection]
    objections_upheld: int
    issues: ReportIssues | None = None  # top and emerging issues, with their clusters


def report_generate(*, report_id: int, now: dt.datetime | None = None) -> Report | None:
    """Prepare a queued report (figures, PDF, XLSX), moving its progress along; mail the
    subscribers of a weekly or monthly one. A report another worker has taken, or
    that is finished, is left as it is. A failure is recorded on the report."""
    claimed = Report.objects.filter(pk=report_id, status=ReportStatus.QUEUED).update(
        status=ReportStatus.RUNNING,
        progress=PROGRESS_CLAIMED,
        started_at=timezone.now(),
        attempts=F("attempts") + 1,
    )
    report = Report.objects.select_related("entity").filter(pk=report_id).first()
    if not claimed or report is None:
        return report
    try:
        with translation.override(settings.LANGUAGE_CODE):
            _prepare(report, now=now or timezone.now())
    except Exception as error:  # recorded on the report, which shows it failed
        logger.exception("report %s could not be prepared", report_id)
        _this_attempt(report).update(
            status=ReportStatus.FAILED,
            error=f"{type(error).__name__}: {error}"[:2000],
            finished_at=timezone.now(),
        )
    report.refresh_from_db()
    return report


def _this_attempt(report: Report) -> QuerySet[Report]:
    """The report while this worker's attempt still holds it (not requeued since)."""
    return Report.objects.filter(
        pk=report.pk, status=ReportStatus.RUNNING, attempts=report.attempts
    )


def _progress(report: Report, percent: int) -> None:
    _this_attempt(report).update(progress=percent)


def _prepare(report: Report, *, now: dt.datetime) -> None:
    period = report.period
    insights_summarise(first=period.previous().first, last=period.last)
    _progress(report, PROGRESS_SUMMARISED)
    figures = report_figures(report=report, now=now)
    _progress(report, PROGRESS_FIGURES)
    pdf = report_pdf(figures)
    _progress(report, PROGRESS_PDF)
    xlsx = report_xlsx(figures)
    _progress(report, PROGRESS_XLSX)
    stem = f"tawasul-{report.kind}-{report.first.isoformat()}-{report_scope_code(report)}"
    report.pdf.save(f"{stem}.pdf", ContentFile(pdf), save=False)
    report.xlsx.save(f"{stem}.xlsx", ContentFile(xlsx), save=False)
    with transaction.atomic():
        # Whichever try finishes first makes the report ready (even one taken for dead).
        done = Report.objects.filter(pk=report.pk, status=ReportStatus.RUNNING).update(
            status=ReportStatus.DONE,
            progress=100,
            pdf=report.pdf.name,
            xlsx=report.xlsx.name,
            error="",
            finished_at=timezone.now(),
        )
        if done and report.kind in PERIODIC_KINDS:
            report_mail_subscribers(report=report)


def report_scope_code(report: Report) -> str:
    return report.entity.code if report.entity is not None else "ministry"


def report_figures(*, report: Report, now: dt.datetime) -> ReportFigures:
    """Every figure of the report, for its period and scope (in the active language)."""
    period, entity = report.period, report.entity
    by_dimension = insights_volumes(user=None, period=period, entity=entity)
    volumes = [
        VolumeTable(dimension=dimension, label=str(label), rows=by_dimension[dimension])
        for dimension, label in DIMENSIONS.items()
    ]
    upheld = _objections_upheld(period, entity)
    listed = upheld.select_related("request", "request__category").order_by("decided_at", "pk")
    return ReportFigures(
        title=str(report.get_kind_display()),
        scope=entity.name if entity is not None else str(_("The whole ministry")),
        period=period,
        made_at=now,
        headline=insights_headline(user=None, period=period, entity=entity),
        trend=insights_trend(user=None, period=period, entity=entity),
        volumes=volumes,
        ageing=insights_backlog_ageing(user=None, now=now, entity=entity),
        objections=[
            NotableObjection(
                tracking=objection.request.tracking_display,
                category=objection.request.category.name if objection.request.category else "",
                decided_on=timezone.localdate(objection.decided_at)
                if objection.decided_at
                else period.last,
            )
            for objection in listed[:OBJECTIONS_LISTED]
        ],
        objections_upheld=upheld.count(),
        issues=issues_for_report(period=period, entity=entity),
    )


def _objections_upheld(period: ReportPeriod, entity: Entity | None) -> QuerySet[Objection]:
    """Objections upheld during the period, on requests in the scope."""
    objections = Objection.objects.filter(
        outcome=ObjectionOutcome.UPHELD, decided_at__gte=period.start, decided_at__lt=period.end
    )
    if entity is not None:
        objections = objections.filter(request__entity__path__startswith=entity.path)
    return objections


# --- the PDF --------------------------------------------------------------------------------


def report_pdf(figures: ReportFigures) -> bytes:
    """The report as an Arabic, right-to-left A4 PDF (charts drawn as inline SVG)."""
    from weasyprint import HTML  # heavy (Pango, fonts): loaded only when a PDF is made

    html = render_to_string("insights/report.html", _pdf_context(figures))
    return HTML(string=html).write_pdf()


def _pdf_context(figures: ReportFigures) -> dict[str, Any]:
    period = figures.period
    return {
        "figures": figures,
        "first": dual_date_label(period.first),
        "last": dual_date_label(period.last),
        "made_at": dual_datetime_label(figures.made_at),
        "headline": _headline_rows(figures.headline),
        "cards": _cards(figures.headline),
        "chart": _trend_chart(figures.trend),
        "volumes": [
            {"label": table.label, "rows": _bars(table.rows[:PDF_VOLUME_ROWS]), "more": table.rows}
            for table in figures.volumes
        ],
        "ageing": _age_bars(figures.ageing),
        "issues": report_issues_context(figures.issues),
    }


def _headline_rows(headline: Headline) -> list[dict[str, Any]]:
    rows = []
    for key, label in HEADLINE_LABELS:
        change: Change = getattr(headline, key)
        rows.append({"key": key, "label": str(label), "change": change})
    return rows


def _cards(headline: Headline) -> list[dict[str, Any]]:
    """The four figures printed large at the top."""
    labels = dict(HEADLINE_LABELS)
    return [
        {"label": labels["submitted"], "value": headline.submitted.current, "unit": ""},
        {"label": labels["answered"], "value": headline.answered.current, "unit": ""},
        {
            "label": labels["resolution_compliance"],
            "value": headline.resolution_compliance.current,
            "unit": "%",
        },
        {"label": _("In hand now"), "value": headline.backlog, "unit": ""},
    ]


def _trend_chart(points: list[TrendPoint]) -> dict[str, Any]:
    """Bars of an SVG (in its own units, scaled to the page's width), right to left as
    Arabic reads: the first bucket on the right."""
    top = max([p.submitted for p in points] + [p.answered for p in points] + [1])
    step = CHART_WIDTH / max(len(points), 1)
    bar = step * 0.38
    crowded = len(points) > 12

    def height(count: int) -> float:
        return round(CHART_HEIGHT * count / top, 2)

    bars = []
    for index, point in enumerate(points):
        bucket = point.bucket
        x = CHART_WIDTH - (index + 1) * step + step * 0.1
        label = bucket.short_label
        if crowded:
            label = str(bucket.first.day) if index % 2 == 0 else ""
        bars.append(
            {
                "point": point,
                "submitted_x": round(x + bar, 2),
                "answered_x": round(x, 2),
                "width": round(bar, 2),
                "submitted": height(point.submitted),
                "answered": height(point.answered),
                "submitted_y": round(CHART_HEIGHT - height(point.submitted), 2),
                "answered_y": round(CHART_HEIGHT - height(point.answered), 2),
                "label": label,
                "label_x": round(x + bar, 2),
            }
        )
    return {
        "top": top,
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
        "label_y": CHART_HEIGHT + 13,
        "full_height": CHART_HEIGHT + 18,
        "bars": bars,
    }


def _bars(rows: list[VolumeRow]) -> list[dict[str, Any]]:
    top = max([row.current for row in rows] + [1])
    return [_bar({"row": row}, row.current, top) for row in rows]


def _age_bars(buckets: list[AgeBucket]) -> list[dict[str, Any]]:
    top = max([bucket.count for bucket in buckets] + [1])
    return [_bar({"bucket": bucket}, bucket.count, top) for bucket in buckets]


def _bar(item: dict[str, Any], count: int, top: int) -> dict[str, Any]:
    """A horizontal bar of 0–100 units growing from the right (the start in Arabic)."""
    width = round(100 * count / top)
    return {**item, "bar": width, "offset": 100 - width}


# --- the XLSX appendix ----------------------------------------------------------------------

SHEET_NAME_MAX = 31


def report_xlsx(figures: ReportFigures) -> bytes:
    """The report's figures as a workbook (right-to-left sheets): key figures, trend,
    one sheet per volume table, backlog by age, upheld objections."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    bold = Font(bold=True)

    def sheet(title: Any, header: list[Any], *, first: bool = False) -> Any:
        worksheet = workbook.active if first else workbook.create_sheet()
        worksheet.title = _sheet_name(str(title))
        worksheet.sheet_view.rightToLeft = True
        worksheet.append([str(cell) for cell in header])
        for cell in worksheet[worksheet.max_row]:
            cell.font = bold
        return worksheet

    summary = sheet(_("Key figures"), [figures.title, figures.scope], first=True)
    period = figures.period
    summary.append([str(_("Period")), period.label])
    summary.append([str(_("From")), period.first, hijri_label(period.first)])
    summary.append([str(_("To")), period.last, hijri_label(period.last)])
    summary.append([str(_("Prepared on")), dual_datetime_label(figures.made_at)])
    summary.append([])
    summary.append(
        [str(_("Figure")), str(_("This period")), str(_("Previous period")), str(_("Change"))]
    )
    for row in _headline_rows(figures.headline):
        change = row["change"]
        summary.append([row["label"], change.current, change.previous, change.delta_percent])
    summary.append([str(_("In hand now")), figures.headline.backlog])

    trend = sheet(_("Trend"), [_("From"), _("To"), _("Requests submitted"), _("Requests answered")])
    for point in figures.trend:
        trend.append([point.bucket.first, point.bucket.last, point.submitted, point.answered])

    for table in figures.volumes:
        volume = sheet(
            _("Requests by %(dimension)s") % {"dimension": table.label},
            [table.label, _("This period"), _("Previous period"), _("Change")],
        )
        for volume_row in table.rows:
            volume.append(
                [
                    volume_row.label,
                    volume_row.current,
                    volume_row.previous,
                    volume_row.change.delta_percent,
                ]
            )

    if figures.issues is not None:
        report_issues_sheet(sheet, figures.issues)

    ageing = sheet(_("Backlog by age"), [_("Age"), _("Requests in hand")])
    for bucket in figures.ageing:
        ageing.append([bucket.label, bucket.count])

    objections = sheet(_("Objections"), [_("Tracking number"), _("Category"), _("Upheld on")])
    for objection in figures.objections:
        objections.append([objection.tracking, objection.category, objection.decided_on])

    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _sheet_name(title: str) -> str:
    """A valid, unique-enough sheet title: no []:*?/\\ and at most 31 characters."""
    cleaned = "".join(" " if char in "[]:*?/\\" else char for char in title)
    return cleaned[:SHEET_NAME_MAX].strip() or "-"


# --- telling the subscribers ----------------------------------------------------------------


def _subscriptions(kind: str) -> QuerySet[ReportSubscription]:
    flag = {ReportKind.WEEKLY: "weekly", ReportKind.MONTHLY: "monthly"}[ReportKind(kind)]
    return ReportSubscription.objects.filter(active=True, user__is_active=True, **{flag: True})


def report_url(report: Report) -> str:
    """The absolute address of the report's console page (in the default language)."""
    with translation.override(settings.LANGUAGE_CODE):
        path = reverse("console:report", args=[report.pk])
    return settings.TAWASUL_PORTAL_URL.rstrip("/") + path


def report_mail_subscribers(*, report: Report) -> int:
    """Queue one e-mail per active subscriber to this kind and scope who may still see
    the report (call inside the transaction that marks it ready); how many were queued."""
    subscriptions = _subscriptions(report.kind).select_related("user").order_by("pk")
    if report.entity_id is None:
        subscriptions = subscriptions.filter(entity__isnull=True)
    else:
        subscriptions = subscriptions.filter(entity_id=report.entity_id)
    seen: set[str] = set()
    queued = 0
    for subscription in subscriptions:
        user = subscription.user
        email = (user.email or "").strip()
        if not email or email.lower() in seen or not report_visible_to(user, report):
            continue
        seen.add(email.lower())
        notify_address(
            channel=OutboxChannel.EMAIL,
            recipient=email,
            template=NOTIFICATION,
            language=settings.LANGUAGE_CODE,
            context={"report_url": report_url(report), "report": str(report.pk)},
        )
        queued += 1
    return queued


# --- subscriptions --------------------------------------------------------------------------


def report_subscription_of(user: AbstractBaseUser) -> ReportSubscription | None:
    if user.pk is None:
        return None
    return ReportSubscription.objects.select_related("entity").filter(user_id=user.pk).first()


def report_subscription_set(
    *, user: AbstractBaseUser, entity: Entity | None, weekly: bool, monthly: bool
) -> ReportSubscription:
    """Subscribe the user to the weekly and/or monthly report of a scope they may see
    (neither: unsubscribe)."""
    _ensure_scope(user, entity)
    subscription, _created = ReportSubscription.objects.update_or_create(
        user=user,
        defaults={
            "entity": entity,
            "weekly": weekly,
            "monthly": monthly,
            "active": weekly or monthly,
        },
    )
    return subscription
