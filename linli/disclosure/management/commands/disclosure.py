"""`linli disclosure`: publish from the server, verify a board, make the signing key, witness a log.

    linli disclosure publish --community Y --section finance --title "…" --body-file body.txt \\
        [--attach statement.pdf …] [--period 2026-11-01 2026-11-30]
    linli disclosure verify --community Y          (every community with a log when omitted)
    linli disclosure keygen --name linli.example.org [--out /srv/linli/disclosure-signing.key]
    linli disclosure witness https://linli.example.org/disclosure/Y --state witness.json \\
        --key witness.key [--log-key "<the log's verifier key>"]

``publish`` publishes as the system: whoever runs the command on the server approves what it
imports, and the event (``disclosure.published_by_server``) says so. It prints the new entry's
log index as its last word. ``verify`` exits 1 and names the first entry that differs.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from linli.core.errors import LinliError


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"not a date (YYYY-MM-DD): {text!r}") from None


class Command(BaseCommand):
    help = "Publish to, verify, and key the public affairs board's transparency log; run a witness."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="{publish,verify,keygen,witness}")
        publish = actions.add_parser("publish", help="publish an entry as the system; prints its log index last")
        publish.add_argument("--community", required=True, help="the community's code")
        publish.add_argument("--section", required=True, choices=("party", "residential", "finance"))
        publish.add_argument("--title", required=True)
        publish.add_argument("--body-file", required=True, help="a UTF-8 text file with the body ('-': stdin)")
        publish.add_argument("--attach", action="append", default=[], metavar="FILE",
                             help="a PDF or image to attach (repeat for several)")
        publish.add_argument("--period", nargs=2, metavar=("FROM", "TO"),
                             help="the period covered, two ISO dates (default: today)")
        publish.add_argument("--duty", default=None, help="the code of the duty it fulfils")
        verify = actions.add_parser("verify", help="re-check everything stored against the signed log")
        verify.add_argument("--community", default=None, help="the community's code (default: every one)")
        keygen = actions.add_parser("keygen", help="write a new checkpoint signing key")
        keygen.add_argument("--name", required=True, help="the key's name, e.g. the site's host")
        keygen.add_argument("--out", default=None, help="the key file (default: LINLI_DISCLOSURE_KEY_FILE)")
        witness = actions.add_parser("witness", help="check a log only grew and cosign its checkpoint")
        witness.add_argument("url", help="the board's log, e.g. https://host/disclosure/Y")
        witness.add_argument("--state", required=True, help="the witness's state file")
        witness.add_argument("--key", required=True, help="the witness's signing key file")
        witness.add_argument("--log-key", default=None, help="the log's verifier key (first run)")

    def handle(self, *args, action, **options):
        try:
            return getattr(self, f"_{action}")(**options)
        except LinliError as error:
            raise CommandError(str(error.message))

    def _community(self, code):
        from linli.community.models import Community

        community = Community.objects.filter(code=code).first()
        if community is None:
            raise CommandError(f"unknown community {code!r}")
        return community

    # --- publish ------------------------------------------------------------------------------------

    def _publish(self, *, community, section, title, body_file, attach, period, duty, **options):
        from linli.disclosure import services
        from linli.disclosure.models import Duty

        community = self._community(community)
        try:
            body = sys.stdin.read() if body_file == "-" else Path(body_file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"cannot read the body file: {exc}") from None
        files = []
        for name in attach:
            path = Path(name)
            try:
                size = path.stat().st_size
            except OSError as exc:
                raise CommandError(f"cannot read {name}: {exc}") from None
            from linli.disclosure import attachments

            if size > attachments.MAX_BYTES:
                raise CommandError(str(attachments.too_big().message))
            files.append(attachments.check_file(path.read_bytes(), name=path.name))
        if period:
            start, end = _date(period[0]), _date(period[1])
        else:
            start = end = timezone.localdate()
        duty_row = None
        if duty:
            duty_row = Duty.objects.filter(community=community, code=duty).first()
            if duty_row is None:
                raise CommandError(f"unknown duty {duty!r}")
        entry = services.publish_as_server(community=community, section=section, title=title, body=body,
                                           period_start=start, period_end=end, files=files, duty=duty_row)
        self.stdout.write(f"published {community.code} entry {entry.log_index}")

    # --- verify -------------------------------------------------------------------------------------

    def _verify(self, *, community, **options):
        from linli.community.models import Community
        from linli.disclosure import selectors
        from linli.transparency.models import Log

        if community:
            communities = [self._community(community)]
        else:
            ids = Log.objects.values_list("community_id", flat=True)
            communities = list(Community.objects.filter(pk__in=list(ids)).order_by("code"))
        failed = []
        for one in communities:
            report = selectors.verify(one)
            if report.ok:
                self.stdout.write(f"{one.code}: ok: {report.message} "
                                  f"({report.checked_entries} entries, {report.checked_attachments} attachments)")
            else:
                index = report.first_bad_index
                self.stderr.write(f"{one.code}: FAILED at entry {index if index is not None else '?'}: "
                                  f"{report.message}")
                failed.append((one.code, index))
        if failed:
            code, index = failed[0]
            raise CommandError(f"{code}: entry {index if index is not None else '?'} differs")

    # --- keys and witness ---------------------------------------------------------------------------

    def _keygen(self, *, name, out, **options):
        from linli.core.signednote import NoteError
        from linli.transparency import keys

        path = Path(out) if out else keys.key_file()
        try:
            verifier = keys.keygen(name, path)
        except FileExistsError:
            raise CommandError(f"{path} exists already; refusing to overwrite a signing key") from None
        except (NoteError, ValueError) as exc:
            raise CommandError(f"invalid key name: {exc}") from None
        except OSError as exc:
            raise CommandError(f"cannot write {path}: {exc}") from None
        self.stdout.write(f"wrote the signing key to {path} (keep it like the data key; back it up)")
        self.stdout.write(f"fingerprint: {keys.fingerprint_of(str(verifier))}")
        self.stdout.write(str(verifier))

    def _witness(self, *, url, state, key, log_key, **options):
        from linli.transparency import witness

        try:
            line = witness.run(url, state=Path(state), key=Path(key), log_key=log_key)
        except witness.WitnessError as exc:
            raise CommandError(f"witness: {exc}") from None
        self.stdout.write(line)
