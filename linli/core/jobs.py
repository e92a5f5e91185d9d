"""The one place periodic jobs are declared.

`linli worker` (a process of its own, never the web server) runs each job
every ``every_seconds``. A job takes no arguments, reads what it needs from
the database, and is safe to run twice or in two workers at once: it works
from rows and their states (cursors, due times, claimed rows), never from
what happened in memory. It may return a dict of counts for the log.

Targets are dotted paths, imported when the job runs, so that a job whose
module does not exist yet is skipped with a log line instead of stopping
the worker.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Job:
    name: str
    every_seconds: int
    target: str | Callable[[], object]  # a dotted path "package.module.function", or the function


class JobMissing(Exception):
    """The job's module or function does not exist (yet)."""


JOBS: list[Job] = [
    # Time limits: reminders, overdue flags, escalation, closing unrated cases.
    Job("cases.tick", 60, "linli.cases.jobs.tick"),
    # Event log → inbox notifications and webhook deliveries.
    Job("notify.dispatch", 10, "linli.notify.jobs.dispatch"),
    Job("notify.webhooks", 15, "linli.notify.jobs.deliver_webhooks"),
    Job("notify.email", 30, "linli.notify.jobs.send_emails"),
    # The learned classifier: retrain on staff-confirmed categories; promoted only when not worse.
    Job("insight.retrain", 86400, "linli.insight.jobs.retrain_all"),
    # Need tags on households, derived from the registry, cases and service use.
    Job("community.needs", 3600, "linli.community.needs.recompute_all"),
    # Hot issues: regroup recent cases hourly; put new cases into open hot issues every minute.
    Job("insight.hotissues_refresh", 3600, "linli.insight.hotissues.refresh_all"),
    Job("insight.hotissues_attach", 60, "linli.insight.hotissues.attach_all"),
    # Early warning: unusual rises per courtyard and category (yesterday and today so far).
    Job("insight.warnings", 3600, "linli.insight.warnings.scan_all"),
]


def resolve(job: Job) -> Callable[[], object]:
    """The job's function. Raises JobMissing when its module or attribute does not exist;
    any other import error (a bug in the module) propagates."""
    if callable(job.target):
        return job.target
    module_name, _, attr = job.target.rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        # Only the job's own module (or a package above it) being absent counts
        # as missing; a module it imports being absent is a real error.
        if exc.name and (module_name == exc.name or module_name.startswith(exc.name + ".")):
            raise JobMissing(job.target) from exc
        raise
    try:
        return getattr(module, attr)
    except AttributeError as exc:
        raise JobMissing(job.target) from exc
