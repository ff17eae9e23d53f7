"""Forms of "My requests" and the request page: they parse; services decide."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from tawasul.cases.models import Kind
from tawasul.cases.selectors import StatusGroup
from tawasul.feedback.models import COMMENT_MAX
from tawasul.portal.uploads import CheckedFilesField


class RequestFilterForm(forms.Form):
    """The list's filters (a GET form): which requests, and of which kind."""

    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All")), *StatusGroup.choices],
    )
    kind = forms.ChoiceField(
        label=_("Kind"), required=False, choices=[("", _("All kinds")), *Kind.choices]
    )


class ReplyForm(forms.Form):
    body = forms.CharField(
        label=_("Your reply"),
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    attachments = CheckedFilesField(label=_("Attachments (optional)"))


class ObjectionForm(forms.Form):
    reason = forms.CharField(
        label=_("Why does the answer not satisfy you?"),
        min_length=10,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("Explain what is missing or wrong; someone else will review the answer."),
    )
    attachments = CheckedFilesField(label=_("Attachments (optional)"))


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label=_("Why are you withdrawing the request?"),
        min_length=3,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


SCORE_CHOICES = [
    (5, _("5 — Very satisfied")),
    (4, _("4 — Satisfied")),
    (3, _("3 — Neither satisfied nor dissatisfied")),
    (2, _("2 — Dissatisfied")),
    (1, _("1 — Very dissatisfied")),
]


def _yes_no(value: str) -> bool:
    return value == "yes"


class RatingForm(forms.Form):
    score = forms.TypedChoiceField(
        label=_("How satisfied are you with the answer?"),
        choices=SCORE_CHOICES,
        coerce=int,
        widget=forms.RadioSelect,
    )
    resolved = forms.TypedChoiceField(
        label=_("Did the answer resolve your request?"),
        choices=[("yes", _("Yes")), ("no", _("No"))],
        coerce=_yes_no,
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=_("Comment (optional)"),
        required=False,
        max_length=COMMENT_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
