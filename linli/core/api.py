"""The JSON API's shared parts: one error format, the docs page without a CDN, the schema-error
helpers. ``linli.config.api`` builds the one ``NinjaAPI`` at /api/v1/ and mounts every app's
router (registered in ``linli.core.registry``); :func:`install_error_handlers` gives it one
error shape, ``{"code", "message", "field"}`` (:meth:`linli.core.errors.LinliError.as_dict`).
"""

from __future__ import annotations

import json
import re
from functools import wraps
from pathlib import Path
from typing import Optional

import ninja
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import FileResponse, Http404, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.urls import reverse
from django.utils.html import escape
from django.utils.translation import gettext as _
from ninja import Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.openapi.docs import DocsBase

from .errors import LinliError
from .web import json_error


# --- docs without a CDN ---------------------------------------------------------------------------

_NINJA_STATIC = Path(ninja.__file__).parent / "static" / "ninja"
DOCS_ASSETS = {
    "swagger-ui.css": "text/css",
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui-init.js": "text/javascript",
    "favicon.png": "image/png",
    "favicon.svg": "image/svg+xml",
}


def _script_json(value) -> str:
    """JSON to put inside a <script> element, whose text is not HTML-decoded: no '<', '>' or '&' in clear."""
    return json.dumps(value).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


class LocalSwagger(DocsBase):
    """Swagger UI from the copy django-ninja ships, served by this app: many
    installations are offline, so the docs page loads nothing from a CDN."""

    def render_page(self, request, api, **kwargs):
        from django.middleware.csrf import get_token

        settings = {"url": self.get_openapi_url(api, kwargs), "layout": "BaseLayout", "deepLinking": True}
        asset = lambda name: reverse("api_v1_docs_asset", args=[name])  # noqa: E731
        # Routers sign in with the session (CSRF-checked): the page always carries the token.
        csrf = get_token(request)
        html = f"""<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<title>{escape(api.title)}</title>
<link rel="stylesheet" href="{asset('swagger-ui.css')}">
<link rel="icon" href="{asset('favicon.svg')}" type="image/svg+xml">
</head>
<body data-csrf-token="{escape(csrf)}" data-api-csrf="{'true' if csrf else ''}">
<script type="application/json" id="swagger-settings">{_script_json(settings)}</script>
<div id="swagger-ui"></div>
<script src="{asset('swagger-ui-bundle.js')}"></script>
<script src="{asset('swagger-ui-init.js')}"></script>
</body>
</html>"""
        return HttpResponse(html)


def docs_asset(request, name: str):
    """One file of the bundled Swagger UI (a fixed list: nothing else is readable here)."""
    if name not in DOCS_ASSETS:
        raise Http404
    response = FileResponse((_NINJA_STATIC / name).open("rb"), content_type=DOCS_ASSETS[name])
    response["Cache-Control"] = "public, max-age=86400"
    return response


# --- bodies: refused by their declared size before anything reads them ---------------------------

# The largest body any router takes: a case with four photos of 8 MB, and its fields. A router
# may refuse less (the cases router does); docs/operations.md caps it in nginx as well.
MAX_BODY_BYTES = 34 * 1024 * 1024


def body_too_big(request, limit: int = MAX_BODY_BYTES) -> bool:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0) > limit
    except ValueError:
        return True


def capped(view):
    """``view``, answering 400 ``too_big`` before authentication, the CSRF check or the
    parser read a body whose Content-Length is over :data:`MAX_BODY_BYTES`."""
    @wraps(view)  # keeps csrf_exempt and the like
    def wrapper(request, *args, **kwargs):
        if body_too_big(request):
            return json_error(400, "too_big", _("The request is too large."))
        return view(request, *args, **kwargs)
    return wrapper


def cap_bodies(patterns) -> list:
    """Every view of ``patterns`` (a NinjaAPI's URL patterns, nested or not) :func:`capped`."""
    for pattern in patterns:
        if hasattr(pattern, "url_patterns"):
            cap_bodies(pattern.url_patterns)
        elif getattr(pattern, "callback", None) is not None:
            pattern.callback = capped(pattern.callback)
    return patterns


# --- errors: one format ---------------------------------------------------------------------------

class ErrorOut(Schema):
    code: str
    message: str
    field: Optional[str] = None


