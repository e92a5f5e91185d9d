"""/api/v1/: the JSON API (linli.cases.api), its OpenAPI document and its docs page."""

from django.http import JsonResponse
from django.urls import path, re_path
from django.utils.translation import gettext as _

from .api import api, docs_asset


def not_found(request, rest=""):
    """Any other path under /api/v1/: the API's error format, not an HTML page."""
    return JsonResponse({"code": "not_found", "message": _("Not found."), "field": None}, status=404)


urlpatterns = [
    path("docs/assets/<str:name>", docs_asset, name="api_v1_docs_asset"),
    path("", api.urls),
    re_path(r"^(?P<rest>.*)$", not_found),
]
