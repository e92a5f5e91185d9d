"""`linli needs-recompute [--community CODE]`: install the default need tree where it is
missing and recompute the derived need tags (what the `community.needs` job does)."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from linli.community.models import Community
from linli.community.needs import needs_install_defaults, needs_recompute


class Command(BaseCommand):
    help = ("Add the default need categories a community lacks and recompute its derived need tags "
            "(all communities without --community). Safe to run again.")

    def add_arguments(self, parser):
        parser.add_argument("--community", help="the community's code (default: every community)")

    def handle(self, *args, community=None, **options):
        communities = Community.objects.order_by("code")
        if community:
            communities = communities.filter(code=community)
            if not communities.exists():
                raise CommandError(_("No community has the code %(code)r.") % {"code": community})
        for target in communities:
            installed = needs_install_defaults(actor=None, community=target)
            counts = needs_recompute(community=target)
            if options.get("verbosity", 1) > 0:
                self.stdout.write(_(
                    "%(community)s: %(installed)d need categories installed; tags %(added)d added, "
                    "%(updated)d updated, %(removed)d removed, in %(seconds).2f s."
                ) % {"community": target.name, "installed": len(installed), **counts})
