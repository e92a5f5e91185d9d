"""The annual democratic evaluation (民主评议): one anonymous ballot per household rating the
residents' committee, staff and party branches; results, responses and the annual report.
See docs/evaluation.md."""
import importlib

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# Writes that are not moves of the evaluation workflow (linli/evaluation/services.py).
OTHER_EVENTS = {
    "evaluation.created": _("set up a democratic evaluation"),
    "evaluation.target_added": _("added a target to a democratic evaluation"),
    "evaluation.target_removed": _("removed a target from a democratic evaluation"),
    "evaluation.defaults_installed": _("added the default targets to a democratic evaluation"),
    "evaluation.responded": _("wrote the community's response to an evaluation criterion"),
}

OFFICE_URL_NAMES = ("evaluation:office_index", "evaluation:office", "evaluation:office_year",
                    "evaluation:office_action")


class EvaluationConfig(AppConfig):
    name = "linli.evaluation"
    label = "evaluation"
    verbose_name = _("Democratic evaluation")

    def ready(self):
        from linli.core import registry

        from .rules import uses_office  # importing rules declares the permission evaluation.use_office

        importlib.import_module(f"{self.name}.workflow")  # declaring the workflow registers its verbs
        registry.register_urls("evaluation", "evaluation/", "linli.evaluation.urls")
        for verb, label in OTHER_EVENTS.items():
            registry.register_event(verb, label)
        registry.register_menu_entry(registry.MenuEntry(
            "evaluation_office", _("Democratic evaluation"), "evaluation:office_index", order=75,
            visible=uses_office, current=OFFICE_URL_NAMES))
