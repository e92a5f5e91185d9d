"""Personal data is sealed at rest and masked everywhere it can leak: rows, files, logs, dumps."""

from __future__ import annotations

import io
import json
import logging
import pickle
import sqlite3
from pathlib import Path

import pytest
from django.core import serializers
from django.core.exceptions import FieldError
from django.core.management import call_command
from django.db import connection
from django.template import Context, Template
from django.test.utils import CaptureQueriesContext

from linli.community.models import Resident
from linli.community.selectors import resident_search
from linli.community.services import ResidentFacts, resident_create
from linli.core.fields import Protected

log = logging.getLogger("linli.tests.protection")


def _plaintexts(world) -> list[str]:
    """Every identifying value of every resident of the world, in clear."""
    values = []
    for r in [*world.residents, world.other_resident]:
        r = Resident.objects.get(pk=r.pk)
        for f in ("name", "phone", "id_number", "address", "birth_date"):
            value = getattr(r, f)
            if value is not None:
                values.append(value.reveal())
    assert len(values) > 50
    return values


def _leaks(text: str, plaintexts) -> list[str]:
    return [p for p in plaintexts if p in text]


# At rest ---------------------------------------------------------------------

def test_raw_resident_rows_hold_only_sealed_values_and_blind_indexes(world):
    plaintexts = _plaintexts(world)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {Resident._meta.db_table}")
        columns = [c[0] for c in cursor.description]
        rows = cursor.fetchall()
    assert len(rows) == 13
    for row in rows:
        cells = dict(zip(columns, row))
        assert not _leaks(repr(cells), plaintexts)
        for f in ("name", "id_number", "phone", "address", "birth_date"):
            assert cells[f] is None or cells[f].startswith("v1."), f
        assert cells["name"] and cells["id_number"] and cells["birth_date"]
        for f in ("name_index", "surname_index", "id_index"):
            assert len(cells[f]) == 32 and set(cells[f]) <= set("0123456789abcdef")


def test_no_table_of_the_database_holds_plaintext(world):
    plaintexts = _plaintexts(world)
    tables = connection.introspection.django_table_names(only_existing=True)
    assert "community_resident" in tables and "core_event" in tables
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            assert not _leaks(repr(cursor.fetchall()), plaintexts), table


@pytest.mark.skipif(connection.vendor != "sqlite",
                    reason="scans the SQLite file; other databases are checked row by row above")
def test_the_sqlite_database_file_holds_no_plaintext(transactional_db, world, tmp_path):
    plaintexts = _plaintexts(world)
    name = str(connection.settings_dict["NAME"])
    if Path(name).is_file():
        files = [Path(name), Path(name + "-wal")]
    else:  # the in-memory test database: copy its pages into a file, as they are
        connection.ensure_connection()
        copy = tmp_path / "copy.sqlite3"
        target = sqlite3.connect(copy)
        connection.connection.backup(target)
        target.close()
        files = [copy]
    data = b"".join(f.read_bytes() for f in files if f.exists())

    # What we scan is the real data: a sealed phone of the world is in there...
    token = Resident.objects.filter(pk=world.residents[0].pk).values_list("phone", flat=True)[0].token
    assert token.encode() in data
    # ...and no plaintext, in any encoding SQLite might use.
    for plain in plaintexts:
        for encoding in ("utf-8", "utf-16-le", "utf-16-be"):
            assert plain.encode(encoding) not in data, plain

    # Another program opening the file sees sealed values only.
    db = sqlite3.connect(files[0])
    try:
        rows = db.execute("SELECT name, phone, id_number FROM community_resident").fetchall()
    finally:
        db.close()
    assert len(rows) == 13
    assert all(v is None or v.startswith("v1.") for row in rows for v in row)


def test_sql_sent_to_the_database_carries_no_plaintext(world):
    facts = ResidentFacts.clean(name="钱多多", id_number="11010519491231002X", phone="13712345678",
                                address="四川省成都市金牛区一环路北三段9号", note="独居，子女在外地")
    with CaptureQueriesContext(connection) as queries:
        resident = resident_create(actor=None, household=world.households[0], facts=facts)
        found = list(resident_search(world.users["admin"], query="13712345678"))
        list(resident_search(world.users["admin"], query="11010519491231002X"))
        list(resident_search(world.users["admin"], query="钱多多"))
    assert found == [resident]
    sql = "\n".join(q["sql"] for q in queries.captured_queries)
    assert "INSERT" in sql
    assert not _leaks(sql, ["钱多多", "13712345678", "11010519491231002X", "一环路", "独居", "1949-12-31"])


def test_protected_columns_refuse_comparisons_on_ciphertext(world):
    for lookup in ("phone", "phone__exact", "phone__startswith", "name__icontains", "id_number__in"):
        with pytest.raises(FieldError):
            list(Resident.objects.filter(**{lookup: "13900000001"}))
    assert Resident.objects.filter(note__isnull=True).count() == 13


# On screen, in logs and in errors --------------------------------------------

