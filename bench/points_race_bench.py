#!/usr/bin/env python
"""100 simultaneous redemptions against one balance, over HTTP (issue 11, "Numbers").

One run: a fresh database (SQLite in a temporary data directory; with --pg URL, a fresh database
on that PostgreSQL server, dropped at the end), `linli migrate`, one community with one resident
holding --balance points, a canteen with an unlimited item of --price points and a terminal key,
then `linli serve --workers 2` and --requests threads, released together by a barrier, each
sending one `POST /api/v1/points/redemptions` with the key (`Authorization: Bearer`) and the
resident's counter code. Prints how many got 201, 409 and 5xx (must be 0), the final balance
read from the database (must be balance − floor(balance/price) × price, never negative), whether
the ledger's audit passes, and p50/p95 latency.

    .venv/bin/python bench/points_race_bench.py [--requests 100] [--balance 250] [--price 7]
                                               [--pg URL]
"""

from __future__ import annotations

import argparse
import http.client
import json
import platform
import sys
import textwrap
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from intake_bench import run_linli, stack  # noqa: E402  (the shared server-on-a-fresh-database helpers)

CODE = "RACE01"

SETUP = textwrap.dedent("""
    import datetime as dt
    from django.contrib.auth import get_user_model
    from linli.community.models import Building, Community, District, Grid, StaffRole, Street, Unit
    from linli.community.services import ResidentFacts, household_get_or_create, resident_create
    from linli.core.validators import id_check_digit
    from linli.points import catalogue, ledger, partners
    district = District.objects.create(code="990000", name="基准区")
    street = Street.objects.create(district=district, code="990000001", name="基准街道")
    community = Community.objects.create(street=street, code=CODE, name="基准社区")
    grid = Grid.objects.create(community=community, code="G01", name="一号院")
    building = Building.objects.create(community=community, grid=grid, name="1栋")
    unit = Unit.objects.create(community=community, building=building, number="1")
    household, _ = household_get_or_create(actor=None, unit=unit, room="101")
    first17 = "510106" + "19500101" + "001"
    resident = resident_create(actor=None, household=household, facts=ResidentFacts.clean(
        name="基准居民", id_number=first17 + id_check_digit(first17), phone="13900000001"))
    admin = get_user_model().objects.create_user(username="race-admin", password="x" * 20)
    StaffRole.objects.create(user=admin, role=StaffRole.Role.COMMUNITY_ADMIN, community=community)
    canteen = partners.partner_create(actor=admin, community=community, name="基准食堂", kind="canteen")
    catalogue.item_create(actor=admin, community=community, partner=canteen, code="meal", name="一餐",
                          kind="meal", points=PRICE)
    key, plaintext = partners.key_create(actor=admin, partner=canteen, name="bench till")
    ledger.post(community=community, kind="grant",
                lines=[(ledger.issuance(community), -BALANCE), (ledger.account_for(resident), BALANCE)])
    print(resident.pk, plaintext)
""")

TOKEN = ("from linli.community.models import Resident; from linli.points.tokens import resident_token; "
         "print(resident_token(Resident.objects.get(pk={pk})))")

CHECK = ("from linli.points.models import Account; from linli.points.ledger import audit; "
         "a = Account.objects.get(resident_id={pk}); r = audit(); print(a.balance, r.ok)")


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))] if values else float("nan")


def fire(port: int, key: str, token: str, n: int) -> tuple[list[int], list[float]]:
    barrier = threading.Barrier(n)
    statuses: list[int] = [0] * n
    times: list[float] = [0.0] * n
    body = json.dumps({"item": "meal", "quantity": 1, "resident_qr": token})

    def one(i: int):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        conn.connect()
        barrier.wait()
        start = time.perf_counter()
        try:
            conn.request("POST", "/api/v1/points/redemptions", body=body,
                         headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
            response = conn.getresponse()
            response.read()
            statuses[i] = response.status
        except OSError:
            statuses[i] = -1
        times[i] = (time.perf_counter() - start) * 1000
        conn.close()

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return statuses, times


def bench_one(label: str, pg_url: str | None, args) -> bool:
    with stack(label, pg_url) as s:
        run_linli(["migrate", "--verbosity", "0"], s.env)
        code = f"CODE = {CODE!r}\nPRICE = {args.price}\nBALANCE = {args.balance}\n" + SETUP
        pk, key = run_linli(["shell", "-c", code], s.env).strip().splitlines()[-1].split()
        s.start(workers=2)
        token = run_linli(["shell", "-c", TOKEN.format(pk=pk)], s.env).strip().splitlines()[-1]
        statuses, times = fire(s.port, key, token, args.requests)
        balance, audit_ok = run_linli(["shell", "-c", CHECK.format(pk=pk)], s.env).strip().splitlines()[-1].split()
    expected_ok = min(args.requests, args.balance // args.price)
    ok, conflict = statuses.count(201), statuses.count(409)
    errors = sum(1 for st in statuses if st >= 500 or st < 0)
    expected_balance = args.balance - expected_ok * args.price
    good = ok == expected_ok and conflict == args.requests - ok and errors == 0 and int(balance) == expected_balance \
        and int(balance) >= 0 and audit_ok == "True"
    print(f"\n{label}: {args.requests} simultaneous POST /api/v1/points/redemptions, balance {args.balance}, "
          f"price {args.price}")
    print(f"  201: {ok} (expected {expected_ok})   409: {conflict}   5xx/failed: {errors} (must be 0)   "
          f"other: {args.requests - ok - conflict - errors}")
    print(f"  final balance: {balance} (expected {expected_balance}); ledger audit ok: {audit_ok}")
    print(f"  latency p50 {pct(times, 0.5):.0f} ms, p95 {pct(times, 0.95):.0f} ms")
    print(f"  {'PASS' if good else 'FAIL'}")
    return good


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--balance", type=int, default=250)
    parser.add_argument("--price", type=int, default=7)
    parser.add_argument("--pg", metavar="URL", help="also on PostgreSQL: a server URL (a new database is made and dropped)")
    args = parser.parse_args(argv)
    print(f"points race bench · Python {platform.python_version()} · {platform.machine()}")
    good = bench_one("SQLite", None, args)
    if args.pg:
        good = bench_one("PostgreSQL", args.pg, args) and good
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main())
