"""The points pages (namespace ``points``), mounted at ``/points/`` (docs/points.md).

Each part's pages come from its own module, included below; those modules set no ``app_name``:
their names join the ``points`` namespace.
"""

from django.urls import include, path

app_name = "points"

urlpatterns = [
    path("", include("linli.points.urls_ledger")),
    path("", include("linli.points.urls_earn")),
    path("", include("linli.points.urls_redeem")),
]
