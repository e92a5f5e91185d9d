from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CanteenConfig(AppConfig):
    name = "linli.canteen"
    label = "canteen"
    verbose_name = _("Canteen")

    def ready(self):
        from linli.core import registry

        from .api import router

        registry.register_urls("canteen", "canteen/", "linli.canteen.urls")
        registry.register_api_router("canteen", router, prefix="/canteen")
