"""Shared model pieces."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


class BilingualNameMixin(models.Model):
    """An Arabic and an English name; `name` follows the active language."""

    name_ar = models.CharField(_("name (Arabic)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        if (get_language() or "ar").startswith("en") and self.name_en:
            return self.name_en
        return self.name_ar


class AppendOnlyQuerySet(models.QuerySet[Any]):
    """Refuses bulk changes: the rows are a record."""

    def update(self, **kwargs: Any) -> int:
        raise TypeError(f"{self.model.__name__} rows are append-only.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise TypeError(f"{self.model.__name__} rows are append-only.")


class TimelineEvent(models.Model):
    """An entry of a timeline and audit log, written once, never changed or deleted.

    Subclasses add the subject (a foreign key), `kind` and the from/to status with
    their own choices.
    """

    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True
    )
    by_beneficiary = models.BooleanField(default=False)
    is_public = models.BooleanField(
        _("shown to the beneficiary"),
        default=True,
        help_text=_("Internal events appear only in the staff timeline."),
    )
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(_("at"), auto_now_add=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise TypeError(f"{type(self).__name__} rows are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise TypeError(f"{type(self).__name__} rows are append-only.")
