"""`linli worker`: run the periodic jobs every app registered (linli.core.registry), in a process of its own.

    linli worker              run due jobs until SIGTERM or Ctrl-C
    linli worker --once       run every job once and exit (1 if one failed): for cron
    linli worker --interval 2 look for due jobs every 2 seconds (default 5)

A job that fails is logged and retried at its next turn; the others go on. A job whose module
or function does not exist is a failure too (a wrong path in a registration), never "skipped":
``--once`` exits 1 and the loop logs it as failed at every turn.
SIGTERM (or SIGINT) lets the running job finish, then the worker exits.
Several workers may run at once: every job is safe to run twice.
"""

from __future__ import annotations

import logging
import signal
import threading
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from linli.core import registry

log = logging.getLogger("linli.worker")

DONE, FAILED = "done", "failed"


def _tidy_connections() -> None:
    """Drop database connections that broke or grew old (as Django does around a
    request), but never one in the middle of a caller's transaction."""
    for conn in connections.all(initialized_only=True):
        if not conn.in_atomic_block:
            conn.close_if_unusable_or_obsolete()


def run_job(job: registry.Job) -> str:
    """Run one job now; never raises. Returns done or failed (also when the job's function does
    not exist: a registration naming a wrong path must not pass unnoticed)."""
    _tidy_connections()
    started = time.monotonic()
    try:
        try:
            function = registry.resolve_job(job)
        except registry.JobMissing:
            log.error("job %s failed: %s does not exist", job.name, job.target)
            return FAILED
        result = function()
    except Exception:
        log.exception("job %s failed after %.2f s", job.name, time.monotonic() - started)
        return FAILED
    finally:
        _tidy_connections()
    log.info("job %s done in %.2f s%s", job.name, time.monotonic() - started,
             f": {result}" if result is not None else "")
    return DONE


class Command(BaseCommand):
    help = "Run the periodic jobs (time limits, notifications, webhooks, e-mail) until stopped."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Run every job once, then exit.")
        parser.add_argument("--interval", type=float, default=5.0,
                            help="Seconds between looks for due jobs (default 5).")

    def handle(self, *args, once: bool, interval: float, **options):
        if interval <= 0:
            raise CommandError("--interval must be more than 0 seconds.")
        if once:
            outcomes = [run_job(job) for job in registry.jobs()]
            if FAILED in outcomes:
                raise CommandError(f"{outcomes.count(FAILED)} job(s) failed; see the log.")
            return
        stop = threading.Event()
        previous = self._trap_signals(stop)
        log.info("worker started: %s", ", ".join(f"{j.name} every {j.every_seconds} s" for j in registry.jobs()))
        next_run: dict[str, float] = {}
        try:
            while not stop.is_set():
                for job in registry.jobs():
                    if stop.is_set():
                        break
                    if time.monotonic() >= next_run.get(job.name, 0.0):
                        run_job(job)
                        next_run[job.name] = time.monotonic() + job.every_seconds
                stop.wait(interval)
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        log.info("worker stopped")

    @staticmethod
    def _trap_signals(stop: threading.Event) -> dict:
        """SIGTERM/SIGINT set ``stop``: the current job finishes, no new one starts."""
        previous = {}
        if threading.current_thread() is not threading.main_thread():
            return previous

        def handler(signum, frame):
            log.info("worker stopping (signal %s) after the current job", signum)
            stop.set()

        for signum in (signal.SIGTERM, signal.SIGINT):
            previous[signum] = signal.signal(signum, handler)
        return previous
