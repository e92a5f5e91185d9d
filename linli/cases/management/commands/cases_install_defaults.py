"""`linli cases-install-defaults --community CODE`: add the default category tree to a community."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from linli.cases.defaults import install_default_categories
from linli.community.models import Community


class Command(BaseCommand):
    help = ("Add the default case categories (Chinese and English names, keyword rules, time limits, "
            "default handling units) to a community. Adds only what is missing; safe to run again.")

    def add_arguments(self, parser):
        parser.add_argument("--community", required=True, help="the community's code")

    def handle(self, *args, community, **options):
        target = Community.objects.filter(code=community).select_related("street").first()
        if target is None:
            raise CommandError(_("No community has the code %(code)r.") % {"code": community})
        created = install_default_categories(actor=None, community=target)
        if options.get("verbosity", 1) > 0:
            self.stdout.write(_("%(community)s: %(n)d categories added.") % {"community": target.name,
                                                                             "n": len(created)})
