"""Message CSVs for the classifier: every column kept, in order, so predictions can be appended.

Decoding (UTF-8 with or without BOM, else GBK/GB18030) and date checks come from
:mod:`linli.insight.textio`, shared with the other message commands. A ``created_at``
column is not used by the classifier, but a file whose dates mix day/month orders is
refused like everywhere else: its rows are probably misaligned or mis-exported.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from django.utils.translation import gettext as _

from linli.core.errors import InvalidInput
from linli.insight import textio


@dataclass
class MessageTable:
    name: str
    header: list[str]
    rows: list[list[str]]  # padded to the header's width
    title: int
    text: int
    label: int | None

    def messages(self, rows=None) -> list[tuple[str, str]]:
        return [(row[self.title].strip(), row[self.text].strip()) for row in (self.rows if rows is None else rows)]

    def labelled_rows(self) -> list[list[str]]:
        return [row for row in self.rows if row[self.label].strip()]


def read_messages(path: str | Path, *, need_label: bool) -> MessageTable:
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise InvalidInput(_("Cannot read %(name)s: %(reason)s") % {"name": path, "reason": error.strerror},
                           code="unreadable")
    text = textio.decode(raw, path.name)
    if not text.strip():
        raise InvalidInput(_("%(name)s is empty.") % {"name": path.name}, code="empty")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [cell.strip() for cell in next(reader)]
        rows = [row + [""] * (len(header) - len(row)) for row in reader if any(cell.strip() for cell in row)]
    except csv.Error as error:
        raise InvalidInput(_("%(name)s is not a readable CSV file (line %(line)d: %(reason)s).")
                           % {"name": path.name, "line": reader.line_num, "reason": error}, code="csv")
    position = {name.lower(): i for i, name in enumerate(header)}
    required = ["title", "text"] + (["label"] if need_label else [])
    missing = [name for name in required if name not in position]
    if missing:
        raise InvalidInput(
            _("%(name)s lacks the column(s) %(missing)s; its columns are: %(found)s.")
            % {"name": path.name, "missing": ", ".join(missing), "found": ", ".join(c for c in header if c) or "-"},
            code="missing_columns", field=missing[0])
    if not rows:
        raise InvalidInput(_("%(name)s has a header but no rows.") % {"name": path.name}, code="empty")
    if "created_at" in position:
        values = [row[position["created_at"]].strip() for row in rows]
        present = [v for v in values if v]
        if present:
            textio.parse_datetimes(present, column=header[position["created_at"]])
    table = MessageTable(name=path.name, header=header, rows=rows, title=position["title"],
                         text=position["text"], label=position.get("label"))
    if need_label and not table.labelled_rows():
        raise InvalidInput(_("%(name)s has no rows with a label.") % {"name": path.name}, code="no_labels")
    return table
