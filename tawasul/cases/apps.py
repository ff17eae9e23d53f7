from typing import Any

from django.apps import AppConfig
from django.db import connections
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "tawasul.cases"
    verbose_name = _("Requests")

    def ready(self) -> None:
        post_migrate.connect(_search_index_repair, sender=self)


def _search_index_repair(*, using: str = "default", **kwargs: Any) -> None:
    """SQLite: a migration that rebuilt the request table dropped the search triggers."""
    from tawasul.cases.search import search_index_repair

    search_index_repair(connections[using])
