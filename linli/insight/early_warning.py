"""Early warning: an unusual rise of one category's cases in one courtyard, against its usual level.

A *series* is a community's cases of one category in one courtyard (grid), or of one category
among the cases without a courtyard. For each day ``d`` the scan looks at the window of the
last ``WINDOW`` days up to ``d`` and asks how likely that many cases are if the series went on
as usual (method and measured false-alarm rate: docs/warnings.md):

    expected = level × season × Σ weekday factor over the window's days
    level    = (series cases in the BASELINE days before the window + PRIOR × share) / (BASELINE + PRIOR)
    share    = the category's daily rate in the community × the courtyard's share of all cases
    season   = the category's rate around this date last year / its rate in the baseline before it
    p        = P(Poisson(expected) ≥ observed);  alert when observed ≥ MIN_CASES and p < P_ALERT

``detect`` is pure (numpy arrays in, findings out) so the bench and the job share it; ``scan``
reads a community's cases, stores alerts (a rise that goes on extends its alert: one window
never alerts twice) and writes an ``alert.raised`` event per new alert; the recipe of
linli.insight.notifications turns it into inbox and e-mail messages for the courtyard's grid
workers and the community office. Staff then acknowledge and close an alert through the moves of
linli.insight.workflows.ALERT (linli.insight.services.alert_set_status).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from linli.cases.models import Case, Category
from linli.community.models import Community, Grid
from linli.community.scope import scope_of
from linli.core import events

from .hotissues import staff_cases
from .models import Alert

WINDOW = 3          # days a rise is counted over (a surge of a few days)
BASELINE = 56       # days before the window that set the usual level (eight weeks: every weekday 8 times)
PRIOR = 28          # days' worth of the community-wide expectation mixed into a sparse series' level
SEASON_SPAN = 14    # days around the same date last year for the seasonal factor
SEASON_CLAMP = (0.5, 2.5)
MIN_CASES = 3
P_ALERT = 1e-4
HISTORY_DAYS = 365 + BASELINE + SEASON_SPAN + WINDOW   # what a scan reads before its first day


@dataclass(frozen=True)
class Finding:
    series: int        # row of the counts matrix
    start: int         # first day index of the window
    end: int           # last day index (the day scanned)
    observed: int
    expected: float
    p_value: float


def _poisson_sf(observed: np.ndarray, expected: np.ndarray) -> np.ndarray:
    """P(X >= observed) for X ~ Poisson(expected), elementwise."""
    from scipy.stats import poisson

    return poisson.sf(observed - 1, np.maximum(expected, 1e-9))


def detect(counts: np.ndarray, dates: list[dt.date], grids: list, categories: list, scan_from: int,
           scan_to: int | None = None) -> list[Finding]:
    """Findings for every series and day index in [scan_from, scan_to] (default: the last day).

    ``counts[s, t]``: cases of series s on dates[t] (consecutive days); ``grids[s]`` and
    ``categories[s]`` name each series (grid None: cases without a courtyard).
    """
    n_series, n_days = counts.shape
    scan_to = n_days - 1 if scan_to is None else scan_to
    if n_series == 0:
        return []
    cum = np.concatenate([np.zeros((n_series, 1)), np.cumsum(counts, axis=1)], axis=1)  # cum[:, t] = days < t
    cat_codes = {c: i for i, c in enumerate(dict.fromkeys(categories))}
    grid_codes = {g: i for i, g in enumerate(dict.fromkeys(grids))}
    cat_of = np.array([cat_codes[c] for c in categories])
    grid_of = np.array([grid_codes[g] for g in grids])
    cat_cum = np.zeros((len(cat_codes), n_days + 1))
    np.add.at(cat_cum, cat_of, cum)
    grid_cum = np.zeros((len(grid_codes), n_days + 1))
    np.add.at(grid_cum, grid_of, cum)
    total_cum = cum.sum(axis=0)
    daily_total = counts.sum(axis=0)
    weekday = np.array([d.weekday() for d in dates])
    findings = []
    for t in range(max(scan_from, WINDOW + BASELINE - 1), scan_to + 1):
        w0 = t - WINDOW + 1                 # the window: days w0..t
        b0 = w0 - BASELINE                  # the baseline: days b0..w0-1
        if b0 < 0:
            continue
        observed = cum[:, t + 1] - cum[:, w0]
        if not (observed >= MIN_CASES).any():
            continue
        base = cum[:, w0] - cum[:, b0]
        total = total_cum[w0] - total_cum[b0]
        cat_rate = (cat_cum[:, w0] - cat_cum[:, b0]) / BASELINE
        share = (grid_cum[:, w0] - grid_cum[:, b0] + 1) / (total + len(grid_codes))
        prior = cat_rate[cat_of] * share[grid_of]
        level = (base + PRIOR * prior) / (BASELINE + PRIOR)
        # Weekday factors from the whole community's baseline (a series alone is too sparse).
        days = np.arange(b0, w0)
        per_day = total / BASELINE if total else 0.0
        factors = np.ones(7)
        if per_day:
            for wd in range(7):
                on = days[weekday[days] == wd]
                factors[wd] = ((daily_total[on].sum() + 2 * per_day) / (len(on) + 2)) / per_day
        window_factor = factors[weekday[w0:t + 1]].sum()
        season = _season(cat_cum, t, w0)[cat_of]
        expected = level * season * window_factor
        p = _poisson_sf(observed, expected)
        for s in np.flatnonzero((observed >= MIN_CASES) & (p < P_ALERT)):
            findings.append(Finding(series=int(s), start=w0, end=t, observed=int(observed[s]),
                                    expected=round(float(expected[s]), 3), p_value=float(p[s])))
    return findings


def _season(cat_cum: np.ndarray, t: int, w0: int) -> np.ndarray:
    """Per category: its rate around this date last year over its rate in the baseline before then.

    1 where the history does not reach back a year and a baseline. Pseudo-counts keep a rare
    category's ratio near 1; the clamp keeps one odd year from silencing or flooding alerts.
    """
    n_cat = cat_cum.shape[0]
    ly_end = t - 365 + SEASON_SPAN // 2          # last year: SEASON_SPAN days centred on the window
    ly_start = ly_end - SEASON_SPAN + 1
    lb_start = w0 - 365 - BASELINE               # last year's baseline before the window
    if lb_start < 0 or ly_end + 1 >= cat_cum.shape[1]:
        return np.ones(n_cat)
    around = (cat_cum[:, ly_end + 1] - cat_cum[:, ly_start] + 2) / (SEASON_SPAN + 2 * SEASON_SPAN / BASELINE)
    before = (cat_cum[:, w0 - 365] - cat_cum[:, lb_start] + 2 * BASELINE / SEASON_SPAN) / (
        BASELINE + 2 * BASELINE / SEASON_SPAN)
    return np.clip(around / before, *SEASON_CLAMP)


# --- from the database ----------------------------------------------------------------------

def local_day(moment: dt.datetime) -> dt.date:
    return timezone.localtime(moment).date()


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def series_counts(community_id: int, first: dt.date, last: dt.date):
    """(counts, dates, grids, categories): the community's cases with a category, per series and day."""
    dates = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    rows = (Case.objects.filter(community_id=community_id, category__isnull=False,
                                created_at__gte=_day_start(first), created_at__lt=_day_start(last + dt.timedelta(days=1)))
            .values_list("created_at", "grid_id", "category_id"))
    keys: dict[tuple, int] = {}
    cells: list[tuple[int, int]] = []
    for created_at, grid_id, category_id in rows.iterator(chunk_size=5000):
        s = keys.setdefault((grid_id, category_id), len(keys))
        cells.append((s, (local_day(created_at) - first).days))
    counts = np.zeros((len(keys), len(dates)), dtype=np.int64)
    if cells:
        index = np.array(cells)
        np.add.at(counts, (index[:, 0], index[:, 1]), 1)
    ordered = list(keys)
    return counts, dates, [k[0] for k in ordered], [k[1] for k in ordered]


