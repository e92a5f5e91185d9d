#!/usr/bin/env python
"""A resident's points statement page, p50/p95 over HTTP, against a big ledger (issue 11, "Numbers").

    .venv/bin/python bench/points_statement_bench.py [--postings 1000000] [--mine 500] [--requests 200]

A fresh database (SQLite in a temporary data directory; PostgreSQL instead when
LINLI_DATABASE_URL names a server: a fresh database is created on it for the run and dropped
after) gets one community, one resident with an account, 200 partners (their accounts stand for
everybody else), and a ledger of ``--postings`` postings written through
``linli.points.ledger.post_bulk`` (so the database's triggers post every transaction and move
the balances): grants issuance → partner, and among them ``--mine`` grants to the resident,
spread over two years. Then the resident, signed in, asks for ``GET /points/me`` (the first page)
and ``GET /points/me?page=N`` (a random page) ``--requests`` times each through Django's test
client (URL resolution, middleware, session, the view, the template; no socket), after 5
warm-up requests. Prints p50 and p95 in ms and the ratio to the 100 ms target.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

TARGET_MS = 100.0
CODE = "PTSB"
BATCH = 50_000


def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def setup(data_dir: str, db_url: str | None) -> None:
    os.environ["LINLI_DATA_DIR"] = data_dir
    Path(data_dir, "static").mkdir(exist_ok=True)
    os.environ["LINLI_LOG_LEVEL"] = "WARNING"
    os.environ.pop("LINLI_DATABASE_URL", None)
    if db_url:
        os.environ["LINLI_DATABASE_URL"] = db_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linli.config.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.test.utils import setup_test_environment

    setup_test_environment()
    call_command("migrate", verbosity=0)


def build(postings: int, mine: int):
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import transaction
    from django.utils import timezone

    from linli.community.models import Building, Community, District, Grid, Street, Unit
    from linli.community.services import ResidentFacts, household_get_or_create, resident_create
    from linli.points import ledger
    from linli.points.models import Partner

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with transaction.atomic():
        district = District.objects.create(code="990200", name="基准区")
        street = Street.objects.create(code="990200001", name="基准街道", district=district)
        community = Community.objects.create(street=street, code=CODE, name="基准社区")
        grid = Grid.objects.create(community=community, code="G01", name="一号院")
        building = Building.objects.create(community=community, grid=grid, name="1栋")
        unit = Unit.objects.create(community=community, building=building, number="1")
        household, _ = household_get_or_create(actor=None, unit=unit, room="101")
        resident = resident_create(actor=None, household=household, facts=ResidentFacts.clean(
            name="基准居民", id_number="11010519491231002X", phone="13900000001"))
        user = get_user_model().objects.create_user("bench-resident", password="bench-only")
        resident.user = user
        resident.save(update_fields=["user"])
        partners = [Partner.objects.create(community=community, name=f"P{i}", kind="shop") for i in range(200)]
        others = [ledger.partner_account(p) for p in partners]
        me = ledger.account_for(resident)
        issuance = ledger.issuance(community)

    n_txn = postings // 2
    rng = random.Random(11)
    start = timezone.now() - dt.timedelta(days=730)
    step = dt.timedelta(days=730) / n_txn
    mine_at = set(rng.sample(range(n_txn), min(mine, n_txn)))
    t0 = time.perf_counter()
    written = 0
    for lo in range(0, n_txn, BATCH):
        drafts = []
        for i in range(lo, min(n_txn, lo + BATCH)):
            target = me if i in mine_at else others[i % len(others)]
            points = rng.randint(1, 30)
            drafts.append(ledger.Draft(kind="grant", lines=[(issuance, -points), (target, points)],
                                       at=start + step * i, memo="bench"))
        with transaction.atomic():
            written += ledger.post_bulk(community=community, drafts=drafts)
    print(f"ledger: {written} transactions, {written * 2} postings written in {time.perf_counter() - t0:.1f} s")
    return community, resident, me


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--postings", type=int, default=1_000_000)
    parser.add_argument("--mine", type=int, default=500)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    db_url = os.environ.get("LINLI_DATABASE_URL")
    with tempfile.TemporaryDirectory(prefix="linli-points-bench-") as data_dir:
        pg_name = None
        if db_url and db_url.startswith("postgres"):
            import psycopg

            pg_name = f"linli_points_bench_{os.getpid()}"
            base = db_url.rsplit("/", 1)[0]
            with psycopg.connect(base + "/postgres", autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{pg_name}"')
            db_url = f"{base}/{pg_name}"
        try:
            setup(data_dir, db_url)
            run(args)
        finally:
            if pg_name:
                from django.db import connections

                connections.close_all()
                with psycopg.connect(db_url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{pg_name}"')


def run(args) -> None:
    from django.db import connection
    from django.test import Client

    from linli.points.models import Posting

    community, resident, me = build(args.postings, args.mine)
    total = Posting.objects.count()
    own = Posting.objects.filter(account=me).count()
    print(f"backend: {connection.vendor}; postings in the ledger: {total}; the resident's: {own}")
    client = Client()
    assert client.login(username="bench-resident", password="bench-only")
    pages = max(1, -(-own // 20))
    for _ in range(5):
        assert client.get("/points/me").status_code == 200
    rng = random.Random(5)
    for label, paths in (("first page", ["/points/me"] * args.requests),
                         ("a random page", [f"/points/me?page={rng.randint(1, pages)}" for _ in range(args.requests)])):
        times = []
        for path in paths:
            t = time.perf_counter()
            response = client.get(path)
            times.append((time.perf_counter() - t) * 1000)
            assert response.status_code == 200
        p50, p95 = statistics.median(times), pct(times, 0.95)
        print(f"statement page, {label}: p50 {p50:.1f} ms, p95 {p95:.1f} ms "
              f"(target p95 ≤ {TARGET_MS:.0f} ms: ratio {p95 / TARGET_MS:.2f})")


if __name__ == "__main__":
    main()
