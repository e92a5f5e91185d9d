"""The canteen's pages (namespace ``canteen``), mounted at ``/canteen/`` (docs/canteen.md).

Each part's pages come from its own module, included below; those modules set no ``app_name``:
their names join the ``canteen`` namespace.
"""

from django.urls import include, path

app_name = "canteen"

urlpatterns = [
    path("", include("linli.canteen.urls_menu")),
    path("", include("linli.canteen.urls_orders")),
    path("", include("linli.canteen.urls_delivery")),
]
