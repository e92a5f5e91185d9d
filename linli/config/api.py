"""The one JSON API at /api/v1/: every app's router, one OpenAPI document, one error format.

Apps register their django-ninja ``Router`` in ``AppConfig.ready()``
(``linli.core.registry.register_api_router``); this module mounts them all.
"""

from __future__ import annotations

from ninja import NinjaAPI

from linli.core import registry
from linli.core.api import LocalSwagger, cap_bodies, install_error_handlers

API_TITLE = "Linli API"

DESCRIPTION = """\
Authentication, tried in this order:

* ``Authorization: Bearer <key>`` or ``X-Api-Key: <key>``: an API key of one
  community (``linli apikey create``), counted against the key's rate limit.
  A key acts as a system, not a person: it may raise cases and read its
  community's cases, and make no transitions.
* the web app's session, with Django's CSRF check on every unsafe method.

Every error is one object, ``{"code", "message", "field"}``:

* 400 the values are well-formed but refused (too short, outside the community, not a photo …);
* 401 no credentials, or a key that is unknown, wrong or revoked;
* 403 signed in, but not allowed (or the CSRF check failed);
* 404 no such thing, as far as this account may know;
* 409 not in a state for this action, or an Idempotency-Key reused for another request;
* 422 the request does not match the schema (a missing field, a wrong type, an unknown choice);
* 429 too many requests with this key this minute (``Retry-After`` says when to try again).

Output never carries personal data, except a reporter's own contact, masked.
"""


class LinliAPI(NinjaAPI):
    """Every view of every router refuses an oversized body before reading it."""

    def _get_urls(self):
        return cap_bodies(super()._get_urls())


def build_api() -> NinjaAPI:
    api = LinliAPI(
        title=API_TITLE,
        version="1",
        description=DESCRIPTION,
        urls_namespace="api_v1",
        docs=LocalSwagger(),
        docs_url="/docs",
        openapi_url="/openapi.json",
    )
    install_error_handlers(api)
    for entry in registry.api_routers():
        api.add_router(entry.prefix, entry.router)
    return api


api = build_api()
