"""Attachment checks on the bytes themselves: size and detected content type."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass

import filetype
from django.conf import settings
from django.core.files.base import ContentFile
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from tawasul.cases.models import Attachment, Message, Request
from tawasul.core.errors import InvalidInput

_EXTENSIONS = {
    "application/pdf": "pdf",
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
    "image/heic": "heic",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
}


@dataclass(frozen=True)
class CheckedFile:
    """An upload whose bytes passed the checks, ready to be stored."""

    name: str
    content: bytes
    content_type: str
    sha256: str


def attachment_check(*, name: str, content: bytes) -> CheckedFile:
    """Check an upload by its bytes; raise InvalidInput saying what is wrong."""
    limit = settings.TAWASUL_ATTACHMENT_MAX_BYTES
    if not content:
        raise InvalidInput(_("The file is empty."), code="file_empty", details={"field": "file"})
    if len(content) > limit:
        raise InvalidInput(
            format_lazy(
                _("The file is too large: at most {limit} MB is accepted."),
                limit=round(limit / (1 << 20), 1),
            ),
            code="file_too_large",
            details={"field": "file", "max_bytes": limit},
        )
    kind = filetype.guess(content[:8192])
    content_type = kind.mime if kind else "application/octet-stream"
    if content_type not in settings.TAWASUL_ATTACHMENT_TYPES:
        raise InvalidInput(
            _(
                "This type of file is not accepted. "
                "Send a PDF, an image (JPEG, PNG) or a Word file."
            ),
            code="file_type",
            details={"field": "file", "detected": content_type},
        )
    clean_name = (name or "file").replace("/", "_").replace("\\", "_").strip()[:150] or "file"
    return CheckedFile(
        name=clean_name,
        content=content,
        content_type=content_type,
        sha256=hashlib.sha256(content).hexdigest(),
    )


def attachment_store(
    *,
    request: Request,
    checked: CheckedFile,
    message: Message | None = None,
    uploaded_by_id: int | None = None,
    from_beneficiary: bool = False,
) -> Attachment:
    """Write a checked file to storage and record it (call inside the service's transaction)."""
    key = f"{uuid.uuid4().hex}.{_EXTENSIONS.get(checked.content_type, 'bin')}"
    attachment = Attachment(
        request=request,
        message=message,
        storage_key=key,
        original_name=checked.name,
        content_type=checked.content_type,
        size=len(checked.content),
        sha256=checked.sha256,
        uploaded_by_id=uploaded_by_id,
        from_beneficiary=from_beneficiary,
        uploaded_at=timezone.now(),
    )
    attachment.file.save(key, ContentFile(checked.content), save=False)
    attachment.save()
    return attachment
