#!/usr/bin/env python
"""Look-up latency on the full demo community, as the console does it.

Four kinds of look-up, 1,000 each (p50 and p95), each done the way a request
does it: resolve the account's scope afresh, search through
``linli.community.selectors.resident_search`` (blind indexes, scoped), and
materialise the rows with their masked names (which decrypts each name):

* phone, as the community worker (whole community);
* phone, as the grid worker of the resident's grid;
* surname within a grid, as that grid's worker (every resident of that surname there);
* building: every resident of one building, as that building's grid worker.

Reference, measured in the same run: the same number of trivial ORM queries
(``Grid.objects.filter(pk=…).exists()``), so each look-up is also given as a
multiple of one database round trip.

Without ``--data-dir`` it builds a fresh full-scale demo database in a temporary
directory first (`linli migrate`, `linli seed-demo`). LINLI_DATABASE_URL is
ignored: the bench always reads the SQLite file in the data directory.

    .venv/bin/python bench/lookup_bench.py [--data-dir DIR] [--n 1000] [--seed 7]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def build_database(data_dir: str) -> None:
    env = dict(os.environ, LINLI_DATA_DIR=data_dir, LINLI_LOG_LEVEL="WARNING")
    env.pop("LINLI_DATABASE_URL", None)
    for args in (["migrate", "--verbosity", "0"], ["seed-demo", "--quiet"]):
        started = time.perf_counter()
        result = subprocess.run([sys.executable, "-m", "linli.config.cli", *args], cwd=REPO, env=env,
                                capture_output=True, text=True)
        if result.returncode:
            sys.exit(f"`linli {' '.join(args)}` failed:\n{result.stderr[-3000:]}")
        print(f"  linli {args[0]}: {time.perf_counter() - started:.1f} s")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * p
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", help="a data directory holding a seeded demo (default: build one)")
    parser.add_argument("--n", type=int, default=1000, help="look-ups of each kind (default 1000)")
    parser.add_argument("--seed", type=int, default=7, help="which residents are looked up")
    args = parser.parse_args(argv)
    if args.n < 1:
        parser.error("--n must be at least 1")

    tmp = None
    data_dir = args.data_dir
    if data_dir is None:
        tmp = tempfile.TemporaryDirectory(prefix="linli-lookup-bench-")
        data_dir = tmp.name
        print(f"building the full demo database in {data_dir}")
        build_database(data_dir)
    os.environ["LINLI_DATA_DIR"] = str(Path(data_dir).resolve())
    os.environ.pop("LINLI_DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linli.config.settings")
    os.environ.setdefault("LINLI_LOG_LEVEL", "WARNING")
    import django

    django.setup()
    try:
        return run(args)
    finally:
        if tmp is not None:
            from django.db import connections

            connections.close_all()
            tmp.cleanup()


def run(args) -> int:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from linli.demo.community import COMMUNITY_CODE
    from linli.community.models import Building, Community, Grid, Resident
    from linli.community.scope import forget_scope
    from linli.community.selectors import resident_search
    from linli.core.validators import surname_of

    community = Community.objects.filter(code=COMMUNITY_CODE).first()
    if community is None:
        sys.exit("no demo community in this database: run `linli seed-demo` first")
    rng = random.Random(args.seed)
    User = get_user_model()
    worker = User.objects.get(username="worker")
    grids = list(Grid.objects.filter(community=community).order_by("code"))
    grid_workers = {g.pk: User.objects.get(username=f"grid{i:02d}") for i, g in enumerate(grids, 1)}

    # Targets, chosen before timing (revealing values here is setup, not measured).
    ids = list(Resident.objects.filter(community=community).exclude(phone_index="").values_list("pk", flat=True))
    picked = [rng.choice(ids) for _ in range(args.n)]
    by_pk = Resident.objects.in_bulk(set(picked))
    phone_targets = [(by_pk[pk].phone.reveal(), by_pk[pk].grid_id) for pk in picked]
    surname_targets = [(surname_of(by_pk[pk].name.reveal()), by_pk[pk].grid_id)
                       for pk in (rng.choice(picked) for _ in range(args.n))]
    buildings = list(Building.objects.filter(community=community).values_list("pk", "grid_id"))
    building_targets = [rng.choice(buildings) for _ in range(args.n)]
    grid_pks = [g.pk for g in grids]
    reference_targets = [rng.choice(grid_pks) for _ in range(args.n)]

    def fresh(user):
        """What a new request knows about its account: nothing cached."""
        forget_scope(user)
        user._state.fields_cache.clear()
        return user

    def masked(qs):
        return [r.name.masked for r in qs]

    kinds = {
        "phone, community worker": (phone_targets,
                                     lambda t: masked(resident_search(fresh(worker), query=t[0]))),
        "phone, grid worker": (phone_targets,
                               lambda t: masked(resident_search(fresh(grid_workers[t[1]]), query=t[0]))),
        "surname in own grid": (surname_targets,
                                lambda t: masked(resident_search(fresh(grid_workers[t[1]]), query=t[0],
                                                                 grid_id=t[1]))),
        "building, all residents": (building_targets,
                                    lambda t: masked(resident_search(fresh(grid_workers[t[1]]),
                                                                     building_id=t[0]))),
        "reference: trivial query": (reference_targets,
                                     lambda t: [Grid.objects.filter(pk=t).exists()]),
    }

    results = {}
    for label, (targets, fn) in kinds.items():
        for t in targets[:50]:      # warm caches and the connection
            fn(t)
        with CaptureQueriesContext(connection) as ctx:
            rows = fn(targets[0])
        queries = len(ctx.captured_queries)
        times, sizes = [], []
        for t in targets:
            started = time.perf_counter_ns()
            rows = fn(t)
            times.append((time.perf_counter_ns() - started) / 1e6)
            sizes.append(len(rows))
        results[label] = (percentile(times, 0.5), percentile(times, 0.95), statistics.mean(sizes), queries)
        if label.startswith("phone"):
            assert all(s >= 1 for s in sizes), f"{label}: a phone look-up found nobody"

    ref50 = results["reference: trivial query"][0]
    residents = Resident.objects.filter(community=community).count()
    print()
    print(f"{community.name}: {residents:,} residents, {len(buildings)} buildings; {args.n:,} look-ups of each kind")
    print()
    print(f"{'look-up':<26} {'p50 ms':>8} {'p95 ms':>8} {'p50/ref':>8} {'rows':>8} {'queries':>8}")
    for label, (p50, p95, rows, queries) in results.items():
        print(f"{label:<26} {p50:>8.2f} {p95:>8.2f} {p50 / ref50:>8.1f} {rows:>8.1f} {queries:>8}")
    print()
    print("Each look-up resolves the account's scope afresh (as a request does), searches through the")
    print("blind indexes and materialises the rows with masked names; 'queries' counts SQL statements.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
