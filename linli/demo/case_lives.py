"""The lives of the demo's cases: how many come in, from whom, and what happens to each.

:class:`_History` simulates, for one community, the cases a community of its
size receives over a span of days up to ``end``:

* **Volume.** About 17 cases a day for Y社区's 14,789 households (scaled by the
  community's household count), drawn per day and theme from a Poisson law
  whose mean follows the season (water, power and heat in summer, noise on
  summer evenings, gas in winter), the week (fewer phone calls and walk-ins at
  weekends), the Spring Festival and National Day holidays (fewer), and a slow
  rise as more residents use the platform.
* **Life.** Each case is given a whole life the way the services would have
  lived it (accept or reject, merge of duplicates, dispatch, transfer or
  return, first contact, start, resolve, rating or visit-back, reopening when
  unsatisfied, closing unrated), at office or working hours, with deadlines
  from the category's :class:`~linli.cases.models.TimeLimit` through
  :func:`linli.cases.deadlines.due` (the response deadline from receipt, as
  the intake service sets it). Now and then things go wrong, more in a hard
  month (``strain``): late answers, late resolutions, fixes that wait on
  others, unsatisfied ratings and reopenings, and requests nobody can meet,
  which the office closes as not resolvable (``close_unresolved``) some weeks
  after the last work on them, so that a month's resolution and
  satisfaction rates sit near 97 %, not at 100 % (docs/cases.md, "The demo's
  history"). The words come from :mod:`.case_texts`, in the voice of the
  channel and the reporter.
* **Through the table.** :meth:`_History.materialise` cuts a life at ``end``
  (what happened later has not happened yet, so the last two weeks are still
  open in every state) and plays it on an unsaved case row: every move is
  checked against the case workflow's table from the state the case is in
  (:meth:`~linli.core.workflow.Workflow.check_move`), changes the row as its
  service does, takes its target state from the table, and is written down by
  the workflow's event factory (:meth:`~linli.core.workflow.Workflow.event`),
  so the history holds the very rows ``transition()`` writes. The deadline
  job's reminders, overdue flags and escalations follow from the deadlines.

Cases and events are only made here, unsaved: :mod:`.case_writer` inserts them.
Deterministic: the same seed, community and ``end`` give the same lives.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections import Counter
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.cases import classify, deadlines
from linli.cases.defaults import install_default_categories
from linli.cases.jobs import ESCALATION_TARGET, REMIND_SHARE, WATCHED_STATUSES, WORKING_STATUSES, visit_back_days
from linli.cases.models import Case, Category, Holiday, RoutingRule, TimeLimit, TimeUnit, Urgency
from linli.cases.services import INTAKE_CATEGORY_SOURCE, machine_category_source
from linli.cases.workflow import CASE
from linli.community.models import Building, Community, Grid, Household, Organisation, Resident, StaffRole
from linli.core import events

from .case_texts import THEMES, Texts, Theme, season_ok

S = Case.Status
CH = Case.Channel

# Y社区 (14,789 households) receives about this many cases a day on average.
REFERENCE_HOUSEHOLDS = 14_789
MAX_DAYS = 3650

# A life's first step: not a move of the workflow's table (a case is born submitted); the
# intake service writes its event, ``case.submitted``.
SUBMIT = "submit"
# The facts each move's event carries beyond from, to and the number, as its service passes them.
EVENT_FACTS = {
    "dispatch": ("unit",), "transfer": ("unit", "reason"), "return": ("reason",), "rate": ("rating",),
    "visit_back": ("rating",), "merge": ("master",), "close_unrated": ("after_days",),
    "close_unresolved": ("kind", "reason"),
}

# How often things go wrong (docs/cases.md, "The demo's history"), each scaled by the month's
# strain (drawn per month in STRAIN), so that months differ: resolution and satisfaction rates
# land around 95–98 % a month, as real communities report (12345's published ~97 %).
STRAIN = (0.65, 1.4)
LATE_RESPONSE = 0.02      # answered after the response deadline (besides the night's wait)
LATE_RESOLUTION = 0.04    # resolved after the resolution deadline
STUCK = 0.008             # started, then nothing the unit can do: past its deadline, then closed unresolved
STUCK_FIXED_LATE = 0.3    # of those, resolved months later after all
UNSATISFIED_FIRST = 0.085  # the first rating unsatisfied: reopened to the unit
UNSATISFIED_LATE = 0.22   # the same, when the resolution came late
UNSATISFIED_AGAIN = 0.4   # unsatisfied again after the reopening
GIVEN_UP = 0.7            # after a second unsatisfied rating: the unit can do no more; closed unresolved
# A case nobody can resolve waits this many days (uniform) after the last work on it; then the
# office explains why to the resident and closes it (``close_unresolved``, 诉求无法实现): only
# the recent ones are still open at ``end``.
UNRESOLVED_AFTER_DAYS = (12, 40)
# The duty worker answers new requests in the app from 06:30 to 23:30, every day.
DUTY_HOURS = (dt.time(6, 30), dt.time(23, 30))

# 春节 (first day of the lunar year): fewer requests around it.
SPRING_FESTIVAL = {
    2018: dt.date(2018, 2, 16), 2019: dt.date(2019, 2, 5), 2020: dt.date(2020, 1, 25),
    2021: dt.date(2021, 2, 12), 2022: dt.date(2022, 2, 1), 2023: dt.date(2023, 1, 22),
    2024: dt.date(2024, 2, 10), 2025: dt.date(2025, 1, 29), 2026: dt.date(2026, 2, 17),
    2027: dt.date(2027, 2, 6), 2028: dt.date(2028, 1, 26), 2029: dt.date(2029, 2, 13),
    2030: dt.date(2030, 2, 3), 2031: dt.date(2031, 1, 23), 2032: dt.date(2032, 2, 11),
    2033: dt.date(2033, 1, 31), 2034: dt.date(2034, 2, 19), 2035: dt.date(2035, 2, 8),
}


class HistoryError(Exception):
    """The history cannot be written here (the community already has cases, bad arguments)."""


# ---------------------------------------------------------------------------
# Calendars
# ---------------------------------------------------------------------------

def _summer(day: dt.date) -> float:
    """0..1, highest in late July."""
    doy = day.timetuple().tm_yday
    return math.exp(-(((doy - 205) / 42) ** 2))


def _winter(day: dt.date) -> float:
    """0..1, highest in mid January."""
    doy = day.timetuple().tm_yday
    distance = min(abs(doy - 15), 365 - abs(doy - 15))
    return math.exp(-((distance / 38) ** 2))


def _festival(day: dt.date) -> float:
    """Fewer requests around the Spring Festival and in the National Day week."""
    for year in (day.year, day.year + 1):
        first = SPRING_FESTIVAL.get(year)
        if first is None:
            continue
        offset = (day - first).days
        if -2 <= offset <= 6:
            return 0.45
        if -7 <= offset <= -3 or 7 <= offset <= 14:
            return 0.8
    if day.month == 10 and day.day <= 7:
        return 0.75
    return 1.0


def _festival_off(day: dt.date) -> bool:
    first = SPRING_FESTIVAL.get(day.year)
    return first is not None and -1 <= (day - first).days <= 6


# Hour-of-day weights per channel (0..23).
HOURS_OF = {
    CH.WEB: (0.3, 0.15, 0.08, 0.05, 0.05, 0.1, 0.4, 1.2, 2.5, 3, 3, 2.8, 2.2, 2, 2.4, 2.5, 2.4, 2.3, 2.2,
             2.8, 3.2, 3, 2.2, 1.1),
    CH.PHONE: (0, 0, 0, 0, 0, 0, 0, 0, 1.5, 3, 3, 2.5, 1, 1.2, 2.8, 3, 2.8, 1.8, 0.3, 0, 0, 0, 0, 0),
    CH.WALK_IN: (0, 0, 0, 0, 0, 0, 0, 0, 0, 2.5, 3, 2, 0.3, 0.3, 2, 2.5, 2.5, 1.2, 0, 0, 0, 0, 0, 0),
    CH.PATROL: (0, 0, 0, 0, 0, 0, 0, 0, 1.5, 3, 3, 2, 0.5, 0.5, 2, 3, 2.5, 1, 0, 0, 0, 0, 0, 0),
    CH.OPEN311: (0.4, 0.2, 0.1, 0.1, 0.1, 0.2, 0.5, 1.2, 2, 2.5, 2.5, 2.2, 2, 2, 2.2, 2.2, 2.2, 2, 2, 2.4,
                 2.6, 2.4, 1.8, 1),
    CH.API: (0, 0, 0, 0, 0, 0, 0, 0, 1.5, 3, 3, 2.5, 1.5, 1.5, 2.8, 3, 2.8, 2, 0.6, 0.2, 0, 0, 0, 0),
}
EVENING_HOURS = (0.8, 0.3, 0.1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0.5, 2, 3.5, 3.5, 2.5)
CHANNEL_WEIGHTS = {CH.WEB: 52, CH.PHONE: 17, CH.WALK_IN: 8, CH.PATROL: 14, CH.OPEN311: 4, CH.API: 5}
WEEKEND_CHANNEL = {CH.WEB: 1.25, CH.PHONE: 0.45, CH.WALK_IN: 0.2, CH.PATROL: 0.4, CH.OPEN311: 1.1, CH.API: 0.5}


# ---------------------------------------------------------------------------
# The community as the generator sees it
# ---------------------------------------------------------------------------

@dataclass
class _Place:
    grid: Grid
    grid_id: int
    yard: str
    buildings: list  # (id, name, latitude, longitude)


@dataclass
class _Reporter:
    pk: int
    household_id: int
    grid_id: int
    building_id: int
    user: Any             # the resident's account (a User), or None


@dataclass
class _Staff:
    office: list             # users: community admins and workers
    grid: dict               # grid id → [users]
    unit: dict               # organisation id → [users]


@dataclass
class _Draft:
    """One case before its life is lived: when, what, where, by whom."""

    at: dt.datetime
    theme: Theme
    channel: str
    description: str = ""
    place: str = Case.Place.GRID
    grid_id: int | None = None
    building_id: int | None = None
    household_id: int | None = None
    latitude: float | None = None
    longitude: float | None = None
    address: str = ""
    reporter: _Reporter | None = None
    contact_name: str = ""
    contact_phone: str = ""
    anonymous: bool = False
    submitted_by: Any = None            # the User who typed it in, if anyone
    urgent: bool = False
    key: str = ""                       # which complaint template: picks the matching resolution
    slots: dict | None = None
    master: "_Lived | None" = None
    script: str = ""                    # the demo resident's last two requests: "open", "await_rating"


@dataclass
class _Step:
    at: dt.datetime
    move: str
    actor: Any               # a User, or None for the deadline job
    extra: dict = field(default_factory=dict)


@dataclass
class _Lived:
    draft: _Draft
    category: Category
    unit_id: int | None
    steps: list
    number: str = ""
    ends_at: dt.datetime | None = None   # its last step: closed, rejected or merged then
    urgency: str = Urgency.NORMAL
    limit: TimeLimit | None = None
    # At intake (linli.cases.services): the category given or suggested, and the response
    # limit it implies, from receipt (deadlines.response_due_for).
    intake: tuple | None = None                   # (category, needs_triage, source, suggestion)
    response_limit: tuple | None = None           # (amount, unit)
    response_due: dt.datetime | None = None
    resolve_due: dt.datetime | None = None
    case: Case | None = None                      # the row as the life left it by ``end`` (unsaved)
    events: list = field(default_factory=list)   # its Event rows, in the order they happened (unsaved)


def _load_categories(community: Community) -> list[Category]:
    categories = list(Category.objects.filter(community=community, active=True).order_by("position", "code", "pk"))
    if categories:
        return categories
    # A community without a tree gets the default one, as `linli cases-install-defaults` installs it.
    install_default_categories(actor=None, community=community)
    categories = list(Category.objects.filter(community=community, active=True).order_by("position", "code", "pk"))
    if not categories:
        raise HistoryError(_("The community %(name)s has no case categories; add some first.")
                           % {"name": community.name})
    return categories


def _category_for(theme: Theme, categories: list[Category]) -> Category:
    """The community's category that this theme's requests belong to (a leaf where possible)."""
    parents = {c.parent_id for c in categories if c.parent_id}
    leaves = [c for c in categories if c.pk not in parents]

    def words(c: Category) -> str:
        return " ".join((c.code.lower(), (c.name_en or "").lower(), c.name_zh or "")).replace("-", "_")

    def score(c: Category, group) -> int:
        return sum(1 for hint in group if hint.lower() in words(c))

    for group in theme.hints:
        matched = [c for c in leaves if score(c, group)]
        if matched:
            return max(matched, key=lambda c: (score(c, group), -categories.index(c)))
        inner = [c for c in categories if c.pk in parents and score(c, group)]
        if inner:
            parent = max(inner, key=lambda c: (score(c, group), -categories.index(c)))
            children = [c for c in leaves if c.parent_id == parent.pk]
            general = [c for c in children if any(w in words(c) for w in ("other", "general", "其他", "综合"))]
            return (general or children or [parent])[0]
    # No hint matched: let the community's own keyword rules decide.
    sample = season_ok(theme.texts[0][1], 7) or theme.texts[0][1][2:]
    suggestion = classify.suggest(sample, categories)
    if suggestion is not None:
        return next(c for c in categories if c.pk == suggestion.category_id)
    general = [c for c in leaves if any(w in words(c) for w in ("other", "其他"))]
    return (general or leaves or categories)[0]


def _time_limits(categories: list[Category]) -> dict:
    """(category id, urgency) → TimeLimit, falling back to the parent's, as the accept service does."""
    own = {(t.category_id, t.urgency): t for t in TimeLimit.objects.filter(category__in=categories)}
    out = {}
    for c in categories:
        for urgency in Urgency.values:
            limit = own.get((c.pk, urgency))
            if limit is None and c.parent_id:
                limit = own.get((c.parent_id, urgency))
            out[(c.pk, urgency)] = limit
    return out


