"""Forms of "My requests" and the request page: they parse; services decide."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from tawasul.cases.attachments import CheckedFile, attachment_check
from tawasul.cases.models import Kind
from tawasul.cases.selectors import StatusGroup
from tawasul.core.errors import InvalidInput
from tawasul.feedback.models import COMMENT_MAX

REPLY_FILES_MAX = 5


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


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class CheckedFilesField(forms.FileField):
    """Any number of optional uploads, each checked by its bytes (`attachment_check`)."""

    widget = MultipleFileInput

    def __init__(self, *, max_files: int = REPLY_FILES_MAX, **kwargs: Any) -> None:
        self.max_files = max_files
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[CheckedFile]:
        uploads = [item for item in (data if isinstance(data, list | tuple) else [data]) if item]
        if len(uploads) > self.max_files:
            raise forms.ValidationError(
                format_lazy(_("Attach at most {count} files."), count=self.max_files)
            )
        checked = []
        for upload in uploads:
            checked.append(self._check(super().clean(upload, initial)))
        return checked

    @staticmethod
    def _check(upload: UploadedFile) -> CheckedFile:
        # Read one byte past the limit: enough to tell "too large" without reading it all.
        content = upload.read(settings.TAWASUL_ATTACHMENT_MAX_BYTES + 1)
        try:
            return attachment_check(name=upload.name or "", content=content)
        except InvalidInput as error:
            raise forms.ValidationError(str(error.message), code=error.code) from None


class ReplyForm(forms.Form):
    body = forms.CharField(
        label=_("Your reply"),
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    attachments = CheckedFilesField(
        label=_("Attachments (optional)"),
        help_text=_("PDF, images (JPEG, PNG) or Word files, up to 5 files."),
    )


class ObjectionForm(forms.Form):
    reason = forms.CharField(
        label=_("Why does the answer not satisfy you?"),
        min_length=10,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("Explain what is missing or wrong; someone else will review the answer."),
    )


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
