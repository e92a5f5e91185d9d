"""``POST /disclosure/<code>/log/cosignature``: where a witness hands in its cosignature.

A machine interface (csrf-exempt, no session): the body is one C2SP cosignature/v1 signature
line as ``text/plain`` (at most 1 KB); ``?size=N`` may name the checkpoint it cosigns. Answers
201 with ``{"witness", "size", "timestamp"}``, or the API's error shape with 400 (malformed,
unknown witness, bad signature) or 404 (no such community, log or checkpoint). Only a
registered, active witness's valid signature is stored (:func:`cosign.accept_cosignature`),
so no rate limit is needed: anything else costs one parse and at most a signature check per
stored checkpoint.
"""

from __future__ import annotations

from django.http import JsonResponse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from linli.community.models import Community
from linli.core.errors import LinliError
from linli.core.web import json_error

from .cosign import MAX_LINE, accept_cosignature

MAX_BODY = MAX_LINE + 2


@csrf_exempt
@require_POST
def cosignature(request, code):
    community = Community.objects.filter(code=code).first()
    if community is None:
        return json_error(404, "not_found", _("No such community."), cache=False)
    if request.content_type != "text/plain":
        return json_error(400, "content_type", _("Send the cosignature line as text/plain."), cache=False)
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = MAX_BODY + 1
    if length > MAX_BODY:
        return json_error(400, "too_large", _("A cosignature is a single line."), cache=False)
    body = request.read(MAX_BODY + 1)
    size = request.GET.get("size")
    if len(body) > MAX_BODY or (size is not None and not size.isdigit()):
        return json_error(400, "malformed", _("This is not a cosignature line."), cache=False)
    try:
        line = body.decode("utf-8")
    except UnicodeDecodeError:
        return json_error(400, "malformed", _("This is not a cosignature line."), cache=False)
    try:
        stored = accept_cosignature(community=community, line=line,
                                    size=int(size) if size is not None else None)
    except LinliError as exc:
        return json_error(404 if exc.status == 404 else 400, exc.code, exc.message, exc.field,
                          cache=False)
    response = JsonResponse({"witness": stored.witness.name, "size": stored.checkpoint.size,
                             "timestamp": stored.timestamp.isoformat()}, status=201)
    add_never_cache_headers(response)
    return response
