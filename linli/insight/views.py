"""Endpoints of linli.insight for the staff console.

The reply check answers the worker's "Check my reply" button on a case page: the draft is
scored against the case's description by `linli.insight.replies.assess`, with the case's
resolution deadline as the due time. Nothing is stored; only staff who may see the case get
an answer (others get the same 404 as for a case that does not exist).
"""

from __future__ import annotations

from django.http import JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from linli.cases import selectors
from linli.core.errors import NotFound
from linli.core.web import json_error, staff_page

from .replies import assess

CONSOLE = "community.use_console"
MAX_DRAFT = 4000  # the length of a case's resolution field


@staff_page(CONSOLE)
@require_POST
def reply_check(request):
    """POST case=<case number>, draft=<text> -> {scores, missing, ...} or {code, message, field}."""
    number = (request.POST.get("case") or "").strip()
    draft = (request.POST.get("draft") or "").strip()
    if not number:
        return json_error(400, "required", _("Say which case the reply is for."), "case")
    try:
        case = selectors.case_get(request.user, number)
    except NotFound:
        return json_error(404, "not_found", _("There is no such case, or you may not see it."), "case")
    if not draft:
        return json_error(400, "required", _("Write the reply first, then check it."), "draft")
    if len(draft) > MAX_DRAFT:
        return json_error(400, "too_long", _("The reply is longer than %(max)d characters.") % {"max": MAX_DRAFT},
                      "draft")
    result = assess("", case.description, draft, received_at=case.created_at, now=timezone.now(),
                    response_due=case.resolve_due)
    return JsonResponse(result.as_dict())


def reply_check_extra(user, case, move_name: str) -> dict | None:
    """The reply assistant inside the resolve form of the staff case page (the
    ``cases.move_form_extras`` hook): the button that checks a draft reply."""
    if move_name != "resolve":
        return None
    return {"template": "insight/_reply_check.html", "context": {}}
