"""The Open311 documents as plain data, in the active language.

Only public facts appear here: category and entity names, statuses, dates and
the label of a resolution. Never the person, never the text they wrote.
"""

from __future__ import annotations

from typing import Any

from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from tawasul.api.open311 import selectors
from tawasul.api.open311.render import iso_z
from tawasul.cases.models import Category, Kind, Request, Status
from tawasul.console.workspace_forms import ResolutionCode
from tawasul.core.ids import tracking_number_display

CHANGESET = "2025-06-01T00:00:00Z"
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
FORMATS = ["text/xml", "application/json"]


def discovery_document(*, url: str) -> dict[str, Any]:
    return {
        "changeset": CHANGESET,
        "contact": _("Beneficiary care of the Ministry of Education, through the portal."),
        "key_service": _("Ask the beneficiary care centre of the ministry for a partner key."),
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": url,
                "changeset": CHANGESET,
                "type": "production",
                "formats": FORMATS,
            }
        ],
    }


def _group(category: Category, root: Category | None) -> str:
    """The top-level category of a sub-category; for a top-level one, its kind when it
    takes a single kind, else its own name."""
    if root is not None and root.pk != category.pk:
        return root.name
    kinds = selectors.service_kinds(category)
    return str(Kind(kinds[0]).label) if len(kinds) == 1 else category.name


def services_document() -> list[dict[str, Any]]:
    categories = selectors.services_active()
    roots = selectors.service_roots(categories)
    step = Category.steplen
    return [
        {
            "service_code": category.code,
            "service_name": category.name,
            "description": format_lazy(_("Requests about “{name}”."), name=category.name),
            "metadata": True,
            "type": "realtime",
            "keywords": ",".join(selectors.service_kinds(category)),
            "group": _group(category, roots.get(category.path[:step])),
        }
        for category in categories
    ]


def _attribute(
    code: str, order: int, description: Any, note: Any, values: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "variable": True,
        "code": code,
        "datatype": "singlevaluelist" if values else "string",
        "required": False,
        "datatype_description": note,
        "order": order,
        "description": description,
        "values": values,
    }


def service_definition_document(category: Category) -> dict[str, Any]:
    kinds = [{"key": kind, "name": Kind(kind).label} for kind in selectors.service_kinds(category)]
    entities = [
        {"key": entity.code, "name": entity.name} for entity in selectors.entities_receiving()
    ]
    return {
        "service_code": category.code,
        "attributes": [
            _attribute(
                "kind",
                1,
                _("Kind of request"),
                _("When not given: a complaint, or the first kind the service takes."),
                kinds,
            ),
            _attribute(
                "entity",
                2,
                _("Entity the request is for"),
                _("The code of an entity. When not given, the location decides."),
                entities,
            ),
            _attribute(
                "subject",
                3,
                _("Subject"),
                _("From 3 to 200 characters. When not given, the start of the description."),
                [],
            ),
        ],
    }


def _status_notes(request: Request) -> str:
    """The public summary of the answer: the label of its resolution, nothing written."""
    if request.answered_at is None:
        return ""
    if request.resolution_code in ResolutionCode.values:
        return str(ResolutionCode(request.resolution_code).label)
    return str(Status.ANSWERED.label)


def _extended(request: Request) -> dict[str, Any]:
    events = getattr(request, "public_events", [])
    return {
        "extended_attributes": {
            "tracking_display": tracking_number_display(request.tracking_number),
            "kind": request.kind,
            "kind_name": Kind(request.kind).label,
            "detailed_status": request.status,
            "detailed_status_name": Status(request.status).label,
        },
        "notes": [
            {
                "type": event.kind,
                "summary": event.get_kind_display(),
                "datetime": iso_z(event.created_at),
            }
            for event in events
        ],
    }


def request_document(request: Request, *, extended: bool = False) -> dict[str, Any]:
    document: dict[str, Any] = {
        "service_request_id": request.tracking_number,
        "status": "closed" if selectors.is_closed(request) else "open",
        "status_notes": _status_notes(request),
        "service_name": request.category.name,
        "service_code": request.category.code,
        "description": Kind(request.kind).label,
        "agency_responsible": request.entity.name,
        "service_notice": "",
        "requested_datetime": iso_z(request.created_at),
        "updated_datetime": iso_z(request.updated_at),
        "expected_datetime": iso_z(request.resolution_due),
        "address": "",
        "address_id": request.entity.code,
        "zipcode": "",
        "lat": None,
        "long": None,
        "media_url": "",
    }
    if extended:
        document.update(_extended(request))
    return document
