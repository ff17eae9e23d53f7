"""Reading requests on the beneficiary's side: their own requests, and nothing else.

Every lookup takes the beneficiary and answers "not found" for a request that is
not theirs, exactly as for a number that does not exist: the portal never tells
one from the other.
"""

from __future__ import annotations

from datetime import datetime

from django.db import models
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from tawasul.beneficiaries.models import Beneficiary
from tawasul.cases.models import Attachment, Kind, Request, RequestLink, Status, Visibility
from tawasul.core.errors import InvalidInput, NotFound
from tawasul.core.ids import tracking_number_parse


class StatusGroup(models.TextChoices):
    """How the beneficiary filters their requests: still being worked, answered, finished."""

    OPEN = "open", _("Open")
    ANSWERED = "answered", _("Answered")
    CLOSED = "closed", _("Closed")


STATUS_GROUPS: dict[str, tuple[str, ...]] = {
    StatusGroup.OPEN: (
        Status.NEW,
        Status.ASSIGNED,
        Status.IN_PROGRESS,
        Status.AWAITING_BENEFICIARY,
        Status.OBJECTED,
    ),
    StatusGroup.ANSWERED: (Status.ANSWERED,),
    StatusGroup.CLOSED: (Status.CLOSED, Status.CANCELLED),
}


def requests_of_beneficiary(
    beneficiary: Beneficiary, *, status_group: str | None = None, kind: str | None = None
) -> QuerySet[Request]:
    """The beneficiary's requests, newest first, ready to list (category and entity joined)."""
    requests = Request.objects.filter(beneficiary=beneficiary)
    if status_group:
        if status_group not in STATUS_GROUPS:
            raise InvalidInput(
                _("Unknown value for this field."), code="choice", details={"field": "status"}
            )
        requests = requests.filter(status__in=STATUS_GROUPS[status_group])
    if kind:
        if kind not in Kind.values:
            raise InvalidInput(
                _("Unknown value for this field."), code="choice", details={"field": "kind"}
            )
        requests = requests.filter(kind=kind)
    return requests.select_related("category", "entity").order_by("-created_at", "-id")


def request_for_beneficiary(beneficiary: Beneficiary, tracking_number: str) -> Request:
    """The beneficiary's request with this tracking number; NotFound for anything else."""
    digits = tracking_number_parse(tracking_number)
    request = (
        Request.objects.select_related("category", "entity")
        .filter(beneficiary=beneficiary, tracking_number=digits)
        .first()
        if digits
        else None
    )
    if request is None:
        raise NotFound(_("No such request."))
    return request


def attachments_public(request: Request) -> QuerySet[Attachment]:
    """The request's files the beneficiary may see: their own, and those on public messages."""
    return (
        Attachment.objects.filter(request=request)
        .filter(
            Q(from_beneficiary=True, message__isnull=True)
            | Q(message__isnull=False, message__visibility=Visibility.PUBLIC)
        )
        .order_by("uploaded_at", "id")
    )


def attachment_for_beneficiary(
    beneficiary: Beneficiary, tracking_number: str, attachment_id: int
) -> Attachment:
    """One public file of the beneficiary's request; NotFound for anything else."""
    request = request_for_beneficiary(beneficiary, tracking_number)
    attachment = attachments_public(request).filter(pk=attachment_id).first()
    if attachment is None:
        raise NotFound(_("No such file."))
    return attachment


def request_id_for_tracking(*, tracking_number: str, mobile: str) -> int | None:
    """The id of the request with this number sent from this mobile (both normalised), if any."""
    return (
        Request.objects.filter(tracking_number=tracking_number, beneficiary__mobile=mobile)
        .values_list("pk", flat=True)
        .first()
    )


def request_for_tracking_session(pk: int) -> Request | None:
    """The one request a tracking session (no account) may read."""
    return Request.objects.select_related("category", "entity").filter(pk=pk).first()


def request_linked_ids(request: Request) -> set[int]:
    """Ids of the requests linked to this one, whichever side created the link."""
    pairs = RequestLink.objects.filter(Q(request=request) | Q(related=request)).values_list(
        "request_id", "related_id"
    )
    return {other for pair in pairs for other in pair if other != request.pk}


def requests_of_beneficiary_page(
    beneficiary: Beneficiary,
    *,
    status_group: str | None = None,
    after: tuple[datetime, int] | None = None,
    limit: int = 20,
) -> list[Request]:
    """Up to `limit` of the beneficiary's requests, newest first, that come after the
    (created_at, id) key of the last one already seen: a keyset page, stable while new
    requests arrive."""
    requests = requests_of_beneficiary(beneficiary, status_group=status_group)
    if after is not None:
        created_at, pk = after
        requests = requests.filter(
            Q(created_at__lt=created_at) | Q(created_at=created_at, id__lt=pk)
        )
    return list(requests[:limit])
