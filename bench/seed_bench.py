#!/usr/bin/env python
"""How long `linli seed-demo` takes at full scale, on a fresh SQLite database.

Each run makes a temporary data directory (LINLI_DATA_DIR), runs `linli migrate`
there (timed: the reference, measured on the same machine in the same run), then
`linli seed-demo --quiet` (timed). Both are whole commands as a user runs them,
interpreter start-up included. Prints every run, the medians, the seed's ratio to
its 60 s target and the ratio seed / migrate.

    .venv/bin/python bench/seed_bench.py [--runs 3] [--households 14789] [--seed 2024]
"""

from __future__ import annotations

import argparse
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TARGET_S = 60.0


def linli(args: list[str], data_dir: str) -> float:
    """Run one `linli` command against the SQLite database in data_dir; its wall time in seconds."""
    env = dict(os.environ, LINLI_DATA_DIR=data_dir, LINLI_LOG_LEVEL="WARNING")
    env.pop("LINLI_DATABASE_URL", None)   # always the fresh SQLite file, never a configured database
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "linli.config.cli", *args], cwd=REPO, env=env,
                            capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if result.returncode:
        sys.exit(f"`linli {' '.join(args)}` failed ({result.returncode}):\n{result.stderr[-3000:]}")
    return elapsed


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--households", type=int, default=14_789)
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")

    print(f"seed-demo benchmark: {args.households:,} households, seed {args.seed}, {args.runs} run(s)")
    print(f"machine: {os.cpu_count()} CPU(s), Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}")
    print()
    print(f"{'run':>4}  {'migrate s':>10}  {'seed-demo s':>12}  {'seed/migrate':>12}")
    migrates, seeds = [], []
    for run in range(1, args.runs + 1):
        with tempfile.TemporaryDirectory(prefix="linli-seed-bench-") as data_dir:
            m = linli(["migrate", "--verbosity", "0"], data_dir)
            s = linli(["seed-demo", "--quiet", "--households", str(args.households), "--seed", str(args.seed)],
                      data_dir)
            size_mb = (Path(data_dir) / "linli.sqlite3").stat().st_size / 1e6
        migrates.append(m)
        seeds.append(s)
        print(f"{run:>4}  {m:>10.2f}  {s:>12.2f}  {s / m:>12.1f}   (database {size_mb:.0f} MB)")
    seed_median, migrate_median = statistics.median(seeds), statistics.median(migrates)
    print()
    print(f"median seed-demo: {seed_median:.2f} s   target {TARGET_S:.0f} s   "
          f"ratio {seed_median / TARGET_S:.2f} ({'within' if seed_median <= TARGET_S else 'OVER'} target)")
    print(f"median migrate (reference, empty database): {migrate_median:.2f} s   "
          f"ratio seed/migrate {seed_median / migrate_median:.1f}")
    return 0 if seed_median <= TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
