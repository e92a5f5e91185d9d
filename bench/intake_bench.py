#!/usr/bin/env python
"""How many cases a second `POST /open311/v2/requests.json` takes, beside `GET /healthz`.

One run: a fresh database (SQLite in a temporary data directory; with --pg, a fresh
PostgreSQL database), `linli migrate`, a small community with the default categories
(not the demo: quick), an API key from `linli apikey create`, then
`linli serve --workers 2` and, against that one server, C concurrent keep-alive
clients for S seconds on GET /healthz, then C clients for S seconds posting real
citizen messages (title + text of ../shared/data/complaints/unlabeled.csv), each
POST with its own Idempotency-Key. Prints requests/s, p50/p95/p99 latency, errors,
and the ratio intake/healthz; checks that every acknowledged POST is one case.

    .venv/bin/python bench/intake_bench.py [--clients 32] [--seconds 20] [--pg [URL]]
                                           [--client auto|python|wrk]

The load comes from wrk where it is installed (`apt-get install wrk`), else from a
built-in asyncio client with raw HTTP/1.1 keep-alive sockets (one process, a small
share of one core). PostgreSQL: --pg URL, or LINLI_BENCH_PG_URL; --pg alone starts a
throwaway cluster with `bash .ci/postgres.sh start --port 54470` and stops it after.
A fresh database is created on that server for the run and dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import http.client
import json
import os
import platform
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.parse
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MESSAGES = REPO.parent / "shared" / "data" / "complaints" / "unlabeled.csv"
PG_PORT = 54470
COMMUNITY = "BENCH01"
GRIDS = ("杨柳苑", "泉水苑", "金府苑", "沙河苑", "花照苑", "蜀汉苑")
MAX_DESCRIPTION = 4000   # linli.cases.services.MAX_DESCRIPTION


# --- the messages -----------------------------------------------------------------

def load_messages(path: Path = MESSAGES) -> list[str] | None:
    """Title and text of each message, as one description; None where the data is absent."""
    if not path.exists():
        return None
    out = []
    with path.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            text = "\n".join(p for p in ((row.get("title") or "").strip(), (row.get("text") or "").strip()) if p)
            if len(text) >= 5:
                out.append(text[:MAX_DESCRIPTION])
    return out


def post_bodies(messages: list[str], service_codes: list[str], key: str, seed: int = 1) -> list[bytes]:
    """Form bodies for POST requests.json: one per message, places and services spread."""
    rng = random.Random(seed)
    bodies = []
    for text in messages:
        bodies.append(urllib.parse.urlencode({
            "api_key": key,
            "service_code": rng.choice(service_codes),
            "address_string": rng.choice(GRIDS) + f"{rng.randint(1, 30)}栋",
            "description": text,
            "phone": f"139{rng.randrange(10 ** 8):08d}",
            "first_name": "",
            "last_name": rng.choice("张王李刘陈杨黄周吴罗"),
        }).encode())
    return bodies


# --- a server on a fresh database -------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_linli(args: list[str], env: dict, *, timeout: float = 600) -> str:
    result = subprocess.run([sys.executable, "-m", "linli.config.cli", *args], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=timeout)
    if result.returncode:
        sys.exit(f"`linli {' '.join(args)}` failed ({result.returncode}):\n{result.stderr[-3000:]}")
    return result.stdout


SETUP = textwrap.dedent("""
    from linli.cases.defaults import install_default_categories
    from linli.cases.models import Category
    from linli.community.models import Community, District, Grid, Organisation, Street
    district, _ = District.objects.get_or_create(code="990000", defaults={"name": "基准区"})
    street, _ = Street.objects.get_or_create(code="990000001", defaults={"name": "基准街道", "district": district})
    community, _ = Community.objects.get_or_create(code=CODE, defaults={"name": "基准社区", "street": street})
    for i, name in enumerate(GRIDS, 1):
        Grid.objects.get_or_create(community=community, code=f"G{i:02d}", defaults={"name": name})
    Organisation.objects.get_or_create(kind="property_company", name="基准物业服务公司", community=community,
                                       street=street)
    install_default_categories(actor=None, community=community)
    parents = set(Category.objects.filter(community=community, parent__isnull=False)
                  .values_list("parent_id", flat=True))
    print(",".join(c.code for c in Category.objects.filter(community=community, active=True) if c.pk not in parents))
