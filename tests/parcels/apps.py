from django.apps import AppConfig


class ParcelsConfig(AppConfig):
    """Parcels held at the service centre for residents: received, then collected or sent back."""

    name = "tests.parcels"
    label = "parcels"
    verbose_name = "Parcels"

    def ready(self):
        from linli.core import registry

        from . import api, notifications, workflow  # noqa: F401  (declaring PARCEL registers its verbs)

        registry.register_job(registry.Job("parcels.send_back", 3600, "tests.parcels.services.send_back_uncollected"))
        registry.register_recipe(registry.Recipe("parcels", verbs=("parcel.*",), messages=notifications.messages))
        registry.register_menu_entry(registry.MenuEntry(
            "parcels", "Parcels", "parcels:mine", order=80,
            visible=lambda user: user.has_perm("parcels.view_parcel"), current=("parcels:*",),
        ))
        registry.register_urls("parcels", "parcels/", "tests.parcels.urls")
        registry.register_api_router("parcels", api.router, prefix="/parcels")
        registry.register_event("parcel.received", "received a parcel", webhook=True)
