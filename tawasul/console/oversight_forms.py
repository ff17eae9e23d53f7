"""Forms of the supervisor and central-centre views."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from tawasul.cases.oversight import PERIOD_LABELS, Period

MAX_BULK = 200


class RequestIdsField(forms.TypedMultipleChoiceField):
    """Any request ids: whether the user may assign each is the service's decision."""

    def valid_value(self, value: Any) -> bool:
        return str(value).isdigit()


class AgentChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.get_full_name() or obj.get_username())


class BulkAssignForm(forms.Form):
    """Requests ticked in the lists and the agent to give them to."""

    requests = RequestIdsField(label=_("Requests"), coerce=int, widget=forms.CheckboxSelectMultiple)
    agent: AgentChoiceField = AgentChoiceField(
        label=_("Assign to"), queryset=None, empty_label=None
    )

    def __init__(self, *args: Any, agents: QuerySet[AbstractBaseUser], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(AgentChoiceField, self.fields["agent"]).queryset = agents

    def clean_requests(self) -> list[int]:
        ids: list[int] = self.cleaned_data["requests"]
        if len(ids) > MAX_BULK:
            raise forms.ValidationError(
                _("Assign at most %(max)d requests at once."), params={"max": MAX_BULK}
            )
        return ids


class PeriodForm(forms.Form):
    period = forms.ChoiceField(
        label=_("Period"),
        choices=[(period.value, label) for period, label in PERIOD_LABELS.items()],
        required=False,
    )

    def chosen_period(self) -> Period:
        value = self.cleaned_data.get("period") if self.is_valid() else ""
        return Period(value) if value else Period.WEEK
