"""Where an Open311 report is about, and which entity should receive it.

A report names its place by coordinates, by an address or by an entity code.
Coordinates are matched to the nearest of the thirteen regions' seats (a rough
but explainable rule: a misrouted request is forwarded by staff as usual); an
address is searched for the name or code of an entity or of a region. The
receiving entity is then the region's education department.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from tawasul.core.arabic import normalise_arabic
from tawasul.core.errors import InvalidInput
from tawasul.directory.models import Entity, EntityKind


@dataclass(frozen=True)
class Region:
    code: str
    name_ar: str
    name_en: str
    lat: float
    long: float


# The seats of the thirteen administrative regions (codes as on `Entity.region`).
REGIONS = (
    Region("riyadh", "الرياض", "Riyadh", 24.7136, 46.6753),
    Region("makkah", "مكة المكرمة", "Makkah", 21.3891, 39.8579),
    Region("madinah", "المدينة المنورة", "Madinah", 24.5247, 39.5692),
    Region("eastern", "الشرقية", "Eastern Province", 26.4207, 50.0888),
    Region("qassim", "القصيم", "Qassim", 26.3260, 43.9750),
    Region("asir", "عسير", "Asir", 18.2164, 42.5053),
    Region("tabuk", "تبوك", "Tabuk", 28.3835, 36.5662),
    Region("hail", "حائل", "Hail", 27.5114, 41.7208),
    Region("northern-borders", "الحدود الشمالية", "Northern Borders", 30.9753, 41.0381),
    Region("jazan", "جازان", "Jazan", 16.8892, 42.5511),
    Region("najran", "نجران", "Najran", 17.5656, 44.2289),
    Region("baha", "الباحة", "Al-Baha", 20.0129, 41.4677),
    Region("jouf", "الجوف", "Al-Jouf", 29.9697, 40.2064),
)
# The Kingdom's bounding box, with a margin: a point outside it is a mistake
# (often latitude and longitude swapped).
LAT_RANGE = (16.0, 32.5)
LONG_RANGE = (34.0, 56.0)
_WORD = re.compile(r"[^\w]+")


def _outside() -> InvalidInput:
    return InvalidInput(
        _("The location is outside the Kingdom. Check the latitude and the longitude."),
        code="location_outside",
        details={"field": "lat"},
    )


def region_nearest(*, lat: float, long: float) -> Region:
    """The region whose seat is nearest; InvalidInput for a point outside the Kingdom."""
    if not (LAT_RANGE[0] <= lat <= LAT_RANGE[1] and LONG_RANGE[0] <= long <= LONG_RANGE[1]):
        raise _outside()
    scale = math.cos(math.radians(lat))
    return min(
        REGIONS,
        key=lambda region: (region.lat - lat) ** 2 + ((region.long - long) * scale) ** 2,
    )


def entity_of_region(code: str) -> Entity | None:
    """The active education department of a region, if the directory has one."""
    return (
        Entity.objects.filter(kind=EntityKind.REGION, region=code, is_active=True)
        .order_by("depth", "path")
        .first()
    )


def _folded(text: str) -> str:
    """Text compared word by word: Arabic normalised, case folded, punctuation as spaces."""
    words = _WORD.sub(" ", normalise_arabic(text).casefold()).split()
    return f" {' '.join(words)} " if words else ""


def entity_named(text: str) -> Entity | None:
    """The active entity whose code or name is exactly `text` (normalised)."""
    wanted = _folded(text)
    if not wanted:
        return None
    for entity in Entity.objects.filter(is_active=True).order_by("depth", "path"):
        if wanted in {_folded(entity.code), _folded(entity.name_ar), _folded(entity.name_en)}:
            return entity
    return None


def entity_in_address(address: str) -> Entity | None:
    """The entity an address names: the longest entity name or code found in it,
    else the department of the region whose name it mentions."""
    folded = _folded(address)
    if not folded:
        return None
    best: tuple[int, Entity] | None = None
    for entity in Entity.objects.filter(is_active=True).order_by("depth", "path"):
        for name in (entity.code, entity.name_ar, entity.name_en):
            needle = _folded(name)
            if needle and needle in folded and (best is None or len(needle) > best[0]):
                best = (len(needle), entity)
    if best is not None:
        return best[1]
    for region in REGIONS:
        names = (region.code, region.name_ar, region.name_en)
        if any(_folded(name) and _folded(name) in folded for name in names):
            return entity_of_region(region.code)
    return None
