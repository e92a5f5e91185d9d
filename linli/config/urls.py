"""The site's URLs: what the project itself serves, then every app's registered pages
(linli.core.registry.register_urls) and the one JSON API with every app's router."""

from django.contrib import admin
from django.urls import include, path

from linli.core import registry
from linli.core import views as core_views

urlpatterns = [
    path("healthz", core_views.healthz, name="healthz"),
    path("text-size/", core_views.text_size, name="text_size"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("linli.config.urls_api")),
    *(path(entry.prefix, include(entry.module)) for entry in registry.url_modules()),
]

handler404 = "linli.core.views.not_found"
handler403 = "linli.core.views.forbidden"
handler500 = "linli.core.views.server_error"
