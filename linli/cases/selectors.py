"""Reads of cases, always scoped to what the account may see. No look-up by a bare id.

Who sees which cases:

* office staff (community admin, worker, party secretary): their community's cases;
* grid workers: the cases of their grids;
* handling-unit staff: the cases now with their unit;
* street supervisors: the cases of every community of their street;
* residents: the cases they raised (as reporter, or submitted from their account).

An account with several roles sees the union.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Q, QuerySet
from django.utils import timezone

from linli.community.scope import scope_of
from linli.core.errors import NotFound

from .deadlines import awaiting_response_q
from .models import Case

S = Case.Status
# Open and waiting on someone other than the resident (a resolved case waits for a rating).
WORKING_STATUSES = (S.ACCEPTED, S.DISPATCHED, S.IN_PROGRESS)
# Deadlines run on these (the response clock from receipt: a case waiting to be accepted too).
WATCHED_STATUSES = (S.SUBMITTED,) + WORKING_STATUSES
SIMILAR_WINDOW = dt.timedelta(days=30)


def visible_q(user) -> Q:
    """The filter for Case rows this account may see."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return Q(pk__in=[])
    scope = scope_of(user)
    q = scope.area_q(units=True, streets=True)
    if scope.resident_id:
        q |= Q(reporter_id=scope.resident_id)
    q |= Q(submitted_by_id=user.pk)
    return q


def cases_for(user) -> QuerySet[Case]:
    return Case.objects.filter(visible_q(user))


def case_get(user, pk_or_number) -> Case:
    """The case, by id or by case number, if the account may see it; NotFound otherwise
    (whether it exists elsewhere is not told)."""
    key = str(pk_or_number).strip() if pk_or_number is not None else ""
    if not key or len(key) > 32:
        raise NotFound("case")
    lookup = {"pk": int(key)} if key.isascii() and key.isdigit() and len(key) <= 18 else {"number": key}
    try:
        return (cases_for(user)
                .select_related("community", "category", "grid", "unit", "first_unit", "master")
                .get(**lookup))
    except (Case.DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFound("case")


def triage_queue(user) -> QuerySet[Case]:
    """Submitted cases the classifier was not sure about: a person chooses the category."""
    return cases_for(user).filter(status=S.SUBMITTED, needs_triage=True).order_by("created_at", "id")


def acceptance_queue(user) -> QuerySet[Case]:
    """Submitted cases with a category, waiting to be accepted (or rejected)."""
    return cases_for(user).filter(status=S.SUBMITTED, needs_triage=False).order_by("created_at", "id")


def unit_queue(user) -> QuerySet[Case]:
    """The open work of the account's handling units: dispatched or in progress with them."""
    units = scope_of(user).organisations if user is not None and user.is_authenticated else set()
    return (Case.objects.filter(unit_id__in=units, status__in=(S.DISPATCHED, S.IN_PROGRESS))
            .order_by("resolve_due", "created_at", "id"))


def overdue_q(now: dt.datetime | None = None) -> Q:
    """Open cases past a deadline now: not responded to (accepted, rejected or contacted) by
    response_due, counted from receipt, or not resolved by resolve_due. Computed from the
    dues, so it is right even before the tick runs."""
    now = now or timezone.now()
    late_response = Q(response_due__lt=now) & awaiting_response_q()
    late_resolution = Q(resolve_due__lt=now)
    return Q(status__in=WATCHED_STATUSES) & (late_response | late_resolution)


def overdue_queue(user, *, now: dt.datetime | None = None) -> QuerySet[Case]:
    return cases_for(user).filter(overdue_q(now)).order_by("resolve_due", "id")


def similar_open_cases(user, case: Case, *, now: dt.datetime | None = None) -> QuerySet[Case]:
    """Open cases of the same category (or suggested category) and courtyard from the
    last 30 days: candidates to merge as duplicates."""
    category_id = case.category_id or case.suggested_category_id
    if category_id is None:
        return Case.objects.none()
    since = (now or timezone.now()) - SIMILAR_WINDOW
    qs = cases_for(user).filter(
        community_id=case.community_id, status__in=Case.OPEN_STATUSES, created_at__gte=since,
    ).filter(Q(category_id=category_id) | Q(category__isnull=True, suggested_category_id=category_id))
    qs = qs.filter(grid_id=case.grid_id) if case.grid_id else qs.filter(grid__isnull=True)
    return qs.exclude(pk=case.pk).order_by("-created_at", "-id")
