import importlib

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServicesConfig(AppConfig):
    name = "linli.services"
    label = "services"
    verbose_name = _("Services and activities")

    def ready(self):
        from linli.core import registry

        from .api import router

        registry.register_urls("services", "services/", "linli.services.urls")
        registry.register_api_router("services", router, prefix="/services")
        # Bookable services (catalogue.py, bookings.py, links.py, notifications.py, jobs.py).
        from linli.community.views import CONSOLE_LINKS, HOME_ACTIONS

        from . import links, notifications
        from .bookings import EVENTS as BOOKING_EVENTS  # declaring the workflow registers its verbs
        from .catalogue import EVENTS as CATALOGUE_EVENTS

        importlib.import_module(f"{self.name}.catalogue")
        for verb, label in {**BOOKING_EVENTS, **CATALOGUE_EVENTS}.items():
            registry.register_event(verb, label)
        registry.register_menu_entry(registry.MenuEntry(
            "services_office", _("Services"), "services:office_index", order=69,
            visible=links.sees_office_anywhere, current=links.OFFICE_URL_NAMES))
        registry.register_hook(HOME_ACTIONS, "services", links.home_actions)
        registry.register_hook(CONSOLE_LINKS, "services", links.console_links)
        registry.register_recipe(registry.Recipe("services_bookings", verbs=notifications.VERBS,
                                                 messages=notifications.messages))
        registry.register_job(registry.Job("services.mark_no_shows", 3600, "linli.services.jobs.mark_no_shows",
                                           description="mark bookings still open two hours after their time "
                                                       "as no-shows"))
        registry.register_job(registry.Job("services.remind", 3600, "linli.services.jobs.remind",
                                           description="remind residents of a booking the day before, once"))
        registry.register_job(registry.Job("services.promote_waiting", 3600, "linli.services.jobs.promote_waiting",
                                           description="move up waiting bookings once held priority places "
                                                       "are released"))
        # Rooms and activities for all ages (rooms.py, events.py; their workflows register their verbs).
        from . import notifications_events
        from .events import EVENTS as EVENT_EVENTS
        from .rooms import EVENTS as ROOM_EVENTS

        for verb, label in {**ROOM_EVENTS, **EVENT_EVENTS}.items():
            registry.register_event(verb, label)
        registry.register_recipe(registry.Recipe("services_events", verbs=notifications_events.VERBS,
                                                 messages=notifications_events.messages))
        registry.register_job(registry.Job("services.remind_events", 3600, "linli.services.jobs_events.remind",
                                           description="remind residents signed up for an activity the day "
                                                       "before, once"))