def _handling_units(community: Community) -> list[Organisation]:
    """Units that may handle this community's cases (the dispatch service's own check)."""
    units = Organisation.objects.filter(street_id=community.street_id, kind__in=Organisation.HANDLING_KINDS)
    return [u for u in units.order_by("pk") if u.community_id in (None, community.pk)]


def _staff(community: Community) -> _Staff:
    R = StaffRole.Role
    roles = (StaffRole.objects.filter(community=community).select_related("user")
             .prefetch_related("grids").order_by("pk"))
    office, grid, unit = [], {}, {}
    for role in roles:
        who = role.user
        if role.role in (R.COMMUNITY_WORKER, R.COMMUNITY_ADMIN):
            office.append(who)
        elif role.role == R.GRID_WORKER:
            for g in role.grids.all():
                grid.setdefault(g.pk, []).append(who)
        elif role.role == R.UNIT_STAFF and role.organisation_id:
            unit.setdefault(role.organisation_id, []).append(who)
    # Workers first: they take most requests; admins step in.
    office.sort(key=lambda w: (0 if any(r.role == R.COMMUNITY_WORKER and r.user_id == w.pk for r in roles) else 1,
                               w.pk))
    return _Staff(office=office, grid=grid, unit=unit)


# ---------------------------------------------------------------------------
# The generator
# ---------------------------------------------------------------------------

