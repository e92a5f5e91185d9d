"""Message CSVs for the classifier: every column kept, in order, so predictions can be appended.

Decoding (UTF-8 with or without BOM, else GBK/GB18030) and date checks come from
:mod:`linli.insight.textio`, shared with the other message commands. A ``created_at``
column is not used by the classifier, but a file whose dates mix day/month orders is
refused like everywhere else: its rows are probably misaligned or mis-exported.
"""

from __future__ import annotations

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
    header, rows, position = textio.read_table(path, required=["title", "text"] + (["label"] if need_label else []))
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
