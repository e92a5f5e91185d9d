from django.contrib import admin
from django.urls import include, path

from linli.core import views as core_views

urlpatterns = [
    path("healthz", core_views.healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("open311/v2/", include("linli.cases.urls_open311")),
    path("api/v1/", include("linli.config.urls_api")),
    path("cases/", include("linli.cases.urls")),
    path("inbox/", include("linli.notify.urls")),
    path("insight/", include("linli.insight.urls")),
    path("", include("linli.community.urls")),
]

handler404 = "linli.core.views.not_found"
handler403 = "linli.core.views.forbidden"
handler500 = "linli.core.views.server_error"
