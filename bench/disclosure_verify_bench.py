#!/usr/bin/env python
"""How long `linli disclosure verify` takes over a board of --entries published entries.

One run, in this process: a fresh database (a temporary SQLite file by default; --pg URL for a
new database on that PostgreSQL server, dropped at the end), `migrate`, one community with its
office, a signing key made with linli.transparency.keys.keygen in the temporary data dir, and
--entries published entries (1,000,000 by default) on its log.

The entries are written past the board's one-by-one services, to be quick (a bench may): the
rows, their real leaves (linli.disclosure.leaf.header_bytes, the function the
board's own check calls) appended through linli.transparency.services.append_and_sign in batches
of --batch (one signed checkpoint per batch). Among them, so that every branch of the check
runs: one entry in 100 has a PDF attachment (16 distinct files, stored content-addressed in the
data dir as the board stores them), one in 500 is a correction of the entry before it, and one
in 1,000 is withdrawn (its words erased, its withdrawal leaf appended later in the batch). The
rows go in with plain ``executemany`` INSERTs (:func:`insert_rows`), not through the services.

Then ``linli disclosure verify --community <code>`` is run --runs times through
``call_command`` (the command calls linli.disclosure.selectors.verify: the log's verify_log, then
every entry's header, content and attachments against its leaf), each must pass. Prints every
run, the median, entries per second, the ratio to the 60 s target, the log's own check
(verify_log) alone for reference, and the process's peak memory. --profile prints a cProfile
of one more run.

    .venv/bin/python bench/disclosure_verify_bench.py [--entries 1000000] [--runs 3] [--batch 10000] [--pg URL]
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import platform
import resource
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

TARGET_S = 60.0
CODE = "BENCH01"
ROLES = {"party": "party_secretary", "residential": "community_admin", "finance": "community_admin"}
SECTIONS = ("party", "party", "residential", "finance")
WORDS = ("居民议事会", "公共收益", "党员大会", "低保对象", "高龄津贴", "楼道照明", "院落微更新", "停车收益",
         "志愿服务", "防汛演练", "助餐补贴", "党费收缴", "活动室", "垃圾分类", "电梯维保", "消防检查")


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

    call_command("migrate", verbosity=0)


def build_world(data_dir: str):
    from django.conf import settings
    from django.db import transaction

    from linli.community.models import Community, District, Street
    from linli.transparency import keys

    settings.LINLI_DISCLOSURE_KEY_FILE = str(Path(data_dir) / "bench-signing.key")
    settings.LINLI_DISCLOSURE_FILES_DIR = str(Path(data_dir) / "disclosure-files")
    keys.keygen("bench.example", Path(settings.LINLI_DISCLOSURE_KEY_FILE))
    with transaction.atomic():
        district = District.objects.create(code="990100", name="基准区")
        street = Street.objects.create(code="990100001", name="基准街道", district=district)
        return Community.objects.create(street=street, code=CODE, name="基准社区")


def pdfs(n: int = 16) -> list:
    """n distinct small PDFs, stored as the board stores attachments."""
    from linli.disclosure import attachments

    out = []
    for k in range(n):
        data = (b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n% bench attachment " + str(k).encode() * 200
                + b"\ntrailer << /Root 1 0 R >>\n%%EOF\n")
        checked = attachments.check_file(data, name=f"附件{k}.pdf")
        out.append((checked, attachments.store(checked)))
    return out


def insert_rows(model, rows: list[dict]) -> None:
    """Plain parameterised INSERTs of ``rows`` (attname → value; missing: blank, null or False),
    past the ORM's per-row work: a bench writes a million of them."""
    from django.db import connection, models

    fields = model._meta.concrete_fields
    ops = connection.ops
    adapt = []
    for f in fields:
        if isinstance(f, models.DateTimeField):
            adapt.append(ops.adapt_datetimefield_value)
        elif isinstance(f, models.DateField):
            adapt.append(ops.adapt_datefield_value)
        else:
            adapt.append(None)
    blank = [None if f.null else (False if isinstance(f, models.BooleanField) else
                                  0 if isinstance(f, (models.IntegerField,)) else "") for f in fields]
    names = [f.attname for f in fields]
    columns = ", ".join(ops.quote_name(f.column) for f in fields)
    sql = f"INSERT INTO {model._meta.db_table} ({columns}) VALUES ({', '.join(['%s'] * len(fields))})"
    values = []
    for row in rows:
        out = []
        for name, fn, default in zip(names, adapt, blank):
            value = row.get(name, default)
            out.append(fn(value) if fn is not None and value is not None else value)
        values.append(out)
    with connection.cursor() as cursor:
        cursor.executemany(sql, values)


