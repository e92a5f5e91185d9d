"""Seeding the demo: the community Y社区, then each app's history, each through its own code.

:func:`seed_demo` is what `linli seed-demo` runs: the community and its people
(:mod:`.community`), two years of cases (:mod:`.case_writer`), the need tags the
registry and the cases imply, the hot issues and alerts of that history, the history's last
year of books and public board (:mod:`.disclosure`), the year of residents deciding
(:mod:`.decide`: 一月一议, the community fund, last year's 民主评议), the neighbours helping
(:mod:`.volunteers`), the canteen's year and the services, rooms and activities (:mod:`.canteen`,
:mod:`.services_demo`; docs/demo.md), and the notification cursor moved past it. All in one transaction: the demo is there whole, or not at all.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _, ngettext

from linli.community.needs import needs_recompute
from linli.insight import jobs as insight_jobs
from linli.notify.services import cursor_fast_forward

from .canteen import CanteenResult, seed_canteen
from .canteen import summary_lines as canteen_lines
from .case_writer import build_case_history
from .community import DEFAULT_HOUSEHOLDS, DEFAULT_SEED, DemoResult, Progress, build_demo
from .decide import DecideResult, seed_decide
from .decide import summary_lines as decide_lines
from .disclosure import BoardResult, seed_disclosure
from .disclosure import summary_lines as disclosure_lines
from .needs import decide_suggestions
from .services_demo import ServicesResult, seed_services
from .services_demo import summary_lines as services_lines
from .volunteers import VolunteersResult, seed_volunteers
from .volunteers import summary_lines as volunteers_lines

# The alerts of the history's last year: what the early-warning page has to show.
ALERT_DAYS = 365


@dataclass
class Seeded:
    demo: DemoResult
    history: dict | None      # counts of the case history; None when it was left out
    needs: dict               # counts of the need tags derived
    insight: dict | None      # hot issues formed and alerts raised over the history
    disclosure: BoardResult | None = None  # the year of books and board; None without the history
    decide: DecideResult | None = None     # the year of residents deciding; None without the history
    volunteers: VolunteersResult | None = None  # two years of neighbours helping; None without the history
    canteen: CanteenResult | None = None        # the canteen's year (issue 12); None without the history
    services: ServicesResult | None = None      # services, rooms and activities (issue 12); None without it


@contextmanager
def _collector_paused():
    """Seeding makes millions of small objects (people, cases, events) that all stay alive
    until they are written: Python's cyclic garbage collector would walk them again and
    again and free nothing, a tenth of the build's time. It is paused for the build."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


# SQLite's page cache while the demo is written: 128 MB (its default is 2 MB). The demo's one
# transaction writes about 110 MB; with the default cache the index pages of the big tables are
# evicted and read back from the WAL over and over, about a tenth of the build's time.
SEED_CACHE_KIB = 128 * 1024


@contextmanager
def _large_page_cache():
    """A large page cache on this connection for the build, the connection's own setting back
    after (a ``linli demo`` process goes on to serve with it). PostgreSQL: nothing to do."""
    connection = transaction.get_connection()
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        before = int(cursor.fetchone()[0])
        cursor.execute(f"PRAGMA cache_size = -{SEED_CACHE_KIB}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {before}")


@transaction.atomic
def seed_demo(*, seed: int = DEFAULT_SEED, households: int = DEFAULT_HOUSEHOLDS, cases: bool = True,
              progress: Progress | None = None) -> Seeded:
    """Build the demo community and, with ``cases``, its history. Raises DemoError or
    HistoryError (nothing written) where it cannot be built here."""
    with _collector_paused(), _large_page_cache():
        return _seed(seed=seed, households=households, cases=cases, progress=progress)


