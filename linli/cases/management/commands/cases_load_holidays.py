"""`linli cases-load-holidays [--years 2026 2027]`: load mainland China's official days off and
make-up working days into the holiday calendar, and say which years the package had."""

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from linli.cases import calendar


class Command(BaseCommand):
    help = ("Load mainland China's official holidays and make-up working days from the package "
            "chinese-calendar into the holiday calendar. Days set by hand are kept; safe to run again. "
            "Default: this year and next.")

    def add_arguments(self, parser):
        parser.add_argument("--years", nargs="+", type=int, help="the years to load (default: this year and next)")

    def handle(self, *args, years=None, **options):
        years = years or calendar.this_and_next_year()
        result = calendar.load_official(actor=None, years=years)
        if options.get("verbosity", 1) > 0:
            self.stdout.write(report(result))


def report(result: calendar.LoadResult) -> str:
    """What a load did, in words."""
    lines = []
    package = f"{calendar.PACKAGE} {calendar.package_version()}"
    if result.loaded:
        lines.append(_("Loaded the official days of %(years)s from %(package)s: %(added)d added, %(updated)d "
                       "updated, %(removed)d removed, %(kept)d kept as set by hand.") % {
            "years": ", ".join(map(str, result.loaded)), "package": package, "added": result.added,
            "updated": result.updated, "removed": result.removed, "kept": result.kept_by_hand})
    if result.unavailable:
        lines.append(_("Not available in %(package)s: %(years)s. Add those days off and make-up working days by "
                       "hand (Cases › Case settings › Holiday calendar) from the State Council's notice when it "
                       "is published.") % {"package": package, "years": ", ".join(map(str, result.unavailable))})
    return "\n".join(lines)
