from django.urls import path

from tawasul.portal import (
    meeting_views,
    request_views,
    signin_views,
    statistics_views,
    submit_views,
    survey_views,
    track_views,
    views,
)

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    *signin_views.urlpatterns,
    *submit_views.urlpatterns,
    *request_views.urlpatterns,
    *track_views.urlpatterns,
    *survey_views.urlpatterns,
    *meeting_views.urlpatterns,
    *statistics_views.urlpatterns,
]
