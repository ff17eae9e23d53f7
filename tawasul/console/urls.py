from django.urls import path

from tawasul.console import (
    auth_views,
    call_views,
    channel_views,
    insights_views,
    intake_views,
    meeting_views,
    objection_views,
    oversight_views,
    quality_views,
    queue_views,
    report_views,
    similar_views,
    suggestion_views,
    token_views,
    workspace_views,
)
from tawasul.console.access import staff_required
from tawasul.console.views import console_home

app_name = "console"
urlpatterns = [
    path("", staff_required(console_home), name="home"),
    *auth_views.urlpatterns,
    *queue_views.urlpatterns,
    *suggestion_views.urlpatterns,
    *workspace_views.urlpatterns,
    *similar_views.urlpatterns,
    *intake_views.urlpatterns,
    *call_views.urlpatterns,
    *channel_views.urlpatterns,
    *oversight_views.urlpatterns,
    *insights_views.urlpatterns,
    *report_views.urlpatterns,
    *objection_views.urlpatterns,
    *quality_views.urlpatterns,
    *token_views.urlpatterns,
    *meeting_views.urlpatterns,
]
