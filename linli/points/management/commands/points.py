"""`linli points`: the 睦邻积分 ledger from the command line (docs/points.md).

    linli points audit --community Y        (every community's ledger when omitted)

``audit`` prints the counts and either "ok" or the first transaction or account that does not
add up, and exits 0 when the ledger is clean, 1 otherwise. Other parts add their subcommands
as further ``actions`` below.
"""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError

from linli.community.models import Community


class Command(BaseCommand):
    help = "The neighbourhood points ledger: audit it."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="{audit}")
        audit = actions.add_parser("audit", help="check every transaction sums to zero and every balance "
                                                 "equals its postings; exit 1 naming the first that does not")
        audit.add_argument("--community", default=None, help="the community's code (default: every one)")

    def handle(self, *args, action, **options):
        if action == "audit":
            return self.audit(options.get("community"))
        raise CommandError(f"unknown action {action!r}")

    def audit(self, code: str | None):
        from linli.points.audit import audit

        community = None
        if code:
            community = Community.objects.filter(code=code).first()
            if community is None:
                raise CommandError(f"no community with the code {code!r}")
        result = audit(community)
        where = f"community {community.code}" if community is not None else "every community"
        self.stdout.write(f"points audit of {where}: {result.transactions} transactions, "
                          f"{result.postings} postings, {result.accounts} accounts")
        if result.ok:
            self.stdout.write("ok")
            return
        self.stdout.write(f"FAILED: {result.problem}")
        self.stdout.flush()
        sys.exit(1)
