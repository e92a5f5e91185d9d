"""`linli import-residents FILE --community CODE [--dry-run] [--errors-out FILE]`.

Imports residents and households from a CSV or .xlsx file, all or nothing
(see docs/import.md). Exits with status 1, having written nothing, when any
row has an error; the errors are printed (row, column, reason), never a
cell's value.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from linli.community import importer
from linli.community.models import Community


class Command(BaseCommand):
    help = "Import residents and households from a CSV or .xlsx file (all or nothing)."

    def add_arguments(self, parser):
        parser.add_argument("file", help="the CSV or .xlsx file")
        parser.add_argument("--community", required=True, help="the community's code")
        parser.add_argument("--dry-run", action="store_true",
                            help="validate and count what would change; write nothing")
        parser.add_argument("--errors-out", metavar="FILE",
                            help="write the error report (CSV, UTF-8 with BOM) to this file")

    def handle(self, *args, file, community, dry_run, errors_out, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(_("No such file: %(path)s") % {"path": file})
        try:
            target = Community.objects.get(code=community)
        except Community.DoesNotExist:
            raise CommandError(_("No community with the code %(code)s.") % {"code": community})
        try:
            importer.check_size(path.stat().st_size)  # before reading it into memory
        except importer.ImportFileError as exc:
            result = importer.ImportResult({"errors": len(exc.errors)}, exc.errors, dry_run=dry_run)
        else:
            try:
                content = path.read_bytes()
            except OSError as exc:
                raise CommandError(_("The file could not be read: %(error)s") % {"error": exc.strerror})
            result = importer.import_residents(actor=None, community=target, content=content,
                                               dry_run=dry_run, via="command")
        if errors_out:
            Path(errors_out).write_bytes(importer.error_report_csv(result.errors))

        s = result.summary
        if result.errors:
            for err in result.errors:
                if err["row"] is None:  # the file as a whole
                    line = err["reason"]
                elif not err["column"]:
                    line = _("row %(row)s: %(reason)s") % err
                else:
                    line = _("row %(row)s, column %(column)s: %(reason)s") % err
                self.stderr.write(line)
            if s.get("errors", 0) > len(result.errors):
                self.stderr.write(_("… and %(n)d more errors.") % {"n": s["errors"] - len(result.errors)})
            raise CommandError(
                _("%(n)d errors in %(file)s; nothing was imported.") % {"n": s.get("errors") or len(result.errors),
                                                                      "file": path.name},
                returncode=1,
            )
        if dry_run:
            self.stdout.write(_("Dry run: nothing was written."))
            self.stdout.write(_(
                "%(rows)d rows: %(created)d residents would be created, %(updated)d updated, "
                "%(unchanged)d unchanged; %(households)d households would be created."
            ) % {"rows": s["rows"], "created": s["created"], "updated": s["updated"],
                 "unchanged": s["unchanged"], "households": s["households_created"]})
        else:
            self.stdout.write(_(
                "%(rows)d rows: %(created)d residents created, %(updated)d updated, "
                "%(unchanged)d unchanged; %(households)d households created."
            ) % {"rows": s["rows"], "created": s["created"], "updated": s["updated"],
                 "unchanged": s["unchanged"], "households": s["households_created"]})
