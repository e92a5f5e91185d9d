"""/api/v1/: the JSON API (linli.config.api), its OpenAPI document and its docs page."""

from django.urls import path, re_path
from django.utils.translation import gettext as _

from linli.core.api import docs_asset
from linli.core.web import json_error

from .api import api


def not_found(request, rest=""):
    """Any other path under /api/v1/: the API's error format, not an HTML page."""
    return json_error(404, "not_found", _("Not found."))


urlpatterns = [
    path("docs/assets/<str:name>", docs_asset, name="api_v1_docs_asset"),
    path("", api.urls),
    re_path(r"^(?P<rest>.*)$", not_found),
]
