"""Console: the minister's office availability (a host's week of slots with their bookings;
one slot, a recurring pattern, deleting an unbooked slot) and the exports (the schedule as
.ics, the day's agenda as a PDF). Only for staff who decide (403 for screeners, 404 for
everyone else)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST, require_safe

from tawasul.console import meeting_forms as mf
from tawasul.console.meeting_access import (
    host_by_pk,
    meeting_role_required,
    office_tz,
    staff_user,
)
from tawasul.core.errors import DomainError, InvalidInput
from tawasul.meetings import scheduling as sched
from tawasul.meetings.exports import agenda_pdf, meetings_ics
from tawasul.meetings.models import MeetingHost, MeetingSlot
from tawasul.meetings.staff_selectors import meeting_hosts, meeting_slots_between
from tawasul.meetings.workflow import MeetingRole

Data = dict[str, Any]


# --- availability -----------------------------------------------------------------------------


def _week(http: HttpRequest) -> tuple[mf.WeekForm, MeetingHost | None, dt.date]:
    hosts = meeting_hosts()
    form = mf.WeekForm(http.GET or None, choices={"host": [(h.pk, str(h)) for h in hosts]})
    data = form.cleaned_data if form.is_valid() else {}
    host = host_by_pk(data.get("host")) or (hosts[0] if hosts else None)
    return form, host, data.get("week") or timezone.localdate()


def _days(host: MeetingHost | None, first: dt.date) -> list[dict[str, Any]]:
    start = dt.datetime.combine(first, dt.time.min, tzinfo=office_tz())
    by_day: list[list[MeetingSlot]] = [[] for _day in range(7)]
    if host is not None:
        end = start + dt.timedelta(days=7)
        for slot in meeting_slots_between(host=host, start=start, end=end):
            by_day[(timezone.localtime(slot.starts_at, office_tz()).date() - first).days].append(
                slot
            )
    return [{"day": first + dt.timedelta(days=n), "slots": by_day[n]} for n in range(7)]


def _availability_page(
    http: HttpRequest, *, status: int = 200, bound: dict[str, forms.Form] | None = None
) -> HttpResponse:
    form, host, first = _week(http)
    host_choices = {"host": [(h.pk, str(h)) for h in meeting_hosts()]}
    initial = {"host": host.pk if host else None}
    forms_: dict[str, forms.Form] = {
        "slot": mf.SlotForm(prefix="slot", choices=host_choices, initial=initial),
        "recurring": mf.RecurringForm(prefix="recurring", choices=host_choices, initial=initial),
        **(bound or {}),
    }

    def week_query(day: dt.date) -> str:
        return "?" + urlencode({"host": host.pk if host else "", "week": day.isoformat()})

    context = {
        "week_form": form,
        "host": host,
        "days": _days(host, first),
        "previous_week": week_query(first - dt.timedelta(days=7)),
        "next_week": week_query(first + dt.timedelta(days=7)),
        "this_query": week_query(first),
        "can_decide": True,
        "forms": forms_,
    }
    return render(http, "console/meeting_availability.html", context, status=status)


@require_safe
@meeting_role_required(MeetingRole.DECIDE)
def meeting_availability(http: HttpRequest) -> HttpResponse:
    return _availability_page(http)


def _plan(data: Data) -> sched.SlotPlan:
    return sched.SlotPlan(
        duration_minutes=data["duration_minutes"],
        capacity=data["capacity"],
        place=data["place"],
        video_link=data["video_link"],
    )


def _back(http: HttpRequest) -> str:
    query = urlencode({k: http.GET[k] for k in ("host", "week") if http.GET.get(k)})
    return reverse("console:meeting_availability") + (f"?{query}" if query else "")


def _availability_post(
    http: HttpRequest, name: str, form: forms.Form, run: Callable[[Data], str | Promise]
) -> HttpResponse:
    if not form.is_valid():
        messages.error(http, _("Please correct the form and try again."))
        return _availability_page(http, status=400, bound={name: form})
    try:
        done = run(form.cleaned_data)
    except DomainError as error:
        messages.error(http, str(error.message))
        status = 400 if isinstance(error, InvalidInput) else error.status
        return _availability_page(http, status=status, bound={name: form})
    messages.success(http, str(done))
    return redirect(_back(http))


def _host_required(pk: int | None) -> MeetingHost:
    host = host_by_pk(pk)
    if host is None:
        raise InvalidInput(_("This host no longer receives meetings."), code="host_inactive")
    return host


@require_POST
@meeting_role_required(MeetingRole.DECIDE)
def meeting_slot_create(http: HttpRequest) -> HttpResponse:
    choices = {"host": [(h.pk, str(h)) for h in meeting_hosts()]}
    form = mf.SlotForm(http.POST, prefix="slot", choices=choices)

    def run(data: Data) -> Promise:
        sched.slot_create(
            host=_host_required(data["host"]),
            starts_at=dt.datetime.combine(data["day"], data["at"], tzinfo=office_tz()),
            plan=_plan(data),
            by=staff_user(http),
        )
        return _("Slot created.")

    return _availability_post(http, "slot", form, run)


@require_POST
@meeting_role_required(MeetingRole.DECIDE)
def meeting_slots_recurring(http: HttpRequest) -> HttpResponse:
    choices = {"host": [(h.pk, str(h)) for h in meeting_hosts()]}
    form = mf.RecurringForm(http.POST, prefix="recurring", choices=choices)

    def run(data: Data) -> str:
        created = sched.slots_create_recurring(
            host=_host_required(data["host"]),
            weekdays=data["weekdays"],
            at=data["at"],
            first_day=data["first_day"],
            last_day=data["last_day"],
            plan=_plan(data),
            by=staff_user(http),
        )
        return str(_("{count} slots created (holidays skipped).")).format(count=len(created))

    return _availability_post(http, "recurring", form, run)


@require_POST
@meeting_role_required(MeetingRole.DECIDE)
def meeting_slot_delete(http: HttpRequest, slot: int) -> HttpResponse:
    def run(data: Data) -> Promise:
        sched.slot_delete(slot=slot, by=staff_user(http))
        return _("Slot deleted.")

    return _availability_post(http, "delete", mf.EmptyForm(http.POST), run)


# --- exports ----------------------------------------------------------------------------------


def _export_forms(http: HttpRequest, bound: dict[str, forms.Form] | None = None) -> dict[str, Any]:
    choices = {"host": [("", _("All hosts")), *((h.pk, str(h)) for h in meeting_hosts())]}
    today = timezone.localdate()
    return {
        "ics": mf.IcsForm(
            choices=choices,
            initial={"first_day": today, "last_day": today + dt.timedelta(days=30)},
        ),
        "agenda": mf.AgendaForm(choices=choices, initial={"day": today}),
        **(bound or {}),
    }


def _exports_page(
    http: HttpRequest, *, status: int = 200, bound: dict[str, forms.Form] | None = None
) -> HttpResponse:
    context = {"forms": _export_forms(http, bound), "can_decide": True}
    return render(http, "console/meeting_exports.html", context, status=status)


@require_safe
@meeting_role_required(MeetingRole.DECIDE)
def meeting_exports(http: HttpRequest) -> HttpResponse:
    return _exports_page(http)


def _download(body: bytes, *, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _bound_export(http: HttpRequest, form_class: type[mf.ChoicesForm]) -> mf.ChoicesForm:
    choices = {"host": [("", _("All hosts")), *((h.pk, str(h)) for h in meeting_hosts())]}
    return form_class(http.GET, choices=choices)


@require_safe
@meeting_role_required(MeetingRole.DECIDE)
def meeting_schedule_ics(http: HttpRequest) -> HttpResponse:
    form = _bound_export(http, mf.IcsForm)
    if not form.is_valid():
        return _exports_page(http, status=400, bound={"ics": form})
    first, last = form.cleaned_data["first_day"], form.cleaned_data["last_day"]
    body = meetings_ics(
        start=dt.datetime.combine(first, dt.time.min, tzinfo=office_tz()),
        end=dt.datetime.combine(last + dt.timedelta(days=1), dt.time.min, tzinfo=office_tz()),
        host=host_by_pk(form.cleaned_data["host"]),
        language=translation.get_language() or settings.LANGUAGE_CODE,
    )
    filename = f"meetings-{first.isoformat()}-{last.isoformat()}.ics"
    return _download(body, content_type="text/calendar; charset=utf-8", filename=filename)


@require_safe
@meeting_role_required(MeetingRole.DECIDE)
def meeting_agenda_pdf(http: HttpRequest) -> HttpResponse:
    form = _bound_export(http, mf.AgendaForm)
    if not form.is_valid():
        return _exports_page(http, status=400, bound={"agenda": form})
    day = form.cleaned_data["day"]
    body = agenda_pdf(day=day, host=host_by_pk(form.cleaned_data["host"]))
    return _download(body, content_type="application/pdf", filename=f"agenda-{day.isoformat()}.pdf")


urlpatterns: list[URLPattern] = [
    path("meetings/availability/", meeting_availability, name="meeting_availability"),
    path("meetings/availability/slots/", meeting_slot_create, name="meeting_slot_create"),
    path(
        "meetings/availability/recurring/", meeting_slots_recurring, name="meeting_slots_recurring"
    ),
    path(
        "meetings/availability/slots/<int:slot>/delete/",
        meeting_slot_delete,
        name="meeting_slot_delete",
    ),
    path("meetings/exports/", meeting_exports, name="meeting_exports"),
    path("meetings/exports/schedule.ics", meeting_schedule_ics, name="meeting_schedule_ics"),
    path("meetings/exports/agenda.pdf", meeting_agenda_pdf, name="meeting_agenda_pdf"),
]