""")


@dataclass
class Stack:
    """A fresh database and `linli serve` on it."""

    label: str
    env: dict
    port: int
    data_dir: str
    key: str = ""
    service_codes: list = field(default_factory=list)
    server: subprocess.Popen | None = None
    log_path: str = ""

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def prepare(self, *, community: str = COMMUNITY) -> None:
        run_linli(["migrate", "--verbosity", "0"], self.env)
        code = f"CODE = {community!r}\nGRIDS = {GRIDS!r}\n" + SETUP
        self.service_codes = run_linli(["shell", "-c", code], self.env).strip().splitlines()[-1].split(",")
        out = run_linli(["apikey", "create", "intake bench", "--community", community, "--rate", "100000"], self.env)
        self.key = out.split()[-1]

    def start(self, workers: int = 2) -> None:
        self.log_path = os.path.join(self.data_dir, "serve.log")
        log = open(self.log_path, "ab")
        self.server = subprocess.Popen(
            [sys.executable, "-m", "linli.config.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port),
             "--workers", str(workers)],
            cwd=REPO, env=self.env, stdout=log, stderr=log, start_new_session=True)
        wait_healthy(self.port, self.server, self.log_path)

    def kill(self, sig=signal.SIGKILL) -> None:
        """Signal the server's whole process group (master and workers)."""
        if self.server and self.server.poll() is None:
            try:
                os.killpg(self.server.pid, sig)
            except ProcessLookupError:
                pass
            self.server.wait(timeout=30)

    def stop(self) -> None:
        self.kill(signal.SIGTERM)

    def count_cases(self, community: str = COMMUNITY) -> int:
        out = run_linli(["shell", "-c", "from linli.cases.models import Case; "
                                         f"print(Case.objects.filter(community__code={community!r}).count())"],
                        self.env)
        return int(out.strip().splitlines()[-1])


