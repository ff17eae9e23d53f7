"""Dates as the government shows them: Gregorian with the Umm al-Qura Hijri date beside it.

`{% load tawasul_dates %}` then `{{ value|dual_date }}` gives
"28 نوفمبر 2026 — 18 جمادى الآخرة 1448 هـ" in Arabic and
"28 November 2026 — 18 Jumada al-Akhirah 1448 AH" in English; `{{ value|dual_datetime }}`
adds the Riyadh time; `{% today_dual_date %}` gives today's date.
"""

from __future__ import annotations

import datetime as dt

from django import template
from django.utils import timezone
from django.utils.formats import date_format

from tawasul.core.hijri import hijri_label

register = template.Library()

SEPARATOR = " — "


def _local_day(value: dt.date | dt.datetime) -> dt.date:
    """The calendar day of a date, or of a datetime in the current (Riyadh) time zone."""
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value


def dual_date_label(value: dt.date | dt.datetime | None, language: str | None = None) -> str:
    """The Gregorian date in words, then the Hijri date; empty for an empty value."""
    if not value:
        return ""
    day = _local_day(value)
    gregorian = date_format(day, "j F Y")
    hijri = hijri_label(day, language)
    return f"{gregorian}{SEPARATOR}{hijri}" if hijri else gregorian


def dual_datetime_label(value: dt.datetime | None, language: str | None = None) -> str:
    """Like `dual_date_label`, with the local time (24-hour) after the Gregorian date."""
    if not value:
        return ""
    local = timezone.localtime(value) if timezone.is_aware(value) else value
    gregorian = f"{date_format(local, 'j F Y')} {date_format(local, 'H:i')}"
    hijri = hijri_label(local.date(), language)
    return f"{gregorian}{SEPARATOR}{hijri}" if hijri else gregorian


@register.filter(name="dual_date")
def dual_date(value: dt.date | dt.datetime | None) -> str:
    return dual_date_label(value)


@register.filter(name="dual_datetime")
def dual_datetime(value: dt.datetime | None) -> str:
    return dual_datetime_label(value)


@register.simple_tag(name="today_dual_date")
def today_dual_date() -> str:
    """Today in Riyadh, Gregorian and Hijri."""
    return dual_date_label(timezone.localdate())
