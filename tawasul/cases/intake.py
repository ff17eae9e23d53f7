"""Call-centre intake: what an agent sees of a caller, and first-contact resolution.

A caller registered by phone gives their consent to the privacy notice orally;
`beneficiary_register(consent=True)` records the instant, and the request's
`submitted` event (channel `call_centre`, actor the agent) shows who took it.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from tawasul.beneficiaries.models import Beneficiary
from tawasul.cases.models import OPEN_STATUSES, Category, Channel, Request
from tawasul.cases.services import (
    entity_receiving,
    request_answer,
    request_claim,
    request_start,
    request_submit,
)
from tawasul.core.errors import AccessDenied, InvalidInput
from tawasul.directory import access
from tawasul.directory.access import Permission
from tawasul.directory.models import Entity

MAX_LISTED = 50


@dataclass(frozen=True)
class CallerRequests:
    """A caller's open requests the agent may see, and how many others are open elsewhere."""

    visible: list[Request]
    hidden_count: int


def caller_open_requests(
    *, user: AbstractBaseUser | AnonymousUser, beneficiary: Beneficiary
) -> CallerRequests:
    """The caller's open requests within the agent's reach (newest first) and the
    count of their open requests out of reach (nothing else about those)."""
    visible_qs = access.requests_for(user, Permission.VIEW).filter(
        beneficiary=beneficiary, status__in=OPEN_STATUSES
    )
    visible = list(
        visible_qs.select_related("entity", "category").order_by("-created_at", "-id")[:MAX_LISTED]
    )
    open_total = Request.objects.filter(beneficiary=beneficiary, status__in=OPEN_STATUSES).count()
    return CallerRequests(visible=visible, hidden_count=max(open_total - visible_qs.count(), 0))


def _entity_of(value: Entity | int | None) -> Entity | None:
    if value is None or value == "":
        return None
    entity = value if isinstance(value, Entity) else Entity.objects.filter(pk=value).first()
    if entity is None:
        raise InvalidInput(_("Unknown entity."), code="entity_unknown", details={"field": "entity"})
    return entity


def request_submit_answered(
    *,
    beneficiary: Beneficiary,
    kind: str,
    category: Category | int | None,
    subject: str,
    description: str,
    resolution: str,
    resolution_code: str,
    by: AbstractBaseUser,
    entity: Entity | int | None = None,
) -> Request:
    """Log an inquiry answered during the call (first-contact resolution).

    One transaction: submitted (channel call centre), claimed by the agent, started
    and answered, so the timeline shows every step and the first response is
    recorded at once. The agent must be able to work on the receiving entity;
    otherwise AccessDenied and nothing is written.
    """
    receiving = entity_receiving(_entity_of(entity))
    if not access.can_on_entity(by, Permission.WORK, receiving):
        raise AccessDenied(
            _("You cannot answer requests of this entity; create the request instead.")
        )
    with transaction.atomic():
        request = request_submit(
            beneficiary=beneficiary,
            kind=kind,
            category=category,
            subject=subject,
            description=description,
            channel=Channel.CALL_CENTRE,
            entity=receiving,
            by=by,
        )
        request = request_claim(request=request, by=by)
        request = request_start(request=request, by=by)
        return request_answer(
            request=request, by=by, resolution=resolution, resolution_code=resolution_code
        )
