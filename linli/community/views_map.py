"""One community's map layers as JSON, for the place picker and the case pages (map.js).

GET /map/<community code>.json gives the community boundary and centre, its courtyards
(id, code, name, boundary, centre) and, for a community that has a street file, the
streets and landmarks around it with their attribution. Nothing personal: no households,
no residents, no cases.

Street files are static package data, read-only and the same for every request, keyed by
community code in STREET_FILES (see docs/map.md). Only the demo community has one (made
from OpenStreetMap by tools/extract_y_streets.py); other communities get their boundary
and courtyards only.

Who may read a community's map: its residents, staff whose scope includes it (the
communities of ``community_selectors.communities_for``), and, where the installation
takes anonymous reports (``LINLI_ANONYMOUS_INTAKE``, the setting the anonymous report
form obeys: there is no per-community flag), anyone, since that form shows the map. Any
other request, and an unknown code, gets the same 404.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from importlib import resources

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from linli.core.web import json_error

from . import selectors as community_selectors
from .models import Community, Grid

# Community code -> street file in linli/community/data/.
STREET_FILES = {"510106017001": "y_streets.json"}
# The layers change only when an operator edits boundaries: a few minutes of caching
# spares old phones the download on every form, and the ETag makes the revalidation free.
MAX_AGE_SECONDS = 300


@lru_cache(maxsize=None)
def _street_layers(filename: str) -> dict:
    """Streets, landmarks and attribution of one street file (package data, immutable),
    trimmed to what the map draws."""
    doc = json.loads(resources.files("linli.community").joinpath("data", filename).read_text("utf-8"))
    return {
        "streets": [{"name": s["name"], "class": s["class"], "lines": s["lines"]} for s in doc["streets"]],
        "features": [{"kind": f["kind"], "name": f["name"], "point": f["point"]} for f in doc["features"]],
        "attribution": doc["attribution"],
    }


def _point(value) -> list[float] | None:
    """[lat, lon] rounded to 6 decimals, or None for anything that is not a point."""
    try:
        lat, lon = (float(v) for v in value)
    except (TypeError, ValueError):
        return None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    return [round(lat, 6), round(lon, 6)]


def _ring(value) -> list[list[float]]:
    """A stored boundary as a list of points; empty when it is not a usable ring."""
    if not isinstance(value, list):
        return []
    points = [_point(p) for p in value]
    return points if len(points) >= 3 and None not in points else []


def _center(lat, lon) -> list[float] | None:
    return _point((lat, lon)) if lat is not None and lon is not None else None


def may_read_map(user, community: Community) -> bool:
    if getattr(settings, "LINLI_ANONYMOUS_INTAKE", False):
        return True
    if not user.is_authenticated or not user.is_active:
        return False
    resident = getattr(user, "resident", None)
    if resident is not None and resident.community_id == community.pk:
        return True
    return community_selectors.communities_for(user).filter(pk=community.pk).exists()


def map_layers(community: Community) -> dict:
    grids = Grid.objects.filter(community=community).order_by("code")
    layers = {
        "code": community.code,
        "name": community.name,
        "boundary": _ring(community.boundary),
        "center": _center(community.latitude, community.longitude),
        "courtyards": [
            {"id": g.pk, "code": g.code, "name": g.name, "boundary": _ring(g.boundary),
             "center": _center(g.latitude, g.longitude)}
            for g in grids
        ],
        "streets": [],
        "features": [],
        "attribution": "",
    }
    filename = STREET_FILES.get(community.code)
    if filename:
        layers.update(_street_layers(filename))
    return layers


def _not_found() -> JsonResponse:
    # Not cached: the same code may become readable once the account's role changes.
    return json_error(404, "not_found", _("Unknown community."), cache=False)


@require_safe
def community_map(request, code: str) -> HttpResponse:
    community = Community.objects.filter(code=code).first()
    if community is None or not may_read_map(request.user, community):
        return _not_found()
    body = json.dumps(map_layers(community), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    response = HttpResponse(body, content_type="application/json")
    response["ETag"] = '"%s"' % hashlib.sha256(body).hexdigest()[:32]
    patch_cache_control(response, private=True, max_age=MAX_AGE_SECONDS)
    return get_conditional_response(request, etag=response["ETag"], response=response)
