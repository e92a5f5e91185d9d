"""Key rotation: re-encrypt under a new key while look-ups and edits keep working."""

from __future__ import annotations

import base64
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import override_settings
from django.utils import translation

from linli.community.models import Resident
from linli.community.selectors import resident_search
from linli.community.services import ResidentFacts, resident_blind_indexes, resident_update
from linli.core import rotation
from linli.core.crypto import Keyring, generate_key_entry
from linli.core.validators import surname_of

NEW_ID = "rot-new"


@pytest.fixture(autouse=True)
def _english():
    """Messages are checked by their English source text (the default language is Chinese)."""
    with translation.override("en"):
        yield

ALL_ROWS = 13  # 12 residents of Y, 1 of Z


@pytest.fixture
def keys(settings):
    """The ring the world was written under (old), then the new key prepended to it."""
    old = settings.LINLI_DATA_KEY
    new = generate_key_entry(NEW_ID)
    old_id = Keyring(old).active.key_id
    assert old_id != NEW_ID
    settings.LINLI_DATA_KEY = f"{new},{old}"

    class Keys:
        pass

    k = Keys()
    k.settings, k.old, k.new, k.old_id = settings, old, new, old_id
    return k


def _values() -> dict:
    """Every protected value of every resident, in clear (None stays None)."""
    return {
        r.pk: {f: (getattr(r, f).reveal() if getattr(r, f) is not None else None) for f in Resident.PROTECTED_FIELDS}
        for r in Resident.objects.order_by("pk")
    }


def _key_ids_by_row() -> dict[int, set[str]]:
    """The key id of each stored value, read from the raw columns."""
    cols = ", ".join(Resident.PROTECTED_FIELDS)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, {cols} FROM community_resident ORDER BY id")
        return {row[0]: {v.split(".")[1] for v in row[1:] if v is not None} for row in cursor.fetchall()}


def _assert_lookups_work(world, values) -> None:
    """Phone, ID number, full name and surname each find every resident, in scope."""
    for pk, v in values.items():
        user = world.users["z_worker"] if pk == world.other_resident.pk else world.users["admin"]
        for query in (v["phone"], v["id_number"], v["name"], surname_of(v["name"])):
            found = set(resident_search(user, query=query).values_list("pk", flat=True))
            assert pk in found, (pk, query)
            if query != surname_of(v["name"]):
                assert found == {pk}, (pk, query)


def _assert_indexes_under(ring_spec: str) -> None:
    ring_indexes = Keyring(ring_spec)
    for r in Resident.objects.all():
        expected = {
            "name_index": ring_indexes.blind_index(r.name.reveal(), "name"),
            "surname_index": ring_indexes.blind_index(surname_of(r.name.reveal()), "surname"),
            "id_index": ring_indexes.blind_index(r.id_number.reveal(), "id_number"),
            "phone_index": ring_indexes.blind_index(r.phone.reveal(), "phone") if r.phone else "",
        }
        assert {k: getattr(r, k) for k in expected} == expected


def test_rotation_moves_every_value_to_the_new_key_and_keeps_it_unchanged(world, keys):
    before = _values()
    assert all(ids == {keys.old_id} for ids in _key_ids_by_row().values())
    assert rotation.count_not_under_active_key() == ALL_ROWS
    _assert_lookups_work(world, before)  # new key active, everything still under the old one

    report = rotation.rotate(batch_size=5)

    assert report.rewritten["community.Resident"] == ALL_ROWS
    assert report.skipped_concurrent == 0 and report.remaining == 0
    assert all(ids == {NEW_ID} for ids in _key_ids_by_row().values())
    assert _values() == before
    _assert_indexes_under(keys.new)
    _assert_lookups_work(world, before)

    # The old key can go now: reads and look-ups need only the new one.
    keys.settings.LINLI_DATA_KEY = keys.new
    assert _values() == before
    _assert_lookups_work(world, before)
    assert rotation.count_not_under_active_key() == 0
    # ...and a second run has nothing to do.
    assert rotation.rotate().rewritten["community.Resident"] == 0


def test_without_rotation_removing_the_old_key_would_break_reads(world, keys):
    keys.settings.LINLI_DATA_KEY = keys.new
    r = Resident.objects.get(pk=world.residents[0].pk)
    with pytest.raises(ValueError):
        r.phone.reveal()


class _Interrupted(Exception):
    pass


