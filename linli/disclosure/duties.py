"""Duties: the items a community must publish every period, and which of them are overdue.

A :class:`~linli.disclosure.models.Duty` is owed once per period (month, quarter or year) from
the period holding its ``since`` day on. A period's item is *fulfilled* by a published entry
(not withdrawn) linked to the duty whose period starts inside that period; it is *due* once
the period has ended, and *overdue* once ``days_allowed`` days have passed after that. The
office page lists them, and the staff's first page counts the overdue ones
(:func:`today_work`, the ``community.today_work`` hook).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import Duty, Entry

MONTHS = {Duty.Frequency.MONTHLY: 1, Duty.Frequency.QUARTERLY: 3, Duty.Frequency.YEARLY: 12}
# At most this many periods back are listed for one duty (older gaps stay in the history).
MAX_PERIODS = 24


def default_duties() -> list[dict]:
    """The set :func:`linli.disclosure.services.install_default_duties` installs (editable later)."""
    return [
        {"code": "finance-statement", "section": "finance", "frequency": Duty.Frequency.MONTHLY,
         "days_allowed": 10, "title": _("Monthly finance statement")},
        {"code": "budget-vs-actual", "section": "finance", "frequency": Duty.Frequency.QUARTERLY,
         "days_allowed": 15, "title": _("Budget against actual")},
        {"code": "annual-budget", "section": "finance", "frequency": Duty.Frequency.YEARLY,
         "days_allowed": 31, "title": _("Annual budget and final accounts")},
        {"code": "three-rates", "section": "residential", "frequency": Duty.Frequency.MONTHLY,
         "days_allowed": 10, "title": _("Monthly three rates of residents' requests")},
        {"code": "service-commitments", "section": "residential", "frequency": Duty.Frequency.YEARLY,
         "days_allowed": 31, "title": _("Service commitments")},
        {"code": "party-dues", "section": "party", "frequency": Duty.Frequency.QUARTERLY,
         "days_allowed": 15, "title": _("Party dues totals")},
        {"code": "branch-meetings", "section": "party", "frequency": Duty.Frequency.QUARTERLY,
         "days_allowed": 15, "title": _("Branch meetings and party lessons (三会一课)")},
    ]


def period_of(frequency: str, day: dt.date) -> tuple[dt.date, dt.date]:
    """The [first day, last day] of the month, quarter or year holding ``day``."""
    months = MONTHS[frequency]
    first_month = ((day.month - 1) // months) * months + 1
    start = dt.date(day.year, first_month, 1)
    return start, _add_months(start, months) - dt.timedelta(days=1)


def _add_months(day: dt.date, months: int) -> dt.date:
    month0 = day.year * 12 + day.month - 1 + months
    return dt.date(month0 // 12, month0 % 12 + 1, 1)


def period_label(frequency: str, start: dt.date) -> str:
    """The period starting on ``start`` in the active language: "2026-09", "2026-Q3", "2026"
    in English; 2026年9月, 2026年第3季度, 2026年 in Chinese."""
    if frequency == Duty.Frequency.MONTHLY:
        # Translators: a month as a period a duty is owed for, e.g. 2026-09.
        return _("%(year)d-%(month)02d") % {"year": start.year, "month": start.month}
    if frequency == Duty.Frequency.QUARTERLY:
        # Translators: a quarter as a period a duty is owed for, e.g. 2026-Q3.
        return _("%(year)d-Q%(quarter)d") % {"year": start.year, "quarter": (start.month - 1) // 3 + 1}
    # Translators: a year as a period a duty is owed for, e.g. 2026.
    return _("%(year)d") % {"year": start.year}


@dataclass(frozen=True)
class DutyPeriod:
    duty: Duty
    start: dt.date
    end: dt.date
    due_by: dt.date
    entry_id: int | None
    status: str  # "done", "overdue", "due" (ended, still within the days allowed), "open"

    @property
    def label(self) -> str:
        return period_label(self.duty.frequency, self.start)


def periods(duty: Duty, *, today: dt.date | None = None, fulfilled: dict | None = None) -> list[DutyPeriod]:
    """The duty's periods from ``since`` up to the current one, newest first (at most MAX_PERIODS)."""
    today = today or timezone.localdate()
    if fulfilled is None:
        fulfilled = _fulfilled([duty])
    done = fulfilled.get(duty.pk, [])
    months = MONTHS[duty.frequency]
    start, _end = period_of(duty.frequency, duty.since)
    out = []
    while start <= today:
        end = _add_months(start, months) - dt.timedelta(days=1)
        due_by = end + dt.timedelta(days=duty.days_allowed)
        entry_id = next((pk for pk, day in done if start <= day <= end), None)
        if entry_id:
            status = "done"
        elif today > due_by:
            status = "overdue"
        elif today > end:
            status = "due"
        else:
            status = "open"
        out.append(DutyPeriod(duty, start, end, due_by, entry_id, status))
        start = _add_months(start, months)
    out.reverse()
    return out[:MAX_PERIODS]


def _fulfilled(duties) -> dict[int, list[tuple[int, dt.date]]]:
    found: dict[int, list] = {}
    rows = Entry.objects.filter(duty__in=list(duties), state=Entry.State.PUBLISHED) \
        .values_list("duty_id", "pk", "period_start")
    for duty_id, pk, start in rows:
        found.setdefault(duty_id, []).append((pk, start))
    return found


def community_periods(community, *, today: dt.date | None = None) -> list[DutyPeriod]:
    """Every active duty's periods in one community (two queries)."""
    duties = list(Duty.objects.filter(community=community, active=True))
    fulfilled = _fulfilled(duties)
    return [p for duty in duties for p in periods(duty, today=today, fulfilled=fulfilled)]


def overdue(community, *, today: dt.date | None = None) -> list[DutyPeriod]:
    return [p for p in community_periods(community, today=today) if p.status == "overdue"]


def today_work(user) -> list[dict]:
    """The ``community.today_work`` item: board items overdue in the communities whose office
    this account writes in (count None never: the tile always counts)."""
    from linli.community.models import Community

    from . import rules

    ids = [c for c in rules.office_communities(user) if rules.may_change(user, Community(pk=c))]
    if not ids:
        return []
    communities = list(Community.objects.filter(pk__in=ids).order_by("code"))
    count = 0
    first = None
    for community in communities:
        n = len(overdue(community))
        count += n
        if n and first is None:
            first = community
    first = first or communities[0]
    try:
        url = reverse("disclosure:office_duties", kwargs={"code": first.code})
    except NoReverseMatch:
        return []
    return [{"code": "disclosure_overdue", "label": _("Board items overdue"), "count": count,
             "url": url, "tone": "urgent" if count else "", "order": 60}]
