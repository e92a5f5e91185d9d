"""What every app's pages share: the staff-page decorator, no-store, and the one JSON error shape."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.decorators import login_required, permission_required
from django.http import JsonResponse
from django.utils.cache import add_never_cache_headers


def no_store(view):
    """Pages with personal data: no browser or proxy may keep a copy (Cache-Control: no-store)."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        add_never_cache_headers(response)  # max-age=0, no-cache, no-store, must-revalidate, private
        return response

    return wrapped


def staff_page(perm: str):
    """Signed in, holding ``perm`` (403 page otherwise), and never cached."""

    def decorate(view):
        return login_required(permission_required(perm, raise_exception=True)(no_store(view)))

    return decorate


def error_body(code: str, message, field: str | None = None) -> dict:
    """The one error shape of every JSON answer: ``{"code", "message", "field"}``."""
    return {"code": code, "message": str(message), "field": field}


def json_error(status: int, code: str, message, field: str | None = None, *, cache: bool = True) -> JsonResponse:
    """A JSON error in that shape; ``cache=False`` adds the no-store headers."""
    response = JsonResponse(error_body(code, message, field), status=status)
    if not cache:
        add_never_cache_headers(response)
    return response