def wait_healthy(port: int, server: subprocess.Popen, log_path: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"`linli serve` exited ({server.returncode}):\n{Path(log_path).read_text()[-3000:]}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    sys.exit(f"`linli serve` did not answer /healthz within {timeout:.0f} s")


@contextmanager
def postgres(url: str | None):
    """A PostgreSQL server URL: the one given, or a throwaway cluster started here."""
    if url:
        yield url
        return
    started = subprocess.run(["bash", ".ci/postgres.sh", "start", "--port", str(PG_PORT)], cwd=REPO,
                             capture_output=True, text=True)
    if started.returncode:
        sys.exit(f"could not start PostgreSQL:\n{started.stderr[-2000:]}")
    try:
        yield started.stdout.strip()
    finally:
        subprocess.run(["bash", ".ci/postgres.sh", "stop", "--port", str(PG_PORT)], cwd=REPO, capture_output=True)


@contextmanager
def fresh_database(server_url: str):
    """A new, empty database on that server for this run; dropped afterwards."""
    import psycopg

    name = f"linli_bench_{os.getpid()}_{random.randrange(10 ** 6)}"
    parts = urllib.parse.urlsplit(server_url)
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urllib.parse.urlunsplit(parts._replace(path="/" + name))
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def stack(label: str, pg_url: str | None = None):
    """Environment for a fresh SQLite data directory, or a fresh PostgreSQL database."""
    with tempfile.TemporaryDirectory(prefix="linli-bench-") as data_dir:
        env = dict(os.environ, LINLI_DATA_DIR=data_dir, LINLI_LOG_LEVEL="WARNING")
        env.pop("LINLI_DATABASE_URL", None)
        if pg_url is None:
            s = Stack(label, env, free_port(), data_dir)
            try:
                yield s
            finally:
                s.stop()
            return
        with fresh_database(pg_url) as db_url:
            env["LINLI_DATABASE_URL"] = db_url
            s = Stack(label, env, free_port(), data_dir)
            try:
                yield s
            finally:
                s.stop()


def server_error_summary(log_path: str, limit: int = 5) -> list[str]:
    """The most frequent exception lines in the server's log (tracebacks of 500s), with counts."""
    try:
        lines = Path(log_path).read_text(errors="replace").splitlines()
    except OSError:
        return []
    found: dict[str, int] = {}
    for i, line in enumerate(lines):
        if line.startswith("Traceback"):
            j = i + 1
            while j < len(lines) and (lines[j].startswith(" ") or lines[j].startswith("During handling")
                                      or not lines[j].strip()):
                j += 1
            if j < len(lines):
                found[lines[j][:200]] = found.get(lines[j][:200], 0) + 1
    return [f"{n}× {text}" for text, n in sorted(found.items(), key=lambda x: -x[1])[:limit]]


# --- an HTTP/1.1 keep-alive client on asyncio --------------------------------------------

class Connection:
    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.reader = self.writer = None

    async def open(self):
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    def close(self):
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def request(self, method: str, path: str, body: bytes = b"", headers: dict | None = None):
        if self.writer is None:
            await self.open()
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}", "Connection: keep-alive"]
        for name, value in (headers or {}).items():
            lines.append(f"{name}: {value}")
        if body or method == "POST":
            lines.append(f"Content-Length: {len(body)}")
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        length, chunked, close = None, False, False
        for line in header_lines:
            name, _, value = line.partition(":")
            name, value = name.strip().lower(), value.strip()
            if name == "content-length":
                length = int(value)
            elif name == "transfer-encoding" and "chunked" in value.lower():
                chunked = True
            elif name == "connection" and value.lower() == "close":
                close = True
        if chunked:
            parts = []
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                parts.append(await self.reader.readexactly(size + 2))
                if size == 0:
                    break
            data = b"".join(p[:-2] for p in parts)
        elif length is not None:
            data = await self.reader.readexactly(length)
        else:
            data = await self.reader.read()
            close = True
        if close:
            self.close()
        return status, data


async def one_request(host, port, method, path, body=b"", headers=None):
    conn = Connection(host, port)
    try:
        return await conn.request(method, path, body, headers)
    finally:
        conn.close()


@dataclass
class LoadResult:
    name: str
    ok: int = 0
    errors: int = 0
    seconds: float = 0.0
    latencies_ms: list = field(default_factory=list)
    acknowledged: list = field(default_factory=list)   # (client, n, request id)
    statuses: dict = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        data = sorted(self.latencies_ms)
        return data[min(len(data) - 1, int(round(p / 100 * (len(data) - 1))))]


async def load(name: str, port: int, clients: int, seconds: float, make, check) -> LoadResult:
    """``clients`` keep-alive connections, each sending ``make(client, n)`` requests back to back
    until ``seconds`` have passed; ``check(status, body)`` says whether an answer is a success."""
    result = LoadResult(name)
    loop = asyncio.get_running_loop()
    started = loop.time()
    deadline = started + seconds

    async def client(c: int):
        conn = Connection("127.0.0.1", port)
        n = 0
        while loop.time() < deadline:
            n += 1
            method, path, body, headers = make(c, n)
            t0 = time.perf_counter()
            try:
                status, data = await conn.request(method, path, body, headers)
            except (OSError, asyncio.IncompleteReadError, ValueError):
                result.errors += 1
                result.statuses["connection"] = result.statuses.get("connection", 0) + 1
                conn.close()
                await asyncio.sleep(0.05)
                continue
            result.latencies_ms.append((time.perf_counter() - t0) * 1000)
            result.statuses[status] = result.statuses.get(status, 0) + 1
            ident = check(status, data)
            if ident:
                result.ok += 1
                if ident is not True:
                    result.acknowledged.append((c, n, ident))
            else:
                result.errors += 1
        conn.close()

    await asyncio.gather(*(client(c) for c in range(clients)))
    result.seconds = loop.time() - started
    return result


