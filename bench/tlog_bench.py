#!/usr/bin/env python
"""The transparency log's numbers (issue 9, "Numbers"): appending and signing in batches, proofs at
a large size, and ``verify_log`` over the whole log.

    .venv/bin/python bench/tlog_bench.py [--entries 1000000] [--batch 2000] [--batches 5]
                                         [--proofs 1000] [--runs 3]

Each backend runs in its own process on a fresh database: SQLite in a temporary data directory,
and PostgreSQL when LINLI_DATABASE_URL names a server (a fresh database is created on it for the
run and dropped after; the configured one is never touched). Per backend:

1. **append + sign**: ``--batches`` calls of ``services.append_and_sign`` with ``--batch`` leaves of
   about 300 bytes each (a header like the board's) on one log; entries/s per batch, median.
   Target ≥ 2,000 entries/s.
2. **a log of ``--entries`` entries**, built fast: leaf and subtree hashes computed in memory
   (``tlog.MemoryTree``) and bulk-inserted (``executemany`` on SQLite, ``COPY`` on PostgreSQL),
   then signed by ``services.sign_checkpoint`` (its root checked against the in-memory one).
3. **proofs**: ``--proofs`` inclusion and consistency proofs at random indexes/sizes, through the
   HTTP views, each checked with ``tlog.verify_*``: timed as the view itself (server-side, what the
   target names) and through Django's whole middleware stack (test client, no network); p50/p95 in
   ms and the most hashes in a proof against ⌈log₂ n⌉. Target p95 ≤ 5 ms with ≤ ⌈log₂ n⌉ hashes.
4. **verify**: ``verify_log`` over the whole log, ``--runs`` times; median seconds. Target ≤ 60 s.

Use ``--entries 20000 --proofs 200 --runs 1`` for a quick run (CI size).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

APPEND_TARGET = 2000.0  # entries/s
PROOF_TARGET_MS = 5.0
VERIFY_TARGET_S = 60.0
CHUNK = 20_000


def leaf_bytes(i: int) -> bytes:
    """About the size of a board entry's header (docs/transparency.md): canonical JSON."""
    digest = hashlib.sha256(i.to_bytes(8, "big", signed=True)).hexdigest()
    header = {"v": 1, "type": "entry", "community": "BENCH", "section": ("party", "residential", "finance")[i % 3],
              "period": ["2026-01-01", "2026-01-31"], "published": "2026-02-03T09:30:00+08:00",
              "author_role": "community_worker", "approver_role": "community_admin", "content_sha256": digest,
              "attachments": [{"sha256": digest, "size": 1000 + i % 5000, "type": "application/pdf"}],
              "supersedes": None, "withdraws": None, "n": i}
    return json.dumps(header, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


# --- one backend, in its own process ------------------------------------------------------------

def make_community(code: str):
    from linli.community.models import Community, District, Street

    district, _ = District.objects.get_or_create(code="990100", defaults={"name": "基准区"})
    street, _ = Street.objects.get_or_create(district=district, code="990100001", defaults={"name": "基准街道"})
    return Community.objects.create(street=street, code=code, name=f"{code}社区")


def bench_append(args) -> float:
    from linli.transparency import services

    community = make_community("BENCHA")
    services.append_and_sign(community=community, leaves=[leaf_bytes(-1)])  # create the log
    rates = []
    for b in range(args.batches):
        batch = [leaf_bytes(b * args.batch + i) for i in range(args.batch)]
        t0 = time.perf_counter()
        services.append_and_sign(community=community, leaves=batch)
        rates.append(args.batch / (time.perf_counter() - t0))
    median = statistics.median(rates)
    print(f"  append+sign: {args.batches} batches of {args.batch}: "
          + ", ".join(f"{r:,.0f}" for r in rates) + f" entries/s; median {median:,.0f}/s, "
          f"ratio to the {APPEND_TARGET:,.0f}/s target {median / APPEND_TARGET:.2f} (higher is better)")
    return median


def build_large(n: int):
    """A log of n entries, inserted in bulk; returns (community, MemoryTree)."""
    from django.db import connection, transaction

    from linli.core import tlog
    from linli.transparency import keys, services
    from linli.transparency.models import Log

    community = make_community("BENCHL")
    t0 = time.perf_counter()
    tree = tlog.MemoryTree()
    for i in range(n):
        tree.append(leaf_bytes(i))
    t_hash = time.perf_counter() - t0
    with transaction.atomic():
        log = Log.objects.create(community=community, origin=keys.origin_for(community))
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                with cursor.cursor.copy('COPY transparency_leaf (log_id, "index", data, hash) FROM STDIN') as copy:
                    for i in range(n):
                        copy.write_row((log.pk, i, leaf_bytes(i), tree.levels[0][i]))
                with cursor.cursor.copy('COPY transparency_node (log_id, level, "index", hash) FROM STDIN') as copy:
                    for h in range(1, len(tree.levels)):
                        for i, value in enumerate(tree.levels[h]):
                            copy.write_row((log.pk, h, i, value))
            else:
                for start in range(0, n, CHUNK):
                    cursor.executemany('INSERT INTO transparency_leaf (log_id, "index", data, hash) VALUES (%s, %s, %s, %s)',
                                       [(log.pk, i, leaf_bytes(i), tree.levels[0][i])
                                        for i in range(start, min(n, start + CHUNK))])
                rows = [(log.pk, h, i, v) for h in range(1, len(tree.levels)) for i, v in enumerate(tree.levels[h])]
                for start in range(0, len(rows), CHUNK):
                    cursor.executemany('INSERT INTO transparency_node (log_id, level, "index", hash) VALUES (%s, %s, %s, %s)',
                                       rows[start:start + CHUNK])
        Log.objects.filter(pk=log.pk).update(size=n)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE transparency_leaf; ANALYZE transparency_node")
    checkpoint = services.sign_checkpoint(community=community)
    assert bytes(checkpoint.root) == tree.root(), "the stored tree's root differs from the in-memory one"
    print(f"  built a log of {n:,} entries in {time.perf_counter() - t0:.1f} s "
          f"(hashing {t_hash:.1f} s, bulk insert and signing the rest)")
    return community, tree


def bench_proofs(community, tree, count: int) -> None:
    """Each proof twice: the view called directly (``RequestFactory``: parsing, queries, proof,
    JSON) and through Django's whole middleware stack (the test client)."""
    from django.test import Client, RequestFactory

    from linli.core import tlog
    from linli.transparency import views

    n = tree.size
    bound = (n - 1).bit_length()  # ⌈log₂ n⌉
    client, factory = Client(), RequestFactory()
    rng = random.Random(7)
    base = f"/disclosure/{community.code}/log/proof"
    kinds = {"inclusion": views.inclusion, "consistency": views.consistency}
    for _ in range(20):  # warm up
        client.get(f"{base}/inclusion", {"index": rng.randrange(n), "size": n})
    times = {(kind, way): [] for kind in kinds for way in ("view", "stack")}
    most = {"inclusion": 0, "consistency": 0}
    for _ in range(count):
        index, first = rng.randrange(n), rng.randrange(1, n)
        for kind, params in (("inclusion", {"index": index, "size": n}), ("consistency", {"first": first, "second": n})):
            request = factory.get(f"{base}/{kind}", params)
            t0 = time.perf_counter()
            response = kinds[kind](request, community.code)
            times[(kind, "view")].append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            client.get(f"{base}/{kind}", params)
            times[(kind, "stack")].append((time.perf_counter() - t0) * 1000)
            proof = [base64.b64decode(h) for h in json.loads(response.content)["hashes"]]
            if kind == "inclusion":
                tlog.verify_inclusion(tree.leaf(index), index, n, proof, tree.root())
            else:
                tlog.verify_consistency(first, n, tree.root(first), tree.root(), proof)
            most[kind] = max(most[kind], len(proof))
    for kind in kinds:
        view, stack = times[(kind, "view")], times[(kind, "stack")]
        print(f"  {kind} proof at {n:,} ({count} random): view p50 {pct(view, .5):.2f} ms, p95 {pct(view, .95):.2f} ms "
              f"(ratio to the {PROOF_TARGET_MS:.0f} ms target {pct(view, .95) / PROOF_TARGET_MS:.2f}, lower is "
              f"better); with all middleware p50 {pct(stack, .5):.2f} ms, p95 {pct(stack, .95):.2f} ms")
    print(f"  most hashes: inclusion {most['inclusion']}, consistency {most['consistency']} (⌈log₂ n⌉ = {bound}; "
          f"an RFC 9162 consistency proof can need ⌈log₂ n⌉ + 1); every proof verified")


def bench_verify(community, runs: int) -> float:
    from linli.transparency.verify import verify_log

    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        report = verify_log(community)
        times.append(time.perf_counter() - t0)
        assert report.ok, report.message
    median = statistics.median(times)
    print(f"  verify_log over {report.checked_entries:,} entries, {report.checked_checkpoints} checkpoint(s): "
          + ", ".join(f"{t:.1f}" for t in times) + f" s; median {median:.1f} s, ratio to the "
          f"{VERIFY_TARGET_S:.0f} s target {median / VERIFY_TARGET_S:.2f} (lower is better)")
    return median


def run_backend(args) -> None:
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    from linli.transparency import keys

    keys.keygen("bench.linli.test", Path(settings.LINLI_DISCLOSURE_KEY_FILE))
    print(f"{connection.vendor}:")
    bench_append(args)
    community, tree = build_large(args.entries)
    bench_proofs(community, tree, args.proofs)
    bench_verify(community, args.runs)


# --- the driver --------------------------------------------------------------------------------

def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=2000)
    parser.add_argument("--batches", type=int, default=5)
    parser.add_argument("--proofs", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3, help="verify_log runs (median)")
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)  # progress shows when the output is a file
    if args.entries < 2 or args.batch < 1 or args.batches < 1 or args.proofs < 1 or args.runs < 1:
        parser.error("--entries at least 2, the others at least 1")
    if args.backend:
        run_backend(args)
        return

    print(f"tlog benchmark: {args.entries:,} entries; machine: {os.cpu_count()} CPU(s), "
          f"Python {platform.python_version()}")
    server = os.environ.get("LINLI_DATABASE_URL")
    backends = ["sqlite"] + (["postgresql"] if server else [])
    failed = False
    for backend in backends:
        with ExitStack() as stack:
            data_dir = stack.enter_context(tempfile.TemporaryDirectory(prefix="linli-tlog-bench-"))
            env = dict(os.environ, LINLI_DATA_DIR=data_dir, LINLI_LOG_LEVEL="WARNING",
                       DJANGO_SETTINGS_MODULE="linli.config.settings",
                       LINLI_DISCLOSURE_KEY_FILE=str(Path(data_dir) / "signing.key"))
            os.makedirs(os.path.join(data_dir, "static"), exist_ok=True)
            env.pop("LINLI_DATABASE_URL", None)
            if backend == "postgresql":
                from intake_bench import fresh_database

                env["LINLI_DATABASE_URL"] = stack.enter_context(fresh_database(server))
            result = subprocess.run([sys.executable, "-m", "linli.config.cli", "migrate", "--verbosity", "0"],
                                    cwd=REPO, env=env, capture_output=True, text=True)
            if result.returncode:
                sys.exit(f"`linli migrate` failed:\n{result.stderr[-3000:]}")
            passed = [f"--{k}={v}" for k, v in vars(args).items() if k != "backend"]
            done = subprocess.run([sys.executable, __file__, *passed, f"--backend={backend}"], cwd=REPO, env=env)
            failed |= done.returncode != 0
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
