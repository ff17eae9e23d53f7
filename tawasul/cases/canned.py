"""Canned responses: the ones offered on a request, and their text with placeholders filled."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from tawasul.cases.models import CannedResponse, Request
from tawasul.core.ids import tracking_number_display

PLACEHOLDERS = ("{tracking_number}", "{name}", "{entity}")


def canned_for_request(request: Request) -> QuerySet[CannedResponse]:
    """Active canned responses for every centre and for the centre owning the request."""
    return CannedResponse.objects.filter(is_active=True).filter(
        Q(centre__isnull=True) | Q(centre__entity_id=request.entity_id)
    )


def canned_render(canned: CannedResponse, request: Request, language: str) -> str:
    """The body in `language` (Arabic when there is no English text), placeholders filled.

    Only the three known placeholders are replaced; any other brace is left as written.
    """
    first_name = (request.beneficiary.full_name or "").split(maxsplit=1)
    entity = request.entity
    entity_name = entity.name_en if language == "en" and entity.name_en else entity.name_ar
    values = {
        "{tracking_number}": tracking_number_display(request.tracking_number),
        "{name}": first_name[0] if first_name else "",
        "{entity}": entity_name,
    }
    text = canned.body(language)
    for placeholder, value in values.items():
        text = text.replace(placeholder, value)
    return text
