"""Importing residents and households from the spreadsheets community workers keep.

Two formats: CSV (UTF-8, UTF-8 with BOM, UTF-16 with BOM, GB18030/GBK) and
Excel .xlsx (first sheet). The format is told by the content, never by the file
name: an .xlsx is a zip holding ``xl/``; an old .xls (OLE2) is refused with a
hint to save it as .xlsx or CSV.

The import is all or nothing. Every row is validated first (facts through
``ResidentFacts.clean``, places against the community's grids and buildings,
ID numbers unique within the file); only a file without any error is applied,
inside one transaction, through the community services, which write their own
events. The key is the ID card number: a resident already registered in the
community is updated only where something differs, so importing the same file
twice changes nothing the second time (no rows, no events).

Errors name the row as the worker sees it in Excel (the first row is 1), the
column as its header is written in the file, and a translated reason. They
never quote a cell's value: error reports get mailed around.

Rules about places: grids (院落) and buildings (楼栋) must already exist in the
community; units (单元) and households (房号) are created inside an existing
building when missing. Blank optional cells never erase what is registered;
tags in the file are added to a resident's tags, never removed.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import logging
import re
import warnings
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

import rules
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.utils.translation import gettext as _

from linli.core import events
from linli.core.crypto import keyring
from linli.core.errors import LinliError, PermissionDenied
from linli.core.masking import mask_id_number, mask_name, mask_phone
from linli.core.validators import normalize_id_number, normalize_name, normalize_phone, validate_id_number

from .models import Building, Community, Grid, Household, Resident, Tag, Unit
from .services import (
    ResidentFacts, _changes, household_get_or_create, household_set_floor_area, resident_create, resident_update,
    tag_get_or_create,
)

# ---------------------------------------------------------------------------
# Columns

# (field, the label used in messages and docs, aliases); aliases are compared
# after _canon(): case, spaces, '_', '-', '*' and bracketed remarks ignored.
COLUMNS: list[tuple[str, str, tuple[str, ...]]] = [
    ("name", "姓名", ("姓名", "name")),
    ("id_number", "身份证号", ("身份证号", "身份证号码", "公民身份号码", "身份证", "id_number", "id number")),
    ("phone", "手机号", ("手机号", "手机", "手机号码", "联系电话", "电话", "phone", "mobile")),
    ("grid", "院落", ("院落", "网格", "grid")),
    ("building", "楼栋", ("楼栋", "楼号", "building")),
    ("unit", "单元", ("单元", "单元号", "unit")),
    ("room", "房号", ("房号", "门牌号", "室", "房间号", "room")),
    ("relation", "与户主关系", ("与户主关系", "relation")),
    ("address", "户籍地址", ("户籍地址", "地址", "address")),
    ("is_party_member", "党员", ("党员", "是否党员", "is_party_member", "party_member")),
    ("is_owner", "业主", ("业主", "是否业主", "产权人", "is_owner", "owner")),
    ("floor_area", "建筑面积", ("建筑面积", "房屋面积", "面积", "floor_area", "floor area")),
    ("tags", "标签", ("标签", "tags")),
    ("note", "备注", ("备注", "note")),
]
REQUIRED = ("name", "id_number", "grid", "building", "unit", "room")
LABELS = {key: label for key, label, _aliases in COLUMNS}

RELATIONS = {
    Resident.Relation.HEAD: ("户主", "本人", "head", "self"),
    Resident.Relation.SPOUSE: ("配偶", "妻", "夫", "妻子", "丈夫", "spouse"),
    Resident.Relation.CHILD: ("子", "女", "儿子", "女儿", "长子", "次子", "长女", "次女", "child"),
    Resident.Relation.PARENT: ("父亲", "母亲", "父母", "父", "母", "parent"),
    Resident.Relation.GRANDCHILD: ("孙子", "孙女", "外孙", "外孙女", "grandchild"),
    Resident.Relation.OTHER: ("其他", "other"),
}
_YES = {"是", "y", "yes", "1", "true", "√", "✓"}
_NO = {"否", "n", "no", "0", "false", "×", "✗"}
TAG_SEPARATORS = re.compile(r"[、,，;；]")

log = logging.getLogger(__name__)

PREVIEW_ROWS = 20
MAX_ERRORS = 1000         # errors kept (the count in the summary is complete)
HEADER_SEARCH_ROWS = 10   # a title row or two above the header is common
UNPACKED_FACTOR = 20      # an .xlsx may unpack to at most this many times LINLI_IMPORT_MAX_BYTES
MAX_UNIT = Unit._meta.get_field("number").max_length
MAX_ROOM = Household._meta.get_field("room").max_length
MAX_TAG = Tag._meta.get_field("name").max_length


def _canon(header) -> str:
    text = str(header or "")
    text = re.sub(r"[(（\[【].*?[)）\]】]", "", text)
    return re.sub(r"[\s_\-*＊:：]", "", text).lower()


_ALIASES = {_canon(alias): key for key, _label, aliases in COLUMNS for alias in aliases}
_RELATION_OF = {v.lower(): rel for rel, values in RELATIONS.items() for v in values}


def column_label(key: str) -> str:
    """A column as written in messages: 姓名 (name)."""
    return f"{LABELS[key]} ({key})"


# ---------------------------------------------------------------------------
# Errors


def error(row: int | None, column: str, code: str, reason) -> dict:
    """One error: Excel row (None for the file as a whole), column header as written, code, reason."""
    return {"row": row, "column": column or "", "code": code, "reason": str(reason)}


class ImportFileError(Exception):
    """The file as a whole cannot be used (format, encoding, size, header)."""

    def __init__(self, *errors: dict):
        super().__init__(errors[0]["code"] if errors else "file")
        self.errors = list(errors)


def _file_error(code: str, reason, *, row=None, column="") -> ImportFileError:
    return ImportFileError(error(row, column, code, reason))


def _max_bytes() -> int:
    return int(settings.LINLI_IMPORT_MAX_BYTES)


def _max_rows() -> int:
    return int(settings.LINLI_IMPORT_MAX_ROWS)


# ---------------------------------------------------------------------------
# Reading the file


@dataclass
class Column:
    index: int
    header: str  # as written in the file


@dataclass
class RawRow:
    row: int                  # Excel row number (first row of the sheet is 1)
    values: dict[str, str]    # field -> text (only the file's recognised columns)
    numeric_id: bool = False  # the ID number was a number cell in Excel (digits lost)


@dataclass
class Table:
    kind: str                 # "csv" or "xlsx"
    encoding: str             # for CSV; "" for xlsx
    header_row: int
    columns: dict[str, Column]
    rows: list[RawRow]


OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
_BINARY_MAGICS = (b"%PDF", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"\x1f\x8b", b"Rar!", b"7z\xbc\xaf")
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"), None)


def detect_kind(content: bytes) -> str:
    """'xlsx' or 'csv', from the content's first bytes; ImportFileError otherwise."""
    if not content:
        raise _file_error("empty", _("The file is empty."))
    if content.startswith(OLE2_MAGIC):
        # OLE2 is the old .xls format, and also the envelope of a password-protected .xlsx.
        raise _file_error("old_excel", _(
            "This is an old Excel (.xls) workbook, or one protected by a password: save it as .xlsx "
            "without a password, or as CSV, and upload that."))
    if content.startswith(ZIP_MAGIC):
        try:
            with zipfile.ZipFile(io.BytesIO(content)) as archive:
                names = archive.namelist()
        except (zipfile.BadZipFile, ValueError, OSError):
            raise _file_error("bad_xlsx", _(
                "The .xlsx workbook could not be read; it may be damaged. Save it again as .xlsx or CSV."))
        if any(name.startswith("xl/") for name in names):
            return "xlsx"
        raise _file_error("not_spreadsheet", _(
            "This is not a CSV or .xlsx spreadsheet: save it as .xlsx or CSV."))
    if content.startswith(codecs.BOM_UTF16_LE) or content.startswith(codecs.BOM_UTF16_BE):
        return "csv"
    if content.startswith(_BINARY_MAGICS) or b"\x00" in content[:65536]:
        raise _file_error("not_spreadsheet", _(
            "This is not a CSV or .xlsx spreadsheet: save it as .xlsx or CSV."))
    return "csv"


