"""Forms of the console's meeting pages: one small form per action, parsing only.

Choices that depend on the data (hosts, open slots, entities, categories, follow-up
actions) are given by the view; the meeting services check everything again and
their refusals are shown as they are.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from tawasul.cases.models import Kind
from tawasul.meetings.models import MeetingStatus
from tawasul.meetings.scheduling import CAPACITY_MAX, DURATION_MAX, DURATION_MIN

Choices = list[tuple[Any, Any]]
EXPORT_MAX_DAYS = 92
WEEKDAYS = [
    (7, _("Sunday")),
    (1, _("Monday")),
    (2, _("Tuesday")),
    (3, _("Wednesday")),
    (4, _("Thursday")),
    (5, _("Friday")),
    (6, _("Saturday")),
]
# The queue's filters: every open status together, each status, or everything.
OPEN_FILTER, ALL_FILTER = "open", "all"


def _text(label: Any, *, rows: int = 4, max_length: int = 5000) -> forms.CharField:
    return forms.CharField(
        label=label, max_length=max_length, widget=forms.Textarea(attrs={"rows": rows})
    )


def _choice(label: Any, *, required: bool = True) -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        label=label, coerce=int, choices=(), required=required, empty_value=None
    )


def _date(label: Any) -> forms.DateField:
    return forms.DateField(label=label, widget=forms.DateInput(attrs={"type": "date"}))


class ChoicesForm(forms.Form):
    """A form whose choice fields get their choices from the view: `choices={field: [...]}`."""

    def __init__(self, *args: Any, choices: dict[str, Choices] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        for name, options in (choices or {}).items():
            if name in self.fields:
                self.fields[name].choices = options  # type: ignore[attr-defined]


class QueueFilterForm(forms.Form):
    OPEN = frozenset(
        {
            MeetingStatus.SUBMITTED,
            MeetingStatus.FORWARDED,
            MeetingStatus.APPROVED,
            MeetingStatus.OFFERED,
            MeetingStatus.SCHEDULED,
        }
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[(OPEN_FILTER, _("All open")), *MeetingStatus.choices, (ALL_FILTER, _("All"))],
    )

    def chosen(self) -> str:
        """The filter in force: the one asked for, else every open status."""
        value = self.cleaned_data.get("status") if self.is_valid() else ""
        return str(value or OPEN_FILTER)

    def statuses(self) -> frozenset[str] | None:
        """The statuses to list (None: all)."""
        chosen = self.chosen()
        if chosen == ALL_FILTER:
            return None
        return frozenset({chosen}) if chosen in MeetingStatus.values else self.OPEN


class EmptyForm(ChoicesForm):
    """Mark held or missed: nothing to parse but the CSRF token."""


class NoteForm(ChoicesForm):
    body = _text(_("Internal note"))


class ForwardForm(ChoicesForm):
    note = forms.CharField(
        label=_("Note for the minister's office (internal, optional)"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ReasonForm(ChoicesForm):
    """Decline and cancel: the beneficiary reads the reason."""

    reason = _text(_("Reason (the beneficiary will read it)"), rows=3, max_length=2000)


class ConvertForm(ChoicesForm):
    entity = _choice(_("Competent entity"))
    category = _choice(_("Category"))
    kind = forms.ChoiceField(label=_("Kind"), choices=Kind.choices, initial=Kind.COMPLAINT)


class ApproveForm(ChoicesForm):
    host = _choice(_("Host (the minister unless you choose another)"), required=False)


class DelegateForm(ChoicesForm):
    host = _choice(_("Delegate to"))


class OfferForm(ChoicesForm):
    slots = forms.TypedMultipleChoiceField(
        label=_("Dates to offer"), coerce=int, choices=(), widget=forms.CheckboxSelectMultiple
    )


class BookForm(ChoicesForm):
    slot = _choice(_("Slot"))


class RescheduleForm(ChoicesForm):
    slot = _choice(_("New slot"))
    reason = _text(_("Reason (the beneficiary will read it)"), rows=2, max_length=1000)


class OutcomeForm(ChoicesForm):
    summary = _text(_("Record of the meeting"), rows=6)


class ActionForm(ChoicesForm):
    description = _text(_("Follow-up action"), rows=3, max_length=2000)
    entity = _choice(_("Entity responsible"))


class ActionRequestForm(ChoicesForm):
    action = _choice(_("Follow-up action"))
    category = _choice(_("Category"))
    kind = forms.ChoiceField(label=_("Kind"), choices=Kind.choices, initial=Kind.COMPLAINT)


# --- availability and exports --------------------------------------------------------------


class WeekForm(ChoicesForm):
    """Which host's slots to list, for the seven days from `week`."""

    host = _choice(_("Host"), required=False)
    week = forms.DateField(
        label=_("Week from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


class _SlotPlanFields(ChoicesForm):
    host = _choice(_("Host"))
    duration_minutes = forms.IntegerField(
        label=_("Duration (minutes)"), min_value=DURATION_MIN, max_value=DURATION_MAX, initial=30
    )
    capacity = forms.IntegerField(
        label=_("Capacity"), min_value=1, max_value=CAPACITY_MAX, initial=1
    )
    place = forms.CharField(label=_("Place"), max_length=200, required=False)
    video_link = forms.URLField(
        label=_("Video link"), max_length=300, required=False, assume_scheme="https"
    )


class SlotForm(_SlotPlanFields):
    field_order = ("host", "day", "at")
    day = _date(_("Day"))
    at = forms.TimeField(label=_("Time"), widget=forms.TimeInput(attrs={"type": "time"}))


class RecurringForm(_SlotPlanFields):
    field_order = ("host", "weekdays", "at", "first_day", "last_day")
    weekdays = forms.TypedMultipleChoiceField(
        label=_("Weekdays"), coerce=int, choices=WEEKDAYS, widget=forms.CheckboxSelectMultiple
    )
    at = forms.TimeField(label=_("Time"), widget=forms.TimeInput(attrs={"type": "time"}))
    first_day = _date(_("From"))
    last_day = _date(_("To"))


class IcsForm(ChoicesForm):
    host = _choice(_("Host (all when empty)"), required=False)
    first_day = _date(_("From"))
    last_day = _date(_("To"))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        first, last = data.get("first_day"), data.get("last_day")
        if not (isinstance(first, dt.date) and isinstance(last, dt.date)):
            return data
        if not first <= last or (last - first).days >= EXPORT_MAX_DAYS:
            raise forms.ValidationError(
                _("The period must run forwards and last at most %(days)s days."),
                params={"days": EXPORT_MAX_DAYS},
            )
        return data


class AgendaForm(ChoicesForm):
    host = _choice(_("Host (all when empty)"), required=False)
    day = _date(_("Day"))
