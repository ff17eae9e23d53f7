"""The portal's file inputs: several files in one field, each checked by its bytes."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.utils.functional import Promise
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from tawasul.cases.attachments import CheckedFile, attachment_check
from tawasul.core.errors import InvalidInput

MAX_FILES = 5
_EXTENSIONS = {
    "application/pdf": ".pdf",
    "image/jpeg": ".jpg,.jpeg",
    "image/png": ".png",
    "image/webp": ".webp",
    "image/heic": ".heic",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
}


def attachment_accept() -> str:
    """The `accept` attribute of a file input: the allowed types and their extensions."""
    parts: list[str] = []
    for content_type in settings.TAWASUL_ATTACHMENT_TYPES:
        parts.append(content_type)
        if content_type in _EXTENSIONS:
            parts.append(_EXTENSIONS[content_type])
    return ",".join(parts)


def attachment_help(max_files: int = MAX_FILES) -> str | Promise:
    limit_mb = round(settings.TAWASUL_ATTACHMENT_MAX_BYTES / (1 << 20), 1)
    return format_lazy(
        _("Up to {count} files, {limit} MB each: PDF, images (JPEG, PNG) or Word."),
        count=max_files,
        limit=int(limit_mb) if limit_mb.is_integer() else limit_mb,
    )


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class CheckedFilesField(forms.FileField):
    """Optional uploads, at most `max_files`, each checked by `attachment_check`.

    A file over the size limit is not read past it, so it gets the clear
    "too large" message rather than being loaded whole.
    """

    widget = MultipleFileInput

    def __init__(self, *, max_files: int = MAX_FILES, **kwargs: Any) -> None:
        self.max_files = max_files
        kwargs.setdefault("required", False)
        kwargs.setdefault("help_text", attachment_help(max_files))
        super().__init__(**kwargs)

    def widget_attrs(self, widget: forms.Widget) -> dict[str, Any]:
        return {**super().widget_attrs(widget), "accept": attachment_accept()}

    def clean(self, data: Any, initial: Any = None) -> list[CheckedFile]:
        uploads = [item for item in (data if isinstance(data, list | tuple) else [data]) if item]
        if len(uploads) > self.max_files:
            raise forms.ValidationError(
                format_lazy(_("Attach at most {count} files."), count=self.max_files),
                code="too_many_files",
            )
        checked: list[CheckedFile] = []
        errors: list[forms.ValidationError] = []
        for upload in uploads:
            try:
                checked.append(self._check(super().clean(upload, initial)))
            except InvalidInput as error:
                errors.append(
                    forms.ValidationError(
                        "%(name)s: %(message)s",
                        code=error.code,
                        params={"name": upload.name, "message": error.message},
                    )
                )
        if errors:
            raise forms.ValidationError(errors)
        return checked

    @staticmethod
    def _check(upload: UploadedFile) -> CheckedFile:
        upload.seek(0)
        content = upload.read(settings.TAWASUL_ATTACHMENT_MAX_BYTES + 1)
        return attachment_check(name=upload.name or "", content=content)
