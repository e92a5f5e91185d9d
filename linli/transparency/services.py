"""Writing to a community's log: append leaves, sign checkpoints, erase a whole log.

Every function is keyword-only, atomic and records one event. Appends lock the ``Log`` row
(``SELECT … FOR UPDATE``), so two appenders on one log never interleave indexes; SQLite serialises
writers itself. An append reads the log's right edge (at most ⌈log₂ n⌉ stored hashes, one query),
then writes the new leaves and every subtree hash they complete (``executemany``).
"""

from __future__ import annotations

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.core import events, signednote, tlog
from linli.core.errors import Conflict, LinliError

from . import keys
from .models import Checkpoint, Cosignature, Leaf, Log, Node, Witness
from .selectors import StoredTree

MAX_LEAF_BYTES = 64 * 1024


class LogInconsistent(Conflict):
    """What is stored no longer extends the last signed checkpoint: nothing is signed."""

    code = "log_inconsistent"


def _locked_log(community) -> Log:
    log = Log.objects.select_for_update().filter(community=community).first()
    if log is None:
        try:
            with transaction.atomic():
                Log.objects.create(community=community, origin=keys.origin_for(community))
        except IntegrityError:
            pass  # another appender created it first; its row is read (and locked) below
        log = Log.objects.select_for_update().get(community=community)
    return log


def _right_edge(tree: StoredTree, n: int) -> list[tuple[int, bytes]]:
    """The stack of (height, hash) of the complete subtrees [0, n) splits into, largest first."""
    if n == 0:
        return []
    pieces = tlog.aligned_pieces(0, n)
    tree.load(pieces)
    return [((end - start).bit_length() - 1, tree.subtree(start, end)) for start, end in pieces]


def _insert(leaves: list[tuple], nodes: list[tuple]) -> None:
    """Plain parameterised INSERTs with ``executemany``: the rows are four plain values each, and
    building a model instance per row cost three quarters of an append's time (bench/tlog_bench.py)."""
    index = connection.ops.quote_name("index")
    with connection.cursor() as cursor:
        cursor.executemany(f"INSERT INTO {Leaf._meta.db_table} (log_id, {index}, data, hash) VALUES (%s, %s, %s, %s)",
                           leaves)
        if nodes:
            cursor.executemany(f"INSERT INTO {Node._meta.db_table} (log_id, level, {index}, hash) "
                               "VALUES (%s, %s, %s, %s)", nodes)


@transaction.atomic
def append(*, community, leaves: list[bytes]) -> list[int]:
    """Append ``leaves`` (the exact leaf bytes) to the community's log in one transaction; returns
    their indexes. Creates the log on first use. Stores each leaf hash and every interior hash the
    batch completes."""
    leaves = [bytes(data) for data in leaves]
    if not leaves:
        return []
    if any(len(data) > MAX_LEAF_BYTES for data in leaves):
        raise LinliError(_("A log entry is larger than 64 KiB."), code="leaf_too_large")
    log = _locked_log(community)
    if log.erasing:
        raise LogInconsistent(_("This log is being erased; nothing more is appended to it."))
    start = log.size
    stack = _right_edge(StoredTree(log.pk), start)
    new_leaves, new_nodes = [], []
    for index, data in enumerate(leaves, start=start):
        value = tlog.leaf_hash(data)
        new_leaves.append((log.pk, index, data, value))
        height = 0
        while stack and stack[-1][0] == height:
            value = tlog.node_hash(stack.pop()[1], value)
            height += 1
            new_nodes.append((log.pk, height, index >> height, value))
        stack.append((height, value))
    _insert(new_leaves, new_nodes)
    log.size = start + len(leaves)
    log.save(update_fields=["size"])
    events.record(actor=None, verb="transparency.appended", target=log, community=community,
                  data={"first": start, "count": len(leaves), "size": log.size})
    return list(range(start, log.size))


def _check_stored(log: Log, checkpoint: Checkpoint) -> None:
    """The stored checkpoint row agrees with the note that was signed."""
    note = checkpoint.note
    split = note.rfind("\n\n")
    try:
        parsed = signednote.parse_checkpoint(note[: split + 1]) if split >= 0 else None
    except signednote.NoteError:
        parsed = None
    if (parsed is None or parsed.origin != log.origin or parsed.size != checkpoint.size
            or parsed.root != bytes(checkpoint.root)):
        raise LogInconsistent(_("The last signed checkpoint no longer matches its own note: "
                                "nothing was signed. Run “linli disclosure verify”."))


@transaction.atomic
def sign_checkpoint(*, community) -> Checkpoint:
    """Sign the log's current size with the installation's key, if it grew since the latest
    checkpoint (else return that one). Refuses with :class:`keys.SigningKeyMissing` when no key is
    configured, and with :class:`LogInconsistent` when the stored tree does not extend the last
    signed checkpoint (it never signs two inconsistent checkpoints)."""
    signer = keys.signer()
    log = _locked_log(community)
    latest = Checkpoint.objects.filter(log=log).order_by("-size").first()
    size = log.size
    if latest is not None:
        _check_stored(log, latest)
        if latest.size == size:
            return latest
        if latest.size > size:
            raise LogInconsistent(_("The log holds fewer entries than its last signed checkpoint: "
                                    "nothing was signed."))
    tree = StoredTree(log.pk)
    root = tree.root(size)
    if latest is not None:
        try:
            proof = tree.consistency_proof(latest.size, size)
            tlog.verify_consistency(latest.size, size, bytes(latest.root), root, proof)
        except tlog.ProofError:
            raise LogInconsistent(_("The stored log is not consistent with its last signed checkpoint: "
                                    "nothing was signed. Run “linli disclosure verify”.")) from None
    text = signednote.checkpoint_text(log.origin, size, root)
    note = signednote.sign(text, signer).decode("utf-8")
    checkpoint = Checkpoint.objects.create(log=log, size=size, root=root, note=note, signed_at=timezone.now())
    events.record(actor=None, verb="transparency.checkpoint_signed", target=checkpoint, community=community,
                  data={"size": size, "key_id": signer.key_id.hex()})
    return checkpoint


@transaction.atomic
def append_and_sign(*, community, leaves: list[bytes]) -> tuple[list[int], Checkpoint]:
    """Append and sign in one transaction: without a signing key nothing is appended."""
    keys.signer()  # refuse before writing anything
    indexes = append(community=community, leaves=leaves)
    return indexes, sign_checkpoint(community=community)


@transaction.atomic
def erase_log(*, actor, community) -> int:
    """The one erase path: marks the log ``erasing`` (irreversibly, as the triggers require) and
    deletes its cosignatures, checkpoints, hashes, leaves, witnesses and the log itself. For a
    community that leaves the installation or a demo rebuilt from scratch, never for an entry
    (a withdrawal is a new leaf). Returns how many leaves went; the event stays in the event log."""
    log = Log.objects.select_for_update().filter(community=community).first()
    if log is None:
        return 0
    Log.objects.filter(pk=log.pk).update(erasing=True)
    size = log.size
    Cosignature.objects.filter(checkpoint__log=log).delete()
    Checkpoint.objects.filter(log=log).delete()
    Node.objects.filter(log=log).delete()
    Leaf.objects.filter(log=log).delete()
    Witness.objects.filter(log=log).delete()
    Log.objects.filter(pk=log.pk).delete()
    events.record(actor=actor, verb="transparency.erased", community=community,
                  data={"size": size, "origin": log.origin})
    return size