def test_lookups_and_edits_work_half_way_through_an_interrupted_rotation(world, keys):
    before = _values()

    def stop_after_first_batch(label, done):
        raise _Interrupted  # the operator pressed Ctrl-C, or the job was killed

    with pytest.raises(_Interrupted):
        rotation.rotate(batch_size=4, progress=stop_after_first_batch)

    by_row = _key_ids_by_row()
    assert sorted(by_row.values(), key=sorted).count({NEW_ID}) == 4
    assert sum(ids == {keys.old_id} for ids in by_row.values()) == ALL_ROWS - 4
    assert rotation.count_not_under_active_key() == ALL_ROWS - 4
    assert _values() == before
    _assert_lookups_work(world, before)

    # An edit half way through writes under the new key and is found by its new phone.
    last = Resident.objects.get(pk=world.residents[-1].pk)
    v = before[last.pk]
    resident_update(actor=world.users["admin"], resident=last, facts=ResidentFacts.clean(
        name=v["name"], id_number=v["id_number"], phone="13800000099", address=v["address"] or ""))
    before[last.pk]["phone"] = "13800000099"
    assert _key_ids_by_row()[last.pk] == {NEW_ID}
    _assert_lookups_work(world, before)

    report = rotation.rotate(batch_size=4)  # run again: it finishes the job
    assert report.rewritten["community.Resident"] == ALL_ROWS - 4 - 1
    assert report.remaining == 0
    assert _values() == before
    keys.settings.LINLI_DATA_KEY = keys.new
    _assert_lookups_work(world, before)


def _change_during_rotation(monkeypatch, target_pk, change):
    """Run `change` after rotation has read the target's row and before it writes it."""
    real = rotation._needs_rotation
    state = {"done": False}

    def hooked(row, names, active):
        if row["pk"] == target_pk and not state["done"]:
            state["done"] = True
            change()
        return real(row, names, active)

    monkeypatch.setattr(rotation, "_needs_rotation", hooked)
    return state


def _edit_phone(world, pk, phone):
    r = Resident.objects.get(pk=pk)
    facts = ResidentFacts.clean(name=r.name.reveal(), id_number=r.id_number.reveal(), phone=phone,
                                address=r.address.reveal() if r.address else "")
    assert resident_update(actor=world.users["admin"], resident=r, facts=facts) == ["phone"]


def test_a_change_made_during_rotation_is_not_overwritten(world, keys, monkeypatch):
    before = _values()
    target = world.residents[5].pk
    state = _change_during_rotation(monkeypatch, target, lambda: _edit_phone(world, target, "13800000006"))

    report = rotation.rotate(batch_size=5)

    assert state["done"]
    assert report.skipped_concurrent == 1
    assert report.rewritten["community.Resident"] == ALL_ROWS - 1
    assert report.remaining == 0  # the edit itself wrote under the new key
    old_phone, before[target]["phone"] = before[target]["phone"], "13800000006"
    assert _values() == before
    assert set(resident_search(world.users["admin"], query="13800000006").values_list("pk", flat=True)) == {target}
    assert not resident_search(world.users["admin"], query=old_phone).exists()
    _assert_lookups_work(world, before)


def test_a_change_by_a_server_without_the_new_key_is_kept_and_rotated_next_time(world, keys, monkeypatch):
    before = _values()
    target = world.residents[2].pk

    def edit_on_an_old_server():
        with override_settings(LINLI_DATA_KEY=keys.old):
            _edit_phone(world, target, "13800000003")

    _change_during_rotation(monkeypatch, target, edit_on_an_old_server)
    out = io.StringIO()
    with pytest.raises(SystemExit) as exc_info:
        call_command("rotate_data_key", "--batch-size", "5", stdout=out, stderr=io.StringIO())
    assert exc_info.value.code == 1
    assert "remaining: 1" in out.getvalue()
    assert _key_ids_by_row()[target] == {keys.old_id}
    before[target]["phone"] = "13800000003"
    assert _values() == before
    _assert_lookups_work(world, before)  # its index is under the old key: still found

    monkeypatch.undo()
    out = io.StringIO()
    call_command("rotate_data_key", stdout=out)
    assert "community.Resident: 1 re-encrypted" in out.getvalue()
    assert out.getvalue().rstrip().endswith("remaining: 0")
    assert _values() == before
    keys.settings.LINLI_DATA_KEY = keys.new
    _assert_lookups_work(world, before)


# The command ---------------------------------------------------------------------

def test_check_counts_rows_not_under_the_active_key_and_exits_1(world, keys):
    out = io.StringIO()
    with pytest.raises(SystemExit) as exc_info:
        call_command("rotate_data_key", "--check", stdout=out)
    assert exc_info.value.code == 1
    assert f"active key: {NEW_ID}" in out.getvalue()
    assert f"rows with values not under the active key: {ALL_ROWS}" in out.getvalue()


def test_rotate_command_reports_progress_counts_and_remaining_zero(world, keys):
    before = _values()
    out = io.StringIO()
    call_command("rotate_data_key", "--batch-size", "5", stdout=out)
    text = out.getvalue()
    assert f"active key {NEW_ID}" in text
    assert "community.Resident: 5 re-encrypted so far" in text
    assert "community.Resident: 10 re-encrypted so far" in text
    assert f"community.Resident: {ALL_ROWS} re-encrypted\n" in text
    assert text.rstrip().endswith("remaining: 0")
    assert _values() == before
    # Only ids of the ring are printed, never key material.
    for entry in keys.settings.LINLI_DATA_KEY.split(","):
        assert entry.split(":")[1] not in text

    out = io.StringIO()
    call_command("rotate_data_key", "--check", stdout=out)  # no SystemExit: exit status 0
    assert "rows with values not under the active key: 0" in out.getvalue()


