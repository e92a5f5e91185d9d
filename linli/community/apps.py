from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommunityConfig(AppConfig):
    name = "linli.community"
    label = "community"
    verbose_name = _("Places and people")

    def ready(self):
        from . import indexing  # noqa: F401  (registers the blind indexer)
