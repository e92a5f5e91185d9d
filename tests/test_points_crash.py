"""A transfer killed in the middle (SIGKILL) leaves the ledger balanced and no balance moved.

The child process (a real Django process on the same database) starts ``ledger.post`` and stops
at a chosen point inside it — after the postings are inserted, or after ``posted`` is set and the
balances moved, but before COMMIT — and is killed there with SIGKILL: no Python cleanup, no
rollback sent. Then ``linli points audit`` runs in a fresh process and exits 0, and every balance
is what it was. On SQLite (a file copy of the test database) and, with ``LINLI_DATABASE_URL``
pointing at PostgreSQL, on PostgreSQL (the test database itself).
"""

from __future__ import annotations

import os
import select
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from linli.community.models import Community, District, Street
from linli.points import ledger
from linli.points.models import Partner

ROOT = Path(__file__).resolve().parent.parent

CHILD = r"""
import sys, time
import django
django.setup()
from linli.community.models import Community
from linli.points import ledger
from linli.points.models import Account, Posting

stage, community_id, source_id, target_id = sys.argv[1], *map(int, sys.argv[2:5])
community = Community.objects.get(pk=community_id)
source, target = Account.objects.get(pk=source_id), Account.objects.get(pk=target_id)


def pause(*args, **kwargs):
    print("PAUSED", flush=True)
    time.sleep(300)


if stage == "after_postings":
    original = Posting.objects.bulk_create

    def bulk_create(objs, *args, **kwargs):
        rows = original(objs, *args, **kwargs)
        pause()
        return rows

    Posting.objects.bulk_create = bulk_create
elif stage == "after_posted":
    ledger.events.record = pause   # posted, balances moved by the trigger; the event (and COMMIT) never come
ledger.post(community=community, kind="redemption", lines=[(source, -7), (target, 7)])
print("DONE", flush=True)
"""


def _url() -> tuple[str, Path | None]:
    """The database URL a child process uses: a file copy of SQLite's in-memory test database, or
    PostgreSQL's test database itself."""
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        path = Path(os.environ.get("TMPDIR", "/tmp")) / f"points-crash-{os.getpid()}.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        connection.ensure_connection()
        target = sqlite3.connect(path)
        connection.connection.backup(target)
        target.close()
        return f"sqlite:///{path}", path
    password = f":{settings['PASSWORD']}" if settings.get("PASSWORD") else ""
    host = settings.get("HOST") or "127.0.0.1"
    port = f":{settings['PORT']}" if settings.get("PORT") else ""
    return f"postgres://{settings['USER']}{password}@{host}{port}/{settings['NAME']}", None


def _env(url: str) -> dict:
    return {**os.environ, "LINLI_DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "tests.settings",
            "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'tests'}"}


def _kill_at(stage: str, url: str, *ids: int) -> None:
    child = subprocess.Popen([sys.executable, "-c", CHILD, stage, *map(str, ids)], cwd=ROOT, env=_env(url),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        line = ""
        while time.monotonic() < deadline:
            ready, _w, _x = select.select([child.stdout], [], [], 1)
            if ready:
                line = child.stdout.readline()
                break
            if child.poll() is not None:
                break
        assert line.strip() == "PAUSED", (line, child.poll(), child.stderr.read() if child.poll() is not None else "")
        os.kill(child.pid, signal.SIGKILL)
        assert child.wait(30) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


def _audit_exit(url: str) -> tuple[int, str]:
    done = subprocess.run([sys.executable, "-m", "django", "points", "audit"], cwd=ROOT, env=_env(url),
                          capture_output=True, text=True, timeout=120)
    return done.returncode, done.stdout + done.stderr


def _state(url: str, path: Path | None) -> tuple[list, int, int]:
    """(account balances by id, transactions, postings) as a fresh reader sees them."""
    queries = ("SELECT id, balance FROM points_account ORDER BY id", "SELECT COUNT(*) FROM points_transaction",
               "SELECT COUNT(*) FROM points_posting")
    if path is not None:
        db = sqlite3.connect(path)
        try:
            rows = [db.execute(q).fetchall() for q in queries]
        finally:
            db.close()
    else:
        with connection.cursor() as cursor:
            rows = []
            for q in queries:
                cursor.execute(q)
                rows.append(cursor.fetchall())
    return [tuple(r) for r in rows[0]], rows[1][0][0], rows[2][0][0]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("stage", ["after_postings", "after_posted"])
def test_a_transfer_killed_before_commit_leaves_the_ledger_clean(stage):
    district = District.objects.create(code="510198", name="测试区")
    street = Street.objects.create(district=district, code="510198001", name="测试街道")
    community = Community.objects.create(street=street, code="K", name="测试社区")
    partner = Partner.objects.create(community=community, name="食堂", kind="canteen")
    pool, till = ledger.pool(community), ledger.partner_account(partner)
    ledger.post(community=community, kind="grant", lines=[(ledger.issuance(community), -10), (pool, 10)])
    url, path = _url()
    try:
        before = _state(url, path)
        assert before[1:] == (1, 2)
        _kill_at(stage, url, community.pk, pool.pk, till.pk)
        assert _state(url, path) == before
        code, out = _audit_exit(url)
        assert code == 0, out
        assert "ok" in out
        # The database is not broken, only the killed transfer is gone: the same transfer now goes through.
        done = subprocess.run([sys.executable, "-c", CHILD, "whole", str(community.pk), str(pool.pk), str(till.pk)],
                              cwd=ROOT, env=_env(url), capture_output=True, text=True, timeout=120)
        assert done.stdout.strip() == "DONE", done.stderr
        balances = dict(_state(url, path)[0])
        assert (balances[pool.pk], balances[till.pk]) == (3, 7)
        assert _audit_exit(url)[0] == 0
    finally:
        if path is not None:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
