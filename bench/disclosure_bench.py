#!/usr/bin/env python
"""How fast the public board answers and how fast one entry is published, over HTTP.

One run, in this process: a fresh database (a temporary SQLite file by default; --pg URL
for a new database on that PostgreSQL server, dropped at the end), `migrate`, one community
with its office (a worker who writes, an admin who approves, the party secretary), a signing
key made with linli.transparency.keys.keygen in the temporary data dir, the default duties,
and --entries published entries (10,000 by default) in the three sections over the past year.

The --entries are written past the board's one-by-one services, to be quick: Entry rows with
``bulk_create``, their leaves (linli.disclosure.leaf.header_bytes, the function the board's own
check calls) appended through linli.transparency.services.append_and_sign in batches of 1,000
(one signed checkpoint per batch). The log verifies afterwards (checked).

Then, through Django's test client (a full request: URL resolution, middleware, sessions,
the view and its template; no network socket):

* publish: --publishes drafts written and submitted by the worker through the services
  beforehand, each approved by the admin with ``POST /disclosure/<code>/office/e/<pk>/move/publish/``
  (the office's button: the view calls linli.disclosure.services.publish, which appends the
  leaf and signs a checkpoint in the same transaction). Target: p95 ≤ 50 ms.
* board: ``GET /disclosure/<code>/`` (anonymous, first page), --runs times after 3 warm-ups;
  also with ``?section=finance``, a period filter and a search ``?q=`` for reference.
  Target: p95 ≤ 100 ms for the board page.

Prints every scenario's median and p95 in ms and the p95's ratio to its target.

    .venv/bin/python bench/disclosure_bench.py [--entries 10000] [--runs 100] [--publishes 200] [--pg URL]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

PUBLISH_TARGET_MS = 50.0
BOARD_TARGET_MS = 100.0
BATCH = 1000
CODE = "BENCH01"

WORDS = ("居民议事会", "公共收益", "党员大会", "低保对象", "高龄津贴", "楼道照明", "院落微更新", "停车收益",
         "志愿服务", "防汛演练", "助餐补贴", "党费收缴", "活动室", "垃圾分类", "电梯维保", "消防检查")


def setup(data_dir: str, db_url: str | None) -> None:
    os.environ["LINLI_DATA_DIR"] = data_dir
    Path(data_dir, "static").mkdir(exist_ok=True)   # no collectstatic here: quiet the static files' warning
    os.environ["LINLI_LOG_LEVEL"] = "WARNING"
    os.environ.pop("LINLI_DATABASE_URL", None)
    if db_url:
        os.environ["LINLI_DATABASE_URL"] = db_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linli.config.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.test.utils import setup_test_environment

    setup_test_environment()   # the test client's host; mail to memory
    call_command("migrate", verbosity=0)


def build_world(data_dir: str):
    """One community, its office accounts, the signing key and the default duties."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from linli.community.models import Community, District, StaffRole, Street
    from linli.disclosure import services
    from linli.transparency import keys

    settings.LINLI_DISCLOSURE_KEY_FILE = str(Path(data_dir) / "bench-signing.key")
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    keys.keygen("bench.example", Path(settings.LINLI_DISCLOSURE_KEY_FILE))
    R = StaffRole.Role
    with transaction.atomic():
        district = District.objects.create(code="990100", name="基准区")
        street = Street.objects.create(code="990100001", name="基准街道", district=district)
        community = Community.objects.create(street=street, code=CODE, name="基准社区")
        User = get_user_model()
        people = {}
        for username, role in (("worker", R.COMMUNITY_WORKER), ("admin", R.COMMUNITY_ADMIN),
                               ("secretary", R.PARTY_SECRETARY)):
            people[username] = User.objects.create_user(f"bench-{username}", password="bench-only")
            StaffRole.objects.create(user=people[username], role=role, community=community)
        services.install_default_duties(community=community, since=dt.date.today() - dt.timedelta(days=365))
    return community, people


def fill(community, n: int) -> float:
    """n published entries over the past year, leaves appended in batches; seconds taken."""
    from django.db import transaction
    from django.utils import timezone

    from linli.disclosure import leaf
    from linli.disclosure.models import Entry
    from linli.transparency import services as log

    rng = random.Random(7)
    started = time.perf_counter()
    now = timezone.now().replace(microsecond=0)
    first = now - dt.timedelta(days=365)
    step = dt.timedelta(days=365) / max(n, 1)
    sections = ("party", "party", "residential", "finance")
    roles = {"party": "party_secretary", "residential": "community_admin", "finance": "community_admin"}
    for start in range(0, n, BATCH):
        rows, leaves = [], []
        for i in range(start, min(n, start + BATCH)):
            section = sections[i % len(sections)]
            when = first + step * i
            day = timezone.localtime(when).date()
            words = rng.sample(WORDS, 3)
            title = f"{day:%Y年%m月}{words[0]}情况公示（{i + 1}）"
            body = "\n".join(f"{k + 1}. 关于{w}的事项，经议定后公布，请居民监督。" for k, w in enumerate(words))
            entry = Entry(community=community, section=section, title=title, body=body, period_start=day.replace(day=1),
                          period_end=day, state=Entry.State.PUBLISHED, author_role="community_worker",
                          approver_role=roles[section], submitted_at=when, published_at=when)
            entry.content_sha256 = leaf.content_sha256(entry)
            rows.append(entry)
            leaves.append(leaf.header_bytes(
                type_="entry", community=community.code, section=section, period_start=entry.period_start,
                period_end=entry.period_end, published=when, author_role=entry.author_role,
                approver_role=entry.approver_role, content_sha256=entry.content_sha256, attachments=[],
                supersedes=None, withdraws=None))
        with transaction.atomic():
            indexes, _checkpoint = log.append_and_sign(community=community, leaves=leaves)
            for entry, index in zip(rows, indexes):
                entry.log_index = index
            Entry.objects.bulk_create(rows, batch_size=500)
    return time.perf_counter() - started


