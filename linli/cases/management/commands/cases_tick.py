"""`linli cases-tick [--now ISO]`: the periodic deadline job. Run it from cron or a timer."""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.cases.jobs import run_tick


def _moment(value: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise CommandError(_("--now must be a date and time like 2025-03-01T09:30, not %(value)r.")
                           % {"value": value})
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, timezone.get_current_timezone())
    return moment


class Command(BaseCommand):
    help = ("Check the deadlines of open cases: reminders, overdue flags, escalation; close resolved "
            "cases nobody rated. Safe to run twice.")

    def add_arguments(self, parser):
        parser.add_argument("--now", help="evaluate as of this moment (ISO 8601; default: the clock)")

    def handle(self, *args, now=None, **options):
        moment = _moment(now) if now else None
        report = run_tick(now=moment)
        if options.get("verbosity", 1) > 0:
            self.stdout.write(_(
                "Reminders: %(reminders)d, overdue: %(overdue)d, escalations: %(escalations)d, "
                "closed without rating: %(closed)d."
            ) % {"reminders": report.reminders, "overdue": report.overdue,
                 "escalations": report.escalations, "closed": report.closed})
