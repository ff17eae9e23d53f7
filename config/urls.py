from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path

from tawasul.api.main import api
from tawasul.core.views import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", api.urls),
    path("open311/v2/", include("tawasul.api.open311.urls")),
    path("channels/", include("tawasul.channels.urls")),
]
urlpatterns += i18n_patterns(
    path("admin/", admin.site.urls),
    path("console/", include("tawasul.console.urls")),
    path("", include("tawasul.portal.urls")),
    prefix_default_language=False,
)

handler404 = "tawasul.api.errors.page_not_found"
handler500 = "tawasul.api.errors.server_error"
