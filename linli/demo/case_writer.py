"""Writing the demo's case history: the simulated lives (:mod:`.case_lives`) as rows.

:func:`build_case_history` writes, for a community that has no cases yet, the
cases a community of its size receives over ``days`` days up to ``end``, with
every case's events, so that the case list, the three rates, the hot-issue
charts and a resident's timeline have a past to show.

Cases and events go in with :func:`linli.core.bulk.insert`, in one transaction:
the cases first (their ids read back: a merged case's master needs its id), then every event,
made by the case workflow's event factory, in time order so that ids grow
with time as they do in use. ``Event.created_at`` keeps the historical times
it is given. The three rates' rollup is rebuilt at the end, as the rows went
in past ``transition()``.
"""

from __future__ import annotations

import datetime as dt
import time

from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.cases import calendar, rollup
from linli.cases.models import Case
from linli.community.models import Community
from linli.core import bulk
from linli.core.models import Event

from .case_lives import MAX_DAYS, HistoryError, _History, _Lived

S = Case.Status


def build_case_history(*, community: Community, seed: int, days: int = 730, end: dt.datetime | None = None,
                       progress=None, per_day: float | None = None) -> dict:
    """Write ``days`` days of cases up to ``end`` (default: now) for a community that has none.

    ``per_day`` overrides the mean number of cases a day (default: about 17 for
    Y社区's 14,789 households, in proportion for other sizes). Returns counts:
    cases, events, seconds, one entry per status, and overdue / reopened / open.
    Raises :class:`HistoryError` (nothing written) where the community already
    has cases or lacks what cases need (categories, units, workers, courtyards).
    """
    started = time.perf_counter()
    if not 1 <= days <= MAX_DAYS:
        raise HistoryError(_("The history covers 1 to %(n)d days.") % {"n": MAX_DAYS})
    if seed < 0:
        raise HistoryError(_("The seed must be zero or a positive number."))
    if end is None:
        end = timezone.now()
    elif isinstance(end, dt.date) and not isinstance(end, dt.datetime):
        end = timezone.make_aware(dt.datetime.combine(end, dt.time(18, 0)))
    elif timezone.is_naive(end):
        end = timezone.make_aware(end)
    if Case.objects.filter(community=community).exists():
        raise HistoryError(_("The community %(name)s already has cases; its history was not written.")
                           % {"name": community.name})
    with transaction.atomic():
        # The official holidays of every year the history covers (and the next), so that its
        # working-day deadlines skip them as the live ones do; a year the package lacks is left
        # to the calendar page (docs/cases.md), and the history counts weekdays there.
        first_year = timezone.localtime(end - dt.timedelta(days=days)).year
        calendar.load_official(actor=None, community=community,
                               years=range(first_year, timezone.localtime(end).year + 2))
        history = _History(community=community, seed=seed, days=days, end=end, per_day=per_day)
        drafts = history.drafts()
        if progress:
            progress.start(_("cases"), len(drafts))
        lives: list[_Lived] = []
        for n, draft in enumerate(drafts, 1):
            history.describe(draft, lives)
            lived = history.live(draft)
            lived.number = history.number_for(draft.at)
            lives.append(lived)
            if progress and n % 500 == 0:
                progress.update(n)
        # Masters are earlier in time than their duplicates: materialise in order,
        # so a merge step can point at its master's (unsaved) case.
        for lived in lives:
            history.materialise(lived)
        cases = _write_cases(community, lives)
        written = _write_events(lives)
        rollup.rebuild(community)  # the cases went in by bulk_create, past transition()
        if progress:
            progress.finish(len(drafts))
    bulk.analyze(Case, Event)
    counts = dict(Case.objects.filter(community=community).order_by().values_list("status")
                  .annotate(n=Count("pk")))
    result = {"cases": len(cases), "events": written}
    result.update({status: counts.get(status, 0) for status in S.values})
    result["open"] = sum(counts.get(s, 0) for s in Case.OPEN_STATUSES)
    result["overdue"] = sum(1 for c in cases if c.response_overdue or c.resolve_overdue)
    result["reopened"] = sum(1 for c in cases if c.reopen_count)
    result["seconds"] = round(time.perf_counter() - started, 2)
    return result


def _write_cases(community: Community, lives: list[_Lived]) -> list[Case]:
    """Insert the case rows; a merged case points at its master once both have ids."""
    cases = [lived.case for lived in lives]
    masters = {}
    for case in cases:
        if case.master is not None:
            masters[case.number] = case.master
            case.master = None     # set after insert: the master needs its id first
    bulk.insert_with_ids(Case, cases)
    merged = [c for c in cases if c.number in masters]
    for case in merged:
        case.master = masters[case.number]
    bulk.update(Case, merged, ["master"])
    return cases


def _write_events(lives: list[_Lived]) -> int:
    """Insert every case's events, in time order; returns how many."""
    rows = []
    for lived in lives:
        # Made before the case had an id (the factory points at it by id): point them now.
        target_id = str(lived.case.pk)
        for n, event in enumerate(lived.events):
            event.target_id = target_id
            rows.append((event.created_at, lived.case.pk, n, event))
    rows.sort(key=lambda row: row[:3])
    return bulk.insert(Event, [row[3] for row in rows])
