"""Console-only records: a staff member's saved queue views."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class SavedView(models.Model):
    """A named queue with its filters (a query string), private to one staff member."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="saved_views",
        verbose_name=_("user"),
    )
    name = models.CharField(_("name"), max_length=80)
    queue = models.CharField(_("queue"), max_length=20, default="subtree")
    query = models.CharField(_("filters"), max_length=1000, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("saved view")
        verbose_name_plural = _("saved views")
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["user", "name"], name="savedview_user")]

    def __str__(self) -> str:
        return self.name

    @property
    def queue_name(self) -> str:
        """Its name in the queue address (`queues/saved-<id>/`)."""
        return f"saved-{self.pk}"
