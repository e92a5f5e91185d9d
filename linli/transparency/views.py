"""The log's HTTP interface (issue 9, item 4), read by independent checkers and witnesses.

``GET /disclosure/<code>/log/key`` and ``/log/checkpoint`` answer text/plain; ``/log/entries``,
``/log/proof/inclusion`` and ``/log/proof/consistency`` answer JSON with base64 values. Entries and
proofs are served up to the latest signed checkpoint's size. Errors are the API's JSON shape
(``linli.core.web.json_error``): 400 for a malformed or out-of-range parameter, 404 for an unknown
community or a log with nothing signed yet. Answers that can never change (a proof for given sizes,
entries below the signed size, the key) are ``public, max-age=31536000, immutable``; the checkpoint
is cacheable for a few seconds only.
"""

from __future__ import annotations

import base64
import re

from django.http import HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from linli.community.models import Community
from linli.core.tlog import ProofError
from linli.core.web import json_error

from . import keys, selectors

PAGE_LIMIT = 256
IMMUTABLE = "public, max-age=31536000, immutable"
CHECKPOINT_MAX_AGE = 5
_NUMBER = re.compile(r"(0|[1-9][0-9]{0,17})")  # below 10**18: no sign, no spaces, no leading zeros


class _BadRequest(Exception):
    def __init__(self, field: str, message):
        super().__init__(field)
        self.field = field
        self.message = message


def _number(request, name: str) -> int:
    values = request.GET.getlist(name)
    if len(values) != 1:
        raise _BadRequest(name, _("Give exactly one “%(name)s”.") % {"name": name})
    if not _NUMBER.fullmatch(values[0]):
        raise _BadRequest(name, _("“%(name)s” must be a non-negative whole number.") % {"name": name})
    return int(values[0])


def _not_found():
    return json_error(404, "not_found", _("This community has no published log."))


def _bad(error: _BadRequest):
    return json_error(400, "bad_request", error.message, error.field)


def _out_of_range(field: str | None = None):
    return json_error(400, "out_of_range", _("Out of range for this log's latest signed checkpoint."), field)


def _community(code: str) -> Community | None:
    return Community.objects.filter(code=code).first()


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")


def _immutable(response):
    response["Cache-Control"] = IMMUTABLE
    return response


@require_GET
def key(request, code):
    if _community(code) is None:
        return _not_found()
    try:
        text = keys.verifier_key_text()
    except keys.SigningKeyMissing:
        return json_error(404, "not_found", _("No checkpoint signing key is configured."))
    return _immutable(HttpResponse(text, content_type="text/plain; charset=utf-8"))


@require_GET
def checkpoint(request, code):
    community = _community(code)
    if community is None:
        return _not_found()
    text = selectors.served_checkpoint(community)
    if not text:
        return _not_found()
    response = HttpResponse(text, content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = f"public, max-age={CHECKPOINT_MAX_AGE}"
    return response




@require_GET
def entries(request, code):
    community_id, log_id, size = selectors.published(code)
    if community_id is None or size == 0:
        return _not_found()
    try:
        start, end = _number(request, "start"), _number(request, "end")
    except _BadRequest as error:
        return _bad(error)
    if start >= end:
        return json_error(400, "bad_request", _("“end” must be larger than “start”."), "end")
    if end > size:
        return _out_of_range("end")
    rows = selectors.leaves_of(log_id, start, min(end, start + PAGE_LIMIT))
    response = JsonResponse({"entries": [{"index": index, "leaf": _b64(data)} for index, data in rows]})
    return _immutable(response)


@require_GET
def inclusion(request, code):
    community_id, log_id, size = selectors.published(code)
    if community_id is None or size == 0:
        return _not_found()
    try:
        index, tree_size = _number(request, "index"), _number(request, "size")
    except _BadRequest as error:
        return _bad(error)
    if tree_size > size or tree_size == 0:
        return _out_of_range("size")
    if index >= tree_size:
        return _out_of_range("index")
    try:
        hashes = selectors.StoredTree(log_id).inclusion_proof(index, tree_size)
    except ProofError:
        return _out_of_range()
    return _immutable(JsonResponse({"hashes": [_b64(h) for h in hashes]}))


@require_GET
def consistency(request, code):
    community_id, log_id, size = selectors.published(code)
    if community_id is None or size == 0:
        return _not_found()
    try:
        first, second = _number(request, "first"), _number(request, "second")
    except _BadRequest as error:
        return _bad(error)
    if second > size:
        return _out_of_range("second")
    if first > second:
        return _out_of_range("first")
    try:
        hashes = selectors.StoredTree(log_id).consistency_proof(first, second)
    except ProofError:
        return _out_of_range()
    return _immutable(JsonResponse({"hashes": [_b64(h) for h in hashes]}))
