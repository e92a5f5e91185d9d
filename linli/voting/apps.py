import importlib

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# Writes that are not moves of the vote workflow (linli/voting/services.py, phases.py, jobs.py).
OTHER_EVENTS = {
    "voting.process_created": _("created a process"),
    "voting.phases_set": _("set the phases of a process"),
    "voting.vote_created": _("created a vote"),
    "voting.questions_set": _("changed the questions of a draft vote"),
    "voting.cast": _("cast a ballot"),
    "voting.paper_marked": _("handed out a paper ballot"),
}

OFFICE_URL_NAMES = ("voting:office_index", "voting:office", "voting:office_process_new", "voting:office_process",
                    "voting:office_phases", "voting:office_vote_new", "voting:office_vote", "voting:office_vote_move")


class VotingConfig(AppConfig):
    name = "linli.voting"
    label = "voting"
    verbose_name = _("Votes and processes")

    def ready(self):
        from linli.core import registry

        from .notifications import phase_messages
        from .rules import uses_voting_office  # importing rules declares the permission voting.use_office

        importlib.import_module(f"{self.name}.workflow")  # declaring the workflow registers its verbs

        registry.register_urls("voting", "votes/", "linli.voting.urls")
        for verb, label in OTHER_EVENTS.items():
            registry.register_event(verb, label)
        from .paper import EVENTS as PAPER_EVENTS  # booths and paper sheets (linli/voting/paper.py)

        for verb, label in PAPER_EVENTS.items():
            registry.register_event(verb, label)
        registry.register_event("voting.phase_opened", _("a phase of a process opened"), webhook=True)
        registry.register_job(registry.Job("voting.announce_phases", 300, "linli.voting.jobs.announce_phases",
                                           description="announce the phases of processes that have opened"))
        registry.register_recipe(registry.Recipe("voting", verbs=("voting.phase_opened",), messages=phase_messages))
        registry.register_menu_entry(registry.MenuEntry(
            "voting_office", _("Processes and votes"), "voting:office_index", order=65,
            visible=uses_voting_office, current=OFFICE_URL_NAMES))
        # "Votes open to you" on the resident's home (linli/voting/home.py, the ballot pages).
        from linli.community.views import HOME_ACTIONS

        from .home import home_actions

        registry.register_hook(HOME_ACTIONS, "voting", home_actions)
