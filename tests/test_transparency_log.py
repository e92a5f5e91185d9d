"""The transparency log's storage: appends, stored hashes, proofs, checkpoints, keys, the
append-only triggers and verify_log (linli.transparency; docs/transparency.md)."""

from __future__ import annotations

import importlib
import os
import stat

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import translation

from linli.community.models import Community, District, Street
from linli.core import signednote, tlog
from linli.core.models import Event
from linli.transparency import keys, selectors, services
from linli.transparency.models import Checkpoint, Leaf, Log, Node
from linli.transparency.verify import verify_log


def _community(code="Y"):
    district, _ = District.objects.get_or_create(code="510106", defaults={"name": "金牛区"})
    street, _ = Street.objects.get_or_create(district=district, code="510106001", defaults={"name": "驷马桥街道"})
    return Community.objects.create(street=street, code=code, name=f"{code}社区")


@pytest.fixture
def key(settings, tmp_path):
    path = tmp_path / "signing.key"
    settings.LINLI_DISCLOSURE_KEY_FILE = str(path)
    settings.LINLI_DISCLOSURE_KEY_NAME = "linli.test"
    return keys.keygen("linli.test", path)


@pytest.fixture
def community(db):
    return _community()


def _data(i: int) -> bytes:
    return f'{{"v":1,"n":{i}}}'.encode()


