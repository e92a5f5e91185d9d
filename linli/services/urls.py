"""The services pages (namespace ``services``), mounted at ``/services/`` (docs/services.md).

Each part's pages come from its own module, included below; those modules set no ``app_name``:
their names join the ``services`` namespace.
"""

from django.urls import include, path

app_name = "services"

urlpatterns = [
    path("", include("linli.services.urls_bookings")),
    path("", include("linli.services.urls_rooms")),
    path("", include("linli.services.urls_events")),
]