def fill(community, n: int, batch: int) -> float:
    """n published entries (see the module's docstring); seconds taken."""
    import random

    from django.db import transaction
    from django.utils import timezone

    from linli.disclosure import leaf
    from linli.disclosure.models import Attachment, Entry
    from linli.transparency import selectors as tlog, services as log

    E = Entry.State
    rng = random.Random(7)
    files = pdfs()
    started = time.perf_counter()
    now = timezone.now().replace(microsecond=0)
    first = now - dt.timedelta(days=3650)
    step = dt.timedelta(days=3650) / max(n, 1)
    pk = (Entry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0)
    attachment_pk = (Attachment.objects.order_by("-pk").values_list("pk", flat=True).first() or 0)
    reason = "名单误列了门牌信息，予以撤回。"
    for start in range(0, n, batch):
        base = tlog.size(community)
        rows, attached, withdrawn = [], [], []
        leaves: list[bytes] = []
        for i in range(start, min(n, start + batch)):
            pk += 1
            index = base + len(leaves)
            section = SECTIONS[i % len(SECTIONS)]
            when = first + step * i
            day = timezone.localtime(when).date()
            words = rng.sample(WORDS, 3)
            title = f"{day:%Y年%m月}{words[0]}情况公示（{i + 1}）"
            body = "\n".join(f"{k + 1}. 关于{w}的事项，经议定后公布，请居民监督。" for k, w in enumerate(words))
            content = leaf.sha256_hex(leaf.canonical({"title": title, "body": body}))
            correction = i % 500 == 499 and i > start
            files_here = [files[i // 100 % len(files)]] if i % 100 == 37 else []
            row = {"id": pk, "community_id": community.pk, "section": section, "title": title, "body": body,
                   "period_start": day.replace(day=1), "period_end": day, "state": E.PUBLISHED,
                   "author_role": "community_worker", "approver_role": ROLES[section], "created_at": when,
                   "updated_at": when, "submitted_at": when, "published_at": when, "log_index": index,
                   "content_sha256": content, "supersedes_id": pk - 1 if correction else None}
            leaves.append(leaf.header_bytes(
                type_="correction" if correction else "entry", community=community.code, section=section,
                period_start=row["period_start"], period_end=day, published=when,
                author_role=row["author_role"], approver_role=row["approver_role"], content_sha256=content,
                attachments=[{"sha256": f.sha256, "size": f.size, "type": f.content_type} for f, _p in files_here],
                supersedes=index - 1 if correction else None, withdraws=None))
            rows.append(row)
            for position, (f, path) in enumerate(files_here):
                attachment_pk += 1
                attached.append({"id": attachment_pk, "entry_id": pk, "name": f.name, "content_type": f.content_type,
                                 "size": f.size, "sha256": f.sha256, "path": path, "position": position,
                                 "created_at": when})
            if i % 1000 == 10 and not correction and not files_here:
                withdrawn.append(row)
        for row in withdrawn:
            row.update(state=E.WITHDRAWN, title="", body="", withdrawn_at=row["published_at"] + dt.timedelta(days=1),
                       withdrawal_reason=reason, withdrawer_role="community_admin",
                       withdrawal_log_index=base + len(leaves))
            leaves.append(leaf.header_bytes(
                type_="withdrawal", community=community.code, section=row["section"],
                period_start=row["period_start"], period_end=row["period_end"], published=row["withdrawn_at"],
                author_role="community_admin", approver_role="community_admin",
                content_sha256=leaf.sha256_hex(leaf.canonical({"reason": reason})), attachments=[],
                supersedes=None, withdraws=row["log_index"]))
        with transaction.atomic():
            indexes, _checkpoint = log.append_and_sign(community=community, leaves=leaves)
            assert indexes[0] == base and len(indexes) == len(leaves)
            insert_rows(Entry, rows)
            insert_rows(Attachment, attached)
    return time.perf_counter() - started


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000, help="published entries (default 1,000,000)")
    parser.add_argument("--runs", type=int, default=3, help="timed runs of the command (default 3)")
    parser.add_argument("--batch", type=int, default=10_000, help="entries per append and checkpoint (default 10,000)")
    parser.add_argument("--pg", metavar="URL", help="a PostgreSQL server URL (a new database is made and dropped)")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of one more run")
    args = parser.parse_args(argv)
    if args.entries < 1 or args.runs < 1 or args.batch < 1:
        parser.error("--entries, --runs and --batch must be at least 1")

    with ExitStack() as stack:
        data_dir = stack.enter_context(tempfile.TemporaryDirectory(prefix="linli-verify-bench-"))
        db_url = None
        if args.pg:
            from intake_bench import fresh_database
            db_url = stack.enter_context(fresh_database(args.pg))
        setup(data_dir, db_url)
        from django.core.management import call_command
        from django.db import connection

        from linli.transparency.verify import verify_log

        print(f"disclosure verify benchmark: {args.entries:,} entries, {args.runs} run(s); "
              f"database {connection.vendor}")
        print(f"machine: {os.cpu_count()} CPU(s), load average {os.getloadavg()[0]:.1f}, "
              f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}")
        community = build_world(data_dir)
        seconds = fill(community, args.entries, args.batch)
        print(f"filled {args.entries:,} entries in {seconds:.1f} s; peak memory so far {peak_mb():.0f} MB")

        def verify() -> str:
            out = io.StringIO()
            call_command("disclosure", "verify", "--community", CODE, stdout=out, stderr=out)
            return out.getvalue()

        before = peak_mb()
        times = []
        for run in range(1, args.runs + 1):
            started = time.perf_counter()
            said = verify()
            times.append(time.perf_counter() - started)
            if ": ok:" not in said:
                sys.exit(f"verify did not pass: {said}")
            print(f"run {run}: {times[-1]:.2f} s   {said.strip()}")
        started = time.perf_counter()
        report = verify_log(community)
        log_s = time.perf_counter() - started
        assert report.ok, report.message
        median = statistics.median(times)
        print()
        print(f"median `linli disclosure verify`: {median:.2f} s for {args.entries:,} entries "
              f"({args.entries / median:,.0f} entries/s); target {TARGET_S:.0f} s at 1,000,000: "
              f"ratio {median / TARGET_S * 1_000_000 / args.entries:.2f} (scaled to 1,000,000 entries)")
        print(f"of which the log's own check (verify_log) alone: {log_s:.2f} s")
        print(f"peak memory: {peak_mb():.0f} MB (before the runs: {before:.0f} MB)")
        if args.profile:
            import cProfile
            import pstats

            profiler = cProfile.Profile()
            profiler.enable()
            verify()
            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
            pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
        connection.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