def decode_text(content: bytes) -> tuple[str, str]:
    """(text, encoding name) of a CSV file: UTF-8 (with or without BOM), UTF-16 with BOM, GB18030/GBK."""
    if content.startswith(codecs.BOM_UTF8):
        candidates = ["utf-8-sig"]
    elif content.startswith(codecs.BOM_UTF16_LE) or content.startswith(codecs.BOM_UTF16_BE):
        candidates = ["utf-16"]
    else:
        # GB18030 is a superset of GBK and GB2312, which Excel writes for
        # "CSV (comma delimited)" on Chinese Windows.
        candidates = ["utf-8", "gb18030"]
    for encoding in candidates:
        try:
            return content.decode(encoding), encoding
        except (UnicodeDecodeError, UnicodeError):
            continue
    raise _file_error("encoding", _(
        "The text encoding of this CSV file was not recognised: save it as UTF-8 or GBK (GB18030) CSV."))


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    text = str(value).translate(_INVISIBLE).replace("\u3000", " ").strip()
    quoted = re.fullmatch(r'="(.*)"', text)  # ="0123…": Excel's trick to keep digits as text
    if quoted:
        text = quoted.group(1).strip()
    return text


def _sniff_delimiter(text: str) -> str:
    head = text[:20000].splitlines()[:HEADER_SEARCH_ROWS] or [""]
    best, best_hits = ",", 0
    for delimiter in (",", "\t", ";"):
        try:
            records = list(csv.reader(head, delimiter=delimiter))
        except csv.Error:
            continue
        hits = max((sum(1 for cell in r if _canon(cell) in _ALIASES) for r in records), default=0)
        if hits > best_hits:
            best, best_hits = delimiter, hits
    return best