ERRORS = {status: ErrorOut for status in (400, 401, 403, 404, 409, 422, 429)}


def error_response(request, status: int, code: str, message, field: str | None = None) -> HttpResponse:
    return json_error(status, code, message, field)



def _on_linli_error(request, exc: LinliError):
    response = json_error(exc.status, exc.code, exc.message, exc.field)
    for name, value in exc.headers().items():
        response[name] = value
    return response


def _on_unauthenticated(request, exc):
    response = error_response(request, 401, "unauthenticated",
                      _("Sign in, or send an API key as “Authorization: Bearer <key>” or “X-Api-Key”."))
    response["WWW-Authenticate"] = 'Bearer realm="linli"'
    return response


def _on_http_error(request, exc: HttpError):
    status = exc.status_code
    if status == 403 and "CSRF" in exc.message:
        return error_response(request, 403, "csrf_failed",
                      _("The CSRF check failed: send the X-CSRFToken header with the session's token."))
    codes = {401: "unauthenticated", 403: "permission_denied", 404: "not_found", 429: "rate_limited"}
    messages = {401: _("Sign in, or send an API key."), 403: _("You may not do this."),
                404: _("Not found."), 429: _("Too many requests. Try again later.")}
    return error_response(request, status, codes.get(status, "error"), messages.get(status, _("The request failed.")))


def _on_too_big(request, exc):
    return error_response(request, 400, "too_big", _("The request is too large."))


def _on_too_deep(request, exc):
    # A JSON body nested a thousand deep makes any parser recurse past Python's limit: the
    # client's fault, answered like any body that cannot be read.
    return error_response(request, 400, "bad_json", _("The body is not valid JSON."))


def _on_bad_multipart(request, exc):
    return error_response(request, 400, "bad_multipart", _("The multipart body cannot be read."))


def _on_404(request, exc):
    return error_response(request, 404, "not_found", _("Not found."))


def _field_of(loc) -> str | None:
    # ("body", "payload", "lat"), ("query", "page"): the field is what follows the wrappers.
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "form", "file", "payload",
                                              "filters")]
    return ".".join(parts) or None


def _message_of(error: dict) -> str:
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return _("This field is required.")
    if kind in ("literal_error", "enum"):
        choices = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        return _("Choose one of: %(choices)s.") % {"choices": ", ".join(choices)}
    if kind == "string_too_long":
        return _("At most %(n)d characters.") % {"n": ctx.get("max_length", 0)}
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        return _("This number is out of range.")
    if kind.startswith(("float", "int", "finite_number")):
        return _("Enter a number.")
    if kind.startswith("bool"):
        return _("Enter true or false.")
    if kind == "extra_forbidden":
        return _("Unknown field.")
    if kind.startswith("string"):
        return _("Enter text.")
    return _("This value is not valid.")


def _validation_response(request, errors: list[dict]) -> HttpResponse:
    first = errors[0] if errors else {}
    code = "required" if first.get("type") == "missing" else (
        "unknown_field" if first.get("type") == "extra_forbidden" else "invalid")
    return error_response(request, 422, code, _message_of(first), _field_of(first.get("loc", ())))


def _on_validation_error(request, exc: ValidationError):
    return _validation_response(request, exc.errors)


class SchemaError(Exception):
    """A body that does not match its schema (raised by our own body parsing)."""

    def __init__(self, errors):
        self.errors = errors


def _on_schema_error(request, exc: SchemaError):
    return _validation_response(request, exc.errors)


def install_error_handlers(api) -> None:
    """Give ``api`` the one error shape for every failure it can meet."""
    api.add_exception_handler(LinliError, _on_linli_error)
    api.add_exception_handler(AuthenticationError, _on_unauthenticated)
    api.add_exception_handler(HttpError, _on_http_error)
    api.add_exception_handler(RequestDataTooBig, _on_too_big)
    api.add_exception_handler(TooManyFieldsSent, _on_too_big)
    api.add_exception_handler(TooManyFilesSent, _on_too_big)
    api.add_exception_handler(MultiPartParserError, _on_bad_multipart)
    api.add_exception_handler(RecursionError, _on_too_deep)
    api.add_exception_handler(Http404, _on_404)
    api.add_exception_handler(ValidationError, _on_validation_error)
    api.add_exception_handler(SchemaError, _on_schema_error)
