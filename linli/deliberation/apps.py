"""一月一议: proposals, support, discussion, the monthly residents' council, decisions, their
execution and residents' evaluation of the outcome. See docs/deliberation.md."""
import importlib

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# Writes that are not moves of a workflow (linli/deliberation/services.py).
OTHER_EVENTS = {
    "deliberation.round_created": _("opened a month's deliberation"),
    "deliberation.proposal_submitted": _("put forward a proposal"),
    "deliberation.topic_added": _("added a topic to the month's deliberation"),
    "deliberation.proposal_supported": _("supported a proposal"),
    "deliberation.commented": _("commented on a proposal"),
    "deliberation.meeting_scheduled": _("scheduled the residents' council"),
    "deliberation.attended": _("signed in to the residents' council"),
    "deliberation.decision_drafted": _("recorded a council decision"),
    "deliberation.task_added": _("added a task to a decision"),
    "deliberation.progress_updated": _("reported progress on a decision's task"),
    "deliberation.evaluated": _("evaluated a decision's outcome"),
    "deliberation.evaluation_published": _("published the residents' evaluation of a decision"),
}

OFFICE_URL_NAMES = tuple(f"deliberation:{name}" for name in (
    "office_index", "office", "office_round", "office_proposal", "office_hotissue", "office_meeting",
    "office_decision"))



class DeliberationConfig(AppConfig):
    name = "linli.deliberation"
    label = "deliberation"
    verbose_name = _("Monthly deliberation")

    def ready(self):
        from linli.community.views import HOME_ACTIONS
        from linli.core import registry
        from linli.insight.views_hot import HOTISSUE_ACTIONS
        from linli.voting.notifications import PROCESS_URL

        from . import links, notifications
        from .rules import runs_any  # importing rules declares the permission deliberation.use_office

        importlib.import_module(f"{self.name}.workflow")  # declaring the workflows registers their verbs

        registry.register_urls("deliberation", "deliberation/", "linli.deliberation.urls")
        for verb, label in OTHER_EVENTS.items():
            registry.register_event(verb, label)
        registry.register_event_reasons("deliberation_comment.hidden", {"moderated": _("hidden by the moderator")})
        registry.register_job(registry.Job(
            "deliberation.publish_evaluations", 3600, "linli.deliberation.jobs.publish_evaluations",
            description="publish the residents' evaluation of decisions whose evaluation phase has ended"))
        registry.register_recipe(registry.Recipe("deliberation", verbs=notifications.VERBS,
                                                 messages=notifications.messages))
        registry.register_menu_entry(registry.MenuEntry(
            "deliberation_office", _("Monthly deliberation"), "deliberation:office_index", order=66,
            visible=runs_any, current=OFFICE_URL_NAMES))
        registry.register_hook(HOTISSUE_ACTIONS, "deliberation", links.hotissue_actions)
        registry.register_hook(HOME_ACTIONS, "deliberation", links.home_actions)
        registry.register_hook(PROCESS_URL, "deliberation", links.process_url)
