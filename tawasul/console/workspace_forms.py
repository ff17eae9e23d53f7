"""Forms of the request workspace: one small form per action, parsing only.

Choices that depend on the request (agents who may work on it, categories that
take its kind, entities with a centre) are given by the view; the services check
everything again.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.db import models
from django.utils.translation import gettext_lazy as _

from tawasul.cases.models import Priority
from tawasul.core.ids import tracking_number_parse


class ResolutionCode(models.TextChoices):
    RESOLVED = "resolved", _("Resolved")
    INFORMED = "informed", _("Information given")
    REFERRED = "referred", _("Referred to the competent body")
    NO_ACTION = "no_action", _("No action possible")


def _text(label: Any, *, rows: int = 4, max_length: int = 10_000) -> forms.CharField:
    return forms.CharField(
        label=label, max_length=max_length, widget=forms.Textarea(attrs={"rows": rows})
    )


class EmptyForm(forms.Form):
    """Claim, start, reveal: nothing to parse but the CSRF token."""


class AssignForm(forms.Form):
    assignee = forms.TypedChoiceField(label=_("Agent"), coerce=int, choices=())

    def __init__(self, *args: Any, agents: list[tuple[int, str]] = (), **kwargs: Any) -> None:  # type: ignore[assignment]
        super().__init__(*args, **kwargs)
        self.fields["assignee"].choices = agents  # type: ignore[attr-defined]


class BodyForm(forms.Form):
    """A reply, an internal note or a question to the beneficiary."""

    body = _text(_("Text"), rows=6)


class AnswerForm(forms.Form):
    resolution = _text(_("Answer"), rows=6)
    resolution_code = forms.ChoiceField(label=_("Resolution"), choices=ResolutionCode.choices)


class CategoryForm(forms.Form):
    category = forms.TypedChoiceField(label=_("Category"), coerce=int, choices=())

    def __init__(
        self,
        *args: Any,
        categories: list[tuple[int, str]] = (),  # type: ignore[assignment]
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = categories  # type: ignore[attr-defined]


class PriorityForm(forms.Form):
    priority = forms.ChoiceField(label=_("Priority"), choices=Priority.choices)


class ForwardForm(forms.Form):
    to_entity = forms.TypedChoiceField(label=_("Forward to"), coerce=int, choices=())
    reason = _text(_("Reason"), rows=3, max_length=1000)

    def __init__(
        self,
        *args: Any,
        entities: list[tuple[int, str]] = (),  # type: ignore[assignment]
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["to_entity"].choices = entities  # type: ignore[attr-defined]


class ReasonForm(forms.Form):
    """Return and cancel: a reason is required."""

    reason = _text(_("Reason"), rows=3, max_length=1000)


class TrackingForm(forms.Form):
    """Link: the other request's tracking number."""

    tracking_number = forms.CharField(label=_("Tracking number"), max_length=20)

    def clean_tracking_number(self) -> str:
        digits = tracking_number_parse(self.cleaned_data["tracking_number"])
        if digits is None:
            raise forms.ValidationError(_("This is not a valid tracking number."))
        return digits


class MergeForm(TrackingForm):
    """Merge this request (the duplicate) into the one with this tracking number."""

    reason = _text(_("Reason"), rows=3, max_length=1000)


class CannedPickForm(forms.Form):
    """The canned-response picker (a GET form: works without JavaScript)."""

    canned = forms.TypedChoiceField(label=_("Canned response"), coerce=int, choices=())

    def __init__(
        self,
        *args: Any,
        canned: list[tuple[int, str]] = (),  # type: ignore[assignment]
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["canned"].choices = canned  # type: ignore[attr-defined]
