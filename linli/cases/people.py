"""The people behind a case, and the requests behind a person (docs/cases.md, "The people
behind a case").

* On the staff case page, for those who see the case in full (``rules.case_view`` is
  ``full``: the case's office and the grid worker of its courtyard): links to the reporter's
  resident page and to the household's page, each only where the viewer's registry scope
  reaches it (``community.selectors`` scoped getters: a link never leads to *not found*), and
  the reporter's and household's earlier requests. Nothing of this for the handling unit, the
  street supervisor or an anonymous case.
* On the resident's and the household's pages (the ``community.person_panels`` hook, which
  community offers because it may not import cases): their request history.

Which requests are listed is the same everywhere: cases the viewer sees in full (their
community's office, their courtyards as grid worker), of that reporter or that household, and
never an anonymous one (an anonymous request is not tied to a person on another page).
"""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _

from linli.community import selectors as community_selectors
from linli.community.scope import scope_of
from linli.core.errors import NotFound

from . import rules, selectors
from .models import Case

# How many requests a page lists (newest first); the count says how many there are in all.
LISTED = 20


def requests_of(user, *, resident=None, household=None) -> QuerySet[Case]:
    """The requests of this resident (as reporter) or household (at its door, or by one of its
    members) that ``user`` sees in full; none for an account without such a view."""
    scope = scope_of(user)
    if not (scope.office_communities or scope.grids) or (resident is None and household is None):
        return Case.objects.none()
    who = Q(pk__in=[])
    if resident is not None:
        who |= Q(reporter_id=resident.pk)
    if household is not None:
        who |= Q(household_id=household.pk) | Q(reporter__household_id=household.pk)
    return (selectors.cases_for(user).filter(scope.area_q()).filter(who).filter(anonymous=False)
            .select_related("category").order_by("-created_at", "-id"))


def _reachable(getter, user, pk):
    if pk is None or not user.has_perm("community.search_registry"):
        return None
    try:
        return getter(user, pk)
    except NotFound:
        return None


def case_people(user, case: Case) -> dict | None:
    """For the staff case page: the reporter and household, linked where the viewer's scope
    reaches them, and their earlier requests; None for any view but ``full``, and for an
    anonymous case."""
    if case.anonymous or rules.case_view(user, case) != rules.FULL:
        return None
    reporter = case.reporter if case.reporter_id else None
    household_id = case.household_id or (reporter.household_id if reporter is not None else None)
    if reporter is None and household_id is None:
        return None
    resident = _reachable(community_selectors.resident_get, user, case.reporter_id)
    household = _reachable(community_selectors.household_get, user, household_id)
    earlier = (requests_of(user, resident=reporter, household=case.household or getattr(reporter, "household", None))
               .exclude(pk=case.pk).filter(Q(created_at__lt=case.created_at)
                                           | Q(created_at=case.created_at, pk__lt=case.pk)))
    return {
        "resident_url": reverse("resident_detail", args=[resident.pk]) if resident else "",
        "resident_name": resident.name if resident else None,
        "household_url": reverse("household_detail", args=[household.pk]) if household else "",
        "household_door": household.door if household else "",
        "earlier": list(earlier[:LISTED]),
        "earlier_count": earlier.count(),
    }


def person_requests(request, *, resident=None, household=None) -> str | None:
    """The ``community.person_panels`` hook: the request history of a resident or household
    whose page the viewer opened (already fetched through the viewer's scope); nothing for a
    viewer who sees no case in full (a building leader)."""
    scope = scope_of(request.user)
    if not (scope.office_communities or scope.grids):
        return None
    cases = requests_of(request.user, resident=resident, household=household)
    return render_to_string("cases/_requests.html", {
        "requests": list(cases[:LISTED]), "count": cases.count(),
        "heading": _("Their requests") if resident is not None else _("Requests from this household"),
    }, request=request)


def home_actions(user) -> list[tuple[str, str]]:
    """The ``community.home_actions`` hook: the resident's home page opens with the button to
    raise a request, then the list of their requests."""
    if scope_of(user).resident_id is None:
        return []
    return [(_("I have a request"), reverse("cases:new")), (_("My requests"), reverse("cases:mine"))]
