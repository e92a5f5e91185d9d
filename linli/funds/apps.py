"""Community fund projects (资金项目征集) by participatory budgeting: calls, projects, review,
the residents' vote, selection by the call's rule (greedy or equal shares), implementation booked
in the books, acceptance, Pabulib import and export. See docs/funds.md."""
import importlib

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# Writes that are not moves of the project workflow (linli/funds/services.py).
OTHER_EVENTS = {
    "funds.call_created": (_("opened a community fund call"), True),
    "funds.call_changed": (_("changed a community fund call's budget or rules"), False),
    "funds.project_submitted": (_("submitted a fund project"), False),
    "funds.project_changed": (_("changed a fund project"), False),
    "funds.vote_prepared": (_("opened the residents' vote of a fund call"), True),
    "funds.selection_published": (_("published the selection of a fund call"), True),
    "funds.selection_overridden": (_("changed a fund call's selection by an override, with a reason"), True),
    "funds.milestone_recorded": (_("recorded a milestone of a fund project"), False),
    "funds.report_published": (_("published the final report of a fund call"), True),
    "funds.call_imported": (_("imported a fund call from Pabulib"), False),
}

OFFICE_URL_NAMES = tuple(f"funds:{name}" for name in (
    "office_index", "office", "office_new", "office_call", "office_project"))


class FundsConfig(AppConfig):
    name = "linli.funds"
    label = "funds"
    verbose_name = _("Community fund projects")

    def ready(self):
        from linli.community.views import HOME_ACTIONS
        from linli.core import registry
        from linli.voting.notifications import PROCESS_URL

        from .links import home_actions, process_url
        from .rules import uses_funds_office

        importlib.import_module(f"{self.name}.workflow")  # declaring the workflow registers its verbs
        registry.register_urls("funds", "funds/", "linli.funds.urls")
        for verb, (label, webhook) in OTHER_EVENTS.items():
            registry.register_event(verb, label, webhook=webhook)
        registry.register_menu_entry(registry.MenuEntry(
            "funds_office", _("Community fund"), "funds:office_index", order=66,
            visible=uses_funds_office, current=OFFICE_URL_NAMES))
        registry.register_hook(HOME_ACTIONS, "funds", home_actions)
        registry.register_hook(PROCESS_URL, "funds", process_url)