def healthz_request(c, n):
    return "GET", "/healthz", b"", None


def healthz_ok(status, body):
    return status == 200


def intake_request_maker(bodies: list[bytes], key: str, run: str):
    path = "/open311/v2/requests.json"
    headers_base = {"Content-Type": "application/x-www-form-urlencoded"}

    def make(c, n):
        body = bodies[(c * 7919 + n) % len(bodies)]
        return "POST", path, body, {**headers_base, "Idempotency-Key": f"{run}-{c}-{n}"}
    return make


def intake_ok(status, body):
    """The request id the server acknowledged, or None."""
    if not 200 <= status < 300:
        return None
    try:
        return json.loads(body)[0]["service_request_id"]
    except (ValueError, LookupError, TypeError):
        return None


# --- wrk ------------------------------------------------------------------------------------

WRK_LUA = r"""
local bodies, counter, run, key = {}, 0, "", ""
-- `tid` is a global: setup() counts threads in the main state and sets it in each thread's.
tid = 0
function setup(thread)
  tid = tid + 1
  thread:set("tid", tid)
end
function init(args)
  run, key = args[1], args[2]
  if args[3] then for line in io.lines(args[3]) do bodies[#bodies + 1] = line end end
end
function request()
  counter = counter + 1
  if #bodies == 0 then return wrk.format("GET", "/healthz") end
  local body = bodies[(counter * 7919 + tid) % #bodies + 1]
  return wrk.format("POST", "/open311/v2/requests.json",
    {["Content-Type"] = "application/x-www-form-urlencoded",
     ["Idempotency-Key"] = run .. "-" .. tid .. "-" .. counter}, body)
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRK-JSON {\"requests\":%d,\"duration_us\":%d,\"status_errors\":%d,\"socket_errors\":%d," ..
    "\"p50\":%d,\"p95\":%d,\"p99\":%d}\n",
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
"""


def wrk_load(name: str, port: int, clients: int, seconds: float, script: Path, run: str, key: str,
             bodies_file: Path | None) -> LoadResult:
    threads = max(1, min(2, clients))
    cmd = ["wrk", f"-t{threads}", f"-c{clients}", f"-d{int(seconds)}s", "--timeout", "30s", "-s", str(script),
           f"http://127.0.0.1:{port}/", "--", run, key] + ([str(bodies_file)] if bodies_file else [])
    out = subprocess.run(cmd, capture_output=True, text=True).stdout
    line = next((ln for ln in out.splitlines() if ln.startswith("WRK-JSON ")), None)
    if line is None:
        sys.exit(f"wrk gave no summary:\n{out[-2000:]}")
    data = json.loads(line.split(" ", 1)[1])
    result = LoadResult(name)
    result.seconds = data["duration_us"] / 1e6
    result.errors = data["status_errors"] + data["socket_errors"]
    result.ok = data["requests"] - data["status_errors"]
    result.latencies_ms = [data["p50"] / 1000, data["p95"] / 1000, data["p99"] / 1000]   # percentiles only
    result.percentile = lambda p, d=data: {50: d["p50"], 95: d["p95"], 99: d["p99"]}[p] / 1000
    return result


# --- the run --------------------------------------------------------------------------------

