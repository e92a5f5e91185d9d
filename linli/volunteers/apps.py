from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VolunteersConfig(AppConfig):
    name = "linli.volunteers"
    label = "volunteers"
    verbose_name = _("Volunteers")

    def ready(self):
        from linli.core import registry

        registry.register_urls("volunteers", "volunteers/", "linli.volunteers.urls")
