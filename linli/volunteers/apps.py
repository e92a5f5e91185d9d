import importlib

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VolunteersConfig(AppConfig):
    name = "linli.volunteers"
    label = "volunteers"
    verbose_name = _("Volunteers")

    def ready(self):
        from linli.core import registry

        registry.register_urls("volunteers", "volunteers/", "linli.volunteers.urls")
        # People, teams, the needs board (linli/volunteers/{volunteers,teams,needs}.py, links.py).
        from linli.cases.views import STAFF_CASE_PANELS
        from linli.community.views import CONSOLE_LINKS, HOME_ACTIONS

        from . import links
        from .needs import EVENTS as NEEDS_EVENTS
        from .teams import EVENTS as TEAMS_EVENTS
        from .volunteers import EVENTS as PEOPLE_EVENTS

        importlib.import_module(f"{self.name}.workflow")  # the needs board's workflow registers its verbs
        for verb, label in {**PEOPLE_EVENTS, **TEAMS_EVENTS, **NEEDS_EVENTS}.items():
            registry.register_event(verb, label)
        registry.register_menu_entry(registry.MenuEntry(
            "volunteers_office", _("Volunteers"), "volunteers:office_index", order=67,
            visible=links.sees_office_anywhere, current=links.OFFICE_URL_NAMES))
        registry.register_hook(HOME_ACTIONS, "volunteers", links.home_actions)
        registry.register_hook(CONSOLE_LINKS, "volunteers", links.console_links)
        registry.register_hook(STAFF_CASE_PANELS, "volunteers", links.case_panel)
        registry.register_job(registry.Job("volunteers.needs_from_tags", 86400,
                                           "linli.volunteers.needs.propose_from_tags",
                                           description="propose volunteers' needs from confirmed household need tags"))
        # Service hours (linli/volunteers/hours.py): the record workflow, its other events, the job.
        importlib.import_module(f"{self.name}.workflow_hours")
        from .hours import EVENTS as HOURS_EVENTS

        for verb, label in HOURS_EVENTS.items():
            registry.register_event(verb, label)
        registry.register_job(registry.Job("volunteers.close_forgotten", 600,
                                           "linli.volunteers.jobs_hours.close_forgotten",
                                           description="close forgotten check-outs at the scheduled end"))
        # Activities, sign-up, suggestions, reminders (linli/volunteers/activities.py).
        from . import notifications_activities
        from .activities import EVENTS as ACTIVITY_EVENTS  # declaring its workflows registers their verbs

        for verb, label in ACTIVITY_EVENTS.items():
            registry.register_event(verb, label)
        registry.register_job(registry.Job("volunteers.publish_summary", 86400,
                                           "linli.volunteers.openness.publish_due",
                                           description="publish last month's volunteering and points summary "
                                                       "on the disclosure board"))
        registry.register_job(registry.Job("volunteers.remind", 3600, "linli.volunteers.jobs_activities.remind",
                                           description="remind confirmed volunteers the day before an activity"))
        registry.register_recipe(registry.Recipe("volunteers_activities", verbs=notifications_activities.VERBS,
                                                 messages=notifications_activities.messages))
