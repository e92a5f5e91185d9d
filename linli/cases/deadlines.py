"""Deadlines in hours or working days, against the holiday calendar.

A working day is Monday–Friday unless the calendar marks it a holiday, or a
weekend day the calendar marks as worked (调休). "N working days" from a
moment ends at the same clock time on the N-th following working day; a case
received on a day off starts counting from the next working day's start.

The response clock runs from receipt (``created_at``) for every case, whatever its
channel: :func:`response_due_for` gives its deadline, from the category's
:class:`TimeLimit` for the case's urgency, else the default triage limit
(``defaults.TRIAGE``) while the category is unknown. A case is *responded* once it
is accepted, rejected with a reason, or its resident contacted, whichever comes
first (:func:`responded_q`, ``Case.responded_at``). docs/cases.md, "Time limits".
"""

from __future__ import annotations

import datetime as dt

from django.db.models import F, Q
from django.utils import timezone

from .defaults import TRIAGE
from .models import Case, Holiday, TimeLimit, TimeUnit, Urgency

WORKDAY_START = dt.time(9, 0)


def _calendar(start: dt.date, end: dt.date) -> dict[dt.date, bool]:
    return dict(Holiday.objects.filter(date__gte=start, date__lte=end).values_list("date", "is_workday"))


def is_working_day(day: dt.date, calendar: dict[dt.date, bool] | None = None) -> bool:
    if calendar is not None and day in calendar:
        return calendar[day]
    return day.weekday() < 5


def add_working_days(moment: dt.datetime, days: int) -> dt.datetime:
    local = timezone.localtime(moment)
    calendar = _calendar(local.date(), local.date() + dt.timedelta(days=days * 3 + 30))
    day = local.date()
    clock = local.timetz()
    if not is_working_day(day, calendar):
        # Counting starts at the next working day's start, so that day is a
        # whole working day of the limit (not lost, as it was when counting
        # from the day off itself).
        clock = WORKDAY_START.replace(tzinfo=local.tzinfo)
        day += dt.timedelta(days=1)
        while not is_working_day(day, calendar):
            day += dt.timedelta(days=1)
    counted = 0
    while counted < days:
        day += dt.timedelta(days=1)
        if is_working_day(day, calendar):
            counted += 1
    naive = dt.datetime.combine(day, clock.replace(tzinfo=None))
    return timezone.make_aware(naive, timezone.get_current_timezone())


def due(moment: dt.datetime, amount: int, unit: str) -> dt.datetime:
    if unit == TimeUnit.WORKING_DAYS:
        return add_working_days(moment, amount)
    return moment + dt.timedelta(hours=amount)


# --- the limits of a case -----------------------------------------------------------------------

def time_limit_for(case: Case) -> TimeLimit | None:
    """The category's limit for the case's urgency, else its parent category's (one query)."""
    if case.category_id is None:
        return None
    parent_id = case.category.parent_id
    ids = [case.category_id] + ([parent_id] if parent_id else [])
    found = {limit.category_id: limit for limit in TimeLimit.objects.filter(category_id__in=ids,
                                                                            urgency=case.urgency)}
    return found.get(case.category_id) or (found.get(parent_id) if parent_id else None)


_LOOK_UP = object()


def response_limit(case: Case, limit=_LOOK_UP) -> tuple[int, str]:
    """(amount, unit) a case has to be responded in: its category's limit (``limit``, when
    the caller has looked it up already, None for none), else the default triage limit
    for its urgency (the category is not known yet, or has no limit of its own)."""
    if limit is _LOOK_UP:
        limit = time_limit_for(case)
    if limit is not None:
        return limit.response_amount, limit.response_unit
    fallback = TRIAGE.get(case.urgency, TRIAGE[Urgency.NORMAL])
    return fallback.respond, fallback.respond_unit


def response_due_for(case: Case, limit=_LOOK_UP) -> dt.datetime:
    """The response deadline, counted from receipt (a working-day limit from a day off: from
    the next working day's start)."""
    amount, unit = response_limit(case, limit)
    return due(case.created_at, amount, unit)


# --- responded: accepted, rejected with a reason, or the resident contacted ---------------------

def responded_q() -> Q:
    """Cases that have been responded to (``Case.responded_at`` is set): the same test in SQL."""
    return (Q(accepted_at__isnull=False) | Q(first_contact_at__isnull=False)
            | Q(status=Case.Status.REJECTED, closed_at__isnull=False))


def awaiting_response_q() -> Q:
    """Cases nobody has responded to yet (merged ones too: callers leave them out)."""
    return ~responded_q()


def responded_in_time_q() -> Q:
    """Responded at or before ``response_due``: the first of the three moments was in time."""
    return (Q(accepted_at__lte=F("response_due")) | Q(first_contact_at__lte=F("response_due"))
            | Q(status=Case.Status.REJECTED, closed_at__lte=F("response_due")))
