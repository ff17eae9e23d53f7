"""SLA clocks in words: `{% load sla %}` then `{% sla_remaining request %}`.

Gives e.g. "3 working days 2 hours left, due by 3 December 2026 10:00 — 12 Jumada
al-Akhirah 1448 AH" (Gregorian then Hijri, in Riyadh time), or how late it is,
or that the clock is paused while the beneficiary is asked for something.
"""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from tawasul.cases.models import Request, SlaState
from tawasul.core.templatetags.tawasul_dates import dual_datetime_label
from tawasul.sla.selectors import request_sla_view

register = template.Library()


def business_duration_label(minutes: int, *, day_minutes: int) -> str:
    """'3 working days 2 hours' for a number of business minutes (its absolute value)."""
    minutes = abs(minutes)
    days, rest = divmod(minutes, day_minutes) if day_minutes > 0 else (0, minutes)
    hours, mins = divmod(rest, 60)
    parts = []
    if days:
        parts.append(
            ngettext("%(count)d working day", "%(count)d working days", days) % {"count": days}
        )
    if hours:
        parts.append(ngettext("%(count)d hour", "%(count)d hours", hours) % {"count": hours})
    if mins and not days:
        parts.append(ngettext("%(count)d minute", "%(count)d minutes", mins) % {"count": mins})
    return " ".join(parts) or _("less than a minute")


def sla_remaining_label(request: Request, *, now: datetime | None = None) -> str:
    """The resolution clock of `request` in words; empty when it has no clock."""
    view = request_sla_view(request, now=now)
    due = dual_datetime_label(view.resolution_due)
    if view.resolution_due is None or view.resolution_state in ("", SlaState.STOPPED):
        return ""
    if view.resolution_remaining is None:
        if view.resolution_state == SlaState.MET:
            return _("Answered within the service level.")
        return _("Answered after the due time.")
    duration = business_duration_label(
        view.resolution_remaining, day_minutes=view.working_day_minutes
    )
    if view.paused:
        return _("Paused while we wait for the reply: {duration} left.").format(duration=duration)
    if view.overdue:
        return _("{duration} overdue, was due by {due}").format(duration=duration, due=due)
    return _("{duration} left, due by {due}").format(duration=duration, due=due)


@register.simple_tag(name="sla_remaining")
def sla_remaining(request: Request) -> str:
    return sla_remaining_label(request)
