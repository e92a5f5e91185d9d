"""The inbox page: the signed-in user's notifications, and marking them read."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_http_methods

from . import selectors, services

PAGE_SIZE = 30


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
    items = [{"n": n, "url": n.url or None} for n in page.object_list]
    response = render(request, "notify/inbox.html", {
        "page": page, "items": items, "unread": selectors.unread_count(request.user),
    })
    add_never_cache_headers(response)
    return response