def alert_cases(alert: Alert) -> QuerySet[Case]:
    """The cases behind an alert: its category, courtyard (or none) and days."""
    qs = Case.objects.filter(community_id=alert.community_id, category_id=alert.category_id,
                             created_at__gte=_day_start(alert.window_start),
                             created_at__lt=_day_start(alert.window_end + dt.timedelta(days=1)))
    return qs.filter(grid_id=alert.grid_id) if alert.grid_id else qs.filter(grid__isnull=True)


def scan(community_id: int, *, until: dt.date | None = None, days: int = 2) -> dict:
    """Scan the ``days`` days up to ``until`` (default: today, so far) and store what rises.

    Safe to run twice: a finding that overlaps or touches an alert of its series extends that
    alert (a closed one stays closed) and raises nothing new.
    """
    until = until or local_day(timezone.now())
    first_scanned = until - dt.timedelta(days=days - 1)
    first = first_scanned - dt.timedelta(days=HISTORY_DAYS)
    counts, dates, grids, categories = series_counts(community_id, first, until)
    findings = detect(counts, dates, grids, categories, scan_from=(first_scanned - first).days)
    result = {"findings": len(findings), "raised": 0, "extended": 0}
    if not findings:
        return result
    community = Community.objects.get(pk=community_id)
    names = {c.pk: c for c in Category.objects.filter(pk__in=set(categories))}
    grid_rows = {g.pk: g for g in Grid.objects.filter(pk__in={g for g in grids if g})}
    for f in sorted(findings, key=lambda f: (f.end, f.series)):
        outcome = _store(community, grid_rows.get(grids[f.series]), names[categories[f.series]],
                         dates[f.start], dates[f.end], f)
        if outcome:
            result[outcome] += 1
    return result


