#!/usr/bin/env python
"""Does an acknowledged case survive `kill -9`, and does a retry never duplicate it?

One run: a fresh database and `linli serve --workers 2` (as bench/intake_bench.py
sets them up), C clients posting real messages to POST /open311/v2/requests.json,
each POST with its own Idempotency-Key. After K seconds the server's whole process
group (gunicorn master and workers) gets SIGKILL mid-load; the server is started
again and the clients go on until S seconds. Then:

* every acknowledged submission (2xx with a service_request_id) must read back
  exactly once: GET /open311/v2/requests/{id}.json is an array of one with that id;
* retrying every acknowledged submission with its key must return the same id;
* retrying every submission that got no answer (in flight at the kill) with its key
  must return an id, and afterwards the database must hold exactly one case per key:
  nothing acknowledged lost, nothing written twice.

    .venv/bin/python bench/durability_bench.py [--clients 16] [--seconds 10] [--kill-after 4]
                                               [--pg [URL]] [--rounds 1]

Exit status 1 if any check fails. Needs ../shared/data/complaints/unlabeled.csv
(skips with a message where it is absent).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import sys
from dataclasses import dataclass, field

from intake_bench import (
    MESSAGES, Connection, intake_ok, load_messages, post_bodies, postgres, stack,
)

PATH = "/open311/v2/requests.json"


@dataclass
class Submission:
    key: str
    body: bytes
    answer: str | None = None      # the acknowledged id
    unknown: bool = False          # sent, but the connection died before an answer


@dataclass
class Run:
    submissions: list = field(default_factory=list)
    refused: int = 0               # connection refused: never sent (server down)
    killed_at: float = 0.0
    healthy_after: float = 0.0
    errors: dict = field(default_factory=dict)


async def post(conn: Connection, sub: Submission):
    return await conn.request("POST", PATH, sub.body, {
        "Content-Type": "application/x-www-form-urlencoded", "Idempotency-Key": sub.key})


async def load_with_kill(s, bodies, clients: int, seconds: float, kill_after: float, run_id: str) -> Run:
    run = Run()
    loop = asyncio.get_running_loop()
    started = loop.time()
    deadline = started + seconds

    async def killer():
        await asyncio.sleep(kill_after)
        run.killed_at = loop.time() - started
        s.kill()                                   # SIGKILL to the process group
        await asyncio.sleep(0.5)
        t0 = loop.time()
        await loop.run_in_executor(None, s.start)  # the same command again, same port
        run.healthy_after = loop.time() - t0

    async def client(c: int):
        conn = Connection("127.0.0.1", s.port)
        n = 0
        sub = None
        while loop.time() < deadline:
            if sub is None:
                n += 1
                sub = Submission(f"{run_id}-{c}-{n}", bodies[(c * 7919 + n) % len(bodies)])
            if conn.writer is None:
                try:
                    await conn.open()
                except OSError:
                    run.refused += 1             # not sent: the same submission is tried again
                    await asyncio.sleep(0.1)
                    continue
            run.submissions.append(sub)
            try:
                status, data = await post(conn, sub)
            except (OSError, asyncio.IncompleteReadError, ValueError):
                sub.unknown = True               # sent; whether it was written is unknown
                conn.close()
                sub = None
                await asyncio.sleep(0.1)
                continue
            ident = intake_ok(status, data)
            if ident:
                sub.answer = ident
            else:
                run.errors[status] = run.errors.get(status, 0) + 1
                sub.unknown = status >= 500     # not acknowledged: retried with its key below
            sub = None
        conn.close()

    await asyncio.gather(killer(), *(client(c) for c in range(clients)))
    return run


async def check(s, run: Run, clients: int) -> dict:
    """Read back and retry, over a few keep-alive connections."""
    acknowledged = [x for x in run.submissions if x.answer]
    unknown = [x for x in run.submissions if x.unknown]
    result = {"retried_5xx": 0, "read_once": 0, "read_bad": [], "retry_same": 0, "retry_bad": [],
              "unknown_answered": 0, "unknown_bad": []}
    queue: asyncio.Queue = asyncio.Queue()
    for x in acknowledged:
        queue.put_nowait(("read", x))
        queue.put_nowait(("retry", x))
    for x in unknown:
        queue.put_nowait(("unknown", x))

    async def worker():
        conn = Connection("127.0.0.1", s.port)
        while not queue.empty():
            what, x = queue.get_nowait()
            if what == "read":
                status, data = await conn.request(
                    "GET", f"/open311/v2/requests/{x.answer}.json")
                try:
                    found = json.loads(data) if status == 200 else []
                except ValueError:
                    found = []
                if len(found) == 1 and found[0].get("service_request_id") == x.answer:
                    result["read_once"] += 1
                else:
                    result["read_bad"].append((x.key, status))
            else:
                # A client retries a 5xx too, with a pause: up to five tries.
                for attempt in range(5):
                    status, data = await post(conn, x)
                    ident = intake_ok(status, data)
                    if ident or status < 500:
                        break
                    result["retried_5xx"] += 1
                    await asyncio.sleep(0.2 * (attempt + 1))
                if what == "retry":
                    if ident == x.answer:
                        result["retry_same"] += 1
                    else:
                        result["retry_bad"].append((x.key, x.answer, ident, status))
                else:
                    if ident:
                        x.answer = ident
                        result["unknown_answered"] += 1
                    else:
                        result["unknown_bad"].append((x.key, status))
        conn.close()

    await asyncio.gather(*(worker() for _ in range(min(clients, 16))))
    return result


def one_round(label, pg_url, args, messages) -> bool:
    with stack(label, pg_url) as s:
        s.prepare()
        bodies = post_bodies(messages, s.service_codes, s.key)
        s.start(workers=args.workers)
        run_id = f"dur{os.getpid()}x{random.randrange(10 ** 6)}"
        run = asyncio.run(load_with_kill(s, bodies, args.clients, args.seconds, args.kill_after, run_id))
        written_before_retry = s.count_cases()
        acknowledged = sum(1 for x in run.submissions if x.answer)
        unknown = sum(1 for x in run.submissions if x.unknown)
        result = asyncio.run(check(s, run, args.clients))
        written = s.count_cases()
        keys = len({x.key for x in run.submissions if x.answer})
        s.stop()
    sent = len(run.submissions)
    unanswered_written = written_before_retry - acknowledged
    print(f"\n{label}: {args.clients} clients, kill -9 of the server's process group at "
          f"{run.killed_at:.1f} s, load until {args.seconds:.0f} s")
    print(f"  POSTs sent: {sent:,}; acknowledged (2xx with an id): {acknowledged:,}; "
          f"no answer (in flight at the kill) or a 5xx: {unknown}; refused while down (never sent): {run.refused:,}")
    if run.errors:
        print(f"  other answers: {run.errors}")
    print(f"  server back and healthy {run.healthy_after:.1f} s after the restart began")
    print(f"  acknowledged, read back exactly once (GET requests/{{id}}.json): "
          f"{result['read_once']:,}/{acknowledged:,}")
    print(f"  acknowledged, retried with their key → same id: {result['retry_same']:,}/{acknowledged:,}")
    print(f"  unanswered or 5xx, retried with their key → an id: {result['unknown_answered']}/{unknown} "
          f"({max(unanswered_written, 0)} had been written already, the rest had not)")
    if result["retried_5xx"]:
        print(f"  the retries themselves met {result['retried_5xx']} answers 5xx and were tried again")
    print(f"  cases in the database: {written:,}; distinct keys with an id: {keys:,}; "
          f"lost acknowledged: {max(acknowledged - written_before_retry, 0)}; duplicates: {max(written - keys, 0)}")
    ok = (result["read_once"] == acknowledged and result["retry_same"] == acknowledged
          and result["unknown_answered"] == unknown and written == keys and unanswered_written >= 0)
    for name in ("read_bad", "retry_bad", "unknown_bad"):
        if result[name]:
            print(f"  {name}: {result[name][:5]}")
    print(f"  {'PASS' if ok else 'FAIL'}")
    return ok


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--kill-after", type=float, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=1, help="kill-and-check rounds per database")
    parser.add_argument("--pg", nargs="?", const="", default=None, metavar="URL",
                        help="also on PostgreSQL: this server URL, LINLI_BENCH_PG_URL, or a throwaway cluster")
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    args = parser.parse_args(argv)
    if not 0 < args.kill_after < args.seconds:
        parser.error("--kill-after must be between 0 and --seconds")
    messages = load_messages(MESSAGES)
    if messages is None:
        print(f"durability bench skipped: {MESSAGES} is absent (the real messages live beside the project).")
        return 0
    print("durability benchmark: kill -9 under POST load, restart, read back and retry every submission")
    print(f"machine: {os.cpu_count()} CPU(s), Python {platform.python_version()}; "
          f"`linli serve --workers {args.workers}`")
    passed = True
    if not args.no_sqlite:
        for _ in range(args.rounds):
            passed &= one_round("SQLite (fresh data directory)", None, args, messages)
    pg_url = os.environ.get("LINLI_BENCH_PG_URL") if args.pg in (None, "") else args.pg
    if args.pg is not None or os.environ.get("LINLI_BENCH_PG_URL"):
        with postgres(pg_url or None) as url:
            for _ in range(args.rounds):
                passed &= one_round("PostgreSQL (fresh database)", url, args, messages)
    print(f"\n{'all checks passed' if passed else 'SOME CHECKS FAILED'}")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
