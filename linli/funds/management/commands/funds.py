"""`linli funds`: Pabulib export and import, a call's result, and recomputing published results.

    linli funds export-pabulib --community Y [--call 7] --out call.pb
    linli funds result --community Y [--call 7] [--json]
    linli funds recompute [--community Y]
    linli funds import-pabulib call.pb --community Y

``export-pabulib`` writes a closed call (default: the community's latest) as a Pabulib file
(docs/funds.md, "Selection rules and Pabulib"); ``-`` writes to standard output.
``result`` selects again by the call's rule from its stored ballots and prints
``{"call": …, "rule": "greedy" | "equal-shares", "selected": [project ids as in the export]}``;
with ``--json`` it prints exactly the canonical JSON the published result's SHA-256 covers.
``recompute`` does that for every closed call and compares with the published hash; it exits
1 when one differs. ``import-pabulib`` makes a closed call from a file and prints its id.
Errors (unknown community, no closed call, a bad file) are messages in the user's language,
and nothing is changed.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from linli.core.errors import LinliError


class Command(BaseCommand):
    help = "Community fund calls: Pabulib export and import, a call's result, recompute published results."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True,
                                        metavar="{export-pabulib,result,recompute,import-pabulib}")
        export = actions.add_parser("export-pabulib", help="write a closed call as a Pabulib file")
        export.add_argument("--community", required=True, help="the community's code")
        export.add_argument("--call", type=int, default=None, help="the call's id (default: the latest closed)")
        export.add_argument("--out", required=True, help="the file to write ('-': standard output)")
        result = actions.add_parser("result", help="select again by the call's rule and print the result")
        result.add_argument("--community", required=True, help="the community's code")
        result.add_argument("--call", type=int, default=None, help="the call's id (default: the latest closed)")
        result.add_argument("--json", action="store_true", help="print the result as JSON")
        recompute = actions.add_parser("recompute", help="recompute every closed call and compare its hash")
        recompute.add_argument("--community", default=None, help="the community's code (default: every one)")
        load = actions.add_parser("import-pabulib", help="make a closed call from a Pabulib file")
        load.add_argument("file", help="the Pabulib file ('-': standard input)")
        load.add_argument("--community", required=True, help="the community's code")

    def handle(self, *args, action, **options):
        try:
            return getattr(self, "_" + action.replace("-", "_"))(**options)
        except LinliError as error:
            raise CommandError(str(error.message)) from None

    # --- lookups ------------------------------------------------------------------------------

    def _community(self, code):
        from linli.community.models import Community

        community = Community.objects.filter(code=code).first()
        if community is None:
            raise CommandError(_("There is no community with the code %(code)s.") % {"code": code})
        return community

    def _call(self, community, call_id):
        from linli.funds import selectors
        from linli.funds.models import Call

        if call_id is None:
            call = selectors.latest_closed_call(community)
            if call is None:
                raise CommandError(_("Community %(code)s has no closed fund call.") % {"code": community.code})
            return call
        call = Call.objects.filter(community=community, pk=call_id).first()
        if call is None:
            raise CommandError(_("Community %(code)s has no fund call %(id)s.")
                               % {"code": community.code, "id": call_id})
        if call.state == Call.State.OPEN:
            raise CommandError(_("Fund call %(id)s is not closed: its selection is not published yet.")
                               % {"id": call.pk})
        return call

    # --- export-pabulib -----------------------------------------------------------------------

    def _export_pabulib(self, *, community, call, out, **options):
        from linli.funds import pabulib, selectors

        call = self._call(self._community(community), call)
        meta, projects, votes = selectors.pabulib_payload(call)
        text = pabulib.dump(meta, projects, votes)
        if out == "-":
            self.stdout.write(text, ending="")
            return
        target = Path(out)
        if not target.parent.is_dir():
            raise CommandError(_("The folder %(folder)s does not exist.") % {"folder": str(target.parent)})
        # Written beside the target and renamed: the file is whole or not there.
        temporary = None
        try:
            handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".pabulib-", suffix=".tmp")
            with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
                stream.write(text)
            os.replace(temporary, target)
            temporary = None
        except OSError as exc:
            raise CommandError(_("Cannot write %(file)s: %(error)s") % {"file": out, "error": exc.strerror}) from None
        finally:
            if temporary is not None and os.path.exists(temporary):
                os.unlink(temporary)
        self.stdout.write(_("Wrote fund call %(id)s to %(file)s (projects: %(projects)s, votes: %(votes)s).")
                          % {"id": call.pk, "file": out, "projects": len(projects), "votes": len(votes)})

    # --- result -------------------------------------------------------------------------------

    def _payload(self, call):
        from linli.funds import selection, selectors

        instance, approvals, min_votes, rule = selectors.call_instance(call)
        chosen = selection.select(rule, instance, approvals, min_votes=min_votes)
        return {"call": call.pk, "rule": rule, "selected": [str(pid) for pid in chosen]}

    def _result(self, *, community, call, json: bool = False, **options):
        call = self._call(self._community(community), call)
        payload = self._payload(call)
        if json:
            self.stdout.write(_canonical(payload))
            return
        self.stdout.write(_("Fund call %(id)s, rule %(rule)s, selected (%(count)s): %(ids)s")
                          % {"id": payload["call"], "rule": payload["rule"], "count": len(payload["selected"]),
                             "ids": ", ".join(payload["selected"]) or "—"})

    # --- recompute ----------------------------------------------------------------------------

    def _recompute(self, *, community, **options):
        from linli.funds import services
        from linli.funds.models import Call

        calls = Call.objects.exclude(state=Call.State.OPEN).order_by("community_id", "pk")
        if community:
            calls = calls.filter(community=self._community(community))
        checked = differ = 0
        for call in calls:
            same, message = services.recompute(call)
            checked += 1
            if same:
                self.stdout.write(str(message))
            else:
                differ += 1
                self.stderr.write(str(message))
        if differ:
            raise CommandError(
                _("Closed fund calls that do not give their published result: %(differ)s of %(checked)s.")
                % {"differ": differ, "checked": checked})
        self.stdout.write(_("Closed fund calls checked: %(checked)s; each gives its published result.")
                          % {"checked": checked})

    # --- import-pabulib -----------------------------------------------------------------------

    def _import_pabulib(self, *, file, community, **options):
        from linli.funds import pabulib, services

        community = self._community(community)
        try:
            if file == "-":
                text = sys.stdin.read()
            else:
                text = Path(file).read_bytes().decode("utf-8-sig")
        except OSError as exc:
            raise CommandError(_("Cannot read %(file)s: %(error)s") % {"file": file, "error": exc.strerror}) from None
        except UnicodeDecodeError:
            raise CommandError(_("%(file)s is not UTF-8 text.") % {"file": file}) from None
        try:
            meta, projects, votes = pabulib.load(text)
        except pabulib.PabulibError as error:
            raise CommandError(_("%(file)s is not a Pabulib file Linli can read: %(error)s")
                               % {"file": file, "error": error}) from None
        call = services.import_pabulib(community=community, meta=meta, projects=projects, votes=votes)
        self.stdout.write(_("Imported fund call %(id)s (projects: %(projects)s, votes: %(votes)s, rule: %(rule)s).")
                          % {"id": call.pk, "projects": len(projects), "votes": len(votes), "rule": call.rule})


def _canonical(data) -> str:
    """The canonical JSON the funds services hash (sorted keys, no spaces, UTF-8)."""
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
