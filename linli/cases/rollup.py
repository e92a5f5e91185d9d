"""The rollup behind the three rates: counts per community, month, and courtyard, unit or category.

Counting a street's million cases for every page view is too slow (seconds), so
:class:`~linli.cases.models.CaseRollup` keeps, for each community, local month
of submission and value of one dimension (``kind``: the courtyard, the handling
unit, the category; every case counts once under each kind), the parts of every
measure that do not change with time (:data:`COMPONENTS`). A key of all three
dimensions at once would have nearly a row per case at a street's density (800
cases a community a month over hundreds of courtyard × category × unit
combinations); one dimension at a time, a community's month is about 60 rows.
The dashboard sums them; linli.cases.rates adds the one part that does change
with time (cases whose response deadline passes while nobody has responded) from
the Case table.

Kept exactly: every write to a case goes through ``services._submit`` or
``workflow.transition``, and both call :func:`record` in the same transaction,
with the case's :func:`snapshot` from before the change (``None`` for a new
case). Code that writes cases in bulk (the demo history, benchmarks, data
repairs) calls :func:`rebuild` afterwards; :func:`verify` tells an operator
whether the rollup has drifted from the cases (``linli cases_rollup_rebuild``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import IntegrityError, connections, transaction
from django.db.models import CharField, Count, DateField, F, Q, Value
from django.db.models.functions import Cast, Coalesce, TruncMonth
from django.utils import timezone

from .deadlines import responded_in_time_q, responded_q
from .models import Case, CaseRollup

S = Case.Status

COMPONENTS = ("submitted", "responded", "responded_in_time", "accepted", "resolved", "rated",
              "satisfied", "basic", "unsatisfied", "unrated_closed")
KEY_FIELDS = ("community_id", "month", "kind", "value")
KINDS = {"grid": "grid_id", "unit": "unit_id", "category": "category_id"}  # kind → the Case field


def component_q(name: str) -> Q:
    """The filter on Case for one component; :func:`vector` is the same test in Python."""
    if name == "submitted":
        return Q()
    # Responded: accepted, rejected with a reason or the resident contacted, whichever came
    # first (Case.responded_at), against the deadline counted from receipt.
    if name == "responded":
        return Q(response_due__isnull=False) & responded_q()
    if name == "responded_in_time":
        return Q(response_due__isnull=False) & responded_in_time_q()
    if name == "accepted":
        return Q(accepted_at__isnull=False)
    if name == "resolved":
        # A case closed as not resolvable (``close_unresolved``) is accepted, never resolved.
        return (Q(accepted_at__isnull=False, unresolved_kind="")
                & (Q(status__in=(S.RESOLVED, S.CLOSED)) | Q(resolved_at__isnull=False)))
    if name == "rated":
        return ~Q(rating="")
    if name in ("satisfied", "basic", "unsatisfied"):
        return Q(rating=name)
    if name == "unrated_closed":
        # Resolved, then closed by the job with nobody rating it; not a case closed unresolved.
        return Q(status=S.CLOSED, rating="", unresolved_kind="")
    raise ValueError(name)


def vector(case: Case) -> tuple[int, ...]:
    """The case's counts, in the order of COMPONENTS (all 0 for a merged case)."""
    if case.status == S.MERGED:
        return (0,) * len(COMPONENTS)
    responded_at = case.responded_at
    responded = case.response_due is not None and responded_at is not None
    accepted = case.accepted_at is not None
    rating = case.rating or ""
    unresolved = bool(case.unresolved_kind)
    return tuple(int(bool(x)) for x in (
        True,
        responded,
        responded and responded_at <= case.response_due,
        accepted,
        accepted and not unresolved and (case.status in (S.RESOLVED, S.CLOSED) or case.resolved_at is not None),
        rating != "",
        rating == Case.Rating.SATISFIED,
        rating == Case.Rating.BASIC,
        rating == Case.Rating.UNSATISFIED,
        case.status == S.CLOSED and rating == "" and not unresolved,
    ))


def zone():
    """The rollup's months are the installation's (TIME_ZONE), whatever a request activates."""
    return timezone.get_default_timezone()


def month_of(moment: dt.datetime) -> dt.date:
    return timezone.localtime(moment, zone()).date().replace(day=1)


def month_start(moment: dt.datetime) -> dt.datetime:
    """Local midnight on the first day of the month ``moment`` falls in."""
    return timezone.make_aware(dt.datetime.combine(month_of(moment), dt.time()), zone())


def next_month(day: dt.date) -> dt.date:
    month0 = day.year * 12 + day.month
    return dt.date(month0 // 12, month0 % 12 + 1, 1)


def midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time()), zone())


@dataclass(frozen=True)
class Snapshot:
    """Where a case counts (community, month, and its courtyard, unit and category ids,
    0 for none) and what it counts there."""

    community_id: int
    month: dt.date
    values: tuple
    counts: tuple

    def rows(self) -> list[tuple]:
        return [(self.community_id, self.month, kind, value) for kind, value in zip(KINDS, self.values)]


def snapshot(case: Case) -> Snapshot:
    return Snapshot(case.community_id, month_of(case.created_at),
                    tuple(getattr(case, name) or 0 for name in KINDS.values()), vector(case))


