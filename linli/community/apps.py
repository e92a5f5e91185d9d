from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# How the event log names this app's events that are not workflow moves (the moves of the
# need tags and the import batches label themselves); other verbs show as written.
EVENT_LABELS = {
    "resident.revealed": _("revealed a protected value"),
    "resident.created": _("registered a resident"),
    "resident.updated": _("changed a resident"),
    "household.created": _("created a household"),
    "household.floor_area_set": _("recorded the floor area of a flat"),
    "tag.created": _("created a tag"),
    "needs.exported": _("exported a need list"),
    "needs.recomputed": _("recomputed need tags"),
    # The admin's edits (linli.community.services): a role opens personal data.
    "staff_role.granted": _("granted a staff role"),
    "staff_role.changed": _("changed a staff role"),
    "staff_role.revoked": _("revoked a staff role"),
    "organisation.created": _("added an organisation"),
    "organisation.changed": _("changed an organisation"),
    "organisation.deleted": _("deleted an organisation"),
    "community.created": _("added a community"),
    "community.changed": _("changed a community"),
    "community.deleted": _("deleted a community"),
    "unit.created": _("added a building unit"),
    "residents.imported": _("imported residents"),
    "needs.categories_installed": _("installed the default need categories"),
    "community.seeded": _("built the demo community"),
}


def _console(user) -> bool:
    return user.has_perm("community.use_console")


def _console_and(perm: str):
    """Visible to console users holding ``perm`` as well (the menu's staff part)."""
    return lambda user: _console(user) and user.has_perm(perm)


def _has_home(user) -> bool:
    # Residents see their home; staff see it too when they live in the community.
    return not _console(user) or getattr(user, "resident", None) is not None


class CommunityConfig(AppConfig):
    name = "linli.community"
    label = "community"
    verbose_name = _("Places and people")

    def ready(self):
        from linli.core import registry

        from . import import_batches, indexing, needs  # noqa: F401  (the blind indexer; the workflows' labels)

        # At the site's root: the console, the registry, the resident's home, sign-in and the map.
        registry.register_urls("community", "", "linli.community.urls")
        for verb, label in EVENT_LABELS.items():
            registry.register_event(verb, label)
        registry.register_job(registry.Job(
            "community.needs", 3600, "linli.community.needs.recompute_all",
            description="Need tags on households, derived from the registry, cases and service use."))
        for entry in (
            registry.MenuEntry("console", _("Console"), "console", order=10, visible=_console,
                               current=("console",)),
            registry.MenuEntry("residents", _("Residents"), "resident_search", order=40,
                               visible=_console_and("community.search_registry")),
            registry.MenuEntry("needs", _("Needs"), "needs_list", order=50,
                               visible=_console_and("community.view_needs"),
                               current=("needs_list", "household_needs")),
            registry.MenuEntry("event_log", _("Event log"), "event_list", order=60,
                               visible=_console_and("core.browse_events")),
            registry.MenuEntry("street_overview", _("Street overview"), "street_overview", order=70,
                               visible=_console_and("community.view_street_overview")),
            registry.MenuEntry("my_home", _("My home"), "my_home", order=90, visible=_has_home),
        ):
            registry.register_menu_entry(entry)
