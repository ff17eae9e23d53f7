"""Inbound endpoints of the channels: the platforms' and providers' webhooks, each under
its account's public id (not language-prefixed, no session, no CSRF: each is checked by
its own signature)."""

from tawasul.channels import cti_views, email_views, sms_views, social_views

app_name = "channels"
urlpatterns = [
    *email_views.urlpatterns,
    *social_views.urlpatterns,
    *sms_views.urlpatterns,
    *cti_views.urlpatterns,
]
