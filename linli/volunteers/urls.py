"""The volunteers pages (namespace ``volunteers``), mounted at ``/volunteers/`` (docs/volunteers.md).

Each part's pages come from its own module, included below; those modules set no ``app_name``:
their names join the ``volunteers`` namespace.
"""

from django.urls import include, path

app_name = "volunteers"

urlpatterns = [
    path("", include("linli.volunteers.urls_people")),
    path("", include("linli.volunteers.urls_activities")),
    path("", include("linli.volunteers.urls_hours")),
]
