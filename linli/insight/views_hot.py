"""Staff pages of hot issues and early-warning alerts, and the merge action of the similar box.

Every read goes through ``hotissues.hot_issues_for`` / ``early_warning.alerts_for`` and shows only
member cases the account may see as staff; a hot issue or alert outside the account's area
answers the same 404 as one that does not exist.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from linli.cases import selectors, services as case_services
from linli.cases.workflow import allowed_moves
from linli.core import registry, views as core_views
from linli.core.errors import InvalidInput, NotFound, PermissionDenied
from linli.core.viewed import viewed
from linli.core.web import staff_page

from . import early_warning, hotissues, services
from .models import Alert, HotIssue

CONSOLE = "community.use_console"
# Hook point: links a higher app offers on a hot issue's page, ``(user, hotissue) → [(label, url)]``
# (deliberation: “put on this month's deliberation”).
HOTISSUE_ACTIONS = "insight.hotissue_actions"
PAGE_SIZE = 30


def _pk(value) -> int | None:
    text = str(value or "")
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 18 else None


@staff_page(CONSOLE)
def hot_issue_list(request):
    closed = request.GET.get("status") == HotIssue.Status.CLOSED
    qs = hotissues.hot_issues_for(request.user, status=HotIssue.Status.CLOSED if closed else HotIssue.Status.OPEN)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    visible = hotissues.staff_cases(request.user)
    items = []
    for issue in page.object_list:
        title, place = hotissues.shown_for(request.user, issue, visible)
        items.append({"issue": issue, "title": title, "place": place,
                      "members": visible.filter(pk__in=issue.members.values("case_id")).count()})
    return render(request, "insight/hot_issues.html", {"page": page, "items": items, "closed": closed})


@staff_page(CONSOLE)
def hot_issue_detail(request, pk):
    issue = hotissues.hot_issues_for(request.user, status=None).filter(pk=_pk(pk)).first() if _pk(pk) else None
    if issue is None:
        return core_views.not_found(request)
    viewed(request.user, issue._meta.label_lower, issue.pk)  # its notifications are read now
    return render(request, "insight/hot_issue.html", {
        "issue": issue, **dict(zip(("title", "place"), hotissues.shown_for(request.user, issue))),
        "cases": list(hotissues.visible_members(request.user, issue)),
        "actions": [link for links_for in registry.hooks(HOTISSUE_ACTIONS)
                    for link in (links_for(request.user, issue) or ())],
    })


@staff_page(CONSOLE)
def alert_list(request):
    status = request.GET.get("status") or Alert.Status.OPEN
    if status not in Alert.Status.values:
        status = Alert.Status.OPEN
    qs = early_warning.alerts_for(request.user).filter(status=status)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "insight/alerts.html", {"page": page, "status": status,
                                                   "statuses": Alert.Status.choices})


def _alert(request, pk) -> Alert | None:
    return early_warning.alerts_for(request.user).filter(pk=_pk(pk)).first() if _pk(pk) else None


@staff_page(CONSOLE)
def alert_detail(request, pk):
    alert = _alert(request, pk)
    if alert is None:
        return core_views.not_found(request)
    viewed(request.user, alert._meta.label_lower, alert.pk)  # its notifications are read now
    return render(request, "insight/alert.html", {
        "alert": alert, "cases": list(early_warning.visible_alert_cases(request.user, alert)),
    })


@staff_page(CONSOLE)
@require_POST
def alert_status(request, pk):
    alert = _alert(request, pk)
    if alert is None:
        return core_views.not_found(request)
    try:
        services.alert_set_status(actor=request.user, alert=alert, status=request.POST.get("status", ""))
    except PermissionDenied:
        return core_views.forbidden(request)
    except InvalidInput as exc:
        messages.error(request, str(exc))
    return redirect("insight:alert", pk=alert.pk)


@staff_page(CONSOLE)
@require_POST
def similar_merge(request, number):
    """Merge the case into one of its similar open cases (the similar box's button)."""
    try:
        case = selectors.case_get(request.user, number)
    except NotFound:
        return core_views.not_found(request)
    master = hotissues.staff_cases(request.user).filter(number=(request.POST.get("master") or "").strip()[:32]).first()
    if "merge" not in allowed_moves(request.user, case):
        messages.error(request, _("This case cannot be merged by you now."))
    elif master is None:
        messages.error(request, _("Choose another open case of this community."))
    else:
        try:
            case_services.case_merge(actor=request.user, case=case, master=master)
        except PermissionDenied:
            return core_views.forbidden(request)
        except InvalidInput as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Case %(number)s merged into %(master)s.") % {
                "number": case.number, "master": master.number})
            return redirect("cases:staff_detail", number=master.number)
    return redirect("cases:staff_detail", number=case.number)
