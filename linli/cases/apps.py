from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

CONSOLE = "community.use_console"

# What the case settings pages and services write (linli/cases/calendar.py, case_settings.py).
SETTINGS_EVENTS = {
    "holiday.added": _("added a day to the holiday calendar"),
    "holiday.changed": _("changed a day of the holiday calendar"),
    "holiday.removed": _("removed a day from the holiday calendar"),
    "holidays.loaded": _("loaded the official holidays"),
    "routing_rule.added": _("added a routing rule"),
    "routing_rule.changed": _("changed a routing rule"),
    "routing_rule.removed": _("removed a routing rule"),
    "category.keywords_changed": _("changed a category's keywords"),
    "time_limit.added": _("added a time limit"),
    "time_limit.changed": _("changed a time limit"),
    "time_limit.removed": _("removed a time limit"),
}
SETTINGS_URL_NAMES = ("settings", "settings_holidays", "settings_holiday", "settings_holiday_remove",
                      "settings_holidays_load", "settings_routing", "settings_routing_remove",
                      "settings_keywords", "settings_keyword", "settings_limits", "settings_limit")


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
        from linli.community.views import CONSOLE_LINKS, HOME_ACTIONS, PERSON_PANELS, TODAY_WORK

        from .api import router
        from .need_signals import case_signals
        from .notifications import case_messages
        from .today import today_work
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
        # The office's own records, not news about cases: no webhook.
        registry.register_event("apikey.created", _("created an API key"))
        registry.register_event("apikey.revoked", _("revoked an API key"))
        registry.register_event("cases.categories_installed", _("installed the default case categories"))
        registry.register_event("cases.response_clocks_started",
                                _("gave older cases waiting for a response their deadline from receipt"))
        # The case settings community admins edit (linli/cases/views_settings.py): no webhook. The
        # permission cases.edit_settings is declared in rules.py (imported by the workflow above).
        for verb, label in SETTINGS_EVENTS.items():
            registry.register_event(verb, label)
        registry.register_menu_entry(registry.MenuEntry(
            "case_settings", _("Case settings"), "cases:settings", order=95,
            visible=lambda user: user.has_perm("cases.edit_settings"),
            current=tuple(f"cases:{name}" for name in SETTINGS_URL_NAMES)))
        # What residents' cases say about their households' needs (the need tags of linli.community).
        registry.register_hook(NEED_SIGNALS, "cases", case_signals)
        registry.register_hook(CONSOLE_LINKS, "cases", _console_links)
        # A resident's and a household's requests on their staff pages; "raise a request" first
        # on the resident's home (linli/cases/people.py).
        from .people import home_actions, person_requests

        registry.register_hook(PERSON_PANELS, "cases", person_requests)
        registry.register_hook(HOME_ACTIONS, "cases", home_actions)
        # The staff's first page: cases to accept, overdue, due today, mine, the patrol report button.
        registry.register_hook(TODAY_WORK, "cases", today_work)
