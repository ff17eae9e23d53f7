"""Hijri (Umm al-Qura) dates beside Gregorian ones."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django.utils.translation import get_language
from hijridate import Gregorian, Hijri


def to_hijri(day: dt.date) -> Hijri | None:
    """The Umm al-Qura date of a Gregorian date, or None outside 1924–2077."""
    try:
        return Gregorian(day.year, day.month, day.day).to_hijri()
    except (OverflowError, ValueError):
        return None


def hijri_label(day: dt.date | dt.datetime, language: str | None = None) -> str:
    """'18 جمادى الآخرة 1448 هـ' (Arabic) or '18 Jumada al-Akhirah 1448 AH' (English)."""
    if isinstance(day, dt.datetime):
        day = timezone.localtime(day).date() if timezone.is_aware(day) else day.date()
    hijri = to_hijri(day)
    if hijri is None:
        return ""
    language = (language or get_language() or "ar")[:2]
    if language == "ar":
        return f"{hijri.day} {hijri.month_name('ar')} {hijri.year} هـ"
    return f"{hijri.day} {hijri.month_name('en')} {hijri.year} AH"
