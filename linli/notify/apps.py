from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotifyConfig(AppConfig):
    name = "linli.notify"
    label = "notify"
    verbose_name = _("Notifications")

    def ready(self):
        from linli.core import registry

        from . import selectors

        # Event log → inbox notifications and webhook deliveries; then e-mail copies.
        registry.register_job(registry.Job("notify.dispatch", 10, "linli.notify.jobs.dispatch"))
        registry.register_job(registry.Job("notify.webhooks", 15, "linli.notify.jobs.deliver_webhooks"))
        registry.register_job(registry.Job("notify.email", 30, "linli.notify.jobs.send_emails"))
        registry.register_menu_entry(registry.MenuEntry(
            "inbox", _("Inbox"), "inbox", order=100, visible=lambda user: True, current=("inbox",),
            badge=lambda request: selectors.unread_count(request.user), badge_id="inbox-unread",
        ))
        registry.register_urls("notify", "inbox/", "linli.notify.urls")
        # A page opened or acted on (core.viewed): its unread notifications become read.
        from linli.core.viewed import VIEWED

        from .services import mark_target_read

        registry.register_hook(VIEWED, "notify", mark_target_read)
        registry.register_event("webhook.created", _("registered a webhook"))
        registry.register_event("webhook.updated", _("changed a webhook"))
