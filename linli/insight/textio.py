"""Reading message exports: CSV in UTF-8 (with or without BOM) or GBK/GB18030, dates in many forms.

Shared by the `linli` commands over message files (hot issues, the request classifier): each asks
`read_csv(path, required=[...], optional=[...])` for rows as dicts and gets an `InvalidInput` with a
translated message, naming the column or the row, for anything it cannot read. Nothing is guessed
silently: a date that could be day/month or month/day is settled by the other rows of the file,
and a file that uses both orders is refused.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from pathlib import Path
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _

from linli.core.errors import InvalidInput

SHANGHAI = ZoneInfo("Asia/Shanghai")
_EXCEL_EPOCH = dt.datetime(1899, 12, 30)
_TIME = r"(?:[ T]+(\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.\d+)?)?)?"
_YMD = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})" + _TIME + r"\s*(Z|[+-]\d{2}:?\d{2})?$")
_CHINESE = re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?" + r"(?:\s*(\d{1,2})[:时](\d{1,2})分?(?:[:](\d{1,2})|(\d{1,2})秒)?)?$")
_DMY = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})" + _TIME + "$")
_SERIAL = re.compile(r"^\d{5}(?:\.\d+)?$")


def decode(raw: bytes, name: str) -> str:
    """The text of a file: UTF-8 (BOM or not), else GB18030 (a superset of GBK); else a clear error."""
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    elif raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError:
            pass
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as utf8_error:
        try:
            return raw.decode("gb18030")
        except UnicodeDecodeError:
            line = raw[: utf8_error.start].count(b"\n") + 1
            raise InvalidInput(
                _("%(name)s is neither UTF-8 nor GBK/GB18030 text (unreadable bytes on line %(line)d). "
                  "Save it as UTF-8 CSV and try again.") % {"name": name, "line": line},
                code="encoding")


def read_table(path: str | Path, *, required: list[str]) -> tuple[list[str], list[list[str]], dict[str, int]]:
    """The header (cells stripped), the non-blank rows (padded to the header's width) and the
    position of each column by its lower-cased name; every column is kept.

    Refuses, with a translated message: an unreadable file, bytes neither UTF-8 nor GB18030,
    an empty file, broken CSV, missing ``required`` columns (named), a header without rows.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise InvalidInput(_("Cannot read %(name)s: %(reason)s") % {"name": path, "reason": error.strerror},
                           code="unreadable")
    text = decode(raw, path.name)
    if not text.strip():
        raise InvalidInput(_("%(name)s is empty.") % {"name": path.name}, code="empty")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [cell.strip() for cell in next(reader)]
        position = {name.lower(): i for i, name in enumerate(header)}
        missing = [column for column in required if column.lower() not in position]
        if missing:
            raise InvalidInput(
                _("%(name)s lacks the column(s) %(missing)s; its columns are: %(found)s.")
                % {"name": path.name, "missing": ", ".join(missing), "found": ", ".join(c for c in header if c) or "-"},
                code="missing_columns", field=missing[0])
        rows = [row + [""] * (len(header) - len(row)) for row in reader if any(cell.strip() for cell in row)]
    except csv.Error as error:
        raise InvalidInput(_("%(name)s is not a readable CSV file (line %(line)d: %(reason)s).")
                           % {"name": path.name, "line": reader.line_num, "reason": error}, code="csv")
    if not rows:
        raise InvalidInput(_("%(name)s has a header but no rows.") % {"name": path.name}, code="empty")
    return header, rows, position


def read_csv(path: str | Path, *, required: list[str], optional: list[str] = ()) -> list[dict[str, str]]:
    """Rows of a CSV file as dicts of the required and present optional columns (cells stripped).

    Column names are matched case-insensitively and without surrounding spaces.
    """
    _header, rows, position = read_table(path, required=required)
    wanted = [c for c in [*required, *optional] if c.lower() in position]
    return [{c: row[position[c.lower()]].strip() for c in wanted} for row in rows]


def parse_datetimes(values: list[str], *, column: str = "created_at", first_row: int = 2) -> list[dt.datetime]:
    """Aware datetimes for a column; naive values are taken as Asia/Shanghai time.

    Accepted: 2019/11/14 11:21:31, 2019-11-14 11:21, 2019-11-14T11:21:31+08:00, 2019/1/8 9:05,
    2019年11月14日 [11:21], 14/11/2019 [11:21] (day first, or month first when the file's own
    rows show it), and Excel serial numbers (43783.47). `first_row` is the file line of values[0].
    """
    order = _day_month_order(values, column, first_row)
    return [_parse_one(v, order=order, column=column, row=first_row + i) for i, v in enumerate(values)]


def _day_month_order(values: list[str], column: str, first_row: int) -> str:
    """'dmy' or 'mdy' for the d/m/yyyy values of a column, from those that can only be one of them."""
    day_first = month_first = None
    for i, value in enumerate(values):
        m = _DMY.match(value.strip())
        if not m:
            continue
        a, b = int(m.group(1)), int(m.group(2))
        if a > 12 and day_first is None:
            day_first = i
        if b > 12 and month_first is None:
            month_first = i
    if day_first is not None and month_first is not None:
        raise InvalidInput(
            _("Column %(column)s mixes day/month (row %(dmy)d) and month/day (row %(mdy)d) dates; "
              "write the dates as YYYY-MM-DD.")
            % {"column": column, "dmy": first_row + day_first, "mdy": first_row + month_first},
            code="mixed_dates", field=column)
    return "mdy" if month_first is not None else "dmy"


def _parse_one(value: str, *, order: str, column: str, row: int) -> dt.datetime:
    text = value.strip()
    try:
        if m := _YMD.match(text):
            return _aware(dt.datetime(*_ints(m.groups()[:6])), m.group(7))
        if m := _CHINESE.match(text):
            groups = m.groups()
            second = groups[5] or groups[6]
            return _aware(dt.datetime(*_ints((*groups[:5], second))), None)
        if m := _DMY.match(text):
            first, second, year = int(m.group(1)), int(m.group(2)), int(m.group(3))
            day, month = (first, second) if order == "dmy" else (second, first)
            return _aware(dt.datetime(year, month, day, *_ints(m.groups()[3:6])), None)
        if _SERIAL.match(text) and 20000 <= float(text) <= 80000:
            return _aware(_EXCEL_EPOCH + dt.timedelta(days=float(text)), None)
    except ValueError:
        pass
    raise InvalidInput(_("Row %(row)d: cannot read the date %(value)s in column %(column)s.")
                       % {"row": row, "value": repr(value), "column": column}, code="bad_date", field=column)


def _ints(groups) -> list[int]:
    return [int(g) if g else 0 for g in groups]


def _aware(moment: dt.datetime, offset: str | None) -> dt.datetime:
    if not offset:
        return moment.replace(tzinfo=SHANGHAI)
    if offset == "Z":
        return moment.replace(tzinfo=dt.timezone.utc)
    sign = 1 if offset[0] == "+" else -1
    digits = offset[1:].replace(":", "")
    return moment.replace(tzinfo=dt.timezone(sign * dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))))


def parse_count(value: str, *, column: str, row: int) -> int:
    """A non-negative whole number ("12", "12.0", ""), else an error naming the row."""
    text = value.strip().replace(",", "")
    if not text:
        return 0
    try:
        number = float(text)
    except ValueError:
        number = -1.0
    if number < 0 or number != int(number):
        raise InvalidInput(_("Row %(row)d: %(column)s must be a whole number, not %(value)s.")
                           % {"row": row, "column": column, "value": repr(value)}, code="bad_number", field=column)
    return int(number)
