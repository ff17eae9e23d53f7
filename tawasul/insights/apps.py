from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InsightsConfig(AppConfig):
    name = "tawasul.insights"
    label = "insights"
    verbose_name = _("Insights")

    def ready(self) -> None:
        from tawasul.insights import summary_tasks  # noqa: F401 (registers the periodic jobs)
