"""`linli seed-demo`: build the demo community Y社区 at the paper's scale."""

from argparse import ArgumentTypeError

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from linli.demo import community as demo
from linli.demo.case_lives import HistoryError
from linli.demo.services import seed_demo, summary_lines


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
        if quiet or options.get("verbosity", 1) == 0:
            return
        for line in summary_lines(seeded):
            self.stdout.write(line)
        self.stdout.write(_("Demo accounts (password %(pw)s): %(names)s") % {
            "pw": demo.DEMO_PASSWORD, "names": ", ".join(s.username for s in seeded.demo.sign_ins)})
