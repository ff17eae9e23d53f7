"""Console writes that belong to no domain app: saved queue views."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlencode

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from tawasul.cases.queues import Queue
from tawasul.console.models import SavedView
from tawasul.core.errors import InvalidInput, NotFound
from tawasul.directory import access

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

# Paging tokens belong to one moment's page, never to a saved view.
_NOT_SAVED = {"after", "before", "csrfmiddlewaretoken"}
MAX_SAVED_VIEWS = 50


def saved_view_query(query: str) -> str:
    """The query string kept for a saved view: filters only, no paging, bounded."""
    pairs = [(k, v) for k, v in parse_qsl(query, keep_blank_values=False) if k not in _NOT_SAVED]
    return urlencode(pairs)[:1000]


def saved_view_create(*, user: AbstractBaseUser, name: str, queue: str, query: str) -> SavedView:
    """Save the current queue and filters under a name, for this staff member only."""
    if not access.staff_scope(user).is_staff:
        raise NotFound(_("No such page."))
    name = " ".join(name.split())[:80]
    if not name:
        raise InvalidInput(_("Give the view a name."), code="required", details={"field": "name"})
    if queue not in Queue.__members__.values():
        raise InvalidInput(_("Unknown queue."), code="choice", details={"field": "queue"})
    with transaction.atomic():
        if SavedView.objects.filter(user_id=user.pk).count() >= MAX_SAVED_VIEWS:
            raise InvalidInput(
                _("You have too many saved views; delete one first."), code="too_many"
            )
        return SavedView.objects.create(
            user_id=user.pk, name=name, queue=queue, query=saved_view_query(query)
        )


def saved_view_delete(*, user: AbstractBaseUser, saved_view_id: int) -> None:
    """Delete one of the user's own saved views (another's is not found)."""
    deleted, _counts = SavedView.objects.filter(pk=saved_view_id, user_id=user.pk).delete()
    if not deleted:
        raise NotFound(_("No such saved view."))


def saved_view_for(*, user: AbstractBaseUser, saved_view_id: int) -> SavedView:
    """One of the user's own saved views."""
    saved = SavedView.objects.filter(pk=saved_view_id, user_id=user.pk).first()
    if saved is None:
        raise NotFound(_("No such saved view."))
    return saved
