from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemoConfig(AppConfig):
    """The demo community: every app's history seeded through its own services and transitions."""

    name = "linli.demo"
    label = "demo"
    verbose_name = _("Demo community")
