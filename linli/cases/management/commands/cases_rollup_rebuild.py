"""`linli cases_rollup_rebuild [--community CODE] [--since YYYY-MM] [--verify]`: the three rates' rollup.

Rebuild recomputes the rollup from the cases (after a data repair or a bulk
import that went past the services); ``--verify`` compares without writing and
exits with status 1 when the rollup has drifted."""

import datetime as dt
import time

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from linli.cases import rollup
from linli.community.models import Community


def _month(value: str) -> dt.date:
    try:
        return dt.datetime.strptime(value.strip(), "%Y-%m").date()
    except ValueError:
        raise CommandError(_("--since must be a month like 2025-03, not %(value)r.") % {"value": value})


class Command(BaseCommand):
    help = ("Recompute the three rates' rollup from the cases, or with --verify report where it differs "
            "(exit status 1) without writing.")

    def add_arguments(self, parser):
        parser.add_argument("--community", help="only this community (its code)")
        parser.add_argument("--since", help="only months from this one on (YYYY-MM; rebuild only)")
        parser.add_argument("--verify", action="store_true", help="compare and report; write nothing")

    def handle(self, *args, community=None, since=None, verify=False, **options):
        target = None
        if community:
            target = Community.objects.filter(code=community.strip()).first()
            if target is None:
                raise CommandError(_("Unknown community: %(code)s.") % {"code": community})
        started = time.perf_counter()
        if verify:
            drift = rollup.verify(target)
            if not drift:
                self.stdout.write(_("The rollup matches the cases."))
                return
            self.stdout.write(_("The rollup differs from the cases in %(n)d counts:") % {"n": len(drift)})
            for d in drift[:200]:
                community_id, month, kind, value = d.key
                self.stdout.write(f"  community={community_id} month={month:%Y-%m} {kind}={value or '-'} "
                                  f"{d.component}: {d.stored} stored, {d.expected} counted")
            raise SystemExit(1)
        rows = rollup.rebuild(target, since=_month(since) if since else None)
        self.stdout.write(_("Rollup rebuilt: %(rows)d rows in %(seconds).1f s.")
                          % {"rows": rows, "seconds": time.perf_counter() - started})
