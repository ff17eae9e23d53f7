"""Writes on the category taxonomy."""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.translation import gettext_lazy as _

from tawasul.cases.models import Category, Kind
from tawasul.core.errors import InvalidInput


def category_create(
    *,
    code: str,
    name_ar: str,
    name_en: str,
    kinds: Iterable[str] = (),
    parent: Category | None = None,
) -> Category:
    """Add a category (a root when `parent` is None); `kinds` empty means every kind."""
    kind_list = list(kinds)
    if any(kind not in Kind.values for kind in kind_list):
        raise InvalidInput(
            _("Unknown value for this field."), code="choice", details={"field": "kinds"}
        )
    if not name_ar.strip() or not name_en.strip():
        raise InvalidInput(
            _("Give the name in Arabic and in English."),
            code="name_required",
            details={"field": "name_ar"},
        )
    instance = Category(
        code=code, name_ar=name_ar.strip(), name_en=name_en.strip(), kinds=kind_list
    )
    if parent is None:
        return Category.objects.add_root(instance=instance)
    return Category.objects.add_child(parent, instance=instance)
