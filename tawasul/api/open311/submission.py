"""Reading an Open311 `POST requests`: the person, the place, the kind and the text.

Everything is checked before anything is written. The receiving entity is, in
this order: the `entity` attribute, `address_id` (an entity code), an entity or
region named in `address_string`, the region of `lat`/`long`; otherwise the
partner's own entity, else the central centre (triage).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from tawasul.api.open311 import places, selectors
from tawasul.api.open311.params import Params, bad
from tawasul.api.submissions import Person
from tawasul.cases.models import Category, Kind
from tawasul.directory.models import Entity

DESCRIPTION_MAX = 4000
SUBJECT_FROM_DESCRIPTION = 80
ATTRIBUTES = ("kind", "entity", "subject")
_ATTRIBUTE = re.compile(r"^attribute\[(?P<code>[^\]]*)\]$")
_HTML = re.compile(r"<\s*/?\s*[a-zA-Z!?][^>]*>|&#?[a-zA-Z0-9]+;")


@dataclass(frozen=True)
class Submission:
    person: Person
    kind: str
    entity: Entity | None
    subject: str
    description: str


def _attributes(params: Params) -> dict[str, str]:
    found: dict[str, str] = {}
    for name in params.names():
        match = _ATTRIBUTE.match(name)
        if match is None:
            continue
        code = match.group("code")
        if code not in ATTRIBUTES:
            raise bad(format_lazy(_("Unknown attribute “{code}”."), code=code[:40]))
        value = params.get(name)
        if value is not None:
            found[code] = value
    return found


def _plain_text(value: str, field: str) -> str:
    if _HTML.search(value):
        raise bad(format_lazy(_("The {field} must be plain text, without HTML."), field=field))
    return value


def _description(params: Params) -> str:
    text = params.get("description")
    if text is None:
        raise bad(_("The description is required."))
    if len(text) > DESCRIPTION_MAX:
        raise bad(_("The description may be at most 4000 characters."))
    return _plain_text(text, "description")


def _subject(attributes: dict[str, str], description: str) -> str:
    given = attributes.get("subject")
    if given is not None:
        return _plain_text(given, "subject")
    words = " ".join(description.split())
    if len(words) <= SUBJECT_FROM_DESCRIPTION:
        return words
    return words[: SUBJECT_FROM_DESCRIPTION - 1].rsplit(" ", 1)[0] + "…"


def _kind(attributes: dict[str, str], category: Category) -> str:
    given = attributes.get("kind")
    if given is not None:
        return given
    kinds = selectors.service_kinds(category)
    return Kind.COMPLAINT if Kind.COMPLAINT in kinds else (kinds or [Kind.COMPLAINT])[0]


def _entity_named(attributes: dict[str, str]) -> Entity | None:
    given = attributes.get("entity")
    if given is None:
        return None
    entity = places.entity_named(given)
    if entity is None:
        raise bad(_("Unknown entity in the attribute “entity”."))
    return entity


def _entity_by_code(params: Params) -> Entity | None:
    code = params.get("address_id")
    if code is None:
        return None
    entity = Entity.objects.filter(code=code, is_active=True).first()
    if entity is None:
        raise bad(_("Unknown address_id: give the code of an entity."))
    return entity


def _entity_at_point(params: Params) -> tuple[bool, Entity | None]:
    """Whether coordinates were given, and the department of their region."""
    lat = params.number("lat", low=-90, high=90)
    long = params.number("long", low=-180, high=180)
    if (lat is None) != (long is None):
        raise bad(_("Give both lat and long, or neither."))
    if lat is None or long is None:
        return False, None
    region = places.region_nearest(lat=lat, long=long)
    return True, places.entity_of_region(region.code)


def _entity(params: Params, attributes: dict[str, str]) -> Entity | None:
    named = _entity_named(attributes)
    by_code = _entity_by_code(params)
    address = params.get("address_string")
    by_address = places.entity_in_address(address) if address else None
    located, at_point = _entity_at_point(params)
    if not (located or address or by_code):
        raise bad(_("A location is required: lat and long, address_string or address_id."))
    return named or by_code or by_address or at_point


def _person(params: Params) -> Person:
    names = [params.get("first_name") or "", params.get("last_name") or ""]
    return Person(
        full_name=" ".join(name for name in names if name),
        mobile=params.get("phone") or "",
        email=params.get("email") or "",
    )


def submission_parse(params: Params, category: Category) -> Submission:
    """The submission a form describes; Open311Error (400) for anything wrong."""
    attributes = _attributes(params)
    description = _description(params)
    return Submission(
        person=_person(params),
        kind=_kind(attributes, category),
        entity=_entity(params, attributes),
        subject=_subject(attributes, description),
        description=description,
    )
