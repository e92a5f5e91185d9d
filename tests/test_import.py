"""Importing residents from CSV and .xlsx: parsing, validation, all-or-nothing, idempotency,
the error report, the `linli import-residents` command and the web flow."""

from __future__ import annotations

import base64
import codecs
import csv
import datetime as dt
import io
import zipfile

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.urls import reverse
from openpyxl import Workbook

from linli.community import import_batches, importer, selectors
from linli.community.models import Household, ImportBatch, Resident, Tag, Unit
from linli.core.errors import PermissionDenied
from linli.core.models import Event
from linli.core.workflow import IllegalTransition

from factories import PASSWORD, make_id_number, make_phone

HEADER = ["姓名", "身份证号", "手机号", "院落", "楼栋", "单元", "房号", "与户主关系", "党员", "标签", "备注"]


def person(i: int, **over) -> dict:
    """A new resident (not in the world fixture) for unit 2 of building G01-1栋."""
    row = {
        "姓名": f"周新民{i}",
        "身份证号": make_id_number(dt.date(1970 + i, 3, 1 + i), 500 + i),
        "手机号": make_phone(500 + i),
        "院落": "G01",
        "楼栋": "G01-1栋",
        "单元": "2",
        "房号": f"20{1 + i // 2}",
        "与户主关系": "户主" if i % 2 == 0 else "妻",
        "党员": "是" if i == 0 else "",
        "标签": "",
        "备注": "",
    }
    row.update(over)
    return row


def csv_text(rows: list[dict], header=HEADER) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(h, "") for h in header])
    return out.getvalue()


def csv_bytes(rows, header=HEADER, encoding="utf-8") -> bytes:
    return csv_text(rows, header).encode(encoding)


def xlsx_bytes(rows: list[dict], header=HEADER, title: str | None = None, raw_cells=None) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "居民"
    if title:
        ws.append([title])
    ws.append(header)
    for row in rows:
        ws.append([row.get(h, "") or None for h in header])
    for (r, c), value in (raw_cells or {}).items():
        ws.cell(row=r, column=c, value=value)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def counts() -> dict:
    return {
        "residents": Resident.objects.count(),
        "households": Household.objects.count(),
        "units": Unit.objects.count(),
        "tags": Tag.objects.count(),
        "events": Event.objects.count(),
    }


def run(world, content, *, user="worker", dry_run=False):
    actor = world.users[user] if user else None
    return importer.import_residents(actor=actor, community=world.community, content=content, dry_run=dry_run)


def codes(result) -> list[tuple]:
    return [(e["row"], e["column"], e["code"]) for e in result.errors]


def raw_columns(pk) -> tuple:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, id_number, phone FROM community_resident WHERE id = %s", [pk])
        return cursor.fetchone()


# ---------------------------------------------------------------------------
# Formats and encodings


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16"])
def test_csv_encodings(world, encoding):
    rows = [person(0), person(1)]
    result = run(world, csv_bytes(rows, encoding=encoding))
    assert result.ok, result.errors
    assert result.summary["created"] == 2
    found = selectors.resident_search(world.users["worker"], query=rows[1]["身份证号"])
    assert [r.name.reveal() for r in found] == ["周新民1"]


def test_gbk_is_not_mistaken_for_utf8(world):
    content = csv_bytes([person(0)], encoding="gbk")
    with pytest.raises(UnicodeDecodeError):
        content.decode("utf-8")
    table = importer.read_table(content)
    assert table.encoding == "gb18030"
    assert table.rows[0].values["name"] == "周新民0"


def test_undecodable_csv_is_a_clear_error(world):
    content = "姓名,身份证号\n".encode("utf-8") + b"\x81\xff\xfe\x80 broken\n"
    result = run(world, content)
    assert [e["code"] for e in result.errors] == ["encoding"]


