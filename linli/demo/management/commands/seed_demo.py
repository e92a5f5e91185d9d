"""`linli seed-demo`: build the demo community Y社区 at the paper's scale."""

from argparse import ArgumentTypeError

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from linli.demo import community as demo
from linli.demo.case_lives import HistoryError
from linli.demo.services import seed_demo


def _count(value: str) -> int:
    """An integer; the range is checked in handle() so that the message can say it."""
    try:
        return int(value.replace(",", "").replace("_", ""))
    except ValueError:
        raise ArgumentTypeError(_("%(value)r is not a whole number") % {"value": value})


class Command(BaseCommand):
    help = "Create the demo community Y社区 (11 courtyards, 14,789 households, ~33,000 residents) and its demo accounts."

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=_count, default=demo.DEFAULT_SEED,
                            help="random seed; the same seed gives the same community (default %(default)s)")
        parser.add_argument("--households", type=_count, default=demo.DEFAULT_HOUSEHOLDS,
                            help="number of households (default %(default)s)")
        parser.add_argument("--quiet", action="store_true", help="no progress bar and no summary")
        parser.add_argument("--no-cases", action="store_true",
                            help="skip the two years of case history (linli.demo.case_writer)")

    def handle(self, *args, seed, households, quiet, no_cases=False, **options):
        if seed < 0:
            raise CommandError(_("--seed must be zero or a positive number, not %(n)s.") % {"n": seed})
        if not demo.MIN_HOUSEHOLDS <= households <= demo.MAX_HOUSEHOLDS:
            raise CommandError(_("--households must be between %(lo)s and %(hi)s, not %(n)s.") % {
                "lo": f"{demo.MIN_HOUSEHOLDS:,}", "hi": f"{demo.MAX_HOUSEHOLDS:,}", "n": households})
        progress = demo.Progress(getattr(self.stderr, "_out", self.stderr), enabled=not quiet and options.get("verbosity", 1) > 0)
        try:
            seeded = seed_demo(seed=seed, households=households, cases=not no_cases, progress=progress)
        except (demo.DemoError, HistoryError) as exc:
            raise CommandError(str(exc)) from exc
        result, history, need_counts = seeded.demo, seeded.history, seeded.needs
        if quiet or options.get("verbosity", 1) == 0:
            return
        c = result.counts
        self.stdout.write(_(
            "Seeded %(name)s in %(s).1f s: %(grids)d grids, %(buildings)d buildings, %(households)s households, "
            "%(residents)s residents (%(children)s children, %(elders)s aged 60+, %(alone)s elders living alone)."
        ) % {
            "name": result.community.name, "s": result.seconds, "grids": c["grids"], "buildings": c["buildings"],
            "households": f"{c['households']:,}", "residents": f"{c['residents']:,}",
            "children": f"{c['children']:,}", "elders": f"{c['aged_60_plus']:,}", "alone": f"{c['elders_alone']:,}",
        })
        if history is not None:
            self.stdout.write(_(
                "Case history: %(cases)s cases over two years (%(open)s still open), %(events)s events, in %(s).1f s."
            ) % {"cases": f"{history['cases']:,}", "open": f"{history['open']:,}",
                 "events": f"{history['events']:,}", "s": history["seconds"]})
        self.stdout.write(_("Need tags: %(tags)s derived from the registry and the cases, in %(s).1f s.") % {
            "tags": f"{need_counts['added']:,}", "s": need_counts["seconds"]})
        self.stdout.write(_("Demo accounts (password %(pw)s): %(names)s") % {
            "pw": demo.DEMO_PASSWORD, "names": ", ".join(s.username for s in result.sign_ins)})
