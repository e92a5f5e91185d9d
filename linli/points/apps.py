from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PointsConfig(AppConfig):
    name = "linli.points"
    label = "points"
    verbose_name = _("Neighbourhood points")

    def ready(self):
        from linli.core import registry

        from .api import router

        registry.register_urls("points", "points/", "linli.points.urls")
        registry.register_api_router("points", router, prefix="/points")
