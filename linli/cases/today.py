"""Today's work with cases: the queues the staff's first page counts and the cases console lists.

linli.community's console (the staff's first page) cannot import this app, so it offers the
hook point ``community.today_work`` and this module fills it (:func:`today_work`, registered in
``apps.py``). Each count is the size of exactly the list its link opens in the cases console
(``/cases/console/?queue=<code>``), computed from the same querysets (:func:`queue_cases`), so
a number on the first page and the list behind it cannot disagree. Every queryset starts from
``selectors.cases_for(user)``: a grid worker counts the cases of their courtyards only, a
handling unit its own cases, the office its community.

The queues this module adds to the console's:

* ``action`` ("needs action", the console's default): what waits on this account now: cases
  waiting to be accepted where the account is the office (community office or grid), cases
  overdue or due today, the account's own open cases, and the open cases with its unit;
  the nearest deadline first, cases with no clock yet (waiting to be accepted) before them;
* ``due_today``: open cases whose response (nobody has responded yet) or resolution deadline falls
  between now and the end of today, local time (past deadlines are ``overdue``);
* ``mine``: open, not yet resolved cases the account has acted on: any case event it wrote
  (it entered, accepted, dispatched, contacted … the case).
"""

from __future__ import annotations

import datetime as dt

from django.db.models import BigIntegerField, Q, QuerySet
from django.db.models.functions import Cast, Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.community.scope import scope_of
from linli.core.models import Event

from . import selectors
from .deadlines import awaiting_response_q
from .models import Case

S = Case.Status
# Open and not yet resolved: a case that still waits on staff (a resolved one waits on the resident).
UNRESOLVED = (S.SUBMITTED, *selectors.WORKING_STATUSES)


def _end_of_today(now: dt.datetime) -> dt.datetime:
    tomorrow = timezone.localdate(now) + dt.timedelta(days=1)
    return timezone.make_aware(dt.datetime.combine(tomorrow, dt.time()), timezone.get_current_timezone())


def due_today_q(now: dt.datetime | None = None) -> Q:
    """Unresolved cases with a deadline between now and midnight: the response deadline of a
    case nobody has responded to yet (as ``selectors.overdue_q`` counts it), or the resolution
    deadline."""
    now = now or timezone.now()
    end = _end_of_today(now)
    response = Q(response_due__gte=now, response_due__lt=end) & awaiting_response_q()
    resolution = Q(resolve_due__gte=now, resolve_due__lt=end)
    return Q(status__in=UNRESOLVED) & (response | resolution)


def mine_q(user) -> Q:
    """Unresolved cases this account has acted on (any case event it wrote)."""
    acted = (Event.objects.filter(actor_id=user.pk, target_type="cases.case")
             .annotate(case_pk=Cast("target_id", BigIntegerField())).values("case_pk"))
    return Q(status__in=UNRESOLVED) & (Q(pk__in=acted) | Q(submitted_by_id=user.pk))


def action_q(user, now: dt.datetime | None = None) -> Q:
    now = now or timezone.now()
    scope = scope_of(user)
    q = (Q(status=S.SUBMITTED) & scope.area_q()) | selectors.overdue_q(now) | due_today_q(now) | mine_q(user)
    if scope.organisations:
        q |= Q(unit_id__in=scope.organisations, status__in=(S.DISPATCHED, S.IN_PROGRESS))
    return q


def queue_cases(user, code: str, now: dt.datetime | None = None) -> QuerySet[Case] | None:
    """The cases of one of this module's queues (None for a code it does not know)."""
    base = selectors.cases_for(user)
    if code == "action":
        deadline = Coalesce("resolve_due", "response_due")
        return base.filter(action_q(user, now)).order_by(deadline.asc(nulls_first=True), "created_at", "id")
    if code == "due_today":
        return base.filter(due_today_q(now)).order_by(Coalesce("resolve_due", "response_due").asc(), "id")
    if code == "mine":
        return base.filter(mine_q(user)).order_by(Coalesce("resolve_due", "response_due").asc(nulls_first=True),
                                                  "created_at", "id")
    return None


def handles_cases(scope) -> bool:
    """Whether the account works cases itself (office worker, grid worker, unit staff)."""
    return bool(scope.worker_communities or scope.grids or scope.organisations)


def today_work(user) -> list[dict]:
    """The ``community.today_work`` items of this app, for one account (see the hook's contract
    in linli.community.views). Counts follow the account's scope; each link opens its list."""
    scope = scope_of(user)
    if not user.has_perm("community.use_console") or not (
            scope.office_communities or scope.grids or scope.organisations or scope.streets):
        return []  # a building leader reaches no case: no case tiles at all
    console = reverse("cases:staff_list")
    now = timezone.now()
    items = []
    if scope.grids:
        # The grid worker's round: a report from the patrol, no caller to ask for.
        items.append({"code": "patrol", "label": _("Patrol report"), "count": None, "order": 0,
                      "url": reverse("cases:staff_new") + "?channel=patrol", "tone": "primary"})

    def tile(code, label, qs, order, tone, *, unless_empty=False):
        count = qs.count()
        if unless_empty and not count:
            return
        items.append({"code": code, "label": label, "count": count, "order": order,
                      "url": f"{console}?queue={code}", "tone": tone if count else ""})

    if scope.office_communities or scope.grids:
        tile("triage", _("To categorise"), selectors.triage_queue(user), 10, "due", unless_empty=True)
        tile("accept", _("To accept"), selectors.acceptance_queue(user), 15, "due")
    tile("overdue", _("Overdue"), selectors.overdue_queue(user, now=now), 20, "urgent")
    tile("due_today", _("Due today"), queue_cases(user, "due_today", now), 30, "due")
    if handles_cases(scope):
        tile("mine", _("My cases"), queue_cases(user, "mine", now), 40, "")
    if scope.organisations:
        tile("unit", _("With my unit"), selectors.unit_queue(user), 45, "due")
    return items