def _seed(*, seed: int, households: int, cases: bool, progress: Progress | None) -> Seeded:
    demo = build_demo(seed=seed, households=households, progress=progress)
    history = build_case_history(community=demo.community, seed=seed, progress=progress) if cases else None
    # Need tags from the registry and the history just written (docs/needs.md).
    needs = needs_recompute(community=demo.community)
    # Two years in, the grid workers have decided most of what the rules suggested.
    needs["decided"] = decide_suggestions(community=demo.community, seed=seed)
    insight = disclosure = decide = volunteers = canteen = services = None
    if history is not None:
        # Hot issues and alerts of the history (docs/hotspots.md, docs/warnings.md), before the
        # cursor moves: past alerts are not news.
        insight = insight_jobs.catch_up(demo.community.pk, days=ALERT_DAYS)
        # The history's last year of books and of the public board (三务公开) on its signed log.
        disclosure = seed_disclosure(community=demo.community, seed=seed)
        # The year of residents deciding: 一月一议, the fund's call, last year's 民主评议 (issue 10).
        decide = seed_decide(community=demo.community, seed=seed)
        # Two years of neighbours helping: volunteers, the needs board, hours and points (issue 11).
        volunteers = seed_volunteers(community=demo.community, seed=seed)
        # Everyday services for all ages (issue 12): the canteen's year, the bookable services,
        # the service centre's rooms and the activities.
        canteen = seed_canteen(community=demo.community, seed=seed)
        services = seed_services(community=demo.community, seed=seed)
        # Two years of history are not news: the worker notifies from here on.
        cursor_fast_forward()
    return Seeded(demo=demo, history=history, needs=needs, insight=insight, disclosure=disclosure, decide=decide,
                  volunteers=volunteers, canteen=canteen, services=services)


def summary_lines(seeded: Seeded) -> list[str]:
    """What a command says once the demo is seeded: the community, its history, the need tags,
    and the hot issues and alerts built from that history (the sign-ins are printed apart,
    by whoever prints them, once)."""
    result, c = seeded.demo, seeded.demo.counts
    lines = [_(
        "Seeded %(name)s in %(s).1f s: %(grids)d grids, %(buildings)d buildings, %(households)s households, "
        "%(residents)s residents (%(children)s children, %(elders)s aged 60+, %(alone)s elders living alone)."
    ) % {
        "name": result.community.name, "s": result.seconds, "grids": c["grids"], "buildings": c["buildings"],
        "households": f"{c['households']:,}", "residents": f"{c['residents']:,}",
        "children": f"{c['children']:,}", "elders": f"{c['aged_60_plus']:,}", "alone": f"{c['elders_alone']:,}",
    }]
    history = seeded.history
    if history is not None:
        lines.append(_(
            "Case history: %(cases)s cases over two years (%(open)s still open), %(events)s events, in %(s).1f s."
        ) % {"cases": f"{history['cases']:,}", "open": f"{history['open']:,}",
             "events": f"{history['events']:,}", "s": history["seconds"]})
    lines.append(_("Need tags: %(tags)s derived from the registry and the cases, in %(s).1f s.") % {
        "tags": f"{seeded.needs['added']:,}", "s": seeded.needs["seconds"]})
    decided = seeded.needs.get("decided")
    if decided:
        lines.append(_("Of those, the grid workers confirmed %(confirmed)s and dismissed %(dismissed)s; "
                       "%(waiting)s wait for a decision.") % {k: f"{v:,}" for k, v in decided.items()})
    if seeded.insight is not None:
        issues, alerts = seeded.insight.get("hot_issues", 0), seeded.insight.get("alerts", 0)
        lines.append(ngettext("Hot issues: %(n)s formed from the history.",
                              "Hot issues: %(n)s formed from the history.", issues) % {"n": f"{issues:,}"})
        lines.append(ngettext("Early warning: %(n)s alert raised over the last year of the history.",
                              "Early warning: %(n)s alerts raised over the last year of the history.",
                              alerts) % {"n": f"{alerts:,}"})
    if seeded.disclosure is not None:
        lines += disclosure_lines(seeded.disclosure)
    if seeded.decide is not None:
        lines += decide_lines(seeded.decide)
    if seeded.volunteers is not None:
        lines += volunteers_lines(seeded.volunteers)
    if seeded.canteen is not None:
        lines += canteen_lines(seeded.canteen)
    if seeded.services is not None:
        lines += services_lines(seeded.services)
    return lines
