"""The inbox page: the signed-in user's notifications, and marking them read."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_http_methods

from linli.core import registry
from linli.core.models import Event

from . import selectors, services

PAGE_SIZE = 30


def _in_reader_language(notifications) -> dict[int, tuple[str, str]]:
    """Notifications are stored (and e-mailed) in the installation's language. A reader who chose
    another language reads them worded again in it, from their events, by the recipes that wrote
    them: {notification id: (title, body)}. One whose event is gone, or whose recipe no longer
    speaks to this reader, keeps its stored words (docs/notifications.md)."""
    language = translation.get_language() or settings.LANGUAGE_CODE
    if language.lower() == settings.LANGUAGE_CODE.lower():
        return {}
    mine = {n.event_id: n for n in notifications if n.event_id}
    batch = list(Event.objects.filter(pk__in=mine).order_by("pk"))
    words: dict[int, tuple[str, str]] = {}
    for recipe in registry.recipes():
        matching = [e for e in batch if recipe.matches(e.verb)]
        for event, message in recipe.messages(matching) if matching else ():
            n = mine.get(event.pk)
            if n is not None and n.pk not in words and n.user_id in set(message.user_ids):
                words[n.pk] = (str(message.title)[:200], str(message.body)[:1000])
    return words


@login_required
@require_http_methods(["GET", "POST"])
def inbox(request):
    if request.method == "POST":
        if request.POST.get("all"):
            services.mark_read(request.user)
        else:
            ids = [int(v) for v in request.POST.getlist("id") if v.isdigit()]
            services.mark_read(request.user, ids)
        page = request.POST.get("page", "")
        return redirect(reverse("inbox") + (f"?page={page}" if page.isdigit() and page != "1" else ""))
    page = Paginator(selectors.inbox(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    notifications = list(page.object_list)
    words = _in_reader_language(notifications)
    items = [{"n": n, "url": n.url or None, "title": words.get(n.pk, (n.title, n.body))[0],
              "body": words.get(n.pk, (n.title, n.body))[1]} for n in notifications]
    response = render(request, "notify/inbox.html", {
        "page": page, "items": items, "unread": selectors.unread_count(request.user),
    })
    add_never_cache_headers(response)
    return response
