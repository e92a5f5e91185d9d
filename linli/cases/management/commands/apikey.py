"""`linli apikey`: issue, list and revoke the keys other systems use for Open311.

    linli apikey create "Street 12345 hotline" --community Y --rate 120
    linli apikey list [--community Y]
    linli apikey revoke lk_ab12cd34
"""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _, pgettext

from linli.core.errors import LinliError


class Command(BaseCommand):
    help = "Create, list and revoke API keys (Open311). A new key is printed once, as the last word."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="{create,list,revoke}")
        create = actions.add_parser("create", help="issue a key for a community and print it once")
        create.add_argument("name", help="what the key is for, e.g. the system that uses it")
        create.add_argument("--community", required=True, help="the community's code")
        create.add_argument("--rate", default="600", help="requests per minute (default 600)")
        listing = actions.add_parser("list", help="list keys (never the keys themselves)")
        listing.add_argument("--community", default=None, help="only this community's keys")
        revoke = actions.add_parser("revoke", help="stop a key working")
        revoke.add_argument("prefix", help="the key's prefix, e.g. lk_ab12cd34")

    def handle(self, *args, action, **options):
        try:
            getattr(self, f"_{action}")(**options)
        except LinliError as error:
            raise CommandError(str(error.message))

    def _community(self, code):
        from linli.community.models import Community

        community = Community.objects.filter(code=code).first()
        if community is None:
            raise CommandError(_("Unknown community %(code)s.") % {"code": code})
        return community

    def _create(self, *, name, community, rate, **options):
        from linli.cases.apikeys import apikey_create

        api_key, plaintext = apikey_create(actor=None, community=self._community(community), name=name,
                                           rate_per_minute=rate)
        self.stdout.write(
            _("Created API key %(prefix)s (%(name)s) for %(community)s, %(rate)d requests a minute. "
              "It is shown only now; keep it secret:")
            % {"prefix": api_key.prefix, "name": api_key.name, "community": api_key.community.code,
               "rate": api_key.rate_per_minute})
        self.stdout.write(plaintext)

    def _list(self, *, community, **options):
        from linli.cases.models import ApiKey

        keys = ApiKey.objects.select_related("community").order_by("community__code", "created_at", "id")
        if community is not None:
            keys = keys.filter(community=self._community(community))
        headers = (pgettext("api keys", "prefix"), pgettext("api keys", "community"), pgettext("api keys", "name"),
                   pgettext("api keys", "per minute"), pgettext("api keys", "active"),
                   pgettext("api keys", "last used"))
        rows = [(k.prefix, k.community.code, k.name, str(k.rate_per_minute),
                 _("yes") if k.active else _("revoked"),
                 timezone.localtime(k.last_used_at).strftime("%Y-%m-%d %H:%M") if k.last_used_at else "-")
                for k in keys]
        if not rows:
            self.stdout.write(_("No API keys."))
            return
        widths = [max(_width(r[i]) for r in [headers, *rows]) for i in range(len(headers))]
        for row in [headers, *rows]:
            self.stdout.write("  ".join(cell + " " * (widths[i] - _width(cell)) for i, cell in enumerate(row)).rstrip())

    def _revoke(self, *, prefix, **options):
        from linli.cases.apikeys import apikey_revoke
        from linli.cases.models import ApiKey

        api_key = ApiKey.objects.filter(prefix=prefix.strip()).first()
        if api_key is None:
            raise CommandError(_("No API key has the prefix %(prefix)s.") % {"prefix": prefix})
        if not api_key.active:
            self.stdout.write(_("API key %(prefix)s was already revoked.") % {"prefix": api_key.prefix})
            return
        apikey_revoke(actor=None, api_key=api_key)
        self.stdout.write(_("Revoked API key %(prefix)s.") % {"prefix": api_key.prefix})


def _width(text: str) -> int:
    """Columns on a terminal: CJK characters take two."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in str(text))