def _exec(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _drop_triggers():
    triggers = importlib.import_module("linli.transparency.migrations.0002_append_only")
    for sql in triggers.statements(connection.vendor, forward=False):
        _exec(sql)


# --- appending and the stored tree ---------------------------------------------------------------

def test_appends_store_leaves_and_every_complete_subtree(community):
    tree = tlog.MemoryTree()
    indexes = []
    for batch in ([0], [1, 2], [3, 4, 5, 6], list(range(7, 23))):
        indexes += services.append(community=community, leaves=[_data(i) for i in batch])
        for i in batch:
            tree.append(_data(i))
    assert indexes == list(range(23))
    assert selectors.size(community) == 23
    log = selectors.log_for(community)
    assert log.origin == "localhost/disclosure/Y" or log.origin.endswith("/disclosure/Y")
    for leaf in Leaf.objects.filter(log=log):
        assert bytes(leaf.hash) == tree.leaf(leaf.index) and bytes(leaf.data) == _data(leaf.index)
    nodes = {(n.level, n.index): bytes(n.hash) for n in Node.objects.filter(log=log)}
    expected = {(h, i): tree.levels[h][i] for h in range(1, len(tree.levels)) for i in range(len(tree.levels[h]))}
    assert nodes == expected
    for size in range(1, 24):
        assert selectors.root(community, size) == tree.root(size)
        for index in range(size):
            proof = selectors.inclusion_proof(community, index, size)
            assert proof == tree.inclusion_proof(index, size)
            tlog.verify_inclusion(tree.leaf(index), index, size, proof, tree.root(size))
        for first in range(0, size + 1):
            proof = selectors.consistency_proof(community, first, size)
            assert proof == tree.consistency_proof(first, size)
            tlog.verify_consistency(first, size, tree.root(first) if first else tlog.EMPTY_ROOT,
                                    tree.root(size), proof)
    assert selectors.leaf(community, 5) == _data(5)
    assert selectors.leaves(community, 20, 30) == [(i, _data(i)) for i in (20, 21, 22)]
    with pytest.raises(IndexError):
        selectors.leaf(community, 23)
    assert Event.objects.filter(verb="transparency.appended").count() == 4


def test_a_proof_reads_a_logarithmic_number_of_rows(community):
    n = 1000
    services.append(community=community, leaves=[_data(i) for i in range(n)])
    log = selectors.log_for(community)
    for index, size in ((0, n), (999, n), (517, 777), (3, 4)):
        tree = selectors.StoredTree(log.pk)
        tree.inclusion_proof(index, size)
        assert tree.reads <= 2 * (size - 1).bit_length()
    tree = selectors.StoredTree(log.pk)
    tree.consistency_proof(333, n)
    assert tree.reads <= 2 * (n - 1).bit_length()


def test_out_of_range_proofs_are_refused(community):
    services.append(community=community, leaves=[_data(i) for i in range(5)])
    for call in (lambda: selectors.inclusion_proof(community, 5, 5),
                 lambda: selectors.inclusion_proof(community, 0, 6),
                 lambda: selectors.consistency_proof(community, 3, 6),
                 lambda: selectors.consistency_proof(community, 4, 3),
                 lambda: selectors.inclusion_proof(community, -1, 3)):
        with pytest.raises(tlog.ProofError):
            call()


# --- checkpoints and keys ----------------------------------------------------------------------

def test_sign_checkpoint_signs_a_c2sp_checkpoint_once_per_size(community, key):
    indexes, checkpoint = services.append_and_sign(community=community, leaves=[_data(i) for i in range(3)])
    assert indexes == [0, 1, 2]
    note = signednote.open_note(checkpoint.note.encode(), [signednote.parse_verifier(keys.verifier_key_text())])
    parsed = signednote.parse_checkpoint(note.text)
    assert (parsed.origin, parsed.size, parsed.root) == (keys.origin_for(community), 3, bytes(checkpoint.root))
    assert note.text == f"{parsed.origin}\n3\n{signednote._b64(parsed.root)}\n"
    assert services.sign_checkpoint(community=community).pk == checkpoint.pk  # the log did not grow
    _, second = services.append_and_sign(community=community, leaves=[_data(3)])
    assert second.size == 4 and Checkpoint.objects.count() == 2
    assert selectors.latest_checkpoint(community) == second
    assert selectors.served_checkpoint(community) == second.note
    assert Event.objects.filter(verb="transparency.checkpoint_signed").count() == 2


def test_without_a_key_nothing_is_appended_or_signed(community, settings, tmp_path):
    settings.LINLI_DISCLOSURE_KEY_FILE = str(tmp_path / "absent.key")
    with pytest.raises(keys.SigningKeyMissing) as refused:
        services.append_and_sign(community=community, leaves=[_data(0)])
    assert "keygen" in str(refused.value.message)
    assert selectors.size(community) == 0 and not Leaf.objects.exists()
    with pytest.raises(keys.SigningKeyMissing):
        services.sign_checkpoint(community=community)


def test_keygen_writes_a_go_signer_key_readable_only_by_its_owner(settings, tmp_path):
    path = tmp_path / "k"
    settings.LINLI_DISCLOSURE_KEY_FILE = str(path)
    verifier = keys.keygen("linli.example.org", path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    text = path.read_text().strip()
    assert text.startswith(f"PRIVATE+KEY+linli.example.org+{verifier.key_id.hex()}+")
    assert keys.verifier_key_text() == str(verifier)
    name, key_id, data = str(verifier).split("+", 2)
    assert (name, len(key_id)) == ("linli.example.org", 8)
    assert signednote._b64decode(data)[0] == 0x01
    assert len(keys.fingerprint().replace(" ", "")) == 20
    with pytest.raises(FileExistsError):
        keys.keygen("linli.example.org", path)
    assert path.read_text().strip() == text


def test_the_key_name_and_origin_come_from_the_site_host(settings, db):
    settings.ALLOWED_HOSTS = ["localhost", "linli.example.org"]
    settings.LINLI_DISCLOSURE_KEY_NAME = ""
    assert keys.default_key_name() == "linli.example.org"
    community = _community("Q")
    assert keys.origin_for(community) == "linli.example.org/disclosure/Q"


def test_a_checkpoint_inconsistent_with_the_last_is_never_signed(community, key):
    _, first = services.append_and_sign(community=community, leaves=[_data(i) for i in range(6)])
    _drop_triggers()
    # Corrupt a stored hash the next proof reads: the store no longer extends what was signed.
    _exec("UPDATE transparency_node SET hash = %s WHERE log_id = %s AND level = 2 AND " + connection.ops.quote_name("index") + " = 0",
          [b"\x00" * 32, first.log_id])
    services.append(community=community, leaves=[_data(6)])
    with pytest.raises(services.LogInconsistent):
        services.sign_checkpoint(community=community)
    assert list(Checkpoint.objects.values_list("size", flat=True)) == [6]


def test_a_checkpoint_row_that_disagrees_with_its_note_stops_signing(community, key):
    _, first = services.append_and_sign(community=community, leaves=[_data(i) for i in range(2)])
    _drop_triggers()
    _exec("UPDATE transparency_checkpoint SET root = %s WHERE id = %s", [b"\x01" * 32, first.pk])
    services.append(community=community, leaves=[_data(2)])
    with pytest.raises(services.LogInconsistent):
        services.sign_checkpoint(community=community)


# --- append-only in the database ---------------------------------------------------------------

@pytest.mark.parametrize("sql", [
    "UPDATE transparency_leaf SET data = %s",
    "UPDATE transparency_leaf SET hash = %s",
    "UPDATE transparency_node SET hash = %s",
    "UPDATE transparency_checkpoint SET note = 'x' WHERE %s IS NOT NULL",
    "DELETE FROM transparency_leaf WHERE %s IS NOT NULL",
    "DELETE FROM transparency_node WHERE %s IS NOT NULL",
    "DELETE FROM transparency_checkpoint WHERE %s IS NOT NULL",
    "DELETE FROM transparency_log WHERE %s IS NOT NULL",
    "UPDATE transparency_log SET size = 1 WHERE %s IS NOT NULL",
    "UPDATE transparency_log SET origin = 'elsewhere' WHERE %s IS NOT NULL",
])
def test_raw_sql_cannot_edit_or_delete_the_log(community, key, sql):
    services.append_and_sign(community=community, leaves=[_data(i) for i in range(4)])
    with pytest.raises(IntegrityError), transaction.atomic():
        _exec(sql, [b"\x00" * 32])
    assert Leaf.objects.count() == 4 and Node.objects.count() == 3 and Checkpoint.objects.count() == 1


def test_cosignatures_are_append_only_too(community, key):
    from linli.transparency.models import Cosignature, Witness

    _, checkpoint = services.append_and_sign(community=community, leaves=[_data(0)])
    witness = Witness.objects.create(log=checkpoint.log, name="street", verifier_key="x")
    from django.utils import timezone

    Cosignature.objects.create(checkpoint=checkpoint, witness=witness, line="— street AAAA\n",
                               timestamp=timezone.now())
    for sql in ("UPDATE transparency_cosignature SET line = 'x'", "DELETE FROM transparency_cosignature"):
        with pytest.raises(IntegrityError), transaction.atomic():
            _exec(sql)
    assert Cosignature.objects.count() == 1


def test_an_erased_log_stays_erased_and_takes_nothing_more(community, key):
    services.append_and_sign(community=community, leaves=[_data(0), _data(1)])
    log = selectors.log_for(community)
    _exec("UPDATE transparency_log SET erasing = %s WHERE id = %s", [True, log.pk])
    with pytest.raises(IntegrityError), transaction.atomic():
        _exec("UPDATE transparency_log SET erasing = %s WHERE id = %s", [False, log.pk])
    with pytest.raises(IntegrityError), transaction.atomic():
        Leaf.objects.create(log=log, index=2, data=b"x", hash=b"\x00" * 32)
    assert verify_log(community).ok is False


def test_erase_log_is_the_one_way_to_delete_a_log(community, key):
    services.append_and_sign(community=community, leaves=[_data(i) for i in range(5)])
    with transaction.atomic():
        assert services.erase_log(actor=None, community=community) == 5
    assert not Log.objects.exists() and not Leaf.objects.exists() and not Node.objects.exists()
    assert Event.objects.filter(verb="transparency.erased").count() == 1
    # A new log starts from index 0.
    assert services.append(community=community, leaves=[_data(0)]) == [0]


# --- verify_log ----------------------------------------------------------------------------------

def test_verify_log_passes_on_an_honest_log(community, key):
    for start in range(0, 40, 7):
        services.append_and_sign(community=community, leaves=[_data(i) for i in range(start, start + 7)])
    report = verify_log(community)
    assert report.ok, report.message
    assert (report.first_bad_index, report.checked_entries, report.checked_checkpoints) == (None, 42, 6)


@pytest.mark.parametrize("target", ["leaf_data", "leaf_hash", "node", "leaf_data_and_hash"])
def test_verify_log_names_the_first_tampered_entry(community, key, target):
    services.append_and_sign(community=community, leaves=[_data(i) for i in range(20)])
    services.append_and_sign(community=community, leaves=[_data(i) for i in range(20, 30)])
    log = selectors.log_for(community)
    _drop_triggers()
    index = connection.ops.quote_name("index")
    if target == "leaf_data":
        _exec(f"UPDATE transparency_leaf SET data = %s WHERE log_id = %s AND {index} IN (13, 17)",
              [b'{"v":1,"n":999}', log.pk])
        expected = 13
    elif target == "leaf_hash":
        _exec(f"UPDATE transparency_leaf SET hash = %s WHERE log_id = %s AND {index} = 21", [b"\x07" * 32, log.pk])
        expected = 21
    elif target == "node":
        _exec(f"UPDATE transparency_node SET hash = %s WHERE log_id = %s AND level = 2 AND {index} = 3",
              [b"\x07" * 32, log.pk])
        expected = 12
    else:
        forged = b'{"v":1,"n":"forged"}'
        _exec(f"UPDATE transparency_leaf SET data = %s, hash = %s WHERE log_id = %s AND {index} = 9",
              [forged, tlog.leaf_hash(forged), log.pk])
        expected = 8  # the first entry of the smallest stored subtree that no longer matches
    report = verify_log(community)
    assert (report.ok, report.first_bad_index) == (False, expected), report.message
    assert str(expected) in report.message


def test_verify_log_finds_a_deleted_entry_and_a_forged_signature(community, key):
    services.append_and_sign(community=community, leaves=[_data(i) for i in range(8)])
    log = selectors.log_for(community)
    _drop_triggers()
    _exec(f"DELETE FROM transparency_leaf WHERE log_id = %s AND {connection.ops.quote_name('index')} = 4", [log.pk])
    report = verify_log(community)
    assert (report.ok, report.first_bad_index) == (False, 4)


def test_verify_log_checks_the_signature_with_the_given_key(community, key):
    services.append_and_sign(community=community, leaves=[_data(0)])
    other = signednote.generate_signer("linli.test")
    with translation.override("en"):
        report = verify_log(community, verifier_keys=[str(other.verifier)])
    assert report.ok is False and "signed" in report.message
    assert verify_log(community, verifier_keys=[keys.verifier_key_text()]).ok


# --- concurrency (PostgreSQL) ------------------------------------------------------------------

@pytest.mark.skipif(connection.vendor == "sqlite", reason=(
    "the in-memory shared-cache SQLite test database answers 'table is locked' instead of waiting; "
    "a real SQLite file serialises writers, and bench/tlog_bench.py appends on one"))
def test_two_appenders_never_interleave_indexes(transactional_db, settings, tmp_path):
    import threading

    settings.LINLI_DISCLOSURE_KEY_FILE = str(tmp_path / "k")
    keys.keygen("linli.test", tmp_path / "k")
    community = _community("C")
    start = threading.Barrier(4, timeout=60)
    results, errors = {}, []

    def appender(worker):
        try:
            start.wait()
            for round_ in range(5):
                batch = [f"{worker}-{round_}-{i}".encode() for i in range(10)]
                indexes, _ = services.append_and_sign(community=community, leaves=batch)
                results[(worker, round_)] = indexes
        except Exception as error:  # the assertion names it
            errors.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=appender, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    for indexes in results.values():  # each batch got consecutive indexes
        assert indexes == list(range(indexes[0], indexes[0] + 10))
    assert sorted(i for v in results.values() for i in v) == list(range(200))
    assert verify_log(community).ok


def test_flush_takes_the_erase_path_so_transactional_tests_still_clean_up(transactional_db, key):
    from django.core.management import call_command

    community = _community("F")
    services.append_and_sign(community=community, leaves=[_data(i) for i in range(9)])
    call_command("flush", interactive=False, verbosity=0)
    assert not Log.objects.exists() and not Leaf.objects.exists() and not Checkpoint.objects.exists()
    # and the next flush (pytest-django's, after this test) finds rows again and removes them
    services.append_and_sign(community=_community("G"), leaves=[_data(0)])


def test_the_served_checkpoint_carries_active_witnesses_cosignatures(community, key):
    import datetime as dt

    from linli.transparency.models import Cosignature, Witness

    _, checkpoint = services.append_and_sign(community=community, leaves=[_data(0), _data(1)])
    text = checkpoint.note[: checkpoint.note.rfind("\n\n") + 1]
    when = 1_780_000_000
    lines = {}
    for name, active in (("street-office", True), ("retired", False)):
        signer = signednote.generate_signer(name, alg=signednote.ALG_COSIGNATURE_V1)
        witness = Witness.objects.create(log=checkpoint.log, name=name, verifier_key=str(signer.verifier),
                                         active=active)
        line = signednote.cosign(text, signer, timestamp=when).line()
        Cosignature.objects.create(checkpoint=checkpoint, witness=witness, line=line,
                                   timestamp=dt.datetime.fromtimestamp(when, tz=dt.timezone.utc))
        lines[name] = (line, signer.verifier)
    served = selectors.served_checkpoint(community)
    assert served == checkpoint.note + lines["street-office"][0]
    note = signednote.open_note(served.encode(), [keys.verifier(), lines["street-office"][1]])
    assert len(note.sigs) == 2
    assert selectors.witnessed(community) == [
        ("street-office", dt.datetime.fromtimestamp(when, tz=dt.timezone.utc), 2)]