def test_xlsx_with_title_row_numeric_cells_and_english_headers(world):
    header = ["Name", "ID Number", "PHONE", "grid", "Building", "unit", "Room", "Relation"]
    rows = [
        {"Name": "周新民0", "ID Number": person(0)["身份证号"], "PHONE": None, "grid": "1号院",
         "Building": "G01-2栋", "unit": None, "Room": None, "Relation": "head"},
        {"Name": "周新民1", "ID Number": person(1)["身份证号"], "PHONE": None, "grid": "G01",
         "Building": "G01-2栋", "unit": None, "Room": None, "Relation": "spouse"},
    ]
    # Numbers typed as numbers: the phone, the unit and the room.
    raw = {}
    for r in (3, 4):
        raw[(r, 3)] = int(make_phone(600 + r))
        raw[(r, 6)] = 3
        raw[(r, 7)] = 301
    content = xlsx_bytes(rows, header=header, title="Y社区居民花名册", raw_cells=raw)
    result = run(world, content)
    assert result.ok, result.errors
    assert result.summary["created"] == 2
    assert result.summary["households_created"] == 1
    resident = selectors.resident_search(world.users["worker"], query=make_phone(603)).get()
    assert resident.household.unit.number == "3" and resident.household.room == "301"
    assert resident.building.name == "G01-2栋"


def test_xlsx_id_number_stored_as_a_number_is_explained(world):
    rows = [person(0)]
    content = xlsx_bytes(rows, raw_cells={(2, 2): float(rows[0]["身份证号"][:17] + "0")})
    result = run(world, content)
    assert codes(result) == [(2, "身份证号", "id_numeric")]


