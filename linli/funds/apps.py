from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FundsConfig(AppConfig):
    name = "linli.funds"
    label = "funds"
    verbose_name = _("Community fund projects")

    def ready(self):
        pass
