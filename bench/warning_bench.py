#!/usr/bin/env python
"""False alarms and detection of the early warning (linli.insight.early_warning) on the demo history.

    .venv/bin/python bench/warning_bench.py [--data-dir DIR] [--plants 200] [--seed 3]

1. Builds the demo community with its two years of cases in a fresh database (`linli migrate`,
   `linli seed-demo`, ~30 s) under a temporary LINLI_DATA_DIR, or uses --data-dir where that
   database already exists.
2. Runs `early_warning.detect` over every day of the history for every series (courtyard ×
   category, and category among cases without a courtyard). The demo history has no planted
   surges (its daily counts are Poisson draws around a seasonal mean), so every alert is a
   false alarm: prints alerts per series-year (consecutive days of one rise count as one
   alert, as `early_warning.scan` stores them) and for the whole community per year.
3. Plants surges one at a time in a random series and day of the second year — +8 cases over
   2 days, +5 over 2 days, +12 over 7 days — and prints how many are detected within 7 days of
   their start and after how many days (0: on the first day of the surge).
4. The same on synthetic OVERDISPERSED series (negative binomial, weekday profile, season, holiday
   weeks and the catch-up after them), which the detector's Poisson law does not assume: false
   alarms per series-year and +8 / +5 in 2 days and +12 in 7 days detection, side by side.
   `--overdispersed-only` runs this part alone (no demo database, seconds).
Also prints the time of a full-history scan beside a reference measured in the same run:
building the counts matrix from the database.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def run_linli(args: list[str], env: dict) -> None:
    result = subprocess.run([sys.executable, "-m", "linli.config.cli", *args], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=900)
    if result.returncode:
        sys.exit(f"`linli {' '.join(args)}` failed ({result.returncode}):\n{result.stderr[-3000:]}")


def alerts_of(findings) -> list[tuple[int, int, int]]:
    """(series, first day, last day) of each alert: findings of one series that overlap or touch merge."""
    runs: dict[int, list[list[int]]] = {}
    for f in sorted(findings, key=lambda f: (f.series, f.end)):
        series_runs = runs.setdefault(f.series, [])
        if series_runs and f.start <= series_runs[-1][1] + 1:
            series_runs[-1][1] = max(series_runs[-1][1], f.end)
        else:
            series_runs.append([f.start, f.end])
    return [(s, a, b) for s, rs in runs.items() for a, b in rs]


# --- overdispersed synthetic series (issue 8, B i) ---------------------------------------------
# The demo history is drawn from the Poisson law the detector assumes, which flatters it. These
# series are not: each day's count is negative binomial (a gamma-Poisson mixture, variance
# mu + mu^2 / K), with a weekday profile, a yearly season, and holiday effects (few requests
# during the Spring Festival and National Day weeks, a catch-up after them).
NB_K = 2.0                      # dispersion: variance = mu + mu^2 / K (K -> infinity is Poisson)
WEEKDAY = [1.25, 1.1, 1.05, 1.0, 1.0, 0.75, 0.65]          # Monday .. Sunday
HOLIDAYS = [((1, 24), 7, 0.35), ((10, 1), 7, 0.5)]          # (start month, day), days, factor
CATCH_UP = (5, 1.4)                                          # days after a holiday, factor


def overdispersed_counts(n_series: int, start, n_days: int, rng) -> tuple:
    """Counts (series x days), dates, grids and categories of synthetic overdispersed series."""
    import datetime as dt

    import numpy as np

    dates = [start + dt.timedelta(days=t) for t in range(n_days)]
    factor = np.ones(n_days)
    for t, day in enumerate(dates):
        factor[t] *= WEEKDAY[day.weekday()] * (1 + 0.2 * np.cos(2 * np.pi * (day.timetuple().tm_yday - 200) / 365.25))
        for (month, first), length, f in HOLIDAYS:
            begin = dt.date(day.year, month, first)
            offset = (day - begin).days
            if 0 <= offset < length:
                factor[t] *= f
            elif length <= offset < length + CATCH_UP[0]:
                factor[t] *= CATCH_UP[1]
    # Series levels like a community's courtyard x category series: most quiet, a few busy.
    levels = np.exp(rng.normal(np.log(0.15), 1.0, size=n_series)).clip(0.01, 3.0)
    mu = levels[:, None] * factor[None, :]
    gamma = rng.gamma(NB_K, 1.0 / NB_K, size=mu.shape)       # mean 1, variance 1 / K
    counts = rng.poisson(mu * gamma).astype(float)
    grids = [f"g{s % 12}" for s in range(n_series)]
    categories = [f"c{s // 12}" for s in range(n_series)]
    return counts, dates, grids, categories


def overdispersed_bench(plants: int, seed: int, n_series: int = 216, years: int = 3) -> None:
    import datetime as dt

    import numpy as np

    from linli.insight import early_warning

    rng = np.random.default_rng(seed)
    n_days = int(365.25 * years)
    counts, dates, grids, categories = overdispersed_counts(n_series, dt.date(2023, 1, 1), n_days, rng)
    warm = max(early_warning.WINDOW + early_warning.BASELINE - 1, 365)   # a year of history first
    alerts = alerts_of(early_warning.detect(counts, dates, grids, categories, scan_from=warm))
    scanned_years = (n_days - warm) / 365.25
    print(f"\noverdispersed synthetic series: {n_series} series, negative binomial K = {NB_K:g} "
          f"(variance mu + mu^2/K), weekday profile {WEEKDAY}, Spring Festival and National Day weeks "
          f"(x0.35, x0.5, then x{CATCH_UP[1]} for {CATCH_UP[0]} days), seed {seed}")
    print(f"false alarms: {len(alerts)} alerts over {scanned_years:.2f} scanned years = "
          f"{len(alerts) / (n_series * scanned_years):.4f} per series-year "
          f"({len(alerts) / scanned_years:.1f} per year for {n_series} series)")
    pick = random.Random(seed)
    busy = [s for s in range(n_series) if counts[s].sum() >= 10]
    for name, (extra, length) in {"+8 in 2 days": (8, 2), "+5 in 2 days": (5, 2), "+12 in 7 days": (12, 7)}.items():
        found, delays = 0, []
        for _ in range(plants):
            s = pick.choice(busy)
            start = pick.randrange(warm + 1, n_days - 10)
            planted = counts.copy()
            for k in range(extra):
                planted[s, start + k * length // extra] += 1
            hits = [f for f in early_warning.detect(planted, dates, grids, categories, scan_from=start - 1,
                                                   scan_to=start + 7) if f.series == s and f.end >= start]
            if hits:
                found += 1
                delays.append(min(f.end for f in hits) - start)
        delay = f"delay median {int(np.median(delays))} d" if delays else ""
        print(f"  planted {name}: detected {found}/{plants} ({found / plants:.0%}) within 7 days; {delay}")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", help="a LINLI_DATA_DIR whose database already holds the demo")
    parser.add_argument("--plants", type=int, default=200)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--p", type=float, help="the p-value threshold (default: early_warning.P_ALERT)")
    parser.add_argument("--overdispersed-only", action="store_true",
                        help="only the synthetic overdispersed series (no demo database)")
    args = parser.parse_args()
    if args.overdispersed_only:
        sys.path.insert(0, str(REPO))
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linli.config.settings")
        import django

        django.setup()
        from linli.insight import early_warning

        if args.p:
            early_warning.P_ALERT = args.p
        overdispersed_bench(args.plants, args.seed)
        return 0
    data_dir = args.data_dir or tempfile.mkdtemp(prefix="linli-warn-")
    env = dict(os.environ, LINLI_DATA_DIR=data_dir)
    if not args.data_dir:
        started = time.perf_counter()
        run_linli(["migrate", "-v0"], env)
        run_linli(["seed-demo", "--quiet"], env)
        print(f"demo built in {time.perf_counter() - started:.1f} s ({data_dir})")
    os.environ["LINLI_DATA_DIR"] = data_dir
    sys.path.insert(0, str(REPO))
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linli.config.settings")
    django.setup()
    import numpy as np
    from django.db.models import Max, Min

    from linli.cases.models import Case
    from linli.community.models import Community
    from linli.insight import early_warning

    if args.p:
        early_warning.P_ALERT = args.p
    community = Community.objects.filter(pk__in=Case.objects.values("community_id")).order_by("pk").first()
    span = Case.objects.filter(community=community).aggregate(first=Min("created_at"), last=Max("created_at"))
    first, last = early_warning.local_day(span["first"]), early_warning.local_day(span["last"])

    started = time.perf_counter()
    counts, dates, grids, categories = early_warning.series_counts(community.pk, first, last)
    reference = time.perf_counter() - started
    warm = early_warning.WINDOW + early_warning.BASELINE - 1          # the first day that has a full baseline
    started = time.perf_counter()
    findings = early_warning.detect(counts, dates, grids, categories, scan_from=warm)
    elapsed = time.perf_counter() - started
    n_series, n_days = counts.shape
    scanned_days = n_days - warm
    years = scanned_days / 365.25
    alerts = alerts_of(findings)
    print(f"{community.name}: {int(counts.sum()):,} cases with a category, {first} – {last}, "
          f"{n_series} series ({len(set(grids))} courtyard values × {len(set(categories))} categories present)")
    print(f"scan of {scanned_days} days × {n_series} series: {elapsed:.2f} s; reference (counts from the "
          f"database) {reference:.2f} s; ratio {elapsed / reference:.2f}")
    print(f"parameters: window {early_warning.WINDOW} d, baseline {early_warning.BASELINE} d, prior {early_warning.PRIOR} d, "
          f"p < {early_warning.P_ALERT:g}, at least {early_warning.MIN_CASES} cases")
    print(f"false alarms (no surges planted): {len(alerts)} alerts over {years:.2f} years = "
          f"{len(alerts) / years:.1f} per year for the community, "
          f"{len(alerts) / (n_series * years):.4f} per series-year")
    second_year = [t for t in range(n_days) if t >= n_days - 365]
    late = [a for a in alerts if a[1] >= second_year[0]]
    print(f"  second year alone (seasonal factor available): {len(late)} alerts = "
          f"{len(late) / (n_series):.4f} per series-year")
    by_level = {}
    for s, a, b in alerts:
        level = counts[s, max(0, a - early_warning.BASELINE):a].sum() / early_warning.BASELINE
        by_level.setdefault("busy (≥0.2/day)" if level >= 0.2 else "quiet (<0.2/day)", []).append((s, a, b))
    levels = counts[:, warm:].sum(axis=1) / scanned_days
    for name, group in sorted(by_level.items()):
        n = int((levels >= 0.2).sum()) if name.startswith("busy") else int((levels < 0.2).sum())
        print(f"  {name}: {len(group)} alerts, {n} series, {len(group) / max(1, n) / years:.4f} per series-year")

    rng = random.Random(args.seed)
    busy = [s for s in range(n_series) if counts[s].sum() >= 10]
    surges = {"+8 in 2 days": (8, 2), "+5 in 2 days": (5, 2), "+12 in 7 days": (12, 7)}
    for name, (extra, length) in surges.items():
        found, delays = 0, []
        for _ in range(args.plants):
            s = rng.choice(busy)
            start = rng.randrange(n_days - 365, n_days - 10)
            planted = counts.copy()
            for k in range(extra):
                planted[s, start + k * length // extra] += 1
            hits = [f for f in early_warning.detect(planted, dates, grids, categories, scan_from=start - 1,
                                               scan_to=start + 7)
                    if f.series == s and f.end >= start]
            if hits:
                found += 1
                delays.append(min(f.end for f in hits) - start)
        delay = (f"delay median {int(np.median(delays))} d, max {max(delays)} d (0: the surge's first day)"
                 if delays else "")
        print(f"planted {name}: detected {found}/{args.plants} ({found / args.plants:.0%}) within 7 days; {delay}")
    overdispersed_bench(args.plants, args.seed)
    if not args.data_dir:
        import shutil

        shutil.rmtree(data_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