def test_rotate_command_with_nothing_to_do(world):
    out = io.StringIO()
    call_command("rotate_data_key", stdout=out)
    assert "community.Resident: 0 re-encrypted" in out.getvalue()
    assert "remaining: 0" in out.getvalue()


def test_rotate_command_explains_a_key_removed_too_early(world, keys):
    keys.settings.LINLI_DATA_KEY = keys.new
    with pytest.raises(CommandError, match="does not open with LINLI_DATA_KEY"):
        call_command("rotate_data_key", stdout=io.StringIO())


@pytest.mark.parametrize("spec", ["garbage", "a:short", "k1:" + "A" * 43 + ",k1:" + "B" * 43, " "])
@pytest.mark.parametrize("args", [(), ("--check",)])
def test_rotate_command_explains_a_malformed_key_ring(db, settings, spec, args):
    settings.LINLI_DATA_KEY = spec
    with pytest.raises(CommandError, match="LINLI_DATA_KEY is malformed"):
        call_command("rotate_data_key", *args, stdout=io.StringIO())


def test_generate_prints_a_new_entry_and_the_steps(db):
    out, err = io.StringIO(), io.StringIO()
    call_command("rotate_data_key", "--generate", "--key-id", "2026q3", stdout=out, stderr=err)
    entry = out.getvalue().strip()
    assert "\n" not in entry
    assert Keyring(entry).key_ids == ["2026q3"]
    steps = err.getvalue()
    for words in ("Prepend", "LINLI_DATA_KEY=2026q3:", "Restart the servers one by one",
                  "linli rotate-data-key", "remaining: 0", "Remove the old key"):
        assert words in steps
    assert entry.split(":")[1] not in steps


def test_generate_without_key_id_picks_a_fresh_one(db):
    a, b = io.StringIO(), io.StringIO()
    call_command("rotate_data_key", "--generate", stdout=a, stderr=io.StringIO())
    call_command("rotate_data_key", "--generate", stdout=b, stderr=io.StringIO())
    assert Keyring(a.getvalue().strip()).active.key_id != Keyring(b.getvalue().strip()).active.key_id


def test_generate_works_even_when_the_configured_ring_is_broken(db, settings):
    settings.LINLI_DATA_KEY = "broken"
    out = io.StringIO()
    call_command("rotate_data_key", "--generate", stdout=out, stderr=io.StringIO())
    entry = out.getvalue().strip()
    # One usable entry (id:key, a 32-byte key) that seals and opens a value on its own.
    assert "\n" not in entry and "," not in entry
    ring = Keyring(entry)
    assert len(ring.key_ids) == 1 and ring.active.key_id == entry.split(":")[0]
    assert len(base64.urlsafe_b64decode(entry.split(":", 1)[1])) == 32
    assert ring.open(ring.seal("138-0000-0000", "resident.phone"), "resident.phone") == "138-0000-0000"


@pytest.mark.parametrize("args, message", [
    (["--generate", "--key-id", "bad id"], "Invalid --key-id"),
    (["--generate", "--key-id", "x" * 17], "Invalid --key-id"),
    (["--key-id", "k2"], "--key-id only goes with --generate"),
    (["--generate", "--check"], "cannot be combined"),
    (["--batch-size", "0"], "at least 1"),
    (["--batch-size", "-5"], "at least 1"),
    (["--check", "--batch-size", "10"], "--batch-size only goes with a rotation"),
    (["--batch-size", "ten"], "invalid int value"),
])
def test_rotate_command_refuses_bad_arguments(db, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("rotate_data_key", *args, stdout=io.StringIO(), stderr=io.StringIO())


@pytest.mark.parametrize("key_id", [NEW_ID, NEW_ID.upper()])
def test_generate_refuses_an_id_already_in_the_ring(db, keys, key_id):
    with pytest.raises(CommandError, match="already has a key with id"):
        call_command("rotate_data_key", "--generate", "--key-id", key_id, stdout=io.StringIO())


def test_resident_blind_indexes_match_what_lookups_compute(world, keys):
    """The indexer rotation uses and the one services use are the same function."""
    r = Resident.objects.get(pk=world.residents[0].pk)
    expected = resident_blind_indexes(name=r.name.reveal(), id_number=r.id_number.reveal(), phone=r.phone.reveal())
    assert rotation.BLIND_INDEXERS["community.Resident"](
        {f: (getattr(r, f).reveal() if getattr(r, f) else None) for f in Resident.PROTECTED_FIELDS}
    ) == expected