def timed(fn, runs: int, warm: int = 3) -> list[float]:
    for _ in range(warm):
        fn()
    out = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        out.append((time.perf_counter() - started) * 1000)
    return out


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=10_000, help="published entries on the board (default 10,000)")
    parser.add_argument("--runs", type=int, default=100, help="board requests per scenario (default 100)")
    parser.add_argument("--publishes", type=int, default=200, help="entries published over HTTP (default 200)")
    parser.add_argument("--pg", metavar="URL", help="a PostgreSQL server URL (a new database is made and dropped)")
    args = parser.parse_args(argv)
    if args.entries < 0 or args.runs < 1 or args.publishes < 1:
        parser.error("--entries ≥ 0, --runs ≥ 1, --publishes ≥ 1")

    with ExitStack() as stack:
        data_dir = stack.enter_context(tempfile.TemporaryDirectory(prefix="linli-disclosure-bench-"))
        db_url = None
        if args.pg:
            from intake_bench import fresh_database
            db_url = stack.enter_context(fresh_database(args.pg))
        setup(data_dir, db_url)
        from django.db import connection
        from django.test import Client

        from linli.disclosure import services
        from linli.disclosure.models import Entry
        from linli.transparency.verify import verify_log

        print(f"disclosure benchmark: {args.entries:,} entries, {args.runs} board requests per scenario, "
              f"{args.publishes} publishes; database {connection.vendor}")
        print(f"machine: {os.cpu_count()} CPU(s), load average {os.getloadavg()[0]:.1f}, "
              f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}")
        community, people = build_world(data_dir)
        seconds = fill(community, args.entries)
        print(f"filled {args.entries:,} published entries in {seconds:.1f} s")

        # Publishing: drafts written and submitted beforehand, approved over HTTP one by one.
        drafts = []
        for i in range(args.publishes + 3):
            draft = services.create_draft(
                actor=people["worker"], community=community, section="residential", title=f"基准通知（{i + 1}）",
                body="各位居民：本周六上午社区开展院落清洁活动，欢迎参加。", period_start=dt.date.today(),
                period_end=dt.date.today())
            drafts.append(services.submit(actor=people["worker"], entry=draft).pk)
        admin = Client()
        admin.force_login(people["admin"])
        pending = iter(drafts)

        def publish():
            response = admin.post(f"/disclosure/{CODE}/office/e/{next(pending)}/move/publish/")
            assert response.status_code == 302, response.status_code

        publish_ms = timed(publish, args.publishes)
        assert Entry.objects.filter(pk__in=drafts, state=Entry.State.PUBLISHED).count() == len(drafts)

        report = verify_log(community)
        if not report.ok:
            sys.exit(f"the log does not verify: {report.message}")
        print(f"log: {report.checked_entries:,} leaves, {report.checked_checkpoints:,} checkpoints, verified")

        visitor = Client()
        month = dt.date.today().replace(day=1) - dt.timedelta(days=1)
        scenarios = [
            ("board, first page", f"/disclosure/{CODE}/", BOARD_TARGET_MS),
            ("board, ?section=finance", f"/disclosure/{CODE}/?section=finance", None),
            ("board, ?period=<last month>", f"/disclosure/{CODE}/?period={month:%Y-%m}", None),
            ("board, ?q=公共收益", f"/disclosure/{CODE}/?q=公共收益", None),
        ]
        results = [("publish (POST …/move/publish/)", publish_ms, PUBLISH_TARGET_MS)]
        for label, url, target in scenarios:
            def get(url=url):
                response = visitor.get(url)
                assert response.status_code == 200, (url, response.status_code)
            results.append((label, timed(get, args.runs), target))

        print()
        print(f"{'scenario':<34} {'n':>5} {'median ms':>10} {'p95 ms':>9} {'target':>8} {'p95/target':>11}")
        for label, values, target in results:
            ratio = f"{p95(values) / target:.2f}" if target else "—"
            print(f"{label:<34} {len(values):>5} {statistics.median(values):>10.1f} {p95(values):>9.1f} "
                  f"{(f'{target:.0f}' if target else '—'):>8} {ratio:>11}")
        connection.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