def test_protected_values_render_masked_by_default(world):
    r = Resident.objects.get(pk=world.residents[0].pk)
    phone, id_number, name = r.phone.reveal(), r.id_number.reveal(), r.name.reveal()
    assert isinstance(r.phone, Protected)
    assert str(r.phone) == phone[:3] + "****" + phone[-4:]
    assert repr(r.phone) == f"<Protected phone {phone[:3]}****{phone[-4:]}>"
    assert str(r.id_number) == id_number[:4] + "*" * 10 + id_number[-4:]
    assert str(r.address).endswith("****") and str(r.birth_date).endswith("-**-**")
    shown = [str(r), repr(r), f"{r.name} {r.phone}", "%s %r" % (r.id_number, r.address),
             repr([r.phone, r.name]), repr(vars(r)), str(Resident.objects.values("name", "phone").get(pk=r.pk))]
    for text in shown:
        assert not _leaks(text, [phone, id_number, name, r.address.reveal(), r.birth_date.reveal()]), text


def test_templates_show_masked_values(world):
    r = Resident.objects.get(pk=world.residents[0].pk)
    html = Template("{{ r }} {{ r.name }} {{ r.phone }} {{ r.id_number }} {{ r.address }}").render(Context({"r": r}))
    assert str(r.phone) in html
    assert not _leaks(html, [r.name.reveal(), r.phone.reveal(), r.id_number.reveal(), r.address.reveal()])


def test_values_assigned_in_clear_are_masked_even_before_saving(world):
    r = Resident(name="孙悟空", phone="13612345678", id_number="11010519491231002X")
    assert isinstance(r.phone, Protected)
    assert str(r) == "孙*空" and str(r.phone) == "136****5678"
    assert "13612345678" not in repr(vars(r))
    r.note = ""
    assert r.note is None


def test_log_records_and_exception_messages_show_only_masked_values(world, caplog):
    r = Resident.objects.get(pk=world.residents[0].pk)
    secrets = [r.name.reveal(), r.phone.reveal(), r.id_number.reveal(), r.address.reveal()]
    with caplog.at_level(logging.INFO, logger="linli.tests.protection"):
        log.info("visited %s, phone %s, id %r", r, r.phone, r.id_number)
        log.warning("resident %s", {"who": r, "phone": r.phone, "address": r.address})
        try:
            raise ValueError(f"cannot deliver to {r} at {r.phone}, {r.address}")
        except ValueError:
            log.exception("delivery failed for %r", r)
    formatter = logging.Formatter("%(message)s")
    output = "\n".join(formatter.format(rec) for rec in caplog.records)
    assert str(r.phone) in output and "Traceback" in output
    assert not _leaks(output, secrets)


def test_protected_values_refuse_json_rather_than_leak(world):
    r = Resident.objects.get(pk=world.residents[0].pk)
    with pytest.raises(TypeError):
        json.dumps({"phone": r.phone})


def test_pickles_carry_sealed_values_only(world):
    r = Resident.objects.get(pk=world.residents[0].pk)
    fresh = Resident(name="孙悟空", phone="13612345678", id_number="11010519491231002X")
    for obj, secrets in [(r, [r.name.reveal(), r.phone.reveal(), r.id_number.reveal()]),
                         (fresh, ["孙悟空", "13612345678", "11010519491231002X"])]:
        blob = pickle.dumps(obj)
        for s in secrets:
            assert s.encode() not in blob and s.encode("utf-8") not in blob
        back = pickle.loads(blob)
        assert back.phone.reveal() == obj.phone.reveal()
        assert back.name == obj.name


# Dumps -------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["json", "xml", "jsonl"])
def test_dumpdata_writes_sealed_values_only(world, fmt):
    plaintexts = _plaintexts(world)
    out = io.StringIO()
    call_command("dumpdata", "community", "core", format=fmt, stdout=out)
    dump = out.getvalue()
    assert dump.count("v1.") >= 12 * 5  # five sealed fields of each Y resident, at least
    assert not _leaks(dump, plaintexts)
    if fmt == "json":  # non-ASCII escaped as \uXXXX in JSON: check the decoded text too
        assert not _leaks(json.dumps(json.loads(dump), ensure_ascii=False), plaintexts)


def test_a_dump_loads_back_to_the_same_values(world):
    before = {r.pk: {f: getattr(r, f) and getattr(r, f).reveal() for f in Resident.PROTECTED_FIELDS}
              for r in Resident.objects.all()}
    dump = serializers.serialize("json", Resident.objects.all())
    for obj in serializers.deserialize("json", dump):
        obj.save()  # what loaddata does
    after = {r.pk: {f: getattr(r, f) and getattr(r, f).reveal() for f in Resident.PROTECTED_FIELDS}
             for r in Resident.objects.all()}
    assert after == before
    assert resident_search(world.users["admin"], query=before[world.residents[0].pk]["phone"]).count() == 1


def test_a_value_copied_from_another_column_is_sealed_for_its_new_column(world):
    r = Resident.objects.get(pk=world.residents[0].pk)
    r.note = r.name  # e.g. "contact person" copied from the name
    assert str(r.note) == "******"  # masked as the note it now is
    r.save()
    r = Resident.objects.get(pk=r.pk)
    assert r.note.reveal() == r.name.reveal()
    Resident.objects.filter(pk=r.pk).update(address=r.phone)
    assert Resident.objects.get(pk=r.pk).address.reveal() == r.phone.reveal()