def _store(community, grid, category, start: dt.date, end: dt.date, f: Finding) -> str | None:
    with transaction.atomic():
        series = Alert.objects.select_for_update().filter(community=community, category=category, grid=grid)
        near = series.filter(window_start__lte=end, window_end__gte=start - dt.timedelta(days=1)).order_by(
            "-window_end").first()
        if near is not None:
            if near.status == Alert.Status.CLOSED or near.window_end >= end:
                return None
            new_days = (end - near.window_end).days
            near.expected = round(near.expected + f.expected * min(new_days, WINDOW) / WINDOW, 3)
            near.window_end = end
            near.p_value = min(near.p_value, f.p_value)
            near.save(update_fields=["expected", "window_end", "p_value", "updated_at"])
            near.cases.set(alert_cases(near))
            near.observed = near.cases.count()
            near.save(update_fields=["observed"])
            return "extended"
        try:
            with transaction.atomic():
                alert = Alert.objects.create(community=community, grid=grid, category=category, window_start=start,
                                             window_end=end, observed=f.observed, expected=f.expected,
                                             p_value=f.p_value)
        except IntegrityError:
            return None  # another worker stored it first
        alert.cases.set(alert_cases(alert))
        events.record(actor=None, verb="alert.raised", target=alert, community=community, grid=grid, data={
            "alert": alert.pk, "category": category.code, "category_name": category.name_zh,
            "grid": grid.code if grid else None, "grid_name": grid.name if grid else None,
            "window_start": start.isoformat(), "window_end": end.isoformat(),
            "observed": f.observed, "expected": f.expected, "p_value": f.p_value,
        })
        return "raised"


def scan_all() -> dict:
    """The job: yesterday and today so far, every community with cases in the last window."""
    since = timezone.now() - dt.timedelta(days=WINDOW + 1)
    totals = {"communities": 0, "raised": 0, "extended": 0}
    for community_id in (Case.objects.filter(created_at__gte=since).values_list("community_id", flat=True)
                         .distinct().order_by("community_id")):
        result = scan(community_id)
        totals["communities"] += 1
        totals["raised"] += result["raised"]
        totals["extended"] += result["extended"]
    return totals


# --- reads for staff pages --------------------------------------------------------------------

def alerts_for(user) -> QuerySet[Alert]:
    """Alerts of the account's area: its community office or street, or its own courtyards."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return Alert.objects.none()
    q = scope_of(user).area_q(streets=True)
    return Alert.objects.filter(q).select_related("community", "grid", "category")


def visible_alert_cases(user, alert: Alert) -> QuerySet[Case]:
    return (staff_cases(user).filter(pk__in=alert_cases(alert).values("pk"))
            .select_related("category", "grid").order_by("created_at", "pk"))

