from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InsightsConfig(AppConfig):
    name = "tawasul.insights"
    label = "insights"
    verbose_name = _("Insights")

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from tawasul.cases.models import Request
        from tawasul.insights import summary_tasks  # noqa: F401 (registers the periodic jobs)
        from tawasul.insights.classifier_tasks import request_suggest_after_commit

        # A submitted request gets its routing suggestions once committed (issue 12).
        post_save.connect(
            request_suggest_after_commit, sender=Request, dispatch_uid="insights-suggest"
        )
