from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

CONSOLE = "community.use_console"


def _console_links(user) -> list:
    """The console's "What you can do": the desk where staff handle residents' requests."""
    from django.urls import reverse

    return [(_("Handle residents' requests (cases)"), reverse("cases:staff_list"))]


class CasesConfig(AppConfig):
    name = "linli.cases"
    label = "cases"
    verbose_name = _("Resident requests")

    def ready(self):
        from linli.core import registry

        from linli.community.needs import NEED_SIGNALS
        from linli.community.views import CONSOLE_LINKS

        from .api import router
        from .need_signals import case_signals
        from .notifications import case_messages
        from .workflow import AUDIT_EVENTS, OTHER_EVENTS  # importing it declares the CASE workflow and its verbs

        registry.register_urls("cases", "cases/", "linli.cases.urls")
        registry.register_urls("open311", "open311/v2/", "linli.cases.urls_open311")
        registry.register_api_router("cases", router)
        # Time limits: reminders, overdue flags, escalation, closing unrated cases.
        registry.register_job(registry.Job("cases.tick", 60, "linli.cases.jobs.tick"))
        registry.register_recipe(registry.Recipe("cases", verbs=("case.*",), messages=case_messages))
        # Staff work cases in the console; everyone else sees their own requests.
        registry.register_menu_entry(registry.MenuEntry(
            "cases", _("Cases"), "cases:staff_list", order=20,
            visible=lambda user: user.has_perm(CONSOLE), current=("cases:*",)))
        registry.register_menu_entry(registry.MenuEntry(
            "my_requests", _("My requests"), "cases:mine", order=15,
            visible=lambda user: not user.has_perm(CONSOLE), current=("cases:*",)))
        for verb, label in OTHER_EVENTS.items():
            registry.register_event(verb, label, webhook=verb not in AUDIT_EVENTS)
        # What residents' cases say about their households' needs (the need tags of linli.community).
        registry.register_hook(NEED_SIGNALS, "cases", case_signals)
        registry.register_hook(CONSOLE_LINKS, "cases", _console_links)
