from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PointsConfig(AppConfig):
    name = "linli.points"
    label = "points"
    verbose_name = _("Neighbourhood points")

    def ready(self):
        from linli.core import registry

        from .api import router

        registry.register_urls("points", "points/", "linli.points.urls")
        registry.register_api_router("points", router, prefix="/points")
        # The ledger (linli/points/ledger.py, audit.py, jobs.py, notifications.py; docs/points.md).
        from .notifications import AUDIT

        registry.register_event("points.posted", _("posted a points transaction"))
        registry.register_event("points.reversed", _("reversed a points transaction"))
        registry.register_event("points.recipient_lookup", _("looked up a gift's recipient by mobile number"))
        registry.register_event("points.audit_failed", _("the points ledger failed its audit"), webhook=True)
        registry.register_job(registry.Job("points.audit", 24 * 3600, "linli.points.jobs.audit_ledgers",
                                           description="audit every community's points ledger"))
        registry.register_recipe(AUDIT)
        from .ledger import erasing_for_flush  # Django's flush may empty the ledger's tables

        registry.register_hook("transparency.flush", "points", erasing_for_flush)
        # Earning, gifts and expiry: events, the jobs points.expire / points.expiry_notice, the recipe.
        from .notifications_earn import register as register_earn

        register_earn()
        # Catalogue, partners and redemption (catalogue.py, partners.py, redeem.py).
        for verb, label in (
            ("points.redeemed", _("redeemed points")),
            ("points.redemption_cancelled", _("cancelled a redemption")),
            ("points.partner_created", _("added a points partner")),
            ("points.partner_updated", _("changed a points partner")),
            ("points.item_created", _("added a catalogue item")),
            ("points.item_updated", _("changed a catalogue item")),
            ("points.stock_added", _("added stock to a catalogue item")),
            ("points.key_created", _("made a partner terminal key")),
            ("points.key_revoked", _("revoked a partner terminal key")),
            ("points.month_settled", _("settled a month with a partner")),
        ):
            registry.register_event(verb, label)
        from .partners import console_links as redeem_console_links

        registry.register_hook("community.console_links", "points_redeem", redeem_console_links)
