"""`linli hotspots`: the hot issues of a file of citizen messages, hottest first, as JSON.

    linli hotspots --csv messages.csv --top 20 --out hot.json [--window-days 60]

The CSV has the columns id, title, text, created_at and optionally supports (and user, the
sender, where the export has it). The JSON is an array of
{rank, title, place, first_at, last_at, heat, ids}. Bad input is refused with a message naming
the column or row, and nothing is written.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from linli.core.errors import InvalidInput, LinliError
from linli.insight.clustering import Message, find_hot_issues
from linli.insight.textio import parse_count, parse_datetimes, read_csv

REQUIRED = ["id", "title", "text", "created_at"]
OPTIONAL = ["supports", "user"]


def read_messages(path: str | Path):
    """The messages of a CSV export, checked: unique non-empty ids, readable dates and supports."""
    rows = read_csv(path, required=REQUIRED, optional=OPTIONAL)
    moments = parse_datetimes([r["created_at"] for r in rows], column="created_at")
    seen: dict[str, int] = {}
    messages = []
    for index, (row, moment) in enumerate(zip(rows, moments)):
        line = index + 2
        ident = row["id"]
        if not ident:
            raise InvalidInput(_("Row %(row)d has no id.") % {"row": line}, field="id")
        if ident in seen:
            raise InvalidInput(_("Row %(row)d repeats the id %(id)s of row %(first)d.")
                               % {"row": line, "id": ident, "first": seen[ident]}, field="id")
        seen[ident] = line
        supports = parse_count(row.get("supports", ""), column="supports", row=line)
        messages.append(Message(id=ident, title=row["title"], text=row["text"], created_at=moment,
                                supports=supports, reporter=row.get("user", "")))
    return messages


def issues_as_json(issues, messages) -> list[dict]:
    """The contract's records; ids are numbers when every id of the file is one."""
    numeric = all(m.id.isdigit() and not (len(m.id) > 1 and m.id.startswith("0")) for m in messages)
    return [{"rank": rank, "title": issue.title, "place": issue.place,
             "first_at": issue.first_at.isoformat(), "last_at": issue.last_at.isoformat(),
             "heat": issue.heat, "ids": [int(i) if numeric else i for i in issue.ids]}
            for rank, issue in enumerate(issues, 1)]


class Command(BaseCommand):
    help = "Find hot issues (many messages, same place, same problem) in a CSV of messages; write JSON."

    def add_arguments(self, parser):
        parser.add_argument("--csv", required=True, help="messages: id, title, text, created_at[, supports, user]")
        parser.add_argument("--top", required=True, help="how many hot issues to write")
        parser.add_argument("--out", required=True, help="the JSON file to write")
        parser.add_argument("--window-days", default="60",
                            help="most days between two messages of one issue (default 60)")

    def handle(self, *args, csv, top, out, window_days, **options):
        top_n = _positive(top, "--top", whole=True)
        window = _positive(window_days, "--window-days", whole=False)
        try:
            messages = read_messages(csv)
        except LinliError as error:
            raise CommandError(str(error.message))
        issues = find_hot_issues(messages, window_days=window, top=top_n)
        _write_atomically(Path(out), issues_as_json(issues, messages))
        self.stdout.write(_("%(issues)d hot issues from %(messages)d messages written to %(out)s.")
                          % {"issues": len(issues), "messages": len(messages), "out": out})


def _positive(value: str, option: str, *, whole: bool):
    try:
        number = int(value) if whole else float(value)
    except (TypeError, ValueError):
        number = 0
    if number <= 0:
        raise CommandError(_("%(option)s must be a positive number, not %(value)s.")
                           % {"option": option, "value": value})
    return number


def _write_atomically(path: Path, records: list[dict]) -> None:
    """Write next to the target and rename, so a failed run never leaves half a file."""
    directory = path.resolve().parent
    if not directory.is_dir():
        raise CommandError(_("The folder of %(out)s does not exist.") % {"out": path})
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".hotspots-", suffix=".json")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as f:
            json.dump(records, f, ensure_ascii=False, indent=2)
            f.write("\n")
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
