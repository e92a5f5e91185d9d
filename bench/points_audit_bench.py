#!/usr/bin/env python
"""The points ledger's audit over 1,000,000 postings (issue 11, "Numbers": ≤ 10 s on PostgreSQL).

One run per backend: a fresh database (SQLite in a temporary data directory; with --pg URL, a
fresh database on that PostgreSQL server, dropped at the end), `migrate`, one community with
--accounts partner accounts, then --postings postings written as history (two postings a
transaction: grants from issuance, and transfers between accounts that never overdraw) by plain
`executemany` (--writer raw, the default) or through `ledger.post_bulk` (--writer post_bulk, which
also writes an event per transaction); either way the transactions go in unposted and are posted
by `UPDATE … SET posted` in batches, so the database's triggers check every sum and move every
balance,
then `ledger.audit()` (all communities) timed --runs times. Prints the write time, the median
audit time and its ratio to the 10 s target (≤ 1.00 meets it), and that the audit passed.

    .venv/bin/python bench/points_audit_bench.py [--postings 1000000] [--accounts 1000] [--runs 3]
                                                [--writer raw|post_bulk] [--pg URL] [--no-sqlite]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
TARGET_S = 10.0
CHUNK = 50_000  # drafts per post_bulk call (memory)


def raw_write(connection, community, drafts) -> int:
    """The drafts as rows by plain ``executemany`` (no events, no per-field preparation): the
    transactions unposted, their postings, then ``UPDATE … SET posted`` in batches — the same
    statements ``post_bulk`` ends with, so the triggers still check every sum and move the balances."""
    from linli.points.ledger import POST_BATCH

    adapt = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM points_transaction")
        last = cursor.fetchone()[0]
        cursor.executemany(
            "INSERT INTO points_transaction (community_id, kind, memo, source_type, source_id, posted, created_at, "
            "effective_at) VALUES (%s, %s, '', '', '', %s, %s, %s)",
            [(community.pk, d.kind, False, adapt(d.at), adapt(d.at)) for d in drafts])
        cursor.execute("SELECT id FROM points_transaction WHERE id > %s ORDER BY id", [last])
        ids = [row[0] for row in cursor.fetchall()]
        assert len(ids) == len(drafts)
        cursor.executemany(
            "INSERT INTO points_posting (transaction_id, account_id, amount, created_at) VALUES (%s, %s, %s, %s)",
            [(tid, account.pk, amount, adapt(d.at)) for tid, d in zip(ids, drafts) for account, amount in d.lines])
        for start in range(0, len(ids), POST_BATCH):
            batch = ids[start:start + POST_BATCH]
            cursor.execute(f"UPDATE points_transaction SET posted = %s WHERE id IN ({', '.join(['%s'] * len(batch))})",
                           [True, *batch])
    return len(ids)


def inner(postings: int, accounts: int, runs: int, writer: str) -> dict:
    import django

    django.setup()
    import datetime as dt

    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from linli.community.models import Community, District, Street
    from linli.points import ledger
    from linli.points.models import Partner

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    migrate_s = time.perf_counter() - started
    district = District.objects.create(code="990000", name="基准区")
    street = Street.objects.create(district=district, code="990000001", name="基准街道")
    community = Community.objects.create(street=street, code="AUDIT01", name="基准社区")
    Partner.objects.bulk_create([Partner(community=community, name=f"商户{i}", kind="shop") for i in range(accounts)])
    holders = [ledger.partner_account(p) for p in Partner.objects.filter(community=community).order_by("pk")]
    issuance = ledger.issuance(community)
    rng = random.Random(11)
    balances = [0] * len(holders)
    start = timezone.now() - dt.timedelta(days=730)
    step = dt.timedelta(days=730) / max(1, postings // 2)
    written = 0
    write_started = time.perf_counter()
    n_txn = postings // 2
    i = 0
    while i < n_txn:
        drafts = []
        for _ in range(min(CHUNK, n_txn - i)):
            a = rng.randrange(len(holders))
            at = start + step * i
            if balances[a] >= 2 and rng.random() < 0.5:   # a transfer within what a holds
                b = rng.randrange(len(holders))
                b = b if b != a else (a + 1) % len(holders)
                n = rng.randint(1, balances[a])
                balances[a] -= n
                balances[b] += n
                drafts.append(ledger.Draft("gift", [(holders[a], -n), (holders[b], n)], at))
            else:
                n = rng.randint(1, 30)
                balances[a] += n
                drafts.append(ledger.Draft("grant", [(issuance, -n), (holders[a], n)], at))
            i += 1
        with transaction.atomic():
            if writer == "post_bulk":
                written += ledger.post_bulk(community=community, drafts=drafts)
            else:
                written += raw_write(connection, community, drafts)
    write_s = time.perf_counter() - write_started
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    times, result = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = ledger.audit()
        times.append(time.perf_counter() - t0)
    return {"writer": writer, "vendor": connection.vendor, "migrate_s": migrate_s, "transactions": written, "write_s": write_s,
            "audit_times": times, "median_s": statistics.median(times), "ok": result.ok,
            "postings": result.postings, "accounts": result.accounts, "problem": result.problem}


def run_backend(label: str, pg_url: str | None, args) -> dict:
    from intake_bench import fresh_database  # the shared helper: a new database on the server, dropped after

    with tempfile.TemporaryDirectory(prefix="linli-audit-bench-") as data_dir:
        env = dict(os.environ, LINLI_DATA_DIR=data_dir, LINLI_LOG_LEVEL="WARNING",
                   DJANGO_SETTINGS_MODULE="linli.config.settings")
        env.pop("LINLI_DATABASE_URL", None)
        command = [sys.executable, __file__, "--inner", "--postings", str(args.postings), "--accounts",
                   str(args.accounts), "--runs", str(args.runs), "--writer", args.writer]
        if pg_url is None:
            done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
        else:
            with fresh_database(pg_url) as url:
                env["LINLI_DATABASE_URL"] = url
                done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
        if done.returncode:
            sys.exit(f"{label} run failed ({done.returncode}):\n{done.stderr[-3000:]}")
        return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postings", type=int, default=1_000_000)
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--pg", default=None, help="a PostgreSQL server URL (a fresh database is made on it)")
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    parser.add_argument("--writer", choices=("raw", "post_bulk"), default="raw",
                        help="how the history is written: plain executemany (default) or ledger.post_bulk "
                             "(with its events); both post through the database's triggers")
    parser.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inner:
        print(json.dumps(inner(args.postings, args.accounts, args.runs, args.writer)))
        return
    print(f"points audit bench: {args.postings:,} postings, {args.accounts} accounts, median of {args.runs}; "
          f"{platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} CPUs, "
          f"load {os.getloadavg()[0]:.1f}")
    backends = ([] if args.no_sqlite else [("sqlite", None)]) + ([("postgresql", args.pg)] if args.pg else [])
    for label, url in backends:
        r = run_backend(label, url, args)
        times = ", ".join(f"{t:.2f}" for t in r["audit_times"])
        print(f"{label:10s} wrote {r['transactions']:,} transactions / {r['postings']:,} postings in "
              f"{r['write_s']:.1f} s ({r['writer']}, posted by the triggers); audit {times} s → median {r['median_s']:.2f} s, "
              f"ratio to the {TARGET_S:.0f} s target {r['median_s'] / TARGET_S:.2f}; "
              f"audit {'ok' if r['ok'] else 'FAILED: ' + str(r['problem'])}")


if __name__ == "__main__":
    main()