def _csv_records(content: bytes):
    text, encoding = decode_text(content)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_sniff_delimiter(text))

    def records():
        try:
            yield from reader
        except csv.Error:
            raise _file_error("bad_csv", _("The CSV file could not be read near line %(line)d.")
                              % {"line": reader.line_num})

    return records(), encoding


def _xlsx_records(content: bytes):
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError):
        unpacked = 0
    if unpacked > _max_bytes() * UNPACKED_FACTOR:  # a "zip bomb", or simply far too big
        raise _file_error("too_large", _("This workbook unpacks to more than %(mb)d MB; split it into smaller files.")
                          % {"mb": max(1, _max_bytes() * UNPACKED_FACTOR // (1024 * 1024))})
    from openpyxl import load_workbook

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for damaged or foreign zips
        raise _file_error("bad_xlsx", _(
            "The .xlsx workbook could not be read; it may be damaged. Save it again as .xlsx or CSV."))

    def records():
        try:
            if not workbook.worksheets:
                return
            sheet = workbook.worksheets[0]
            sheet.reset_dimensions()  # do not trust (or pad to) the declared size
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                # Rows come numbered from 1, missing ones filled in, so the
                # position of a record is its row number in Excel.
                for values in sheet.iter_rows(min_row=1, values_only=True):
                    yield list(values)
        except ImportFileError:
            raise
        except Exception:
            raise _file_error("bad_xlsx", _(
                "The .xlsx workbook could not be read; it may be damaged. Save it again as .xlsx or CSV."))
        finally:
            workbook.close()

    return records(), ""


def _header_columns(cells: list, row: int) -> tuple[dict[str, Column], list[dict]]:
    columns: dict[str, Column] = {}
    problems: list[dict] = []
    for index, cell in enumerate(cells):
        header = _cell_text(cell)
        key = _ALIASES.get(_canon(header))
        if key is None:
            continue  # unknown columns (序号, 性别…) are ignored
        if key in columns:
            problems.append(error(row, header, "duplicate_column", _("This column appears more than once.")))
            continue
        columns[key] = Column(index, header)
    return columns, problems


def check_size(size: int) -> None:
    """Raise ImportFileError when a file of this many bytes is over LINLI_IMPORT_MAX_BYTES."""
    if size > _max_bytes():
        raise _file_error("too_large", _("The file is larger than %(mb)d MB.")
                          % {"mb": max(1, _max_bytes() // (1024 * 1024))})


def read_table(content: bytes, *, limit: int | None = None) -> Table:
    """Parse the file into rows of recognised columns; raise ImportFileError for the file as a whole.

    ``limit`` stops after that many data rows (for previews); without it the
    row limit of the settings applies.
    """
    check_size(len(content))
    kind = detect_kind(content)
    records, encoding = _xlsx_records(content) if kind == "xlsx" else _csv_records(content)
    records = iter(records)
    try:
        # The header: the first of the first rows naming at least two known
        # columns (title rows above it are skipped), else the first non-blank row.
        buffered: list[tuple[int, list]] = []
        header_row = None
        for number, cells in enumerate(records, start=1):
            buffered.append((number, cells))
            hits = {_ALIASES.get(_canon(_cell_text(c))) for c in cells} - {None}
            if len(hits) >= 2:
                header_row = number
                break
            if number >= HEADER_SEARCH_ROWS:
                break
        if header_row is None:
            non_blank = [(n, c) for n, c in buffered if any(_cell_text(v) for v in c)]
            if not non_blank:
                raise _file_error("empty", _("The file is empty."))
            header_row = non_blank[0][0]
        header_cells = dict(buffered)[header_row]
        columns, problems = _header_columns(header_cells, header_row)
        missing = [k for k in REQUIRED if k not in columns]
        if missing:
            problems.insert(0, error(header_row, "", "missing_columns",
                                     _("Required columns are missing: %(columns)s.")
                                     % {"columns": ", ".join(column_label(k) for k in missing)}))
        if problems:
            raise ImportFileError(*problems)

        def data_records():
            for number, cells in buffered:
                if number > header_row:
                    yield number, cells
            yield from enumerate(records, start=len(buffered) + 1)

        max_rows = _max_rows()
        rows: list[RawRow] = []
        id_column = columns["id_number"].index
        for number, cells in data_records():
            values = {}
            for key, column in columns.items():
                values[key] = _cell_text(cells[column.index]) if column.index < len(cells) else ""
            if not any(values.values()):
                continue  # blank rows, and rows holding only a serial number (序号)
            for key in ("id_number", "phone"):
                if key in values:
                    values[key] = values[key].lstrip("'").strip()
            id_cell = cells[id_column] if id_column < len(cells) else None
            numeric_id = kind == "xlsx" and isinstance(id_cell, float)
            rows.append(RawRow(number, values, numeric_id))
            if limit is not None and len(rows) >= limit:
                break
            if limit is None and len(rows) > max_rows:
                raise _file_error("too_many_rows", _(
                    "The file has more than %(max)d residents; split it into smaller files.")
                    % {"max": max_rows})
    finally:
        close = getattr(records, "close", None)
        if close:
            close()
    if not rows and limit is None:
        raise _file_error("no_rows", _("The file has a header row but no residents."), row=header_row)
    return Table(kind, encoding, header_row, columns, rows)


# ---------------------------------------------------------------------------
# Validation against the community


def map_relation(text: str) -> str:
    return _RELATION_OF.get(text.strip().lower(), Resident.Relation.OTHER)


def parse_yes_no(text: str) -> bool | None:
    value = text.strip().lower()
    if value in _YES:
        return True
    if value in _NO:
        return False
    return None


def parse_floor_area(text: str) -> Decimal | None:
    """“89.5”, “89.50㎡”, “89.5 平方米” → Decimal("89.50"); None when it is not such an area."""
    value = re.sub(r"(㎡|m²|m2|平方米|平米)$", "", re.sub(r"\s+", "", str(text or "")).lower())
    try:
        area = Decimal(value)
    except InvalidOperation:
        return None
    if not area.is_finite() or area <= 0 or area >= Decimal("1000000") or area != area.quantize(Decimal("0.01")):
        return None
    return area.quantize(Decimal("0.01"))


def split_tags(text: str) -> list[str]:
    names: list[str] = []
    for part in TAG_SEPARATORS.split(text or ""):
        name = normalize_name(part)
        if name and name not in names:
            names.append(name)
    return names


def _unit_number(text: str) -> str:
    return re.sub(r"\s+", "", re.sub(r"单元$", "", text.strip()))


def _room_number(text: str) -> str:
    return re.sub(r"\s+", "", re.sub(r"[室号]$", "", text.strip()))


def _building_key(text: str) -> str:
    return re.sub(r"(栋|幢|号楼|楼|号)$", "", re.sub(r"\s+", "", text).lower())


@dataclass
class PlannedRow:
    row: int
    facts: ResidentFacts
    grid: Grid
    building: Building
    unit_number: str
    room: str
    tag_names: list[str]
    existing: Resident | None
    action: str = "create"  # create, update, unchanged
    floor_area: Decimal | None = None  # None: the cell was blank (keep what is registered)


@dataclass
class Plan:
    rows: int = 0
    items: list[PlannedRow] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)
    error_count: int = 0
    places: "_Places | None" = None

    def add_error(self, err: dict) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(err)


class _Places:
    """The community's grids, buildings, units and households, loaded once."""

    def __init__(self, community: Community):
        self.grids_by_code: dict[str, Grid] = {}
        self.grids_by_name: dict[str, Grid] = {}
        for grid in Grid.objects.filter(community=community):
            self.grids_by_code[grid.code.strip().lower()] = grid
            self.grids_by_name.setdefault(normalize_name(grid.name), grid)
        self.buildings: dict[int, list[Building]] = {}
        for building in Building.objects.filter(community=community).select_related("grid"):
            self.buildings.setdefault(building.grid_id, []).append(building)
        self.units = {(u.building_id, u.number): u for u in Unit.objects.filter(community=community)}
        self.households = {
            (unit_id, room): pk
            for pk, unit_id, room in Household.objects.filter(community=community).values_list("pk", "unit_id", "room")
        }

    def grid(self, text: str) -> Grid | None:
        return self.grids_by_code.get(text.strip().lower()) or self.grids_by_name.get(normalize_name(text))

    def building(self, grid: Grid, text: str) -> tuple[Building | None, bool]:
        """(building, ambiguous)."""
        candidates = self.buildings.get(grid.pk, [])
        exact = [b for b in candidates if normalize_name(b.name) == normalize_name(text)]
        if exact:
            return exact[0], False
        key = _building_key(text)
        loose = [b for b in candidates if key and _building_key(b.name) == key]
        if len(loose) > 1:
            return None, True
        return (loose[0] if loose else None), False

    def household_id(self, building: Building, unit_number: str, room: str) -> int | None:
        unit = self.units.get((building.pk, unit_number))
        return self.households.get((unit.pk, room)) if unit else None


def _existing_residents(community: Community, table: Table) -> dict[str, Resident]:
    """Registered residents of the community, by normalised ID number, for the file's valid ID numbers."""
    ring = keyring()
    pk_of_index = dict(Resident.objects.filter(community=community).values_list("id_index", "pk"))
    pk_of_number: dict[str, int] = {}
    for raw in table.rows:
        number = normalize_id_number(raw.values.get("id_number", ""))
        if len(number) != 18 or number in pk_of_number:
            continue
        for index in ring.blind_indexes(number, "id_number"):
            if index in pk_of_index:
                pk_of_number[number] = pk_of_index[index]
                break
    residents: dict[int, Resident] = {}
    pks = list(set(pk_of_number.values()))
    for start in range(0, len(pks), 500):
        chunk = (Resident.objects.filter(pk__in=pks[start:start + 500])
                 .select_related("household").prefetch_related("tags"))
        residents.update({r.pk: r for r in chunk})
    return {number: residents[pk] for number, pk in pk_of_number.items() if pk in residents}


def _reveal(value) -> str:
    return value.reveal() if value is not None else ""


def plan_import(community: Community, table: Table) -> Plan:
    """Validate every row against the community, and decide what each would do. Writes nothing."""
    places = _Places(community)
    plan = Plan(rows=len(table.rows), places=places)
    existing_by_number = _existing_residents(community, table)
    cols = table.columns
    first_row_of: dict[str, int] = {}

    def header(key: str) -> str:
        return cols[key].header if key in cols else LABELS.get(key, key)

    for raw in table.rows:
        v = raw.values
        row_errors: list[dict] = []

        def fail(key, code, reason):
            row_errors.append((cols[key].index if key in cols else len(cols), error(raw.row, header(key), code, reason)))

        for key in REQUIRED:
            if not v.get(key):
                fail(key, "required", _("This column must be filled in."))
        if raw.numeric_id and v.get("id_number"):
            fail("id_number", "id_numeric", _(
                "This ID card number was stored as a number and has lost digits: format the column "
                "as text in Excel and type the numbers again."))

        number = normalize_id_number(v.get("id_number", ""))
        existing = existing_by_number.get(number)

        # Optional columns: a blank cell keeps what is registered.
        def given(key):
            return bool(v.get(key))

        relation = map_relation(v["relation"]) if given("relation") else (
            existing.relation if existing else Resident.Relation.HEAD)
        party = existing.is_party_member if existing else False
        if given("is_party_member"):
            parsed = parse_yes_no(v["is_party_member"])
            if parsed is None:
                fail("is_party_member", "yes_no", _("Write 是 or 否 (yes or no)."))
            else:
                party = parsed
        owner = None  # blank: keep what is registered
        if given("is_owner"):
            owner = parse_yes_no(v["is_owner"])
            if owner is None:
                fail("is_owner", "yes_no", _("Write 是 or 否 (yes or no)."))
        area = None
        if given("floor_area"):
            area = parse_floor_area(v["floor_area"])
            if area is None:
                fail("floor_area", "floor_area", _(
                    "Write the floor area in square metres, e.g. 89.5 (more than 0, at most two decimals)."))
        kwargs = {
            "name": v.get("name", ""),
            "id_number": v.get("id_number", ""),
            "phone": v["phone"] if given("phone") else (_reveal(existing.phone) if existing else ""),
            "address": v["address"] if given("address") else (_reveal(existing.address) if existing else ""),
            "note": v["note"] if given("note") else (_reveal(existing.note) if existing else ""),
            "relation": relation,
            "is_party_member": party,
            "is_owner": owner,
        }
        facts = None
        try:
            facts = ResidentFacts.clean(**kwargs)
        except ValidationError as exc:
            for key, messages in exc.message_dict.items():
                if key in ("name", "id_number") and not v.get(key):
                    continue  # already reported as a required column
                if key == "id_number" and raw.numeric_id:
                    continue  # already explained
                for message in messages:
                    fail(key, f"invalid_{key}", message)

        tag_names = split_tags(v.get("tags", ""))
        if any(len(name) > MAX_TAG for name in tag_names):
            fail("tags", "tag_too_long", _("A tag name has at most %(n)d characters.") % {"n": MAX_TAG})

        grid = building = None
        if v.get("grid"):
            grid = places.grid(v["grid"])
            if grid is None:
                fail("grid", "unknown_grid", _("No courtyard (grid) with this code or name in this community."))
        if grid is not None and v.get("building"):
            building, ambiguous = places.building(grid, v["building"])
            if ambiguous:
                fail("building", "ambiguous_building", _(
                    "Several buildings in this courtyard match this name; write it exactly as registered."))
            elif building is None:
                fail("building", "unknown_building", _("No building with this name in this courtyard (grid)."))
        unit_number = _unit_number(v.get("unit", ""))
        if v.get("unit") and not unit_number:
            fail("unit", "required", _("This column must be filled in."))
        elif len(unit_number) > MAX_UNIT:
            fail("unit", "unit_too_long", _("A unit number has at most %(n)d characters.") % {"n": MAX_UNIT})
        room = _room_number(v.get("room", ""))
        if v.get("room") and not room:
            fail("room", "required", _("This column must be filled in."))
        elif len(room) > MAX_ROOM:
            fail("room", "room_too_long", _("A room number has at most %(n)d characters.") % {"n": MAX_ROOM})

        try:
            valid_number = validate_id_number(v.get("id_number", ""))
        except ValidationError:
            valid_number = None
        if valid_number:  # duplicates are told even on rows with other errors
            first = first_row_of.setdefault(valid_number, raw.row)
            if first != raw.row:
                fail("id_number", "duplicate_id", _("The same ID card number is also on row %(row)d.")
                     % {"row": first})

        if row_errors:
            # In the order of the file's columns, as the worker reads the row.
            for _index, err in sorted(row_errors, key=lambda pair: pair[0]):
                plan.add_error(err)
            continue

        item = PlannedRow(raw.row, facts, grid, building, unit_number, room, tag_names, existing,
                          floor_area=area)
        if existing is not None:
            changed = _changes(existing, facts.as_model_fields())
            target = places.household_id(building, unit_number, room)
            if target != existing.household_id:
                changed.append("household")
            current_tags = {t.name for t in existing.tags.all()}
            if not set(tag_names) <= current_tags:
                changed.append("tags")
            if area is not None and (target != existing.household_id or existing.household.floor_area != area):
                changed.append("floor_area")
            item.action = "update" if changed else "unchanged"
        plan.items.append(item)
    return plan


# ---------------------------------------------------------------------------
# Applying


@dataclass
class ImportResult:
    summary: dict
    errors: list[dict]
    row_actions: list[tuple[int, str]] = field(default_factory=list)
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors


class _Rejected(Exception):
    def __init__(self, result: ImportResult):
        self.result = result


def _summary(*, rows=0, created=0, updated=0, unchanged=0, households_created=0, units_created=0,
             tags_created=0, errors=0) -> dict:
    return {
        "rows": rows, "created": created, "updated": updated, "unchanged": unchanged,
        "households_created": households_created, "units_created": units_created,
        "tags_created": tags_created, "errors": errors,
    }


def _planned_summary(plan: Plan, community: Community) -> dict:
    """What applying the plan would do, counted without writing."""
    counts = {"create": 0, "update": 0, "unchanged": 0}
    new_units, new_households, new_tags = set(), set(), set()
    units = plan.places.units
    households = plan.places.households
    tags = set(Tag.objects.filter(community=community).values_list("name", flat=True))
    for item in plan.items:
        counts[item.action] += 1
        if item.action == "unchanged":
            continue
        unit = units.get((item.building.pk, item.unit_number))
        if unit is None:
            new_units.add((item.building.pk, item.unit_number))
        if unit is None or (unit.pk, item.room) not in households:
            new_households.add((item.building.pk, item.unit_number, item.room))
        new_tags.update(n for n in item.tag_names if n not in tags)
    return _summary(rows=plan.rows, created=counts["create"], updated=counts["update"],
                    unchanged=counts["unchanged"], households_created=len(new_households),
                    units_created=len(new_units), tags_created=len(new_tags), errors=plan.error_count)


def _apply(actor, community: Community, plan: Plan, *, via: str, headers: dict[str, str]) -> tuple[dict, list[dict]]:
    """Write the planned rows (inside the caller's transaction). Returns (summary, errors)."""
    units = {
        (u.building_id, u.number): u
        for u in Unit.objects.filter(community=community).select_related("building__grid")
    }
    households: dict[tuple[int, str], Household] = {}
    tags = {t.name: t for t in Tag.objects.filter(community=community)}
    tags_before = len(tags)
    counts = _summary(rows=plan.rows)
    errors: list[dict] = []
    for item in plan.items:
        if item.action == "unchanged":
            counts["unchanged"] += 1
            continue
        try:
            key = (item.building.pk, item.unit_number)
            unit = units.get(key)
            if unit is None:
                unit = Unit.objects.create(community=community, building=item.building, number=item.unit_number)
                events.record(actor=actor, verb="unit.created", target=unit, community=community,
                              grid=item.grid, data={"via": via})
                units[key] = unit
                counts["units_created"] += 1
            household = households.get((unit.pk, item.room))
            if household is None:
                household, created = household_get_or_create(actor=actor, unit=unit, room=item.room)
                # The services read these relations for their events: give them what is loaded.
                household.community, household.grid = community, item.grid
                household.building, household.unit = item.building, unit
                households[(unit.pk, item.room)] = household
                counts["households_created"] += int(created)
            area_changed = item.floor_area is not None and household_set_floor_area(
                actor=actor, household=household, floor_area=item.floor_area)
            new_tags = []
            for name in item.tag_names:
                if name not in tags:
                    tags[name] = tag_get_or_create(actor=actor, community=community, name=name)
                new_tags.append(tags[name])
            if item.existing is None:
                resident_create(actor=actor, household=household, facts=item.facts, tags=new_tags, via=via)
                counts["created"] += 1
            else:
                current = list(item.existing.tags.all())
                merged = None
                if not {t.pk for t in new_tags} <= {t.pk for t in current}:
                    merged = current + [t for t in new_tags if t not in current]
                changed = resident_update(actor=actor, resident=item.existing, facts=item.facts,
                                          household=household, tags=merged, via=via)
                counts["updated" if changed or area_changed else "unchanged"] += 1
        except LinliError as exc:
            errors.append(error(item.row, headers.get(exc.field or "", ""), exc.code, exc.message))
            if isinstance(exc, PermissionDenied):
                break
    counts["tags_created"] = len({t.pk for t in tags.values()}) - tags_before
    counts["errors"] = len(errors)
    return counts, errors


def import_residents(*, actor, community: Community, content: bytes, dry_run: bool = False,
                     batch=None, via: str = "import") -> ImportResult:
    """Validate the file and, unless ``dry_run`` or any row has an error, apply it all at once.

    ``actor`` None means the command line (a system job). Nothing is written
    when the result has errors. An import that changes nothing writes no event.
    """
    if actor is not None and not rules.has_perm("community.import_residents", actor, community):
        raise PermissionDenied(_("You may not import residents into this community."))
    try:
        table = read_table(content)
    except ImportFileError as exc:
        return ImportResult(_summary(errors=len(exc.errors)), exc.errors, dry_run=dry_run)
    try:
        with transaction.atomic():
            if not dry_run:
                # One import at a time per community (a no-op on SQLite, whose
                # write transactions are serialised anyway).
                Community.objects.select_for_update().filter(pk=community.pk).first()
            plan = plan_import(community, table)
            actions = [(item.row, item.action) for item in plan.items]
            if plan.errors or dry_run:
                summary = _planned_summary(plan, community)
                return ImportResult(summary, plan.errors, actions, dry_run=dry_run)
            headers = {key: column.header for key, column in table.columns.items()}
            summary, errors = _apply(actor, community, plan, via=via, headers=headers)
            if errors:
                raise _Rejected(ImportResult(summary, errors, actions))
            if summary["created"] or summary["updated"]:
                events.record(
                    actor=actor, verb="residents.imported", target=batch, community=community,
                    data={key: summary[key] for key in (
                        "rows", "created", "updated", "unchanged", "households_created",
                        "units_created", "tags_created")} | {"via": via},
                )
            return ImportResult(summary, [], actions)
    except _Rejected as rejected:
        return rejected.result
    except DatabaseError:
        log.exception("import into community %s failed in the database", community.pk)
        return ImportResult(_summary(rows=len(table.rows), errors=1), [error(
            None, "", "database",
            _("The database refused the import; nothing was written. Try again."))])


# ---------------------------------------------------------------------------
# Reports and previews


def error_report_csv(errors: list[dict]) -> bytes:
    """The errors as CSV, UTF-8 with a BOM so that Excel opens it right: 行/row, 列/column, 原因/reason."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["行/row", "列/column", "原因/reason"])
    for err in errors:
        writer.writerow([
            "" if err.get("row") is None else err["row"],
            _spreadsheet_safe(err.get("column", "")),
            _spreadsheet_safe(err.get("reason", "")),
        ])
    return codecs.BOM_UTF8 + out.getvalue().encode("utf-8")


def _spreadsheet_safe(text: str) -> str:
    """Stop a header text from running as a formula when the report opens in Excel."""
    text = str(text or "")
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def preview_rows(content: bytes, *, limit: int = PREVIEW_ROWS, actions: dict | None = None) -> list[dict]:
    """The first rows of the file, masked, for the preview page. Empty if the file cannot be read."""
    try:
        table = read_table(content, limit=limit)
    except ImportFileError:
        return []
    actions = actions or {}
    labels = dict(Resident.Relation.choices)
    rows = []
    for raw in table.rows:
        v = raw.values
        relation = map_relation(v["relation"]) if v.get("relation") else ""
        rows.append({
            "row": raw.row,
            "name": mask_name(normalize_name(v.get("name", ""))),
            "id_number": mask_id_number(normalize_id_number(v.get("id_number", ""))),
            "phone": mask_phone(normalize_phone(v["phone"])) if v.get("phone") else "",
            "grid": v.get("grid", ""),
            "building": v.get("building", ""),
            "unit": v.get("unit", ""),
            "room": v.get("room", ""),
            "relation": str(labels.get(relation, "")) if relation else "",
            "action": actions.get(str(raw.row), actions.get(raw.row, "")),
        })
    return rows


__all__ = [
    "COLUMNS", "REQUIRED", "ImportFileError", "check_size", "ImportResult", "error_report_csv", "import_residents",
    "plan_import", "preview_rows", "read_table",
]