def bench_one(label: str, pg_url: str | None, args, messages: list[str]) -> tuple[LoadResult, LoadResult]:
    use_wrk = args.client == "wrk" or (args.client == "auto" and shutil.which("wrk"))
    with stack(label, pg_url) as s:
        s.prepare()
        bodies = post_bodies(messages, s.service_codes, s.key)
        s.start(workers=args.workers)
        run = f"bench{os.getpid()}x{random.randrange(10 ** 6)}"
        if use_wrk:
            script = Path(s.data_dir) / "bench.lua"
            script.write_text(WRK_LUA)
            bodies_file = Path(s.data_dir) / "bodies.txt"
            bodies_file.write_bytes(b"\n".join(bodies) + b"\n")
            health = wrk_load("GET /healthz", s.port, args.clients, args.seconds, script, run, s.key, None)
            intake = wrk_load("POST requests.json", s.port, args.clients, args.seconds, script, run, s.key,
                              bodies_file)
            acknowledged = intake.ok
        else:
            health = asyncio.run(load("GET /healthz", s.port, args.clients, args.seconds, healthz_request,
                                      healthz_ok))
            intake = asyncio.run(load("POST requests.json", s.port, args.clients, args.seconds,
                                      intake_request_maker(bodies, s.key, run), intake_ok))
            acknowledged = len({ident for _c, _n, ident in intake.acknowledged})
        s.stop()
        written = s.count_cases()
        server_errors = server_error_summary(s.log_path)
    print(f"\n{label}  ({'wrk' if use_wrk else 'asyncio client'}, {args.clients} clients, {args.seconds:.0f} s each)")
    print(f"  {'endpoint':<22}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'ok':>9}{'errors':>8}")
    for r in (health, intake):
        print(f"  {r.name:<22}{r.rate:>9.1f}{r.percentile(50):>9.1f}{r.percentile(95):>9.1f}"
              f"{r.percentile(99):>9.1f}{r.ok:>9}{r.errors:>8}")
    ratio = intake.rate / health.rate if health.rate else float("nan")
    print(f"  ratio intake/healthz: {ratio:.3f}")
    # wrk stops with requests in flight: the server may write up to one case per client
    # that wrk never counted. The asyncio client waits for every answer.
    in_flight = args.clients if use_wrk else 0
    fine = acknowledged <= written <= acknowledged + in_flight
    print(f"  cases in the database: {written:,}; acknowledged: {acknowledged:,}"
          f"{'' if fine else '  (MISMATCH)'}"
          f"{'  (wrk leaves up to one request per client unanswered)' if use_wrk else ''}")
    if not use_wrk and intake.errors:
        print(f"  answers: {dict(sorted(intake.statuses.items(), key=str))}")
    for line in server_errors:
        print(f"  server log: {line}")
    return health, intake


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--pg", nargs="?", const="", default=None, metavar="URL",
                        help="also on PostgreSQL: this server URL, LINLI_BENCH_PG_URL, or a throwaway cluster")
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    parser.add_argument("--client", choices=("auto", "python", "wrk"), default="auto")
    parser.add_argument("--messages", type=Path, default=MESSAGES)
    args = parser.parse_args(argv)
    if args.clients < 1 or args.seconds <= 0:
        parser.error("--clients and --seconds must be positive")
    if args.client == "wrk" and not shutil.which("wrk"):
        parser.error("wrk is not installed (Debian/Ubuntu: apt-get install wrk); use --client python")
    messages = load_messages(args.messages)
    if messages is None:
        print(f"intake bench skipped: {args.messages} is absent (the real messages live beside the project, "
              "in ../shared/data; they are never copied into it).")
        return 0
    pg_url = os.environ.get("LINLI_BENCH_PG_URL") if args.pg in (None, "") else args.pg
    want_pg = args.pg is not None or bool(os.environ.get("LINLI_BENCH_PG_URL"))
    print(f"intake benchmark: POST /open311/v2/requests.json beside GET /healthz, "
          f"`linli serve --workers {args.workers}`")
    print(f"machine: {os.cpu_count()} CPU(s), Python {platform.python_version()}; "
          f"{len(messages):,} real messages (title + text) from {args.messages.name}")
    if not shutil.which("wrk") and args.client != "python":
        print("load: built-in asyncio client (for wrk: apt-get install wrk)")
    if not args.no_sqlite:
        h, i = bench_one("SQLite (fresh data directory)", None, args, messages)
    if want_pg:
        with postgres(pg_url or None) as url:
            h, i = bench_one("PostgreSQL (fresh database)", url, args, messages)
    return 0


if __name__ == "__main__":
    sys.exit(main())
