import importlib

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# Writes of the back office that are not moves of the entry workflow (linli/disclosure/services.py).
OTHER_EVENTS = {
    "disclosure.drafted": _("wrote a board entry draft"),
    "disclosure.edited": _("edited a board entry draft"),
    "disclosure.duties_installed": _("installed the default board duties"),
    "disclosure.duty_added": _("added a board duty"),
    "disclosure.duty_changed": _("changed a board duty"),
    "disclosure.verify_failed": _("found that the public affairs board does not verify"),
}

OFFICE_URL_NAMES = tuple(f"disclosure:{name}" for name in (
    "office_index", "office", "office_new", "office_generate", "office_duties", "office_duty_new", "office_duty",
    "office_entry", "office_edit", "office_correct", "office_move", "office_attachment"))


class DisclosureConfig(AppConfig):
    name = "linli.disclosure"
    label = "disclosure"
    verbose_name = _("Public affairs board")

    def ready(self):
        from linli.books.views import STATEMENT_ACTIONS
        from linli.community.views import TODAY_WORK
        from linli.core import registry

        from .books_links import statement_actions
        from .duties import today_work
        from .jobs import board_messages
        from .rules import uses_any_office  # importing rules declares the permission disclosure.use_office

        importlib.import_module(f"{self.name}.workflow")  # declaring the workflow registers its verbs

        registry.register_urls("disclosure", "disclosure/", "linli.disclosure.urls")
        for verb, label in OTHER_EVENTS.items():
            registry.register_event(verb, label)
        registry.register_event_reasons("disclosure.verify_failed",
                                        {"verify_failed": _("a stored entry differs from the signed log")})
        registry.register_job(registry.Job("disclosure.verify", 24 * 3600, "linli.disclosure.jobs.daily_verify",
                                           description="re-check every community's board against its log"))
        registry.register_recipe(registry.Recipe(
            "disclosure", verbs=("disclosure.submitted", "disclosure.returned", "disclosure.verify_failed"),
            messages=board_messages))
        registry.register_menu_entry(registry.MenuEntry(
            "disclosure_office", _("Public affairs board"), "disclosure:office_index", order=60,
            visible=uses_any_office, current=OFFICE_URL_NAMES))
        registry.register_hook(TODAY_WORK, "disclosure", today_work)
        registry.register_hook(STATEMENT_ACTIONS, "disclosure", statement_actions)
