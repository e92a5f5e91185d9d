"""The three rates (三率): response, resolution and satisfaction, by any grouping.

Every number is a count of cases defined by one filter (a *measure*, below);
the same filter computes the number by database aggregation and lists the
cases behind it (:func:`cases_behind`), so a drill-down always shows exactly
the cases that were counted. The formulas are written out in docs/cases.md.

    response rate     = responded_in_time / response_due
    resolution rate   = resolved / accepted
    satisfaction rate = satisfied_or_basic / rated

Cases are placed in a period by the time they were submitted (``created_at``,
in the installation's time zone). Merged duplicates are left out everywhere:
their master case counts once. A rate with nothing to count is ``None``, not 0.

For a reader (a :class:`Reach`, from :func:`reach_of`), the numbers are summed
from the rollup (linli.cases.rollup: counts per community, courtyard, unit,
category and month), plus, counted live from the Case table, the few cases whose
response fell due since nobody responded, the edges of a period that does not
cover whole months, and the cases the reader sees only as the one who raised or
typed them in. Any other set of cases (a queryset) is counted live:
:func:`three_rates_live`, the reference the rollup is tested against.

On the dashboard (cases/rates.html, the charts in static/linli/cases.js), decided for
issue 8: a percentage axis starts at 0 unless every value is 50 % or more; then it starts
at a fitted minimum (a multiple of 5, at least 2 points below the lowest value), and a
note beside the chart states where it starts, so that 90.5 % and 94 % look different.
The month not over yet is labelled "so far" in the table and the chart (a dashed line),
with a note that its numbers will change. On a phone the tables are stacked, one card a
row, each number under its column's name.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterable, Sequence

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import Coalesce, TruncMonth, TruncQuarter, TruncYear
from django.utils import timezone
from django.utils.translation import gettext as _, pgettext_lazy

from linli.community.models import Community, Grid, Organisation
from linli.community.scope import scope_of
from linli.core.errors import InvalidInput

from . import rollup
from .deadlines import awaiting_response_q, responded_in_time_q, responded_q
from .models import Case, CaseRollup, Category

S = Case.Status
R = Case.Rating

UNRATED_POLICIES = ("exclude", "satisfied", "unsatisfied")

MEASURES = (
    "submitted", "response_due", "responded_in_time", "accepted", "resolved",
    "rated", "satisfied_or_basic", "satisfied", "basic", "unsatisfied", "unrated_closed",
)
RATES = {
    "response": ("responded_in_time", "response_due"),
    "resolution": ("resolved", "accepted"),
    "satisfaction": ("satisfied_or_basic", "rated"),
}
RATE_LABELS = {
    "response": pgettext_lazy("three rates", "response rate"),
    "resolution": pgettext_lazy("three rates", "resolution rate"),
    "satisfaction": pgettext_lazy("three rates", "satisfaction rate"),
}
MEASURE_LABELS = {
    "submitted": pgettext_lazy("three rates", "cases"),
    "response_due": pgettext_lazy("three rates", "response due"),
    "responded_in_time": pgettext_lazy("three rates", "responded in time"),
    "accepted": pgettext_lazy("three rates", "accepted"),
    "resolved": pgettext_lazy("three rates", "resolved"),
    "rated": pgettext_lazy("three rates", "rated"),
    "satisfied_or_basic": pgettext_lazy("three rates", "satisfied or basically satisfied"),
    "satisfied": pgettext_lazy("three rates", "satisfied"),
    "basic": pgettext_lazy("three rates", "basically satisfied"),
    "unsatisfied": pgettext_lazy("three rates", "unsatisfied"),
    "unrated_closed": pgettext_lazy("three rates", "closed without rating"),
}
PERIODS = ("month", "quarter", "year")
DIMENSIONS = ("community", "grid", "unit", "category", "top_category") + PERIODS
DIMENSION_LABELS = {
    "community": pgettext_lazy("three rates", "community"),
    "grid": pgettext_lazy("three rates", "grid"),
    "unit": pgettext_lazy("three rates", "handling unit"),
    "category": pgettext_lazy("three rates", "category"),
    "top_category": pgettext_lazy("three rates", "category"),
    "month": pgettext_lazy("three rates", "month"),
    "quarter": pgettext_lazy("three rates", "quarter"),
    "year": pgettext_lazy("three rates", "year"),
}


def unrated_policy_setting(value: str | None = None) -> str:
    """How closed cases nobody rated count in the satisfaction rate (LINLI_UNRATED_POLICY)."""
    policy = value or getattr(settings, "LINLI_UNRATED_POLICY", "exclude") or "exclude"
    if policy not in UNRATED_POLICIES:
        raise InvalidInput(_("Unknown policy for unrated cases: %(value)s.") % {"value": policy},
                           code="unrated_policy", field="unrated_policy")
    return policy


def measure_q(name: str, *, now: dt.datetime, policy: str) -> Q:
    """The filter that defines one measure; counted and drilled into alike."""
    accepted = Q(accepted_at__isnull=False)
    # Closed unrated after a resolution; a case closed as not resolvable (``close_unresolved``)
    # counts in satisfaction only when someone rated it, whatever the unrated policy.
    unrated_closed = Q(status=S.CLOSED, rating="", unresolved_kind="")
    content = Q(rating__in=(R.SATISFIED, R.BASIC))
    rated = ~Q(rating="")
    if policy == "satisfied":
        content |= unrated_closed
    if policy != "exclude":
        rated |= unrated_closed
    if name == "submitted":
        return Q()
    if name == "response_due":
        # The response has fallen due: the case was responded to (accepted, rejected with a
        # reason, or the resident contacted), or its deadline, counted from receipt, has passed
        # with nobody responding: from that moment on it counts, as late.
        return Q(response_due__isnull=False) & (Q(response_due__lte=now) | responded_q())
    if name == "responded_in_time":
        return Q(response_due__isnull=False) & responded_in_time_q()
    if name == "accepted":
        return accepted
    if name == "resolved":
        # Closed as not resolvable: accepted, not resolved (docs/cases.md, "The three rates").
        return accepted & Q(unresolved_kind="") & (Q(status__in=(S.RESOLVED, S.CLOSED)) | Q(resolved_at__isnull=False))
    if name == "rated":
        return rated
    if name == "satisfied_or_basic":
        return content
    if name in ("satisfied", "basic", "unsatisfied"):
        return Q(rating=name)
    if name == "unrated_closed":
        return unrated_closed
    raise InvalidInput(_("Unknown measure: %(value)s.") % {"value": name}, code="measure", field="measure")


def _dimension_expression(name: str):
    tz = timezone.get_current_timezone()
    return {
        "community": F("community_id"),
        "grid": F("grid_id"),
        "unit": F("unit_id"),
        "category": F("category_id"),
        # Two levels: a subcategory counts under its parent.
        "top_category": Coalesce("category__parent_id", "category_id"),
        "month": TruncMonth("created_at", tzinfo=tz),
        "quarter": TruncQuarter("created_at", tzinfo=tz),
        "year": TruncYear("created_at", tzinfo=tz),
    }[name]


def _check_dimensions(by) -> tuple[str, ...]:
    by = (by,) if isinstance(by, str) else tuple(by or ())
    for name in by:
        if name not in DIMENSIONS:
            raise InvalidInput(_("Unknown grouping: %(value)s.") % {"value": name}, code="group_by", field="by")
    if len(set(by)) != len(by):
        raise InvalidInput(_("Each grouping once."), code="group_by", field="by")
    return by


def _local_midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time()), timezone.get_current_timezone())


def _bounds(start, end) -> tuple[dt.datetime | None, dt.datetime | None]:
    """Dates are whole local days, both ends included; datetimes are [start, end)."""
    if isinstance(start, dt.date) and not isinstance(start, dt.datetime):
        start = _local_midnight(start)
    if isinstance(end, dt.date) and not isinstance(end, dt.datetime):
        end = _local_midnight(end + dt.timedelta(days=1))
    if start is not None and end is not None and end <= start:
        raise InvalidInput(_("The end of the period comes before its start."), code="period", field="end")
    return start, end


def _in_period(cases: QuerySet, start, end) -> QuerySet:
    start, end = _bounds(start, end)
    cases = cases.exclude(status=S.MERGED)
    if start is not None:
        cases = cases.filter(created_at__gte=start)
    if end is not None:
        cases = cases.filter(created_at__lt=end)
    return cases


def _period_key(value) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value


def period_label(name: str, start: dt.date) -> str:
    if name == "month":
        return f"{start:%Y-%m}"
    if name == "quarter":
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    return f"{start.year}"


def period_range(name: str, start: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The [start, end) of the month, quarter or year beginning on ``start``."""
    months = {"month": 1, "quarter": 3, "year": 12}[name]
    month0 = start.year * 12 + start.month - 1 + months
    end = dt.date(month0 // 12, month0 % 12 + 1, 1)
    return _local_midnight(start), _local_midnight(end)


@dataclass
class RateRow:
    """One group: its key (dimension → id or period start), labels and counts."""

    key: dict
    labels: dict
    counts: dict
    rank: int | None = None
    extra: dict = field(default_factory=dict)

    def rate(self, name: str) -> float | None:
        numerator, denominator = RATES[name]
        total = self.counts[denominator]
        return self.counts[numerator] / total if total else None

    @property
    def response_rate(self) -> float | None:
        return self.rate("response")

    @property
    def resolution_rate(self) -> float | None:
        return self.rate("resolution")

    @property
    def satisfaction_rate(self) -> float | None:
        return self.rate("satisfaction")

    def as_dict(self) -> dict:
        return {
            "key": {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in self.key.items()},
            "labels": dict(self.labels), "counts": dict(self.counts), "rank": self.rank,
            "rates": {name: self.rate(name) for name in RATES},
        }


@dataclass(frozen=True)
class Reach:
    """Whose cases a reader's rates count: the same cases as ``selectors.visible_q``.

    The organisational part (communities of the office, courtyards, handling units,
    streets) is read from the rollup; the personal part (cases the account raised as
    a resident or typed in, outside the organisational part) is counted live."""

    communities: frozenset = frozenset()
    grids: frozenset = frozenset()
    units: frozenset = frozenset()
    streets: frozenset = frozenset()
    user_id: int | None = None
    resident_id: int | None = None

    def org_q(self) -> Q:
        """On Case and on CaseRollup alike (the same field names)."""
        q = Q(pk__in=[])
        if self.communities:
            q |= Q(community_id__in=self.communities)
        if self.grids:
            q |= Q(grid_id__in=self.grids)
        if self.units:
            q |= Q(unit_id__in=self.units)
        if self.streets:
            q |= Q(community__street_id__in=self.streets)
        return q

    def personal_q(self) -> Q | None:
        q = None
        if self.resident_id:
            q = Q(reporter_id=self.resident_id)
        if self.user_id:
            q = Q(submitted_by_id=self.user_id) if q is None else q | Q(submitted_by_id=self.user_id)
        return q

    def case_q(self) -> Q:
        """The cases counted, for lists and drill-down."""
        personal = self.personal_q()
        return self.org_q() if personal is None else self.org_q() | personal

    @property
    def has_org(self) -> bool:
        return bool(self.communities or self.grids or self.units or self.streets)


def reach_of(user) -> Reach:
    """The cases ``selectors.cases_for(user)`` lists, as a :class:`Reach`."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return Reach()
    scope = scope_of(user)
    return Reach(communities=frozenset(scope.office_communities), grids=frozenset(scope.grids),
                 units=frozenset(scope.organisations), streets=frozenset(scope.streets),
                 user_id=user.pk, resident_id=scope.resident_id)


def community_reach(community_id: int) -> Reach:
    """All cases of one community (what an API key reads)."""
    return Reach(communities=frozenset({community_id}))


def three_rates(cases: Reach | QuerySet[Case], *, by: str | Sequence[str] = (), start=None, end=None,
                now: dt.datetime | None = None, unrated_policy: str | None = None) -> list[RateRow]:
    """The counts and rates of ``cases`` (a reader's :class:`Reach`, or a queryset already
    scoped to the reader, counted live), grouped by ``by`` (any of DIMENSIONS; none:
    one total row), for cases submitted in [start, end]."""
    if not isinstance(cases, Reach):
        return three_rates_live(cases, by=by, start=start, end=end, now=now, unrated_policy=unrated_policy)
    by = _check_dimensions(by)
    if cases.grids or cases.units or sum(d in ROLLUP_KIND for d in by) > 1:
        # Courtyard or unit scopes, and two of courtyard, unit and category at once, are not
        # in the rollup (one dimension a row): counted live (small scopes, rare groupings).
        return three_rates_live(Case.objects.filter(cases.case_q()), by=by, start=start, end=end, now=now,
                                unrated_policy=unrated_policy)
    now = now or timezone.now()
    policy = unrated_policy_setting(unrated_policy)
    start, end = _bounds(start, end)
    with _one_snapshot():
        parts = _rollup_counts(cases, by, start, end, now)
        if not by:
            total = parts.get((), dict.fromkeys(COUNTED, 0))
            return [RateRow(key={}, labels={}, counts=_measures(total, policy))]
        rows = [RateRow(key=dict(zip(by, key)), labels={}, counts=_measures(counts, policy))
                for key, counts in parts.items()]
        _label(rows, by)
    rows.sort(key=lambda row: tuple(_sort_key(row.key[d], row.labels[d]) for d in by))
    return rows


# What the rollup and the live parts add up: the rollup's components and the pending responses.
COUNTED = rollup.COMPONENTS + ("pending",)
# The rollup's kind of row for each dimension it has (community and periods: in every row).
ROLLUP_KIND = {"grid": "grid", "unit": "unit", "category": "category", "top_category": "category"}


def _measures(c: dict, policy: str) -> dict:
    """The measures from the components, with the unrated policy applied."""
    unrated = c["unrated_closed"]
    return {
        "submitted": c["submitted"],
        "response_due": c["responded"] + c["pending"],
        "responded_in_time": c["responded_in_time"],
        "accepted": c["accepted"],
        "resolved": c["resolved"],
        "rated": c["rated"] + (unrated if policy != "exclude" else 0),
        "satisfied_or_basic": c["satisfied"] + c["basic"] + (unrated if policy == "satisfied" else 0),
        "satisfied": c["satisfied"],
        "basic": c["basic"],
        "unsatisfied": c["unsatisfied"],
        "unrated_closed": unrated,
    }


@contextmanager
def _one_snapshot():
    """On PostgreSQL, read the rollup and the live parts from one snapshot, so that a
    change committed between two queries is counted once, not twice or never."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        yield


def _any_case(start: dt.datetime, end: dt.datetime) -> bool:
    return start < end and Case.objects.filter(created_at__gte=start, created_at__lt=end).exists()


def _split(start, end) -> tuple[tuple | None, list]:
    """The whole months [lo, hi) the rollup answers for (None: none), and the rest of
    [start, end) to count live. A month only partly in the period is still read from
    the rollup when no case at all falls in the part left out (this month, up to today)."""
    lo = hi = None
    if start is not None:
        first = rollup.month_start(start)
        lo = first if first == start or not _any_case(first, start) else rollup.midnight(
            rollup.next_month(rollup.month_of(start)))
    if end is not None:
        first = rollup.month_start(end)
        following = rollup.midnight(rollup.next_month(rollup.month_of(end)))
        hi = end if first == end else (following if not _any_case(end, following) else first)
    if lo is not None and hi is not None and hi <= lo:
        return None, [(start, end)]
    edges = []
    if start is not None and start < lo:
        edges.append((start, lo))
    if end is not None and hi < end:
        edges.append((hi, end))
    return (lo, hi), edges


def _range_q(start, end) -> Q:
    q = Q()
    if start is not None:
        q &= Q(created_at__gte=start)
    if end is not None:
        q &= Q(created_at__lt=end)
    return q


def _rollup_counts(reach: Reach, by, start, end, now) -> dict[tuple, dict]:
    months, edges = _split(start, end)
    parts: dict[tuple, dict] = {}

    def add(key, values):
        counts = parts.setdefault(key, dict.fromkeys(COUNTED, 0))
        for name, value in values.items():
            counts[name] += value or 0

    def grouped(qs, dimension, aggregates):
        if not by:
            yield (), qs.aggregate(**aggregates)
            return
        for values in (qs.annotate(**{f"d_{d}": dimension(d) for d in by})
                       .values(*(f"d_{d}" for d in by)).annotate(**aggregates).order_by()):
            yield tuple(_period_key(values[f"d_{d}"]) if d in PERIODS else values[f"d_{d}"] for d in by), values

    components = {f"n_{name}": name for name in rollup.COMPONENTS}
    if months is not None and reach.has_org:
        lo, hi = months
        kind = next((ROLLUP_KIND[d] for d in by if d in ROLLUP_KIND), "grid")
        stored = CaseRollup.objects.filter(reach.org_q(), kind=kind)
        if lo is not None:
            stored = stored.filter(month__gte=rollup.month_of(lo))
        if hi is not None:
            stored = stored.filter(month__lt=rollup.month_of(hi))
        found = list(grouped(stored, _rollup_dimension, {n: Sum(c) for n, c in components.items()}))
        position = next((i for i, d in enumerate(by) if d in ROLLUP_KIND), None)
        tops = {}
        if position is not None and by[position] == "top_category":
            ids = {key[position] for key, _ in found}
            tops = {pk: parent or pk for pk, parent in Category.objects.filter(pk__in=ids)
                    .values_list("pk", "parent_id")}
        for key, values in found:
            if position is not None:
                value = key[position] or None  # 0: no courtyard, unit or category
                value = tops.get(value, value) if tops else value
                key = key[:position] + (value,) + key[position + 1:]
            add(key, {c: values[n] for n, c in components.items()})
        # The live part: responses fallen due by now with nobody responding yet.
        pending = (Case.objects.filter(reach.org_q()).filter(_range_q(lo, hi))
                   .filter(_pending_q(now))
                   .exclude(status=S.MERGED).order_by())
        for key, values in grouped(pending, _dimension_expression, {"n_pending": Count("pk")}):
            add(key, {"pending": values["n_pending"]})
    live = None
    if edges and reach.has_org:
        in_edges = Q(pk__in=[])
        for a, b in edges:
            in_edges |= _range_q(a, b)
        live = reach.org_q() & in_edges
    personal = reach.personal_q()
    if personal is not None:
        mine = personal & ~reach.org_q() & _range_q(start, end)
        live = mine if live is None else live | mine
    if live is not None:
        counted = {f"n_{name}": Count("pk", filter=rollup.component_q(name)) if name != "submitted"
                   else Count("pk") for name in rollup.COMPONENTS}
        counted["n_pending"] = Count("pk", filter=_pending_q(now))
        cases = Case.objects.filter(live).exclude(status=S.MERGED).order_by()
        for key, values in grouped(cases, _dimension_expression, counted):
            add(key, {name: values[f"n_{name}"] for name in COUNTED})
    return parts


def _pending_q(now: dt.datetime) -> Q:
    """Unanswered past the response deadline: late, and in ``response_due`` (not in the
    rollup, which holds only what does not change with time)."""
    return Q(response_due__isnull=False, response_due__lte=now) & awaiting_response_q()


def _rollup_dimension(name: str):
    return {
        "community": F("community_id"),
        "grid": F("value"),
        "unit": F("value"),
        "category": F("value"),
        "top_category": F("value"),  # grouped by category, then by its parent (in Python)
        "month": F("month"),
        "quarter": TruncQuarter("month"),
        "year": TruncYear("month"),
    }[name]


def three_rates_live(cases: QuerySet[Case], *, by: str | Sequence[str] = (), start=None, end=None,
                     now: dt.datetime | None = None, unrated_policy: str | None = None) -> list[RateRow]:
    """:func:`three_rates` counted from the Case table: one query for the numbers, one
    per labelled dimension. For any set of cases; the reference for the rollup."""
    by = _check_dimensions(by)
    now = now or timezone.now()
    policy = unrated_policy_setting(unrated_policy)
    aggregates = {f"n_{m}": Count("pk", filter=measure_q(m, now=now, policy=policy)) if m != "submitted"
                  else Count("pk") for m in MEASURES}
    scoped = _in_period(cases, start, end).order_by()
    if not by:
        totals = scoped.aggregate(**aggregates)
        rows = [RateRow(key={}, labels={}, counts={m: totals[f"n_{m}"] or 0 for m in MEASURES})]
    else:
        grouped = (scoped.annotate(**{f"d_{d}": _dimension_expression(d) for d in by})
                   .values(*(f"d_{d}" for d in by)).annotate(**aggregates).order_by())
        rows = []
        for values in grouped:
            key = {d: _period_key(values[f"d_{d}"]) if d in PERIODS else values[f"d_{d}"] for d in by}
            rows.append(RateRow(key=key, labels={}, counts={m: values[f"n_{m}"] for m in MEASURES}))
        _label(rows, by)
        rows.sort(key=lambda row: tuple(_sort_key(row.key[d], row.labels[d]) for d in by))
    return rows


def _sort_key(value, label):
    return (value is None, value if isinstance(value, dt.date) else "", str(label))


def _label(rows: list[RateRow], by: Sequence[str]) -> None:
    none = _("(none)")
    for name in by:
        ids = {row.key[name] for row in rows if row.key[name] is not None}
        if name in PERIODS:
            names = {i: period_label(name, i) for i in ids}
        elif name == "community":
            names = dict(Community.objects.filter(pk__in=ids).values_list("pk", "name"))
        elif name == "grid":
            names = dict(Grid.objects.filter(pk__in=ids).values_list("pk", "name"))
        elif name == "unit":
            names = dict(Organisation.objects.filter(pk__in=ids).values_list("pk", "name"))
        else:
            names = {c.pk: c.name for c in Category.objects.filter(pk__in=ids)}
        for row in rows:
            value = row.key[name]
            row.labels[name] = none if value is None else names.get(value, str(value))


def ranking(cases: Reach | QuerySet[Case], *, by: str, rate: str, start=None, end=None,
            now: dt.datetime | None = None, unrated_policy: str | None = None) -> list[RateRow]:
    """Groups sorted by one rate, best first, with their case counts. Equal rates share
    a rank (1, 2, 2, 4); groups with nothing to count come last, without a rank."""
    if rate not in RATES:
        raise InvalidInput(_("Unknown rate: %(value)s.") % {"value": rate}, code="rate", field="rate")
    rows = three_rates(cases, by=by, start=start, end=end, now=now, unrated_policy=unrated_policy)
    denominator = RATES[rate][1]
    rows.sort(key=lambda row: (row.rate(rate) is None, -(row.rate(rate) or 0), -row.counts[denominator],
                               [str(row.labels[d]) for d in row.labels]))
    previous, rank = None, 0
    for position, row in enumerate(rows, start=1):
        value = row.rate(rate)
        if value is None:
            row.rank = None
            continue
        if value != previous:
            rank, previous = position, value
        row.rank = rank
    return rows


def _key_filter(key: dict) -> Q:
    q = Q()
    for name, value in (key or {}).items():
        if name not in DIMENSIONS:
            raise InvalidInput(_("Unknown grouping: %(value)s.") % {"value": name}, code="group_by", field="by")
        if name in PERIODS:
            if value is None:
                return Q(pk__in=[])
            if isinstance(value, str):
                value = dt.date.fromisoformat(value)
            begin, end = period_range(name, _period_key(value))
            q &= Q(created_at__gte=begin, created_at__lt=end)
        elif name == "top_category":
            q &= (Q(category__isnull=True) if value is None
                  else Q(category_id=value, category__parent__isnull=True) | Q(category__parent_id=value))
        else:
            field_name = {"community": "community_id", "grid": "grid_id", "unit": "unit_id",
                          "category": "category_id"}[name]
            q &= Q(**{f"{field_name}__isnull": True}) if value is None else Q(**{field_name: value})
    return q


def cases_behind(cases: Reach | QuerySet[Case], *, measure: str, key: dict | None = None, start=None,
                 end=None, now: dt.datetime | None = None, unrated_policy: str | None = None) -> QuerySet[Case]:
    """The cases counted in one number: ``measure`` (one of MEASURES, or a rate's name for
    its denominator) within the group ``key`` of a :class:`RateRow`. Counted live: a
    page of them is quick to list, and the filter is the definition itself."""
    if isinstance(cases, Reach):
        cases = Case.objects.filter(cases.case_q())
    if measure in RATES:
        measure = RATES[measure][1]
    if measure not in MEASURES:
        raise InvalidInput(_("Unknown measure: %(value)s.") % {"value": measure}, code="measure", field="measure")
    now = now or timezone.now()
    q = measure_q(measure, now=now, policy=unrated_policy_setting(unrated_policy))
    return _in_period(cases, start, end).filter(q).filter(_key_filter(key)).order_by("-created_at", "-id")


# --- export -------------------------------------------------------------------------------------

EXPORT_MEASURES = ("submitted", "response_due", "responded_in_time", "accepted", "resolved",
                   "rated", "satisfied_or_basic", "unrated_closed")


def rates_table(rows: Iterable[RateRow], *, by: str | Sequence[str]) -> tuple[list[str], list[list]]:
    """Headers and rows of plain values; rates as fractions (0..1) or None."""
    by = _check_dimensions(by)
    headers = [str(DIMENSION_LABELS[d]) for d in by]
    headers += [str(MEASURE_LABELS[m]) for m in EXPORT_MEASURES]
    headers += [str(RATE_LABELS[r]) for r in RATES]
    body = []
    for row in rows:
        body.append([str(row.labels.get(d, "")) for d in by]
                    + [row.counts[m] for m in EXPORT_MEASURES]
                    + [row.rate(r) for r in RATES])
    return headers, body


def _cell_text(value) -> str:
    """A CSV cell; text that a spreadsheet would run as a formula is quoted with '."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value * 100:.1f}%"
    text = str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        text = "'" + text
    return text


def rates_csv(rows: Iterable[RateRow], *, by: str | Sequence[str]) -> str:
    """The table as CSV text (write it with a UTF-8 BOM for spreadsheets: encoding 'utf-8-sig')."""
    headers, body = rates_table(rows, by=by)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    for line in body:
        writer.writerow([_cell_text(v) for v in line])
    return out.getvalue()


def rates_xlsx(rows: Iterable[RateRow], *, by: str | Sequence[str], title: str | None = None) -> bytes:
    """The table as an Excel workbook; rates are numbers formatted as percentages."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    by = _check_dimensions(by)
    headers, body = rates_table(rows, by=by)
    book = Workbook()
    sheet = book.active
    sheet.title = (title or _("Three rates"))[:31]
    sheet.append(headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    first_rate = len(by) + len(EXPORT_MEASURES) + 1
    for line in body:
        sheet.append(line)
        for cell in sheet[sheet.max_row]:
            if cell.data_type == "f":  # a label such as "=1+1" is text, never a formula
                cell.data_type = "s"
        for column in range(first_rate, first_rate + len(RATES)):
            sheet.cell(row=sheet.max_row, column=column).number_format = "0.0%"
    for index, header in enumerate(headers, start=1):
        sheet.column_dimensions[sheet.cell(row=1, column=index).column_letter].width = max(10, len(header) * 2)
    sheet.freeze_panes = sheet.cell(row=2, column=len(by) + 1)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