def record(before: Snapshot | None, case: Case) -> None:
    """Apply the change of one case to the rollup; call inside the transaction that saved it.

    ``before`` is :func:`snapshot` of the case as it was (None: the case is new).
    A moved case (another courtyard, unit or category) leaves its old row of that
    kind and counts in its new one."""
    after = snapshot(case)
    changes: dict[tuple, list[int]] = {}

    def add(row, counts, sign):
        total = changes.setdefault(row, [0] * len(COMPONENTS))
        for i, n in enumerate(counts):
            total[i] += sign * n

    if before is not None:
        for row in before.rows():
            add(row, before.counts, -1)
    for row in after.rows():
        add(row, after.counts, +1)
    # Rows with the same change take one UPDATE (an unmoved case: one statement for its three rows).
    by_delta: dict[tuple, list[tuple]] = {}
    for row, delta in changes.items():
        if any(delta):
            by_delta.setdefault(tuple(delta), []).append(row)
    for delta, rows in by_delta.items():
        _add(rows, delta)


def _row_q(row: tuple) -> Q:
    return Q(**dict(zip(KEY_FIELDS, row)))


def _add(rows: list[tuple], delta: tuple) -> None:
    changes = {name: d for name, d in zip(COMPONENTS, delta) if d}
    increments = {name: F(name) + d for name, d in changes.items()}
    where = Q(pk__in=[])
    for row in rows:
        where |= _row_q(row)
    if CaseRollup.objects.filter(where).update(**increments) == len(rows):
        return
    found = set(CaseRollup.objects.filter(where).values_list(*KEY_FIELDS))
    for row in rows:
        if row in found:
            continue
        try:
            # A savepoint: when another transaction creates the row first, add to theirs.
            with transaction.atomic():
                CaseRollup.objects.create(**dict(zip(KEY_FIELDS, row)), **changes)
        except IntegrityError:
            CaseRollup.objects.filter(_row_q(row)).update(**increments)


# --- rebuild and verify -------------------------------------------------------------------------

def _grouped(case_model, kind: str, *, community=None, since: dt.date | None = None, using: str = "default"):
    """The rollup's rows of one kind computed from the cases: one GROUP BY (the filters of component_q)."""
    cases = case_model.objects.using(using).exclude(status=S.MERGED).order_by()
    if community is not None:
        cases = cases.filter(community_id=getattr(community, "pk", community))
    if since is not None:
        cases = cases.filter(created_at__gte=midnight(since.replace(day=1)))
    month = Cast(TruncMonth("created_at", tzinfo=zone(), output_field=DateField()), DateField())
    return (cases.annotate(rollup_month=month, rollup_kind=Value(kind, output_field=CharField()),
                           rollup_value=Coalesce(KINDS[kind], Value(0)))
            .values("community_id", "rollup_month", "rollup_kind", "rollup_value")
            .annotate(**{f"n_{name}": Count("pk", filter=component_q(name)) if name != "submitted" else Count("pk")
                         for name in COMPONENTS}))


@transaction.atomic
def _rebuild(community, since, case_model, rollup_model, using) -> int:
    connection = connections[using]
    table = connection.ops.quote_name(rollup_model._meta.db_table)
    if connection.vendor == "postgresql":
        # Transitions wait (their rollup UPDATE) until the new rows are in: none is lost or counted twice.
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE")
    old = rollup_model.objects.using(using)
    if community is not None:
        old = old.filter(community_id=getattr(community, "pk", community))
    if since is not None:
        old = old.filter(month__gte=since.replace(day=1))
    old.delete()
    columns = ", ".join(connection.ops.quote_name(rollup_model._meta.get_field(name).column)
                        for name in ("community", "month", "kind", "value") + COMPONENTS)
    written = 0
    with connection.cursor() as cursor:
        for kind in KINDS:
            grouped = _grouped(case_model, kind, community=community, since=since, using=using)
            select, params = grouped.query.get_compiler(using).as_sql()
            cursor.execute(f"INSERT INTO {table} ({columns}) {select}", params)
            written += cursor.rowcount
    return written


def rebuild(community=None, *, since: dt.date | None = None, case_model=Case, rollup_model=CaseRollup,
            using: str = "default") -> int:
    """Recompute the rollup from the cases (one community, or all; from the month of
    ``since`` on, or all time) in one transaction. Returns the number of rows written."""
    return _rebuild(community, since, case_model, rollup_model, using)


@dataclass(frozen=True)
class Drift:
    key: tuple
    component: str
    stored: int
    expected: int


def verify(community=None) -> list[Drift]:
    """Where the rollup differs from the cases; writes nothing."""
    expected: dict[tuple, tuple] = {}
    for kind in KINDS:
        for row in _grouped(Case, kind, community=community).iterator(chunk_size=5000):
            key = (row["community_id"], _as_date(row["rollup_month"]), kind, row["rollup_value"])
            expected[key] = tuple(row[f"n_{name}"] for name in COMPONENTS)
    stored: dict[tuple, tuple] = {}
    rows = CaseRollup.objects.order_by()
    if community is not None:
        rows = rows.filter(community_id=getattr(community, "pk", community))
    for row in rows.values_list(*KEY_FIELDS, *COMPONENTS).iterator(chunk_size=5000):
        key = row[:len(KEY_FIELDS)]
        counts = row[len(KEY_FIELDS):]
        previous = stored.get(key)
        stored[key] = counts if previous is None else tuple(a + b for a, b in zip(previous, counts))
    zero = (0,) * len(COMPONENTS)
    drift = []
    for key in sorted(set(expected) | set(stored), key=lambda k: tuple((v is None, str(v)) for v in k)):
        want, have = expected.get(key, zero), stored.get(key, zero)
        drift += [Drift(key, name, h, w) for name, h, w in zip(COMPONENTS, have, want) if h != w]
    return drift


def _as_date(value) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, str):
        return dt.date.fromisoformat(value[:10])
    return value
