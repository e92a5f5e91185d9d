from django.utils.functional import SimpleLazyObject

from . import selectors


def unread(request):
    """``notify_unread``: the signed-in user's unread notifications, counted only if a page shows it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"notify_unread": SimpleLazyObject(lambda: selectors.unread_count(user))}