class _History:
    def __init__(self, *, community: Community, seed: int, days: int, end: dt.datetime, per_day: float | None):
        self.community = community
        self.end = end
        self.tz = timezone.get_current_timezone()
        self.seed = seed
        self.rng = random.Random(f"{seed}:case-history")
        self._strains: dict = {}
        self.texts = Texts(random.Random(f"{seed}:case-texts"))
        local_end = timezone.localtime(end, self.tz)
        self.last_day = local_end.date()
        self.first_day = self.last_day - dt.timedelta(days=days - 1)

        self.categories = _load_categories(community)
        self.theme_category = {t.code: _category_for(t, self.categories) for t in THEMES}
        self.limits = _time_limits(self.categories)
        self.rules = {(r.category_id, r.grid_id): r.unit_id
                      for r in RoutingRule.objects.filter(community=community).order_by("pk")}
        self.units = _handling_units(community)
        if not self.units:
            raise HistoryError(_("The community %(name)s has no handling units to dispatch cases to.")
                               % {"name": community.name})
        self.unit_ids = {u.pk for u in self.units}
        self.unit_names = {u.pk: u.name for u in self.units}
        self.staff = _staff(community)
        if not self.staff.office:
            raise HistoryError(_("The community %(name)s has no community workers to handle cases.")
                               % {"name": community.name})
        self.calendar = dict(Holiday.objects.filter(
            date__gte=self.first_day, date__lte=self.last_day + dt.timedelta(days=120),
        ).values_list("date", "is_workday"))
        self._due_memo: dict = {}
        self._counting_ok = True
        self._working_days = self._working_index = None

        self.category_of = {c.pk: c for c in self.categories}
        self.visit_back_days = visit_back_days()
        self.places = self._places()
        if not self.places:
            raise HistoryError(_("The community %(name)s has no courtyards.") % {"name": community.name})
        self.place_of = {p.grid_id: p for p in self.places}
        self.reporters, self.account_reporters = self._reporters()
        # Hotline callers and walk-ins: residents without an account (an account holder asks in the app).
        self.plain_reporters = [r for r in self.reporters if r.user is None] or self.reporters
        # Reports without a known reporter come from courtyards in proportion to who lives there.
        adults = Counter(r.grid_id for r in self.reporters)
        self.place_weights = [adults.get(p.grid_id, 0) or len(p.buildings) for p in self.places]
        households = Household.objects.filter(community=community).count()
        self.per_day = per_day if per_day is not None else (
            sum(t.per_day for t in THEMES) * max(households, 1) / REFERENCE_HOUSEHOLDS)
        self.scale = self.per_day / sum(t.per_day for t in THEMES)
        self.number_seq: dict[str, int] = {}

    # --- the community -----------------------------------------------------------

    def _places(self) -> list[_Place]:
        by_grid: dict[int, list] = {}
        for b in Building.objects.filter(community=self.community).order_by("pk").values_list(
                "pk", "grid_id", "name", "latitude", "longitude"):
            by_grid.setdefault(b[1], []).append((b[0], b[2], b[3], b[4]))
        places = []
        for g in Grid.objects.filter(community=self.community).order_by("code", "pk"):
            buildings = by_grid.get(g.pk) or [(None, "1栋", g.latitude, g.longitude)]
            places.append(_Place(grid=g, grid_id=g.pk, yard=g.name, buildings=buildings))
        return places

    def _reporters(self):
        adult_year = self.last_day.year - 18
        rows = (Resident.objects.filter(community=self.community, birth_year__lte=adult_year)
                .order_by("pk").values_list("pk", "household_id", "grid_id", "building_id", "user_id"))
        accounts = {u.pk: u for u in get_user_model().objects.filter(
            pk__in=[row[4] for row in rows if row[4] is not None])}
        everyone = [_Reporter(pk, hh, g, b, accounts.get(u)) for pk, hh, g, b, u in rows]
        return everyone, [r for r in everyone if r.user is not None]

    # --- time helpers -------------------------------------------------------------

    def _aware(self, day: dt.date, hour: int, minute: int, second: int = 0) -> dt.datetime:
        return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute, second)), self.tz)

    def _local(self, moment: dt.datetime) -> dt.datetime:
        return timezone.localtime(moment, self.tz)

    def is_working_day(self, day: dt.date) -> bool:
        if day in self.calendar:
            return self.calendar[day]
        return day.weekday() < 5 and not _festival_off(day)

    def office_time(self, moment: dt.datetime, *, urgent: bool = False) -> dt.datetime:
        """When the community office acts on something that reached it at ``moment``:
        08:30–18:00 on working days; a duty worker covers part of weekends; urgent cases at once."""
        rng = self.rng
        if urgent:
            return moment + dt.timedelta(minutes=rng.randint(5, 40))
        local = self._local(moment)
        day = local.date()
        working = self.is_working_day(day)
        open_now = dt.time(8, 30) <= local.time() < dt.time(18, 0)
        if open_now and (working or rng.random() < 0.55):
            return moment + dt.timedelta(minutes=int(rng.lognormvariate(3.4, 0.9)))
        if local.time() >= dt.time(18, 0) or not working:
            day += dt.timedelta(days=1)
        while not self.is_working_day(day) and rng.random() < 0.6:
            day += dt.timedelta(days=1)
        minutes = int(rng.lognormvariate(3.6, 0.8))
        return max(self._aware(day, 8, 30) + dt.timedelta(minutes=min(minutes, 420)), moment + dt.timedelta(minutes=1))

    def work_time(self, moment: dt.datetime, not_before: dt.datetime) -> dt.datetime:
        """Handling units work 07:30–21:00 every day: a moment outside moves into those hours,
        earlier if that is still after ``not_before``."""
        local = self._local(moment)
        clock = local.time()
        if dt.time(7, 30) <= clock < dt.time(21, 0):
            return max(moment, not_before)
        rng = self.rng
        day = local.date() if clock >= dt.time(21, 0) else local.date() - dt.timedelta(days=1)
        evening = self._aware(day, 20, rng.randint(0, 55))
        if evening > not_before:
            return evening
        morning = self._aware(day + dt.timedelta(days=1), 7, 30) + dt.timedelta(minutes=rng.randint(0, 120))
        return max(morning, not_before + dt.timedelta(minutes=1))

    def due(self, moment: dt.datetime, amount: int, unit: str) -> dt.datetime:
        """:func:`deadlines.due`, without a calendar query per case.

        A working-day deadline depends only on the local day (and its clock when that
        day is worked), so it is worked out once per (day, amount): counted on the
        holiday calendar with :func:`deadlines.is_working_day`, and checked against
        :func:`deadlines.due` itself for the first days and every 50th after; if the
        two ever differ, every deadline is asked of :func:`deadlines.due` instead.
        """
        if unit != TimeUnit.WORKING_DAYS:
            return deadlines.due(moment, amount, unit)
        local = self._local(moment)
        key = (local.date(), amount)
        hit = self._due_memo.get(key)
        if hit is None:
            hit = self._counted_due(*key) if self._counting_ok else None
            if hit is None or len(self._due_memo) < 30 or len(self._due_memo) % 50 == 0:
                asked = self._asked_due(*key)
                if hit is not None and hit != asked:
                    self._counting_ok = False
                hit = asked
            self._due_memo[key] = hit
        day, own_clock = hit
        clock = local.time().replace(tzinfo=None) if own_clock else deadlines.WORKDAY_START
        return timezone.make_aware(dt.datetime.combine(day, clock), self.tz)

    def _asked_due(self, day: dt.date, amount: int) -> tuple[dt.date, bool]:
        probe_clock = dt.time(12, 34, 56, 789)
        probe = timezone.make_aware(dt.datetime.combine(day, probe_clock), self.tz)
        result = self._local(deadlines.due(probe, amount, TimeUnit.WORKING_DAYS))
        return result.date(), result.time() == probe_clock

    def _counted_due(self, day: dt.date, amount: int) -> tuple[dt.date, bool] | None:
        if self._working_days is None:
            first, last = self.first_day - dt.timedelta(days=7), self.last_day + dt.timedelta(days=400)
            try:
                calendar = deadlines._calendar(first, last)
                days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
                self._working_days = [d for d in days if deadlines.is_working_day(d, calendar)]
            except (AttributeError, TypeError):   # the module changed: ask deadlines.due every time
                self._counting_ok = False
                return None
            self._working_index = {d: i for i, d in enumerate(self._working_days)}
        worked = day in self._working_index
        start = day
        while start not in self._working_index:
            start += dt.timedelta(days=1)
            if start > self._working_days[-1]:
                return None
        index = self._working_index[start] + amount
        if index >= len(self._working_days):
            return None
        return self._working_days[index], worked

    # --- volume --------------------------------------------------------------------

    def _poisson(self, lam: float) -> int:
        if lam <= 0:
            return 0
        if lam > 30:
            return max(0, round(self.rng.gauss(lam, math.sqrt(lam))))
        threshold, k, p = math.exp(-lam), 0, 1.0
        while True:
            p *= self.rng.random()
            if p <= threshold:
                return k
            k += 1

    def drafts(self) -> list[_Draft]:
        total_days = (self.last_day - self.first_day).days + 1
        out = []
        for i in range(total_days):
            day = self.first_day + dt.timedelta(days=i)
            weekend = day.weekday() >= 5
            summer, winter = _summer(day), _winter(day)
            trend = 0.85 + 0.3 * i / max(total_days - 1, 1)
            common = self.scale * _festival(day) * trend * (0.85 if weekend else 1.06)
            for theme in THEMES:
                lam = theme.per_day * common * (1 + theme.summer * summer + theme.winter * winter)
                if weekend:
                    lam *= theme.weekend
                for _n in range(self._poisson(lam)):
                    channel = self._channel(theme, weekend)
                    at = self._moment(day, theme, channel, summer)
                    if at <= self.end:
                        out.append(_Draft(at=at, theme=theme, channel=channel))
        out.extend(self._scripted())
        out.sort(key=lambda d: (d.at, d.theme.code, d.channel))
        return out

    def _scripted(self) -> list[_Draft]:
        """The demo resident's two latest requests, so that "my requests" shows every state
        a resident meets: one raised last evening and being handled (awaiting the unit's
        reply), one raised last week, resolved and awaiting the resident's rating."""
        if not self.account_reporters or (self.last_day - self.first_day).days < 14:
            return []
        by_code = {t.code: t for t in THEMES}
        out = []
        for script, days_back, hour, codes in (("await_rating", 6, 10, ("lighting", "greenery", "building")),
                                               ("open", 1, 20, ("building", "lift", "sanitation"))):
            theme = self.rng.choice([by_code[c] for c in codes if c in by_code] or list(THEMES))
            at = self._aware(self.last_day - dt.timedelta(days=days_back), hour, self.rng.randrange(60))
            if at < self.end:
                out.append(_Draft(at=at, theme=theme, channel=CH.WEB, script=script))
        return out

    def _channel(self, theme: Theme, weekend: bool) -> str:
        weights = dict(CHANNEL_WEIGHTS)
        weights.update(theme.channels)
        if not theme.patrol:
            weights[CH.PATROL] = 0
        if weekend:
            weights = {k: w * WEEKEND_CHANNEL[k] for k, w in weights.items()}
        names = list(weights)
        return self.rng.choices(names, weights=[weights[k] for k in names], k=1)[0]

    def _moment(self, day: dt.date, theme: Theme, channel: str, summer: float) -> dt.datetime:
        rng = self.rng
        hours = HOURS_OF[channel]
        if channel in (CH.WEB, CH.OPEN311) and theme.evening and rng.random() < theme.evening * (1 + summer):
            hours = EVENING_HOURS
        hour = rng.choices(range(24), weights=hours, k=1)[0]
        return self._aware(day, hour, rng.randrange(60), rng.randrange(60))

    # --- what, where, who --------------------------------------------------------

    def describe(self, draft: _Draft, recent: list) -> None:
        """Reporter, place and text of a draft; a few become duplicates of a recent open case."""
        rng = self.rng
        theme = draft.theme
        month = self._local(draft.at).month
        draft.urgent = rng.random() < theme.urgent and not draft.script
        # Who: a resident in the app (their account, if they have one), a caller or a visitor
        # staff take down (a resident on the register, or a name and phone), a grid worker.
        if draft.script:
            draft.reporter = self.account_reporters[0]
            draft.submitted_by = draft.reporter.user
        elif draft.channel == CH.WEB:
            if rng.random() < 0.06 or not self.reporters:
                draft.anonymous = True
            else:
                draft.reporter = self._pick_reporter(app=True)
                if draft.reporter.user is not None:
                    draft.submitted_by = draft.reporter.user
        elif draft.channel in (CH.PHONE, CH.WALK_IN):
            if self.reporters and rng.random() < 0.55:
                draft.reporter = self._pick_reporter(app=False)
            draft.submitted_by = self._office_actor(None)
        # A few repeat a recent open case of their own courtyard: merged into it.
        if draft.channel != CH.PATROL and not draft.script and rng.random() < 0.035:
            draft.master = self._master_for(draft, recent,
                                            grid_id=draft.reporter.grid_id if draft.reporter else None)
        # What: the template says whether it is about the reporter's own home.
        pool = theme.patrol if draft.channel == CH.PATROL else theme.texts
        if draft.master is not None:
            pool = [t for t in pool if "{home}" not in t[1]] or pool
        draft.key, template = self.texts.template(pool, month)
        # Where.
        if draft.master is not None:
            m = draft.master.draft
            draft.grid_id, draft.building_id = m.grid_id, m.building_id
            draft.place = m.place if m.place != Case.Place.HOME else Case.Place.GRID
            draft.latitude, draft.longitude, draft.address = m.latitude, m.longitude, m.address
            place = self.place_of[m.grid_id]
        else:
            place = self._place_for(draft, at_home="{home}" in template)
        if draft.channel == CH.PATROL:
            workers = self.staff.grid.get(place.grid_id)
            draft.submitted_by = rng.choice(workers) if workers else self._office_actor(None)
        if draft.reporter is None and draft.channel != CH.PATROL:
            draft.contact_name = self.texts.contact_name()
            draft.contact_phone = self.texts.contact_phone()
        draft.slots = self.texts.slots(draft, place)
        if draft.place != Case.Place.HOME and not draft.address:
            draft.address = f"{place.yard}{draft.slots['bld']}"
        draft.description = self.texts.text(draft, template)

    def _pick_reporter(self, *, app: bool) -> _Reporter:
        rng = self.rng
        # The demo's resident account raises a request every two months or so, in the app
        # (its own words, first person); hotline callers and visitors are other residents.
        if app and self.account_reporters and rng.random() < min(0.05, 0.6 / max(self.per_day * 30 * 0.5, 1)):
            return rng.choice(self.account_reporters)
        return rng.choice(self.reporters if app else self.plain_reporters)

    def _master_for(self, draft: _Draft, recent: list, *, grid_id: int | None) -> "_Lived | None":
        """A case of the same theme raised in the last three days (in ``grid_id``, the reporter's
        courtyard, where one is known), accepted or waiting, not a duplicate itself."""
        earliest = draft.at - dt.timedelta(days=3)
        for lived in reversed(recent):
            if lived.draft.at < earliest:
                break
            if grid_id is not None and lived.draft.grid_id != grid_id:
                continue
            if (lived.draft.theme is draft.theme and lived.draft.master is None
                    and lived.steps[1].move == "accept"
                    and (lived.ends_at is None or lived.ends_at > draft.at + dt.timedelta(days=2))):
                return lived
        return None

    def _place_for(self, draft: _Draft, *, at_home: bool) -> _Place:
        rng = self.rng
        reporter = draft.reporter
        if reporter is not None:
            place = self.place_of[reporter.grid_id]
            draft.grid_id = reporter.grid_id
            if at_home:
                draft.place = Case.Place.HOME
                draft.household_id = reporter.household_id
                draft.building_id = reporter.building_id
                return place
            draft.building_id = reporter.building_id if rng.random() < 0.6 else rng.choice(place.buildings)[0]
        else:
            place = rng.choices(self.places, weights=self.place_weights, k=1)[0]
            draft.grid_id = place.grid_id
            draft.building_id = rng.choice(place.buildings)[0]
        building = next((b for b in place.buildings if b[0] == draft.building_id), place.buildings[0])
        if (draft.channel in (CH.OPEN311, CH.PATROL) or rng.random() < 0.12) and building[2] is not None \
                and building[3] is not None:
            draft.place = Case.Place.POINT
            draft.latitude = round(building[2] + rng.uniform(-0.0002, 0.0002), 6)
            draft.longitude = round(building[3] + rng.uniform(-0.0002, 0.0002), 6)
        return place


    def _office_actor(self, grid_id: int | None):
        rng = self.rng
        workers = self.staff.grid.get(grid_id) if grid_id else None
        if workers and rng.random() < 0.3:
            return rng.choice(workers)
        office = self.staff.office
        return office[0] if rng.random() < 0.7 else rng.choice(office)

    def _unit_actor(self, unit_id: int, grid_id: int | None):
        staff = self.staff.unit.get(unit_id)
        return self.rng.choice(staff) if staff else self._office_actor(grid_id)

    def _route(self, category: Category, grid_id: int | None, theme: Theme) -> int:
        """As the dispatch service routes (category × grid rule, else the category's unit);
        where the tree names no unit, the unit whose name fits the theme."""
        unit_id = self.rules.get((category.pk, grid_id))
        if unit_id is None and category.default_unit_id in self.unit_ids:
            unit_id = category.default_unit_id
        if unit_id is None:
            for hint in theme.units:
                unit_id = next((u.pk for u in self.units if hint in u.name), None)
                if unit_id is not None:
                    break
        if unit_id is None:
            property_companies = [u.pk for u in self.units if u.kind == Organisation.Kind.PROPERTY_COMPANY]
            unit_id = (property_companies or [self.units[0].pk])[0]
        return unit_id

    # --- a life ------------------------------------------------------------------

    def strain(self, moment: dt.datetime) -> float:
        """How hard a month is on the community (0.6–1.45): scales the chances of things going
        wrong, so that months differ as real ones do. Drawn per month from its own stream."""
        local = self._local(moment)
        key = (local.year, local.month)
        value = self._strains.get(key)
        if value is None:
            value = random.Random(f"{self.seed}:strain:{key[0]}-{key[1]}").uniform(*STRAIN)
            self._strains[key] = value
        return value

    def _intake(self, lived: _Lived) -> None:
        """The category at intake (the resident's or staff's choice, else the classifier's
        suggestion) and the response deadline it gives, counted from receipt, as the intake
        service sets them (linli.cases.services, deadlines.response_due_for)."""
        draft, category = lived.draft, lived.category
        staff_channel = draft.channel in (CH.PHONE, CH.WALK_IN, CH.PATROL)
        suggestion = classify.suggest(draft.description, self.categories)
        # Who set the category, as the intake service records it (linli.cases.services).
        if staff_channel or (draft.channel == CH.WEB and self.rng.random() < 0.45):
            submitted, triage = category, False
            source = INTAKE_CATEGORY_SOURCE.get(draft.channel, Case.CategorySource.PARTNER)
        elif suggestion is not None and suggestion.confidence >= classify.triage_threshold():
            submitted, triage = self.category_of[suggestion.category_id], False
            source = machine_category_source(suggestion)
        else:
            submitted, triage = None, True
            source = Case.CategorySource.NONE
        lived.intake = (submitted, triage, source, suggestion)
        limit = self.limits.get((submitted.pk, lived.urgency)) if submitted is not None else None
        lived.response_limit = deadlines.response_limit(SimpleNamespace(urgency=lived.urgency), limit)
        lived.response_due = self.due(draft.at, *lived.response_limit)

    def answer_time(self, lived: _Lived) -> dt.datetime:
        """When the office first answers a case (accepts or rejects it): within the response
        limit mostly, late now and then; the duty worker answers in the app from 07:00 to
        23:00 every day, so what comes in at night waits for the morning."""
        draft, rng = lived.draft, self.rng
        if draft.urgent:
            return draft.at + dt.timedelta(minutes=rng.randint(5, 40))
        window = lived.response_due - draft.at
        late = LATE_RESPONSE * self.strain(draft.at)
        f = rng.random()
        share = (rng.uniform(1.05, 2.5) if f < late else rng.uniform(0.7, 0.98) if f < late + 0.06
                 else rng.uniform(0.03, 0.6))
        at = draft.at + window * share
        local = self._local(at)
        if not DUTY_HOURS[0] <= local.time() < DUTY_HOURS[1]:
            day = local.date() + dt.timedelta(days=1 if local.time() >= DUTY_HOURS[1] else 0)
            at = self._aware(day, DUTY_HOURS[0].hour, DUTY_HOURS[0].minute) + \
                dt.timedelta(minutes=int(rng.lognormvariate(3.2, 0.8)))
        return max(at, draft.at + dt.timedelta(minutes=1))

    def live(self, draft: _Draft) -> _Lived:
        """The whole life of one case, as people and the services would have lived it
        (not yet cut at ``end``; the deadline job's events are added when it is cut)."""
        rng = self.rng
        theme = draft.theme
        category = self.theme_category[theme.code]
        urgency = Urgency.URGENT if draft.urgent else Urgency.NORMAL
        unit_id = self._route(category, draft.grid_id, theme)
        steps = [_Step(draft.at, SUBMIT, draft.submitted_by)]
        lived = _Lived(draft=draft, category=category, unit_id=unit_id, steps=steps, urgency=urgency)
        office = self._office_actor(draft.grid_id)
        limit = self.limits.get((category.pk, urgency))
        lived.limit = limit
        self._intake(lived)
        strain = self.strain(draft.at)
        # The demo resident's own requests (the account one signs in with) are never left open
        # for good: their list shows the ordinary life of a request (docs/cases.md).
        account = draft.reporter is not None and draft.reporter.user is not None

        def add(at, move, actor, **extra):
            at = max(at, steps[-1].at + dt.timedelta(minutes=1))
            steps.append(_Step(at, move, actor, extra))
            return at

        def close_unresolved(after):
            # Nothing more can be done: the office tells the resident why and closes the case.
            kind, explanation = self.texts.unresolved(theme, rng)
            at = self.office_time(after + dt.timedelta(days=rng.uniform(*UNRESOLVED_AFTER_DAYS)))
            add(at, "close_unresolved", office, kind=kind, reason=explanation)
            lived.ends_at = steps[-1].at
            return lived

        def accept(at):
            # The response clock ran from receipt; the resolution clock starts now.
            at = add(at, "accept", office)
            if limit is not None:
                lived.resolve_due = self.due(at, limit.resolve_amount, limit.resolve_unit)
            return at

        t = self.answer_time(lived)
        # Duplicates are merged, most before they are accepted, while the first case is open.
        if draft.master is not None:
            accepted_first = rng.random() < 0.3
            merge_at = self.office_time(t + dt.timedelta(minutes=rng.randint(10, 300))) if accepted_first else t
            if draft.master.ends_at > merge_at + dt.timedelta(minutes=5):
                if accepted_first:
                    accept(t)
                add(merge_at, "merge", office, master=draft.master.number)
                lived.ends_at = steps[-1].at
                return lived
            draft.master = None
        if not draft.script and rng.random() < theme.reject:
            add(t, "reject", office, reason=self.texts.reject_reason(theme, rng))
            lived.ends_at = steps[-1].at
            return lived
        accepted = accept(t)
        # The unit's own pace: first contact within the response limit counted from now.
        response_window = (self.due(accepted, limit.response_amount, limit.response_unit) - accepted) if limit \
            else dt.timedelta(hours=24)
        resolve_window = (lived.resolve_due - accepted) if lived.resolve_due else dt.timedelta(days=5)

        # Dispatched by the worker who accepted it, at once; now and then first to the
        # wrong unit, which returns it, or the office transfers it.
        t = accepted + dt.timedelta(minutes=1 + int(rng.lognormvariate(1.6, 0.8)))
        if not draft.urgent and rng.random() < 0.1:
            # Which unit? Asked around first, dispatched later in the day or the next; the
            # worker who accepted it calls the resident back meanwhile (首接负责).
            t = self.office_time(accepted + dt.timedelta(hours=rng.lognormvariate(0.3, 0.8)))
            called = accepted + response_window * rng.uniform(0.1, 0.7)
            if draft.channel != CH.PATROL and called < t - dt.timedelta(minutes=2):
                add(called, "contact", office)
        others = [u.pk for u in self.units if u.pk != unit_id] if not draft.script else []
        roll = rng.random()
        if others and roll < 0.025:
            wrong = rng.choice(others)
            t = add(t, "dispatch", office, unit=wrong)
            t = self.work_time(t + dt.timedelta(hours=rng.lognormvariate(0.5, 0.8)), t)
            t = add(t, "return", self._unit_actor(wrong, None), reason=self.texts.return_reason(rng))
            t = self.office_time(t + dt.timedelta(minutes=rng.randint(5, 60)))
            t = add(t, "dispatch", office, unit=unit_id)
        elif others and roll < 0.055:
            wrong = rng.choice(others)
            t = add(t, "dispatch", office, unit=wrong)
            t = self.office_time(t + dt.timedelta(hours=rng.lognormvariate(0.8, 0.8)))
            reason = self.texts.transfer_reason(self.unit_names[unit_id], rng)
            t = add(t, "transfer", office, unit=unit_id, reason=reason)
        else:
            t = add(t, "dispatch", office, unit=unit_id)
        dispatched = t
        worker = self._unit_actor(unit_id, draft.grid_id)

        # First contact: within the response limit mostly, late now and then.
        # Urgent cases are answered at any hour; others in the units' working hours.
        hours = (lambda moment, not_before: max(moment, not_before)) if draft.urgent else self.work_time
        f = rng.random()
        fraction = (rng.uniform(1.05, 1.9) if f < 0.03 else rng.uniform(0.8, 0.97) if f < 0.08
                    else rng.uniform(0.05, 0.75))
        contact = max(accepted + response_window * fraction, dispatched + dt.timedelta(minutes=rng.randint(3, 20)))
        contact = hours(contact, dispatched)
        if rng.random() < 0.45:
            t = add(contact, "contact", worker)
            t = add(hours(t + dt.timedelta(hours=rng.lognormvariate(0.8, 0.9)), t), "start", worker)
        else:
            t = add(contact, "start", worker)

        g = rng.random()
        late = g < LATE_RESOLUTION * strain
        share = (rng.uniform(1.05, 1.8) if late else rng.uniform(0.85, 0.98) if g < LATE_RESOLUTION * strain + 0.04
                 else rng.uniform(0.05, 0.85) ** 1.3)
        resolve_at = max(accepted + resolve_window * share, t + dt.timedelta(minutes=rng.randint(20, 240)))
        if not account and rng.random() < STUCK * strain:
            # The fix waits on others (the owners' vote, the maintenance fund, a court, a
            # utility's works): started, then nothing the unit can do; a few are done months later,
            # the others closed as not resolvable some weeks on.
            if rng.random() >= STUCK_FIXED_LATE:
                return close_unresolved(t)
            late, resolve_at = True, resolve_at + dt.timedelta(days=rng.uniform(40, 200))
        if draft.script == "open":          # being handled: resolved after ``end``
            resolve_at = max(resolve_at, self.end + dt.timedelta(hours=rng.uniform(20, 60)))
        elif draft.script == "await_rating":  # resolved two days or so before ``end``
            resolve_at = max(min(resolve_at, self.end - dt.timedelta(hours=rng.uniform(30, 50))),
                             t + dt.timedelta(minutes=rng.randint(20, 90)))
        t = add(hours(resolve_at, t), "resolve", worker, resolution=self.texts.resolution(draft))

        # Rating: a reporter with an account rates; the others are called back (回访);
        # patrol findings, and reporters nobody reaches, close unrated when the job says.
        cycles = 0
        while True:
            closes = t + dt.timedelta(days=self.visit_back_days, seconds=rng.randint(1, 59))
            # After a reopening the resident is always called back.
            if draft.channel == CH.PATROL or (not cycles and not draft.script and rng.random() < 0.05):
                add(closes, "close_unrated", None, after_days=self.visit_back_days)
                break
            if draft.script:
                bad = 0.0
            elif not cycles:
                bad = (UNSATISFIED_LATE if late else UNSATISFIED_FIRST) * strain
            else:
                bad = UNSATISFIED_AGAIN if cycles == 1 else 0.0 if account else UNSATISFIED_AGAIN / 4
            r = rng.random()
            rating = (Case.Rating.UNSATISFIED if r < bad else Case.Rating.BASIC if r < bad + 0.14
                      else Case.Rating.SATISFIED)
            comment_rate = {Case.Rating.SATISFIED: 0.3, Case.Rating.BASIC: 0.5, Case.Rating.UNSATISFIED: 0.9}
            comment = self.texts.comment(rating, rng) if rng.random() < comment_rate[rating] else ""
            if draft.reporter is not None and draft.reporter.user is not None:
                move, who = "rate", draft.reporter.user
                at = t + dt.timedelta(hours=rng.lognormvariate(2.0, 1.0))
                local = self._local(at)
                if local.hour < 7:   # residents rate when they are up
                    at = self._aware(local.date(), 7, rng.randint(0, 59))
                if draft.script == "await_rating":   # not yet: the resident has not rated it by ``end``
                    at = max(at, self.end + dt.timedelta(hours=rng.uniform(6, 30)))
            else:
                move, who = "visit_back", self._office_actor(draft.grid_id)
                at = self.office_time(t + dt.timedelta(hours=rng.lognormvariate(2.8, 0.8)))
            if at >= closes and not cycles:
                add(closes, "close_unrated", None, after_days=self.visit_back_days)
                break
            t = add(at, move, who, rating=rating, comment=comment)
            if rating != Case.Rating.UNSATISFIED:
                break
            cycles += 1
            # Reopened to the same unit, with a fresh resolution deadline.
            reopened = t
            window = (self.due(reopened, limit.resolve_amount, limit.resolve_unit) - reopened) if limit \
                else dt.timedelta(days=5)
            t = add(self.work_time(reopened + dt.timedelta(hours=rng.lognormvariate(1.5, 0.8)), reopened),
                    "start", worker)
            if not account and (cycles >= 3 or (cycles == 2 and rng.random() < GIVEN_UP)):
                # Unsatisfied twice: the unit has done what it can; past its deadline, the
                # unsatisfied rating on it, the office closes it as not resolvable some weeks on
                # (rates count it neither resolved nor satisfied).
                return close_unresolved(t)
            again = max(reopened + window * rng.uniform(0.1, 0.8), t + dt.timedelta(minutes=rng.randint(30, 300)))
            t = add(self.work_time(again, t), "resolve", worker,
                    resolution=self.texts.resolution(draft, again=True))
        lived.ends_at = steps[-1].at
        return lived

    def number_for(self, at: dt.datetime) -> str:
        # As the intake service numbers: by the local day of submission.
        prefix = f"{self.community.code}-{self._local(at):%Y%m%d}-"
        seq = self.number_seq.get(prefix, 0) + 1
        self.number_seq[prefix] = seq
        return f"{prefix}{seq:04d}"

    # --- from a life to rows, through the workflow's table -----------------------------

    def materialise(self, lived: _Lived) -> None:
        """The unsaved case row and event rows of the part of a life that happened by ``end``,
        with the deadline job's reminders, overdue flags and escalations.

        An event points at its case by id, and the case has none until it is inserted:
        :mod:`.case_writer` points the events at it then."""
        draft, end = lived.draft, self.end
        # At intake (decided with the life): the category given or suggested, and the response
        # deadline counted from receipt.
        submitted_category, triage, source, suggestion = lived.intake
        case = Case(
            community=self.community, number=lived.number, channel=draft.channel, status=S.SUBMITTED,
            urgency=lived.urgency, description=draft.description,
            category=submitted_category, needs_triage=triage, category_source=source,
            suggested_category_id=suggestion.category_id if suggestion else None,
            suggestion_confidence=suggestion.confidence if suggestion else None,
            suggestion_source=suggestion.source if suggestion else "",
            reporter_id=draft.reporter.pk if draft.reporter else None,
            submitted_by=draft.submitted_by,
            contact_name=draft.contact_name or None, contact_phone=draft.contact_phone or None,
            anonymous=draft.anonymous, place=draft.place, grid=self.place_of[draft.grid_id].grid,
            building_id=draft.building_id, household_id=draft.household_id,
            latitude=draft.latitude, longitude=draft.longitude, address=draft.address, created_at=draft.at,
            response_due=lived.response_due,
        )
        submitted, *moves = lived.steps
        # The event the intake service writes (linli.cases.services.case_submit).
        rows = [events.build(
            actor=submitted.actor, verb="case.submitted", target=case, at=submitted.at, **CASE.places(case),
            data={"number": case.number, "channel": case.channel, "needs_triage": triage,
                  "category": submitted_category.code if submitted_category else None})]
        states = [(submitted.at, case.status, None)]   # (time, status, unit id) after each move
        cycles = []        # resolution deadlines: [start, due, met at]
        for step in moves:
            if step.at > end:
                break
            before = case.status
            move = CASE.check_move(step.move, before)
            decided = self._apply(lived, case, step, cycles)
            case.status = decided or move.target or before
            states.append((step.at, case.status, case.unit_id))
            rows.append(CASE.event(case, step.move, actor=step.actor, before=before, at=step.at,
                                   data={key: step.extra[key] for key in EVENT_FACTS.get(step.move, ())}))
        rows.extend(self._deadline_job(case, lived, states, cycles))
        lived.case = case
        lived.events = rows

    def _apply(self, lived: _Lived, case: Case, step: _Step, cycles: list) -> str | None:
        """A move's own changes to the row, as its service makes them (linli.cases.services);
        returns the target state where the move decides it (a rating)."""
        move, at = step.move, step.at
        if move == "accept":
            case.category = lived.category
            case.category_source = Case.CategorySource.STAFF_ACCEPT  # staff confirm it on acceptance
            case.needs_triage = False
            case.accepted_at = at
            case.resolve_due = lived.resolve_due   # the response deadline was set at intake
            if case.resolve_due:
                cycles.append([at, case.resolve_due, None])
        elif move in ("reject", "merge"):
            if move == "reject":
                case.reject_reason = step.extra["reason"]
            else:
                case.master = lived.draft.master.case
            case.closed_at = at
        elif move in ("dispatch", "transfer"):
            case.unit_id = step.extra["unit"]
            # 首接负责: the first unit owns the case until a formal transfer moves it.
            case.first_unit_id = step.extra["unit"] if move == "transfer" else case.first_unit_id or step.extra["unit"]
            case.dispatched_at = at
        elif move == "return":
            case.return_count += 1
            case.unit_id = None
        elif move in ("contact", "start"):
            case.first_contact_at = case.first_contact_at or at
        elif move == "resolve":
            case.first_contact_at = case.first_contact_at or at
            case.resolution = step.extra["resolution"]
            case.resolved_at = at
            if cycles:
                cycles[-1][2] = at
        elif move in ("rate", "visit_back"):
            rating = step.extra["rating"]
            case.rating, case.rating_comment, case.rated_at = rating, step.extra["comment"], at
            if rating != Case.Rating.UNSATISFIED:
                case.closed_at = at
                return S.CLOSED
            # Reopened to its unit, with a fresh resolution deadline.
            case.reopen_count += 1
            case.resolved_at = None
            case.dispatched_at = at
            if lived.limit is not None:
                case.resolve_due = self.due(at, lived.limit.resolve_amount, lived.limit.resolve_unit)
                case.resolve_overdue = case.resolve_reminded = False
                cycles.append([at, case.resolve_due, None])
            return S.DISPATCHED
        elif move == "close_unrated":
            case.closed_at = at
        elif move == "close_unresolved":
            case.unresolved_kind, case.unresolved_explanation = step.extra["kind"], step.extra["reason"]
            case.closed_at = at
        return None

    def _deadline_job(self, case: Case, lived: _Lived, states: list, cycles: list) -> list:
        """What the minute-by-minute deadline job (linli.cases.jobs) would have done to this
        case by ``end``: reminders, overdue flags and escalations on the row, with their events."""
        if case.response_due is None and (case.accepted_at is None or lived.limit is None):
            return []
        rng, end, limit = self.rng, self.end, lived.limit

        def state_at(moment):
            found = None
            for at, status, unit in states:
                if at > moment:
                    break
                found = (status, unit)
            return found

        def job_tick(threshold):
            # The job runs every minute: it acts within a minute after the threshold.
            return threshold + dt.timedelta(seconds=rng.randint(1, 59))

        def job_event(at, verb, facts):
            # As the job writes it (linli.cases.jobs): no actor, the case's number first.
            return events.build(actor=None, verb=verb, target=case, at=at, data={"number": case.number, **facts},
                                **CASE.places(case))

        out, levels = [], []   # levels: (time, level, deadline)

        def watch(which, start, due, met, amount, unit, flag_prefix, final, statuses=WORKING_STATUSES):
            """One deadline: remind at a quarter left, flag when passed, escalate (1 at the
            deadline, 2 once the same limit has passed again) while it stays unmet."""
            def open_at(moment):
                state = state_at(moment)
                return (moment <= end and state is not None and state[0] in statuses
                        and (met is None or met > moment))
            if start < due:
                remind = job_tick(due - (due - start) * REMIND_SHARE)
                if open_at(remind):
                    out.append(job_event(remind, "case.reminded", {"unit": state_at(remind)[1], "deadline": which,
                                                                   "due": _iso(due)}))
                    if final:
                        setattr(case, f"{flag_prefix}_reminded", True)
            overdue = job_tick(due)
            if open_at(overdue):
                out.append(job_event(overdue, "case.marked_overdue", {"unit": state_at(overdue)[1], "deadline": which,
                                                                      "due": _iso(due)}))
                if final:
                    setattr(case, f"{flag_prefix}_overdue", True)
                # Escalated in the same run of the job, just after the overdue flag.
                levels.append((overdue + dt.timedelta(milliseconds=20), 1, which))
                second = job_tick(self.due(due, amount, unit))
                if open_at(second):
                    levels.append((second, 2, which))

        if case.response_due:
            # From receipt, until the case is answered: accepted, rejected, or the resident contacted.
            answered = [m for m in (case.accepted_at, case.first_contact_at,
                                    case.closed_at if case.status == S.REJECTED else None) if m is not None]
            watch("response", case.created_at, case.response_due, min(answered, default=None),
                  *lived.response_limit, "response", True, statuses=WATCHED_STATUSES)
        for n, (start, due, met) in enumerate(cycles):
            watch("resolution", start, due, met, limit.resolve_amount, limit.resolve_unit, "resolve",
                  n == len(cycles) - 1)
        level = 0
        for at, found, which in sorted(levels, key=lambda x: (x[0], x[1])):
            if found > level:
                level = found
                out.append(job_event(at, "case.escalated", {"unit": state_at(at)[1], "level": level,
                                                            "to": ESCALATION_TARGET[level], "deadline": which}))
        case.escalation = level
        return out


def _iso(moment: dt.datetime) -> str:
    """A deadline as the job writes it into an event: read back from the database, in UTC."""
    return moment.astimezone(dt.timezone.utc).isoformat()
