#!/usr/bin/env python
"""The canteen's eligible population and coverage on the full demo community (issue 12).

    .venv/bin/python bench/canteen_eligibility_bench.py [--repeat 20]

A fresh SQLite database in a temporary data directory (never a configured one) gets the demo
community at full scale (about 33,000 residents, through ``linli.demo.community.build_demo``) and a
canteen with the default delivery criteria (age_80, alone_elder, disabled) through
``canteens.canteen_create``. Then it times, ``--repeat`` times each after one warm-up:
``eligibility.eligible_residents(canteen, on=today).count()`` (one SQL query), the dashboard's
``dashboard.coverage`` (two queries), and ``eligibility.criteria_met`` for 200 residents (one query
each). Prints p50 / p95 in ms, and the population found against a Python count over every
resident as a cross-check (which is what the SQL replaces).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def setup(data_dir: str) -> None:
    os.environ["LINLI_DATA_DIR"] = data_dir
    Path(data_dir, "static").mkdir(exist_ok=True)
    os.environ["LINLI_LOG_LEVEL"] = "WARNING"
    os.environ.pop("LINLI_DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linli.config.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def timed(fn, repeat: int) -> tuple[float, float, object]:
    result = fn()
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        samples.append((time.perf_counter() - t0) * 1000)
    return statistics.median(samples), pct(samples, 0.95), result


def run(args) -> None:
    from django.utils import timezone

    from linli.canteen import canteens, dashboard, eligibility
    from linli.community.models import Resident
    from linli.demo.community import build_demo

    t0 = time.perf_counter()
    result = build_demo()
    community = result.community
    print(f"demo community: {Resident.objects.filter(community=community).count()} residents "
          f"in {time.perf_counter() - t0:.1f} s")
    canteen = canteens.canteen_create(actor=None, community=community, name="友谊食堂")
    today = timezone.localdate()
    p50, p95, count = timed(lambda: eligibility.eligible_residents(canteen, on=today).count(), args.repeat)
    print(f"eligible_residents(...).count() = {count}: p50 {p50:.1f} ms, p95 {p95:.1f} ms")
    p50, p95, cov = timed(lambda: dashboard.coverage(canteen, today=today), args.repeat)
    print(f"dashboard.coverage = {cov}: p50 {p50:.1f} ms, p95 {p95:.1f} ms")
    sample = list(Resident.objects.filter(community=community).order_by("?")[:200])
    t0 = time.perf_counter()
    for r in sample:
        eligibility.criteria_met(r, on=today)
    print(f"criteria_met: {(time.perf_counter() - t0) * 1000 / len(sample):.2f} ms per resident (200 residents)")
    if args.check:
        t0 = time.perf_counter()
        wanted = set(canteen.delivery_criteria)
        slow = sum(1 for r in Resident.objects.filter(community=community)
                   if wanted & eligibility.criteria_met(r, on=today))
        print(f"cross-check by a Python loop over every resident: {slow} "
              f"({'agrees' if slow == count else 'DISAGREES'}) in {time.perf_counter() - t0:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--check", action="store_true", help="also count by a loop over every resident (slow)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="linli-canteen-bench-") as data_dir:
        setup(data_dir)
        run(args)


if __name__ == "__main__":
    main()
