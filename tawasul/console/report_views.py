"""Periodic reports in the console: the archive of the reports the user may see, their
PDF and XLSX downloads, "prepare now" for any period and scope within reach (the page
then follows the progress, with htmx polling every two seconds, or a plain refresh
without JavaScript), "try again" for a report that could not be prepared, and the
user's own e-mail subscription.

Who may see what is decided in `tawasul.insights.reports` (through the access layer):
ministry-wide reports only for staff who see the whole ministry, an entity's report for
those who may view that entity; anything else is not found.
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.models import AbstractBaseUser
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST, require_safe

from tawasul.console.access import staff_required
from tawasul.core.errors import DomainError, InvalidInput, NotFound
from tawasul.directory.models import Entity
from tawasul.insights.periods import GRAIN_LABELS, ReportPeriod, period_containing
from tawasul.insights.report_models import Report, ReportStatus
from tawasul.insights.report_recovery import report_retry
from tawasul.insights.reports import (
    report_entities_for,
    report_for_staff,
    report_request,
    report_subscription_of,
    report_subscription_set,
    reports_for,
    reports_ministry_wide,
)

ARCHIVE_LIMIT = 100
CONTENT_TYPES = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


class EntityChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.name)


class _ScopeForm(forms.Form):
    """A form with an entity to choose among those within reach; left empty, the whole
    ministry, for those who see it."""

    entity = EntityChoiceField(label=_("Entity"), queryset=Entity.objects.none(), required=False)

    def __init__(self, *args: Any, user: AbstractBaseUser, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.ministry_wide = reports_ministry_wide(user)
        field = cast(EntityChoiceField, self.fields["entity"])
        field.queryset = report_entities_for(user)
        field.empty_label = str(_("The whole ministry")) if self.ministry_wide else None
        field.required = not self.ministry_wide


class ReportRequestForm(_ScopeForm):
    grain = forms.ChoiceField(
        label=_("Period"), choices=[(grain.value, label) for grain, label in GRAIN_LABELS.items()]
    )
    on = forms.DateField(
        label=_("Containing the day"), widget=forms.DateInput(attrs={"type": "date", "dir": "ltr"})
    )
    field_order = ["grain", "on", "entity"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        grain, on = cleaned.get("grain"), cleaned.get("on")
        if grain and on:
            try:
                cleaned["period"] = period_containing(grain, on)
                cleaned["period"].previous()  # compared with it: must exist too
            except (ValueError, OverflowError):
                cleaned.pop("period", None)
                self.add_error("on", _("Enter a valid date, for example 2026-11-28."))
        period: ReportPeriod | None = cleaned.get("period")
        if period is not None and period.first > timezone.localdate():
            self.add_error("on", _("This period has not started yet."))
        return cleaned


class SubscriptionForm(_ScopeForm):
    weekly = forms.BooleanField(label=_("The weekly report, every Sunday"), required=False)
    monthly = forms.BooleanField(label=_("The monthly report, on the 1st"), required=False)
    field_order = ["weekly", "monthly", "entity"]


def _user(http: HttpRequest) -> AbstractBaseUser:
    user = http.user
    if not isinstance(user, AbstractBaseUser):  # staff_required comes first; never reached
        raise Http404
    return user


def _report(http: HttpRequest, pk: int) -> Report:
    try:
        return report_for_staff(http.user, pk=pk)
    except NotFound:
        raise Http404 from None


def _archive(
    http: HttpRequest,
    *,
    request_form: ReportRequestForm | None = None,
    subscription_form: SubscriptionForm | None = None,
    status: int = 200,
) -> HttpResponse:
    user = _user(http)
    subscription = report_subscription_of(user)
    initial = (
        {
            "weekly": subscription.weekly,
            "monthly": subscription.monthly,
            "entity": subscription.entity,
        }
        if subscription is not None and subscription.active
        else {}
    )
    context = {
        "reports": reports_for(user).order_by("-created_at", "-id")[:ARCHIVE_LIMIT],
        "request_form": request_form
        or ReportRequestForm(
            user=user, initial={"grain": "week", "on": timezone.localdate().isoformat()}
        ),
        "subscription_form": subscription_form or SubscriptionForm(user=user, initial=initial),
        "subscription": subscription,
    }
    return render(http, "console/reports.html", context, status=status)


@require_safe
@staff_required
def reports(http: HttpRequest) -> HttpResponse:
    return _archive(http)


@require_POST
@staff_required
def report_generate(http: HttpRequest) -> HttpResponse:
    user = _user(http)
    form = ReportRequestForm(http.POST, user=user)
    if not form.is_valid():
        return _archive(http, request_form=form, status=400)
    try:
        report = report_request(
            period=form.cleaned_data["period"], entity=form.cleaned_data["entity"], by=user
        )
    except DomainError as error:
        field = error.details.get("field") if isinstance(error, InvalidInput) else None
        form.add_error(field if field in form.fields else None, str(error.message))
        return _archive(http, request_form=form, status=400)
    return redirect("console:report", pk=report.pk)


@require_POST
@staff_required
def report_subscription(http: HttpRequest) -> HttpResponse:
    user = _user(http)
    form = SubscriptionForm(http.POST, user=user)
    if not form.is_valid():
        return _archive(http, subscription_form=form, status=400)
    try:
        subscription = report_subscription_set(
            user=user,
            entity=form.cleaned_data["entity"],
            weekly=form.cleaned_data["weekly"],
            monthly=form.cleaned_data["monthly"],
        )
    except DomainError as error:
        form.add_error(None, str(error.message))
        return _archive(http, subscription_form=form, status=400)
    if subscription.active:
        messages.success(http, _("Your report subscription is saved."))
    else:
        messages.success(http, _("You will no longer receive the reports by e-mail."))
    return redirect("console:reports")


@require_safe
@staff_required
def report_detail(http: HttpRequest, pk: int) -> HttpResponse:
    return render(http, "console/report_detail.html", {"report": _report(http, pk)})


@require_POST
@staff_required
def report_retry_view(http: HttpRequest, pk: int) -> HttpResponse:
    report = _report(http, pk)
    try:
        report_retry(user=_user(http), report=report)
    except NotFound:
        raise Http404 from None
    except DomainError as error:
        messages.error(http, str(error.message))
        status = 400 if isinstance(error, InvalidInput) else error.status
        return render(http, "console/report_detail.html", {"report": report}, status=status)
    messages.success(http, _("The report is queued to be prepared again."))
    return redirect("console:report", pk=report.pk)


@require_safe
@staff_required
def report_progress(http: HttpRequest, pk: int) -> HttpResponse:
    """The progress fragment for htmx polling; the whole page for anyone else."""
    report = _report(http, pk)
    if http.headers.get("HX-Request") != "true":
        return redirect("console:report", pk=report.pk)
    response = render(http, "console/report_progress.html", {"report": report})
    patch_vary_headers(response, ["HX-Request"])
    response["Cache-Control"] = "private, no-store"
    return response


@require_safe
@staff_required
def report_download(http: HttpRequest, pk: int, extension: str) -> FileResponse:
    report = _report(http, pk)
    if extension not in CONTENT_TYPES:
        raise Http404
    stored = report.pdf if extension == "pdf" else report.xlsx
    if report.status != ReportStatus.DONE or not stored:
        raise Http404
    try:
        handle = stored.open("rb")
    except OSError:
        raise Http404 from None
    filename = f"tawasul-report-{report.kind}-{report.first.isoformat()}.{extension}"
    response = FileResponse(
        handle, as_attachment=True, filename=filename, content_type=CONTENT_TYPES[extension]
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


urlpatterns: list[URLPattern] = [
    path("reports/", reports, name="reports"),
    path("reports/generate/", report_generate, name="report_generate"),
    path("reports/subscription/", report_subscription, name="report_subscription"),
    path("reports/<int:pk>/", report_detail, name="report"),
    path("reports/<int:pk>/progress/", report_progress, name="report_progress"),
    path("reports/<int:pk>/retry/", report_retry_view, name="report_retry"),
    path("reports/<int:pk>/<str:extension>/", report_download, name="report_download"),
]
