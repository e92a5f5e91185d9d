from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "linli.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self):
        from django.core import checks

        from . import registry
        from .checks import check_email

        checks.register(check_email, checks.Tags.compatibility)

        registry.register_event("signin.unlocked", _("unlocked an account after failed sign-ins"))
        registry.register_job(registry.Job("core.signin_purge", 24 * 3600, "linli.core.signin.purge_old",
                                           description="delete failed sign-ins older than the retention"))
