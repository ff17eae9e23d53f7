"""Forms of the minister-meeting pages: they parse; the meetings services decide.

The follow-up choices are the person's own settled requests; the periods come as up to
three rows of (from, to, part of the day), the first required, a row half filled in
refused. Bounds of the text and of the periods are the service's to check.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from tawasul.cases.models import Request
from tawasul.core.templatetags.tawasul_dates import dual_datetime_label
from tawasul.meetings.models import MeetingSlot, PartOfDay
from tawasul.meetings.services import MAX_PREFERENCES, PreferredPeriod

ISO_DATE = ["%Y-%m-%d"]
PERIOD_PARTS = ("first_day", "last_day", "part_of_day")


class DayInput(forms.DateInput):
    input_type = "date"

    def __init__(self) -> None:
        super().__init__(format="%Y-%m-%d")


def _period_fields(number: int) -> dict[str, forms.Field]:
    required = number == 1
    return {
        f"period_{number}_first_day": forms.DateField(
            label=_("From"), required=required, input_formats=ISO_DATE, widget=DayInput()
        ),
        f"period_{number}_last_day": forms.DateField(
            label=_("To"), required=required, input_formats=ISO_DATE, widget=DayInput()
        ),
        f"period_{number}_part_of_day": forms.ChoiceField(
            label=_("Part of the day"),
            required=required,
            choices=[("", "—"), *PartOfDay.choices] if not required else PartOfDay.choices,
        ),
    }


def _follow_up_label(request: Request) -> str:
    return f"{request.tracking_display} — {request.subject}"


class MeetingRequestForm(forms.Form):
    """Ask for a meeting: subject, summary, the requests it follows up, 1–3 periods."""

    subject = forms.CharField(
        label=_("Subject of the meeting"),
        max_length=200,
        help_text=_("In a few words, what you would like to discuss."),
    )
    summary = forms.CharField(
        label=_("Summary"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("What happened so far and what you expect from the meeting."),
    )
    follow_ups = forms.TypedMultipleChoiceField(
        label=_("Earlier requests this meeting follows up"),
        required=False,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Your requests that were answered or closed, or whose objection was decided."),
    )

    def __init__(self, *args: Any, choices: Sequence[Request] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        follow_ups = self.fields["follow_ups"]
        assert isinstance(follow_ups, forms.TypedMultipleChoiceField)  # noqa: S101 - typing
        follow_ups.choices = [(request.pk, _follow_up_label(request)) for request in choices]
        for number in range(1, MAX_PREFERENCES + 1):
            self.fields.update(_period_fields(number))

    def periods(self) -> list[list[forms.BoundField]]:
        """The period rows' fields, for the template."""
        return [
            [self[f"period_{number}_{part}"] for part in PERIOD_PARTS]
            for number in range(1, MAX_PREFERENCES + 1)
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        preferences = []
        for number in range(1, MAX_PREFERENCES + 1):
            values = [data.get(f"period_{number}_{part}") for part in PERIOD_PARTS]
            if not any(values):
                continue
            if not all(values):
                self.add_error(
                    f"period_{number}_first_day",
                    _("Fill in both days and the part of the day, or leave the period empty."),
                )
                continue
            first_day, last_day, part = values
            assert isinstance(first_day, dt.date)  # noqa: S101 - typing
            assert isinstance(last_day, dt.date)  # noqa: S101 - typing
            preferences.append(PreferredPeriod(first_day, last_day, str(part)))
        data["preferences"] = preferences
        return data


def slot_label(slot: MeetingSlot) -> str:
    """An offered slot as a choice: when (Gregorian and Hijri), how long, where."""
    where = slot.place or str(_("By video"))
    count = slot.duration_minutes
    minutes = ngettext("%(count)s minute", "%(count)s minutes", count) % {"count": count}
    return f"{dual_datetime_label(slot.starts_at)} · {minutes} · {where}"


class SlotPickForm(forms.Form):
    """Pick one of the slots offered."""

    slot = forms.TypedChoiceField(
        label=_("Choose a date"), coerce=int, widget=forms.RadioSelect, choices=()
    )

    def __init__(self, *args: Any, slots: Sequence[MeetingSlot] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        slot = self.fields["slot"]
        assert isinstance(slot, forms.TypedChoiceField)  # noqa: S101 - typing
        slot.choices = [(row.pk, slot_label(row)) for row in slots]


class MeetingWithdrawForm(forms.Form):
    reason = forms.CharField(
        label=_("Why are you withdrawing? (optional)"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
