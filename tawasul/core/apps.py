from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "tawasul.core"
    verbose_name = _("Core")

    def ready(self) -> None:
        from tawasul.core.memo import memo_connect

        memo_connect()
