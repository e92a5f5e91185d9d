from django.conf import settings
from django.urls import NoReverseMatch, reverse
from django.utils.functional import SimpleLazyObject

from . import registry
from .views import large_text


def linli(request):
    return {"LINLI_DEMO": settings.USING_DEMO_SECRETS, "TEXT_LARGE": large_text(request)}


def menu(request):
    """``menu``: the main menu's entries this user sees (each app registers its own), evaluated
    only if a page draws it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"menu": SimpleLazyObject(lambda: _entries(request, user))}


def _entries(request, user) -> list[dict]:
    match = getattr(request, "resolver_match", None)
    here = _names_of(match)
    entries = []
    for entry in registry.menu_entries():
        if not entry.visible(user):
            continue
        try:
            url = reverse(entry.url_name)
        except NoReverseMatch:
            continue
        entries.append({
            "name": entry.name,
            "label": entry.label,
            "url": url,
            "current": bool(here & set(entry.current)) if entry.current else entry.url_name in here,
            "badge": entry.badge(request) if entry.badge else None,
            "badge_id": entry.badge_id,
        })
    return entries


def _names_of(match) -> set[str]:
    """The names a page answers to: its URL name, with and without its namespace, and
    ``namespace:*``."""
    if match is None or not match.url_name:
        return set()
    names = {match.url_name}
    if match.namespace:
        names |= {f"{match.namespace}:{match.url_name}", f"{match.namespace}:*"}
    return names
