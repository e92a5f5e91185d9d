from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServicesConfig(AppConfig):
    name = "linli.services"
    label = "services"
    verbose_name = _("Services and activities")

    def ready(self):
        from linli.core import registry

        from .api import router

        registry.register_urls("services", "services/", "linli.services.urls")
        registry.register_api_router("services", router, prefix="/services")
