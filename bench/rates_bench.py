#!/usr/bin/env python
"""How fast the three-rates dashboard answers for a street of 50 communities and 1,000,000 cases.

One run: a fresh database (PostgreSQL by default: --pg URL, LINLI_BENCH_PG_URL, or a
throwaway cluster started with `bash .ci/postgres.sh start --port 54470`; --sqlite for
a temporary SQLite file), `linli migrate`, one street of 50 communities (8 courtyards,
the default category tree and a property company each, the street's departments and
utilities), then --cases cases written by one INSERT … SELECT over a generated series
(in chunks): two years of submissions, with the acceptance, first contact, resolution,
closing and rating times the three rates count, and the last days still open.

The cases go in past the services, so the bench then rebuilds the three rates' rollup
(linli.cases.rollup.rebuild, timed: what `linli cases_rollup_rebuild` does) and checks
that the rollup-based totals equal the live count from the Case table.

Then it times what the dashboard (linli.cases.views.rates_dashboard) computes, calling
linli.cases.rates as the view does (the total, the monthly trend and the ranking, each
summed from the rollup plus the live parts), for:

* the street supervisor, the default last 12 months, ranked by community;
* one community's worker, the last 12 months, by courtyard;
* the street supervisor, the whole two years, by category;
* the page itself, GET /cases/console/rates/?by=community, rendered for the supervisor.

Each 20 times after 2 warm-up runs; prints p50 and p95 in ms and the p95's ratio to
the 300 ms target. The reference in the same run: the first scenario counted live from
the Case table (rates.three_rates_live, the computation before the rollup), --live-runs
times.

Last, the cost of keeping the rollup: --transitions cases of one community submitted,
accepted, dispatched and resolved through the services, in blocks of 50, alternately
with the rollup hook (workflow.transition → rollup.record) and with it switched off;
prints the time per case (3 transitions) both ways and the difference.

The database is a new one on the server (linli_bench_<pid>_<n>), dropped at the end.

    .venv/bin/python bench/rates_bench.py [--cases 1000000] [--runs 20] [--pg [URL]] [--explain]
    .venv/bin/python bench/rates_bench.py --sqlite [--cases 100000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
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

from intake_bench import fresh_database, postgres  # noqa: E402

TARGET_MS = 300.0
COMMUNITIES = 50
GRIDS = 8
CHUNK = 200_000


def migrate(env: dict) -> None:
    result = subprocess.run([sys.executable, "-m", "linli.config.cli", "migrate", "--verbosity", "0"], cwd=REPO,
                            env=env, capture_output=True, text=True)
    if result.returncode:
        sys.exit(f"`linli migrate` failed:\n{result.stderr[-3000:]}")


# --- the street ----------------------------------------------------------------------------

def build_street():
    """50 communities with courtyards, categories and units; a supervisor and a worker."""
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from linli.cases.defaults import install_default_categories
    from linli.community.models import Community, District, Grid, Organisation, StaffRole, Street

    K = Organisation.Kind
    with transaction.atomic():
        district = District.objects.create(code="990100", name="基准区")
        street = Street.objects.create(code="990100001", name="基准街道", district=district)
        for name in ("城市管理科", "社会事务科", "综治中心", "应急管理办公室", "社区发展治理办公室"):
            Organisation.objects.create(kind=K.STREET_DEPARTMENT, name=f"基准街道{name}", street=street)
        for name in ("自来水供水服务所", "供电中心", "燃气服务站"):
            Organisation.objects.create(kind=K.UTILITY, name=f"基准{name}", street=street)
        communities = []
        for i in range(1, COMMUNITIES + 1):
            c = Community.objects.create(street=street, code=f"BR{i:03d}", name=f"基准{i}社区")
            Grid.objects.bulk_create([Grid(community=c, code=f"G{j:02d}", name=f"{c.name}{j}号院")
                                      for j in range(1, GRIDS + 1)])
            Organisation.objects.create(kind=K.PROPERTY_COMPANY, name=f"基准{i}物业", community=c, street=street)
            install_default_categories(actor=None, community=c)
            communities.append(c)
        User = get_user_model()
        supervisor = User.objects.create_user("bench-supervisor", password="bench-only")
        StaffRole.objects.create(user=supervisor, role=StaffRole.Role.STREET_SUPERVISOR, street=street)
        worker = User.objects.create_user("bench-worker", password="bench-only")
        StaffRole.objects.create(user=worker, role=StaffRole.Role.COMMUNITY_WORKER, community=communities[0])
    return street, communities, supervisor, worker


def mapping_tables(communities) -> None:
    """Small lookup tables the generator joins: community k → ids; category and grid k → id."""
    from django.db import connection

    from linli.cases.models import Category
    from linli.community.models import Grid, Organisation

    comm_rows, cat_rows, grid_rows = [], [], []
    for k, c in enumerate(communities):
        categories = list(Category.objects.filter(community=c).order_by("pk"))
        parents = {x.parent_id for x in categories if x.parent_id}
        leaves = [x for x in categories if x.pk not in parents]
        grids = list(Grid.objects.filter(community=c).order_by("pk").values_list("pk", flat=True))
        prop = Organisation.objects.get(community=c, kind=Organisation.Kind.PROPERTY_COMPANY).pk
        comm_rows.append((k, c.pk, c.code, prop, len(leaves), len(grids)))
        cat_rows += [(c.pk, j, x.pk, x.default_unit_id or (x.parent.default_unit_id if x.parent_id else None))
                     for j, x in enumerate(leaves)]
        grid_rows += [(c.pk, j, g) for j, g in enumerate(grids)]
    with connection.cursor() as cur:
        cur.execute("CREATE TABLE bench_comm (k integer, id bigint, code varchar(20), prop bigint, ncat integer, "
                    "ngrid integer)")
        cur.execute("CREATE TABLE bench_cat (community_id bigint, k integer, id bigint, unit_id bigint)")
        cur.execute("CREATE TABLE bench_grid (community_id bigint, k integer, id bigint)")
        cur.executemany("INSERT INTO bench_comm VALUES (%s, %s, %s, %s, %s, %s)", comm_rows)
        cur.executemany("INSERT INTO bench_cat VALUES (%s, %s, %s, %s)", cat_rows)
        cur.executemany("INSERT INTO bench_grid VALUES (%s, %s, %s)", grid_rows)


# --- the generator ---------------------------------------------------------------------------

def insert_sql(vendor: str, now: dt.datetime, first: int, last: int) -> str:
    """One INSERT … SELECT writing cases first..last (a generated series, no rows through Python).

    Every number is a function of the series value g (cheap integer hashes in 0..1), so
    the data are the same on every run and on both databases."""
    now_utc = now.astimezone(dt.timezone.utc)
    if vendor == "postgresql":
        series = f"SELECT g::bigint AS g FROM generate_series({first}, {last}) AS g"

        def ts(x):
            return f"(TIMESTAMPTZ '{now_utc.isoformat()}' - ({x}) * INTERVAL '1 second')"
    else:
        series = (f"WITH RECURSIVE s(g) AS (SELECT {first} UNION ALL SELECT g + 1 FROM s WHERE g < {last}) "
                  f"SELECT g FROM s")
        stamp = now_utc.strftime("%Y-%m-%d %H:%M:%S")

        def ts(x):
            return f"strftime('%Y-%m-%d %H:%M:%f', '{stamp}', printf('%+.3f seconds', -({x})))"

    def r(a, b):
        return f"(((b.g * {a} + {b}) % 1000003) / 1000003.0)"

    working_on = "('dispatched', 'in_progress', 'resolved', 'closed')"
    contacted = "('in_progress', 'resolved', 'closed')"
    done = "('resolved', 'closed')"
    accepted = "('accepted', 'dispatched', 'in_progress', 'resolved', 'closed')"
    return f"""
    INSERT INTO cases_case (
        community_id, number, channel, status, urgency, description, category_id, needs_triage,
        suggestion_source, anonymous, place, grid_id, address, unit_id, first_unit_id,
        created_at, accepted_at, dispatched_at, first_contact_at, resolved_at, closed_at,
        response_due, resolve_due, response_reminded, resolve_reminded, response_overdue, resolve_overdue,
        escalation, reopen_count, return_count, reject_reason, resolution, rating, rating_comment, rated_at,
        updated_at)
    SELECT community_id, number, channel, status, 'normal', description, category_id, false,
        '', false, 'grid', grid_id, '',
        CASE WHEN status IN {working_on} THEN unit END,
        CASE WHEN status IN {working_on} THEN unit END,
        {ts('age')},
        CASE WHEN status IN {accepted} THEN {ts('age - a_off')} END,
        CASE WHEN status IN {working_on} THEN {ts('age - a_off - 300')} END,
        CASE WHEN status IN {contacted} THEN {ts('age - f_off')} END,
        CASE WHEN status IN {done} THEN {ts('age - res_off')} END,
        CASE WHEN status = 'closed' THEN {ts('age - clo_off')}
             WHEN status = 'rejected' THEN {ts('age - a_off')} END,
        CASE WHEN status IN {accepted} THEN {ts('age - a_off - 7200')} END,
        CASE WHEN status IN {accepted} THEN {ts('age - a_off - 432000')} END,
        false, false,
        status IN {accepted} AND (f_off - a_off > 7200) AND (status IN {contacted} OR age - a_off > 7200),
        status IN {accepted} AND (res_off - a_off > 432000) AND (status IN {done} OR age - a_off > 432000),
        0, 0, 0,
        CASE WHEN status = 'rejected' THEN '不属于本社区受理范围，已告知向相关部门反映。' ELSE '' END,
        CASE WHEN status IN {done} THEN '已处理完毕，已电话回复反映人。' ELSE '' END,
        CASE WHEN status <> 'closed' THEN '' WHEN r6 < 0.80 THEN 'satisfied' WHEN r6 < 0.93 THEN 'basic'
             WHEN r6 < 0.96 THEN 'unsatisfied' ELSE '' END,
        '',
        CASE WHEN status = 'closed' AND r6 < 0.96 THEN {ts('age - clo_off')} END,
        {ts('0')}
    FROM (
        SELECT x.*,
            CASE WHEN r5 < 0.03 THEN (CASE WHEN age > a_off THEN 'rejected' ELSE 'submitted' END)
                 WHEN age > clo_off THEN 'closed'
                 WHEN age > res_off THEN 'resolved'
                 WHEN age > f_off THEN 'in_progress'
                 WHEN age > a_off + 300 THEN 'dispatched'
                 WHEN age > a_off THEN 'accepted'
                 ELSE 'submitted' END AS status
        FROM (
            SELECT c.id AS community_id, 'B' || c.code || '-' || CAST(b.g AS TEXT) AS number,
                CASE b.g % 10 WHEN 0 THEN 'phone' WHEN 1 THEN 'phone' WHEN 2 THEN 'patrol' WHEN 3 THEN 'walk_in'
                              WHEN 4 THEN 'open311' ELSE 'web' END AS channel,
                '基准诉求第' || CAST(b.g AS TEXT) || '号：小区公共设施需要维修，请尽快处理。' AS description,
                cat.id AS category_id, COALESCE(cat.unit_id, c.prop) AS unit, gr.id AS grid_id,
                {r(7919, 17)} * 63072000 AS age,
                600 + {r(104729, 31)} * 7200 AS a_off,
                900 + {r(104729, 31)} * 7200 + {r(15485863, 7)} * 7800 AS f_off,
                4500 + {r(104729, 31)} * 7200 + {r(15485863, 7)} * 7800 + {r(32452843, 3)} * 470000 AS res_off,
                8100 + {r(104729, 31)} * 7200 + {r(15485863, 7)} * 7800 + {r(32452843, 3)} * 470000
                     + {r(49979687, 5)} * 259200 AS clo_off,
                {r(67867967, 11)} AS r5,
                {r(86028121, 19)} AS r6
            FROM ({series}) AS b
            JOIN bench_comm c ON c.k = b.g % {COMMUNITIES}
            JOIN bench_cat cat ON cat.community_id = c.id AND cat.k = (b.g / {COMMUNITIES}) % c.ncat
            JOIN bench_grid gr ON gr.community_id = c.id AND gr.k = ((b.g / {COMMUNITIES}) * 7 + 3) % c.ngrid
        ) AS x
    ) AS y
    """


def generate(n: int, now: dt.datetime) -> float:
    from django.db import connection, transaction

    started = time.perf_counter()
    for first in range(1, n + 1, CHUNK):
        last = min(n, first + CHUNK - 1)
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(insert_sql(connection.vendor, now, first, last))
        print(f"  … {last:,} cases ({time.perf_counter() - started:.0f} s)", flush=True)
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    return time.perf_counter() - started


# --- the timing -------------------------------------------------------------------------------

def months_back(today: dt.date, months: int) -> dt.date:
    month0 = today.year * 12 + today.month - 1 - (months - 1)
    return dt.date(month0 // 12, month0 % 12 + 1, 1)


def dashboard(user, *, by: str, rate: str, start: dt.date, end: dt.date, live: bool = False) -> int:
    """What rates_dashboard computes: the total, the monthly trend, the ranking.
    ``live``: the same from the Case table (the reference)."""
    from django.utils import timezone

    from linli.cases import rates, selectors

    cases = selectors.cases_for(user) if live else rates.reach_of(user)
    now = timezone.now()
    total = rates.three_rates(cases, start=start, end=end, now=now)[0]
    monthly = rates.three_rates(cases, by="month", start=start, end=end, now=now)
    ranked = rates.ranking(cases, by=by, rate=rate, start=start, end=end, now=now)
    return total.counts["submitted"] + len(monthly) + len(ranked)


def rebuild_rollup() -> float:
    from linli.cases import rollup

    started = time.perf_counter()
    rows = rollup.rebuild()
    seconds = time.perf_counter() - started
    print(f"rollup rebuilt for the street: {rows:,} rows in {seconds:.1f} s")
    return seconds


def check_equal(supervisor) -> None:
    """The rollup's numbers are the live count's, for the street and by community and month."""
    from django.utils import timezone

    from linli.cases import rates, selectors

    now = timezone.now()
    for by in ((), ("community", "month")):
        summed = rates.three_rates(rates.reach_of(supervisor), by=by, now=now)
        counted = rates.three_rates_live(selectors.cases_for(supervisor), by=by, now=now)
        if [(r.key, r.counts) for r in summed] != [(r.key, r.counts) for r in counted]:
            sys.exit(f"the rollup's numbers differ from the live count (by {by or 'nothing'})")
    print("rollup totals = live totals (by nothing; by community and month)")


def explain_pending(supervisor) -> None:
    """EXPLAIN ANALYZE of the one live query on the rollup path (responses fallen due)."""
    from django.db import connection
    from django.db.models import Count
    from django.utils import timezone

    from linli.cases import rates
    from linli.cases.models import Case

    reach = rates.reach_of(supervisor)
    pending = (Case.objects.filter(reach.org_q())
               .filter(response_due__isnull=False, first_contact_at__isnull=True, response_due__lte=timezone.now())
               .exclude(status=Case.Status.MERGED).order_by().values("community_id").annotate(n=Count("pk")))
    sql, params = pending.query.sql_with_params()
    with connection.cursor() as cur:
        cur.execute("EXPLAIN ANALYZE " + sql, params)
        print("EXPLAIN ANALYZE (pending responses, street supervisor, by community):")
        for (line,) in cur.fetchall():
            print("  " + line)


def transitions(n: int, community, worker) -> None:
    """Time per case of submit + accept + dispatch + resolve, with and without the rollup hook."""
    from linli.cases import rollup, services
    from linli.cases.models import Case, Category
    from linli.community.models import Grid, Organisation

    categories = list(Category.objects.filter(community=community, parent__isnull=False, active=True)
                      .order_by("pk"))
    grids = list(Grid.objects.filter(community=community).order_by("pk"))
    unit = Organisation.objects.get(community=community, kind=Organisation.Kind.PROPERTY_COMPANY)
    hooks = (rollup.snapshot, rollup.record)

    def one(i: int) -> None:
        case, _ = services.case_submit(actor=worker, intake=services.Intake(
            community=community, channel=Case.Channel.PATROL, description=f"基准巡查发现问题第{i}号，请处理。",
            category=categories[i % len(categories)], grid=grids[i % len(grids)]))
        case = services.case_accept(actor=worker, case=case)
        case = services.case_dispatch(actor=worker, case=case, unit=unit)
        services.case_resolve(actor=worker, case=case, resolution="已处理完毕。")

    spent = {True: 0.0, False: 0.0}
    done = {True: 0, False: 0}
    block = 50
    try:
        for b in range(0, 2 * n, block):
            hooked = (b // block) % 2 == 0
            if hooked:
                rollup.snapshot, rollup.record = hooks
            else:
                rollup.snapshot, rollup.record = (lambda case: None), (lambda before, case: None)
            started = time.perf_counter()
            for i in range(b, min(2 * n, b + block)):
                one(i)
            spent[hooked] += time.perf_counter() - started
            done[hooked] += min(2 * n, b + block) - b
    finally:
        rollup.snapshot, rollup.record = hooks
    with_hook, without = spent[True] / done[True] * 1000, spent[False] / done[False] * 1000
    print(f"{done[True]:,} cases each way, submit + accept + dispatch + resolve (4 writes, 3 transitions):")
    print(f"  with the rollup hook {with_hook:.2f} ms a case, without {without:.2f} ms, "
          f"overhead {with_hook - without:+.2f} ms a case ({(with_hook - without) / 4:+.2f} ms a write, "
          f"{(with_hook / without - 1) * 100:+.1f} %)")


def timed(fn, runs: int, warm: int = 2) -> tuple[float, float, object]:
    for _ in range(warm):
        fn()
    samples, last = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        last = fn()
        samples.append((time.perf_counter() - t0) * 1000)
    samples.sort()
    p95 = samples[min(len(samples) - 1, int(round(0.95 * (len(samples) - 1))))]
    return statistics.median(samples), p95, last


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=None, help="default 1,000,000 (PostgreSQL), 100,000 (SQLite)")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--pg", nargs="?", const="", default=None, metavar="URL",
                        help="PostgreSQL server URL (default: LINLI_BENCH_PG_URL, else a throwaway cluster)")
    parser.add_argument("--sqlite", action="store_true", help="a temporary SQLite database instead")
    parser.add_argument("--live-runs", type=int, default=3, help="runs of the live reference (default 3)")
    parser.add_argument("--transitions", type=int, default=1000,
                        help="cases moved each way for the rollup's cost (default 1000; 0: skip)")
    parser.add_argument("--explain", action="store_true", help="print EXPLAIN ANALYZE of the live query")
    args = parser.parse_args(argv)
    n = args.cases or (100_000 if args.sqlite else 1_000_000)
    if n < COMMUNITIES or args.runs < 1 or args.live_runs < 0 or args.transitions < 0:
        parser.error(f"--cases must be at least {COMMUNITIES}, --runs at least 1, the others at least 0")

    with ExitStack() as stack:
        data_dir = stack.enter_context(tempfile.TemporaryDirectory(prefix="linli-rates-bench-"))
        env = dict(os.environ, LINLI_DATA_DIR=data_dir, LINLI_LOG_LEVEL="WARNING")
        os.makedirs(os.path.join(data_dir, "static"), exist_ok=True)   # whitenoise looks for it
        env.pop("LINLI_DATABASE_URL", None)
        if args.sqlite:
            label = "SQLite"
        else:
            server = args.pg or os.environ.get("LINLI_BENCH_PG_URL") or None
            url = stack.enter_context(postgres(server))
            env["LINLI_DATABASE_URL"] = stack.enter_context(fresh_database(url))
            label = "PostgreSQL"
        migrate(env)
        os.environ.clear()
        os.environ.update(env)
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linli.config.settings")
        import django

        django.setup()
        from django.db import connection
        from django.test import Client
        from django.utils import timezone

        print(f"rates benchmark: {label}, 1 street, {COMMUNITIES} communities, {n:,} cases, {args.runs} runs each")
        print(f"machine: {os.cpu_count()} CPU(s), Python {platform.python_version()}")
        street, communities, supervisor, worker = build_street()
        mapping_tables(communities)
        now = timezone.now()
        print("generating cases:")
        seconds = generate(n, now)
        with connection.cursor() as cur:
            cur.execute("SELECT COUNT(*) FROM cases_case")
            written = cur.fetchone()[0]
            cur.execute("SELECT status, COUNT(*) FROM cases_case GROUP BY status ORDER BY 2 DESC")
            mix = ", ".join(f"{status} {count:,}" for status, count in cur.fetchall())
        print(f"generated {written:,} cases in {seconds:.1f} s ({mix})")
        rebuild_rollup()
        with connection.cursor() as cur:
            cur.execute("ANALYZE")
        check_equal(supervisor)
        if args.explain and connection.vendor == "postgresql":
            explain_pending(supervisor)
        from linli.cases import rates

        total = rates.three_rates(rates.reach_of(supervisor))[0]
        print("street totals: " + ", ".join(
            f"{name} rate {total.rate(name) * 100:.1f}%" for name in rates.RATES if total.rate(name) is not None))

        today = timezone.localdate()
        last12, last24 = months_back(today, 12), months_back(today, 25)
        scenarios = [
            ("street supervisor, 12 months, by community",
             lambda: dashboard(supervisor, by="community", rate="response", start=last12, end=today)),
            ("community worker, 12 months, by courtyard",
             lambda: dashboard(worker, by="grid", rate="satisfaction", start=last12, end=today)),
            ("street supervisor, 25 months, by category",
             lambda: dashboard(supervisor, by="top_category", rate="resolution", start=last24, end=today)),
        ]
        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(supervisor)

        def page():
            response = client.get("/cases/console/rates/", {"by": "community", "rate": "response"})
            if response.status_code != 200:
                sys.exit(f"GET /cases/console/rates/ answered {response.status_code}")
            return len(response.content)

        scenarios.append(("page GET /cases/console/rates/?by=community (supervisor)", page))
        print()
        print(f"{'what':<58}{'p50 ms':>9}{'p95 ms':>9}{'p95/300ms':>11}")
        worst = 0.0
        for name, fn in scenarios:
            p50, p95, _ = timed(fn, args.runs)
            worst = max(worst, p95)
            print(f"{name:<58}{p50:>9.1f}{p95:>9.1f}{p95 / TARGET_MS:>11.2f}")
        if args.live_runs:
            name = "reference: the first, counted live from the Case table"
            p50, p95, _ = timed(lambda: dashboard(supervisor, by="community", rate="response", start=last12,
                                                  end=today, live=True), args.live_runs, warm=1)
            print(f"{name:<58}{p50:>9.1f}{p95:>9.1f}{p95 / TARGET_MS:>11.2f}")
        print()
        print(f"worst p95: {worst:.1f} ms   target {TARGET_MS:.0f} ms   ratio {worst / TARGET_MS:.2f} "
              f"({'within' if worst <= TARGET_MS else 'OVER'} target)")
        if args.transitions:
            print()
            transitions(args.transitions, communities[0], worker)
        connection.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
