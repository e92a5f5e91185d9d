"""`linli cases-install-defaults --community CODE`: add the default category tree to a community."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from linli.cases.defaults import install_default_categories, install_holidays
from linli.cases.management.commands.cases_load_holidays import report
from linli.community.models import Community


class Command(BaseCommand):
    help = ("Add the default case categories (Chinese and English names, keyword rules, time limits, "
            "default handling units) to a community, and this year's and next year's official holidays to "
            "the holiday calendar. Adds only what is missing; safe to run again.")

    def add_arguments(self, parser):
        parser.add_argument("--community", required=True, help="the community's code")

    def handle(self, *args, community, **options):
        target = Community.objects.filter(code=community).select_related("street").first()
        if target is None:
            raise CommandError(_("No community has the code %(code)r.") % {"code": community})
        created = install_default_categories(actor=None, community=target, holidays=False)
        # The holiday calendar too (this year and next), so that a fresh install counts working days right.
        loaded = install_holidays(actor=None, community=target)
        if options.get("verbosity", 1) > 0:
            self.stdout.write(_("%(community)s: %(n)d categories added.") % {"community": target.name,
                                                                             "n": len(created)})
            self.stdout.write(report(loaded))
