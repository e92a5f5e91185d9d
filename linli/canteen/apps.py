from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CanteenConfig(AppConfig):
    name = "linli.canteen"
    label = "canteen"
    verbose_name = _("Canteen")

    def ready(self):
        from linli.core import registry

        from .api import router

        registry.register_urls("canteen", "canteen/", "linli.canteen.urls")
        registry.register_api_router("canteen", router, prefix="/canteen")
        # Canteens, menus, eligibility, subsidies, the office pages ("menu": linli/canteen/links.py).
        from linli.community.views import CONSOLE_LINKS, HOME_ACTIONS

        from . import canteens, eligibility, links, menus, subsidies  # menus declares the meal's workflow

        for verb, label in {**canteens.EVENTS, **menus.EVENTS, **eligibility.EVENTS, **subsidies.EVENTS}.items():
            registry.register_event(verb, label)
        registry.register_menu_entry(registry.MenuEntry(
            "canteen_office", _("Canteen"), "canteen:office_index", order=68,
            visible=links.sees_office_anywhere, current=links.OFFICE_URL_NAMES))
        registry.register_hook(HOME_ACTIONS, "canteen", links.home_actions)
        registry.register_hook(CONSOLE_LINKS, "canteen", links.console_links)
        # Delivery rounds, welfare checks, the sheet, statements ("delivery": docs/canteen.md, "Delivery").
        from . import delivery, notifications, statements, welfare  # delivery declares the rounds' workflow

        for verb, label in {**delivery.EVENTS, **welfare.EVENTS, **statements.EVENTS}.items():
            registry.register_event(verb, label)
        registry.register_job(registry.Job("canteen.publish_statements", 86400,
                                           "linli.canteen.jobs.publish_statements",
                                           description="publish last month's canteen statement on the disclosure "
                                                       "board (from the 5th)"))
        registry.register_recipe(registry.Recipe("canteen_delivery", verbs=notifications.VERBS,
                                                 messages=notifications.messages))
        registry.register_hook(HOME_ACTIONS, "canteen_delivery", delivery.home_actions)
        # Orders, payment, the counter ("orders": linli/canteen/orders.py; ORDER declares
        # canteen.order_cancelled and canteen.order_served).
        from . import orders

        for verb, label in orders.EVENTS.items():
            registry.register_event(verb, label)
        registry.register_recipe(registry.Recipe("canteen_orders", verbs=orders.NOTIFY_VERBS,
                                                 messages=orders.notify_messages))