@pytest.mark.parametrize("content,code", [
    (b"", "empty"),
    ("\r\n\r\n".encode(), "empty"),
    (codecs.BOM_UTF8 + ",".join(HEADER).encode() + b"\r\n,,,\r\n", "no_rows"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "old_excel"),
    (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "not_spreadsheet"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not_spreadsheet"),
    (b"PK\x03\x04 not really a zip", "bad_xlsx"),
])
def test_file_level_problems(world, content, code):
    before = counts()
    result = run(world, content)
    assert [e["code"] for e in result.errors] == [code]
    assert counts() == before


def test_zip_that_is_not_a_workbook_with_xlsx_name_is_refused(world, client):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("word/document.xml", "<w:document/>")
    result = run(world, buf.getvalue())
    assert [e["code"] for e in result.errors] == ["not_spreadsheet"]
    assert ".xlsx" in result.errors[0]["reason"]

    client.login(username="worker", password=PASSWORD)
    upload = io.BytesIO(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    upload.name = "居民.xlsx"
    response = client.post(reverse("import_upload"), {"community": world.community.pk, "file": upload})
    batch = ImportBatch.objects.get()
    assert response.status_code == 302
    assert batch.status == ImportBatch.Status.INVALID and batch.content is None
    assert [e["code"] for e in batch.errors] == ["not_spreadsheet"]


def test_header_remarks_unknown_columns_and_blank_template_rows(world):
    header = ["序号", "姓名*", "身份证号（必填）", "院落", "楼栋", "单元", "房号", "民族"]
    lines = [header]
    lines.append(["1", "周新民0", person(0)["身份证号"], "g01", "G01-1栋", "2单元", "201室", "汉"])
    lines.append(["2", "", "", "", "", "", "", ""])  # a pre-numbered, unused template row
    lines.append(["3", "周新民1", person(1)["身份证号"], "G01", "G01-1栋", "2", "201", ""])
    content = "\t".join(lines[0]).encode("utf-8") + b"\n" + b"\n".join(
        "\t".join(line).encode("utf-8") for line in lines[1:])
    table = importer.read_table(content)
    assert [r.row for r in table.rows] == [2, 4]
    result = run(world, content)
    assert result.ok, result.errors
    assert (result.summary["created"], result.summary["households_created"]) == (2, 1)


def test_missing_columns_are_listed(world):
    header = ["姓名", "身份证号", "楼栋", "单元"]
    result = run(world, csv_bytes([person(0)], header=header))
    assert codes(result) == [(1, "", "missing_columns")]
    reason = result.errors[0]["reason"]
    assert "院落" in reason and "房号" in reason and "姓名" not in reason


def test_duplicate_header_column(world):
    header = HEADER + ["手机"]
    result = run(world, csv_bytes([person(0)], header=header))
    assert codes(result) == [(1, "手机", "duplicate_column")]


def test_too_many_rows_and_too_large(world, settings):
    settings.LINLI_IMPORT_MAX_ROWS = 2
    result = run(world, csv_bytes([person(i) for i in range(3)]))
    assert [e["code"] for e in result.errors] == ["too_many_rows"]
    assert run(world, csv_bytes([person(i) for i in range(2)])).ok

    settings.LINLI_IMPORT_MAX_BYTES = 100
    result = run(world, csv_bytes([person(i) for i in range(2)]))
    assert [e["code"] for e in result.errors] == ["too_large"]


# ---------------------------------------------------------------------------
# Applying


def test_success_creates_sealed_indexed_residents_and_one_import_event(world):
    before = counts()
    rows = [person(0, 标签="独居老人、低保"), person(1), person(2), person(3, 与户主关系="女儿")]
    result = run(world, csv_bytes(rows))
    assert result.ok, result.errors
    s = result.summary
    assert (s["rows"], s["created"], s["updated"], s["unchanged"]) == (4, 4, 0, 0)
    assert s["households_created"] == 2 and s["units_created"] == 1 and s["tags_created"] == 1
    after = counts()
    assert after["residents"] == before["residents"] + 4
    assert after["households"] == before["households"] + 2

    worker = world.users["worker"]
    head = selectors.resident_search(worker, query=rows[0]["手机号"]).get()
    assert head.is_party_member and head.relation == "head"
    assert sorted(t.name for t in head.tags.all()) == ["低保", "独居老人"]
    assert selectors.resident_search(worker, query="周新民1").get().relation == "spouse"
    assert selectors.resident_search(worker, query="周新民3").get().relation == "child"
    # Sealed at rest: the database holds no plaintext.
    for value in raw_columns(head.pk):
        assert value.startswith("v1.")
    raw = " ".join(raw_columns(head.pk))
    assert rows[0]["身份证号"] not in raw and rows[0]["手机号"] not in raw and "周新民" not in raw

    imported = Event.objects.filter(verb="residents.imported").get()
    assert imported.community_id == world.community.pk
    assert imported.data["created"] == 4 and imported.data["households_created"] == 2
    assert Event.objects.filter(verb="resident.created", data__via="import").count() == 4
    assert "周新民" not in str(Event.objects.values_list("data", flat=True)[::1])


def test_any_bad_row_means_nothing_is_written(world):
    before = counts()
    good = [person(0, 标签="新标签"), person(1), person(2)]
    bad = person(3)
    bad["身份证号"] = bad["身份证号"][:17] + ("1" if bad["身份证号"][17] != "1" else "2")
    result = run(world, csv_bytes(good + [bad]))
    assert codes(result) == [(5, "身份证号", "invalid_id_number")]
    assert counts() == before
    assert result.summary["errors"] == 1


def test_places_grid_and_building_must_exist_units_are_created(world):
    rows = [
        person(0, 院落="G09"),
        person(1, 楼栋="99栋"),
        person(2, 院落="2号院", 楼栋="G02-1", 单元="5单元", 房号="501室"),
    ]
    result = run(world, csv_bytes(rows))
    assert codes(result) == [(2, "院落", "unknown_grid"), (3, "楼栋", "unknown_building")]
    result = run(world, csv_bytes(rows[2:]))
    assert result.ok, result.errors
    resident = selectors.resident_search(world.users["worker"], query=rows[2]["身份证号"]).get()
    assert (resident.grid.code, resident.building.name) == ("G02", "G02-1栋")
    assert (resident.household.unit.number, resident.household.room) == ("5", "501")


def test_error_report_names_row_and_column_never_the_value(world):
    rows = [
        person(0, 手机号="12345"),
        person(1, 院落="G77"),
        person(2, 党员="也许"),
        person(3, 身份证号=person(0)["身份证号"]),
        person(4, 姓名="", 房号=""),
    ]
    result = run(world, csv_bytes(rows, header=HEADER[:-1] + ["Note "]))
    assert codes(result) == [
        (2, "手机号", "invalid_phone"),
        (3, "院落", "unknown_grid"),
        (4, "党员", "yes_no"),
        (5, "身份证号", "duplicate_id"),
        (6, "姓名", "required"),
        (6, "房号", "required"),
    ]
    assert "2" in result.errors[3]["reason"]  # "also on row 2"

    report = importer.error_report_csv(result.errors)
    assert report.startswith(codecs.BOM_UTF8)
    lines = list(csv.reader(io.StringIO(report.decode("utf-8-sig"))))
    assert lines[0] == ["行/row", "列/column", "原因/reason"]
    assert [line[:2] for line in lines[1:]] == [
        ["2", "手机号"], ["3", "院落"], ["4", "党员"], ["5", "身份证号"], ["6", "姓名"], ["6", "房号"],
    ]
    text = report.decode("utf-8-sig") + repr(result.errors)
    for row in rows:
        for key in ("姓名", "身份证号", "手机号"):
            if row[key]:
                assert row[key] not in text
    for secret in ("12345", "G77", "也许"):
        assert secret not in text


def test_reimport_changes_nothing(world):
    rows = [person(i) for i in range(4)]
    content = csv_bytes(rows)
    assert run(world, content).ok
    before = counts()
    updated_at = dict(Resident.objects.values_list("pk", "updated_at"))
    result = run(world, content)
    assert result.ok
    assert (result.summary["created"], result.summary["updated"], result.summary["unchanged"]) == (0, 0, 4)
    assert result.summary["households_created"] == 0
    assert counts() == before
    assert dict(Resident.objects.values_list("pk", "updated_at")) == updated_at


def test_reimport_with_one_changed_row_updates_only_that_resident(world):
    rows = [person(i) for i in range(4)]
    assert run(world, csv_bytes(rows)).ok
    before = counts()
    updated_at = dict(Resident.objects.values_list("pk", "updated_at"))
    rows[2] = dict(rows[2], 手机号=make_phone(777), 标签="残疾人")
    rows[3] = dict(rows[3], 手机号="")  # blank: keeps the registered number
    result = run(world, csv_bytes(rows))
    assert result.ok, result.errors
    assert (result.summary["created"], result.summary["updated"], result.summary["unchanged"]) == (0, 1, 3)
    after = counts()
    assert after["residents"] == before["residents"]
    assert after["events"] == before["events"] + 2  # resident.updated + residents.imported
    changed = selectors.resident_search(world.users["worker"], query=rows[2]["身份证号"]).get()
    assert changed.phone.reveal() == make_phone(777)
    assert [t.name for t in changed.tags.all()] == ["残疾人"]
    update = Event.objects.filter(verb="resident.updated").get()
    assert update.target_id == str(changed.pk)
    assert update.data["fields"] == ["phone", "tags"]
    kept = selectors.resident_search(world.users["worker"], query=rows[3]["身份证号"]).get()
    assert kept.phone.reveal() == make_phone(503)
    for pk, stamp in Resident.objects.values_list("pk", "updated_at"):
        if pk != changed.pk:
            assert stamp == updated_at[pk]


def test_existing_world_resident_is_matched_by_id_number(world):
    r = world.residents[0]
    row = {
        "姓名": r.name.reveal(), "身份证号": r.id_number.reveal(), "手机号": r.phone.reveal(),
        "院落": "G01", "楼栋": r.building.name, "单元": "1", "房号": r.household.room, "与户主关系": "户主",
    }
    result = run(world, csv_bytes([row]))
    assert result.ok and result.summary["unchanged"] == 1
    moved = dict(row, 房号="102")
    before = counts()
    result = run(world, csv_bytes([moved]))
    assert result.summary["updated"] == 1
    r.refresh_from_db()
    assert r.household.room == "102"
    assert counts()["residents"] == before["residents"]


def test_dry_run_writes_nothing_but_counts(world):
    before = counts()
    result = run(world, csv_bytes([person(i) for i in range(3)]), dry_run=True)
    assert result.ok and result.summary["created"] == 3 and result.summary["households_created"] == 2
    assert counts() == before


# ---------------------------------------------------------------------------
# Permissions


@pytest.mark.parametrize("who", ["grid1", "unit_staff", "supervisor", "secretary", "leader", "resident", "z_worker"])
def test_only_community_workers_may_import(world, who):
    before = counts()
    with pytest.raises(PermissionDenied):
        run(world, csv_bytes([person(0)]), user=who)
    assert counts() == before


@pytest.mark.parametrize("who", ["grid1", "unit_staff", "supervisor"])
def test_upload_page_refused_without_permission(world, client, who):
    client.login(username=who, password=PASSWORD)
    assert client.get(reverse("import_upload")).status_code == 403
    upload = io.BytesIO(csv_bytes([person(0)]))
    upload.name = "a.csv"
    assert client.post(reverse("import_upload"), {"community": world.community.pk, "file": upload}).status_code == 403
    assert not ImportBatch.objects.exists()


def test_other_accounts_cannot_reach_a_batch(world, client):
    client.login(username="worker", password=PASSWORD)
    upload = io.BytesIO(csv_bytes([person(0)]))
    upload.name = "a.csv"
    client.post(reverse("import_upload"), {"community": world.community.pk, "file": upload})
    batch = ImportBatch.objects.get()
    for who in ("z_worker", "grid1", "admin"):
        client.logout()
        client.login(username=who, password=PASSWORD)
        assert client.get(reverse("import_preview", args=[batch.pk])).status_code == 404
        assert client.get(reverse("import_errors", args=[batch.pk])).status_code == 404
        assert client.post(reverse("import_confirm", args=[batch.pk])).status_code == 404
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.PREVIEWED


def test_worker_cannot_choose_another_community(world, client):
    client.login(username="worker", password=PASSWORD)
    upload = io.BytesIO(csv_bytes([person(0)]))
    upload.name = "a.csv"
    response = client.post(reverse("import_upload"), {"community": world.other_community.pk, "file": upload})
    assert response.status_code == 200
    assert "community" in response.context["form"].errors
    assert not ImportBatch.objects.exists()


# ---------------------------------------------------------------------------
# The command


def test_command_imports_and_prints_the_summary(world, tmp_path):
    path = tmp_path / "居民.csv"
    path.write_bytes(csv_bytes([person(i) for i in range(3)], encoding="gbk"))
    assert Resident.objects.filter(community=world.community).count() == len(world.residents)
    out = io.StringIO()
    call_command("import_residents", str(path), community="Y", stdout=out)
    assert "3" in out.getvalue()
    assert Resident.objects.filter(community=world.community).count() == len(world.residents) + 3
    imported = Event.objects.get(verb="residents.imported")
    assert imported.actor is None and imported.data["via"] == "command"


def test_command_dry_run(world, tmp_path):
    path = tmp_path / "a.xlsx"
    path.write_bytes(xlsx_bytes([person(i) for i in range(2)]))
    before = counts()
    out = io.StringIO()
    call_command("import_residents", str(path), community="Y", dry_run=True, stdout=out)
    assert counts() == before
    assert "2" in out.getvalue()


def test_command_errors_exit_1_and_write_nothing(world, tmp_path):
    rows = [person(0), person(1, 院落="G77"), person(2, 手机号="1")]
    path = tmp_path / "a.csv"
    path.write_bytes(csv_bytes(rows))
    report = tmp_path / "errors.csv"
    before = counts()
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError) as exc:
        call_command("import_residents", str(path), community="Y", errors_out=str(report), stdout=out, stderr=err)
    assert exc.value.returncode == 1
    assert counts() == before
    printed = err.getvalue()
    assert "3" in printed and "院落" in printed and "4" in printed and "手机号" in printed
    assert rows[2]["身份证号"] not in printed and "G77" not in printed
    lines = list(csv.reader(io.StringIO(report.read_bytes().decode("utf-8-sig"))))
    assert [line[:2] for line in lines] == [["行/row", "列/column"], ["3", "院落"], ["4", "手机号"]]


def test_command_missing_file_and_unknown_community(world, tmp_path):
    with pytest.raises(CommandError):
        call_command("import_residents", str(tmp_path / "nope.csv"), community="Y")
    path = tmp_path / "a.csv"
    path.write_bytes(csv_bytes([person(0)]))
    with pytest.raises(CommandError):
        call_command("import_residents", str(path), community="NOPE")


# ---------------------------------------------------------------------------
# The web flow


def test_web_upload_preview_confirm(world, client):
    client.login(username="worker", password=PASSWORD)
    page = client.get(reverse("import_upload"))
    assert page.status_code == 200
    assert list(page.context["form"].fields["community"].queryset) == [world.community]

    rows = [person(i) for i in range(25)]
    upload = io.BytesIO(xlsx_bytes(rows))
    upload.name = "居民花名册.xlsx"
    before = counts()
    response = client.post(reverse("import_upload"), {"community": world.community.pk, "file": upload})
    batch = ImportBatch.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("import_preview", args=[batch.pk])
    assert batch.status == ImportBatch.Status.PREVIEWED and batch.created_by == world.users["worker"]
    assert batch.summary["created"] == 25 and batch.filename == "居民花名册.xlsx"
    with connection.cursor() as cursor:
        cursor.execute("SELECT content FROM community_importbatch WHERE id = %s", [batch.pk])
        assert cursor.fetchone()[0].startswith("v1.")
    assert counts() == before  # nothing written by the preview

    page = client.get(reverse("import_preview", args=[batch.pk]))
    assert page.status_code == 200
    assert "no-store" in page["Cache-Control"]
    html = page.content.decode()
    assert len(page.context["rows"]) == 20
    assert page.context["rows"][0]["name"] == "周**0"
    assert "周**0" in html and "周新民0" not in html
    assert rows[0]["身份证号"] not in html and rows[0]["手机号"] not in html
    assert page.context["can_confirm"]

    assert client.get(reverse("import_confirm", args=[batch.pk])).status_code == 405
    response = client.post(reverse("import_confirm", args=[batch.pk]))
    assert response.status_code == 302
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.APPLIED and batch.content is None and batch.applied_at
    assert counts()["residents"] == before["residents"] + 25
    imported = Event.objects.get(verb="residents.imported")
    assert imported.actor == world.users["worker"] and imported.target_id == str(batch.pk)

    # Confirming twice does nothing more.
    after = counts()
    client.post(reverse("import_confirm", args=[batch.pk]))
    assert counts() == after
    assert client.get(reverse("import_preview", args=[batch.pk])).status_code == 200


def test_web_invalid_file_shows_errors_and_report(world, client):
    client.login(username="worker", password=PASSWORD)
    rows = [person(0), person(1, 院落="G77")]
    upload = io.BytesIO(csv_bytes(rows, encoding="gbk"))
    upload.name = "a.csv"
    client.post(reverse("import_upload"), {"community": world.community.pk, "file": upload})
    batch = ImportBatch.objects.get()
    assert batch.status == ImportBatch.Status.INVALID and batch.content is None
    page = client.get(reverse("import_preview", args=[batch.pk]))
    assert page.status_code == 200 and not page.context["can_confirm"]
    assert [(e["row"], e["column"]) for e in page.context["errors"]] == [(3, "院落")]
    report = client.get(reverse("import_errors", args=[batch.pk]))
    assert report["Content-Type"].startswith("text/csv")
    assert "attachment" in report["Content-Disposition"]
    assert report.content.startswith(codecs.BOM_UTF8)
    assert "G77" not in report.content.decode("utf-8-sig")
    # An invalid batch cannot be confirmed.
    before = counts()
    client.post(reverse("import_confirm", args=[batch.pk]))
    assert counts() == before


def test_web_confirm_validates_again(world, client):
    client.login(username="worker", password=PASSWORD)
    upload = io.BytesIO(csv_bytes([person(0)]))
    upload.name = "a.csv"
    client.post(reverse("import_upload"), {"community": world.community.pk, "file": upload})
    batch = ImportBatch.objects.get()
    assert batch.status == ImportBatch.Status.PREVIEWED
    # Meanwhile the courtyard is renamed: the file no longer matches.
    grid = world.grids[0]
    grid.code, grid.name = "G91", "改名院"
    grid.save()
    before = counts()
    client.post(reverse("import_confirm", args=[batch.pk]))
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.INVALID and batch.content is None
    assert [e["code"] for e in batch.errors] == ["unknown_grid"]
    assert counts() == before


def test_batch_content_is_the_sealed_file(world, client):
    client.login(username="worker", password=PASSWORD)
    content = csv_bytes([person(0)])
    upload = io.BytesIO(content)
    upload.name = "a.csv"
    client.post(reverse("import_upload"), {"community": world.community.pk, "file": upload})
    batch = ImportBatch.objects.get()
    assert base64.b64decode(batch.content.reveal()) == content
    assert str(batch.content) == "******"


# ---------------------------------------------------------------------------
# Batches: the services behind the web flow, and the IMPORT_BATCH workflow


def test_applying_a_batch_is_the_one_move_of_its_workflow(world):
    worker = world.users["worker"]
    batch = import_batches.import_batch_preview(actor=worker, community=world.community, filename="../a.csv",
                                                content=csv_bytes([person(i) for i in range(3)]))
    assert batch.filename == "a.csv" and batch.status == ImportBatch.Status.PREVIEWED
    assert import_batches.IMPORT_BATCH.allowed(worker, batch) == ["apply"]
    assert import_batches.IMPORT_BATCH.allowed(world.users["admin"], batch) == []   # not the uploader
    before = Event.objects.count()
    last = Event.objects.order_by("pk").last().pk
    batch = import_batches.import_batch_apply(actor=worker, batch=batch)
    assert batch.status == ImportBatch.Status.APPLIED and batch.content is None and batch.applied_at
    applied = Event.objects.get(verb="import_batch.applied")
    assert (applied.actor, applied.target_id, applied.community_id) == (worker, str(batch.pk), world.community.pk)
    assert applied.data == {"from": "previewed", "to": "applied", "rows": 3, "created": 3, "updated": 0,
                            "unchanged": 0}
    # The registry's events of the import, and the batch's one.
    verbs = sorted(Event.objects.filter(pk__gt=last).values_list("verb", flat=True))
    assert verbs == ["household.created"] * 2 + ["import_batch.applied"] + ["resident.created"] * 3 + [
        "residents.imported", "unit.created"]
    with pytest.raises(IllegalTransition):
        import_batches.import_batch_apply(actor=worker, batch=batch)
    assert Event.objects.count() == before + len(verbs)


def test_only_the_uploader_applies_a_batch(world):
    batch = import_batches.import_batch_preview(actor=world.users["worker"], community=world.community,
                                                filename="a.csv", content=csv_bytes([person(0)]))
    before = counts()
    for who in ("admin", "grid1", "z_worker"):
        with pytest.raises(PermissionDenied):
            import_batches.import_batch_apply(actor=world.users[who], batch=batch)
    assert counts() == before
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.PREVIEWED and batch.content is not None


def test_a_preview_needs_the_right_to_import(world):
    with pytest.raises(PermissionDenied):
        import_batches.import_batch_preview(actor=world.users["grid1"], community=world.community,
                                            filename="a.csv", content=csv_bytes([person(0)]))
    assert not ImportBatch.objects.exists()


def test_a_refused_file_is_no_move_and_is_dropped(world):
    worker = world.users["worker"]
    batch = import_batches.import_batch_preview(actor=worker, community=world.community, filename="a.csv",
                                                content=csv_bytes([person(0)]))
    grid = world.grids[0]
    grid.code = "G91"
    grid.save()
    before = counts()
    batch = import_batches.import_batch_apply(actor=worker, batch=batch)
    assert batch.status == ImportBatch.Status.INVALID and batch.content is None and batch.applied_at is None
    assert [e["code"] for e in batch.errors] == ["unknown_grid"]
    assert counts() == before and not Event.objects.filter(verb__startswith="import_batch.").exists()
    assert import_batches.IMPORT_BATCH.allowed(worker, batch) == []
