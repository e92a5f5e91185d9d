"""Re-hash a community's whole log against every signed checkpoint (``linli disclosure verify``).

One pass over the leaves in index order (keyset pages) recomputes every leaf hash and, with the
carry of ``tlog.MemoryTree``, every interior hash; each is compared with what is stored. When the
pass reaches a checkpoint's size the recomputed root is compared with the checkpoint's, whose note
must carry a valid signature by the log's key. Consecutive checkpoints are then checked for
consistency with a proof served from the stored hashes. Memory: the interior hashes per level
(about n of them), compared level by level with the stored ones.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from linli.core import signednote, tlog

from . import keys
from .models import Checkpoint, Leaf, Log, Node
from .selectors import StoredTree

PAGE = 20_000


@dataclass
class Report:
    ok: bool
    first_bad_index: int | None
    message: str
    checked_entries: int
    checked_checkpoints: int


def _verifiers(verifier_keys) -> list[signednote.Verifier]:
    if verifier_keys is None:
        return [keys.verifier()]
    return [signednote.parse_verifier(text) for text in verifier_keys]


def verify_log(community, *, verifier_keys: list[str] | None = None) -> Report:
    """Check everything stored for ``community``'s log. ``verifier_keys`` (verifier key texts)
    defaults to the installation's own key."""
    log = Log.objects.filter(community=community).first()
    if log is None:
        return Report(True, None, _("This community has no log yet."), 0, 0)
    if log.erasing:
        return Report(False, 0, _("This log is marked as being erased."), 0, 0)
    try:
        verifiers = _verifiers(verifier_keys)
    except (keys.SigningKeyMissing, signednote.NoteError):
        return Report(False, None, _("No verifier key to check the checkpoints' signatures with."), 0, 0)
    checkpoints = list(Checkpoint.objects.filter(log=log).order_by("size"))
    problems: list[tuple[int, str]] = []  # (first bad index, message)

    # Pass 1: leaves in order, recomputing leaf and interior hashes and the roots at checkpoints.
    levels: list[list[bytes]] = [[]]  # levels[h] for h ≥ 1: recomputed interior hashes, in index order
    stack: list[tuple[int, bytes]] = []
    roots: dict[int, bytes] = {}
    wanted = sorted({c.size for c in checkpoints})
    next_cp = 0
    while next_cp < len(wanted) and wanted[next_cp] == 0:
        roots[0] = tlog.EMPTY_ROOT
        next_cp += 1
    expected = 0
    while True:
        rows = list(Leaf.objects.filter(log=log, index__gte=expected).order_by("index")
                    .values_list("index", "data", "hash")[:PAGE])
        if not rows:
            break
        for index, data, stored in rows:
            if index != expected:
                problems.append((expected, _("Entry %(index)s is missing.") % {"index": expected}))
                break
            value = tlog.leaf_hash(bytes(data))
            if value != bytes(stored):
                problems.append((index, _("Entry %(index)s does not match its stored hash.") % {"index": index}))
            height = 0
            while stack and stack[-1][0] == height:
                value = tlog.node_hash(stack.pop()[1], value)
                height += 1
                if len(levels) <= height:
                    levels.append([])
                levels[height].append(value)
            stack.append((height, value))
            expected += 1
            while next_cp < len(wanted) and wanted[next_cp] == expected:
                folded = stack[-1][1]
                for _h, left in reversed(stack[:-1]):
                    folded = tlog.node_hash(left, folded)
                roots[expected] = folded
                next_cp += 1
        if problems:
            break
    checked = expected
    if not problems and expected != log.size:
        problems.append((expected, _("The log should hold %(size)s entries but holds %(count)s.")
                         % {"size": log.size, "count": expected}))

    # Pass 2: the stored interior hashes, level by level, against the recomputed ones.
    if not problems:
        for level in range(1, len(levels)):
            computed = levels[level]
            position = 0
            while True:
                rows = list(Node.objects.filter(log=log, level=level, index__gte=position).order_by("index")
                            .values_list("index", "hash")[:PAGE])
                if not rows:
                    break
                for index, stored in rows:
                    if index != position or index >= len(computed) or bytes(stored) != computed[index]:
                        bad = min(index, position) << level
                        problems.append((bad, _("The stored hash of entries %(start)s to %(end)s does not "
                                                "match them.") % {"start": bad, "end": ((index + 1) << level) - 1}))
                        break
                    position += 1
                if problems:
                    break
            if not problems and position != len(computed):
                bad = position << level
                problems.append((bad, _("A stored hash over entry %(index)s is missing.") % {"index": bad}))
            if problems:
                break
        if not problems and Node.objects.filter(log=log, level__gte=len(levels)).exists():
            problems.append((0, _("The log stores hashes of subtrees it does not have.")))

    # Pass 3: every checkpoint: its note, its signature, its root, and consistency with the previous.
    checked_checkpoints = 0
    tree = StoredTree(log.pk)
    previous = None
    for checkpoint in checkpoints:
        if problems:
            break
        size = checkpoint.size
        try:
            note = signednote.open_note(checkpoint.note.encode("utf-8"), verifiers)
            parsed = signednote.parse_checkpoint(note.text)
        except signednote.NoteError:
            problems.append((None, _("The checkpoint of size %(size)s is not validly signed by the log's key.")
                             % {"size": size}))
            break
        if parsed.origin != log.origin or parsed.size != size or parsed.root != bytes(checkpoint.root):
            problems.append((None, _("The checkpoint of size %(size)s does not match its signed note.")
                             % {"size": size}))
            break
        if size > checked or roots.get(size) != parsed.root:
            problems.append((None, _("The entries do not lead to the root signed at size %(size)s.")
                             % {"size": size}))
            break
        if previous is not None:
            try:
                proof = tree.consistency_proof(previous.size, size)
                tlog.verify_consistency(previous.size, size, bytes(previous.root), parsed.root, proof)
            except tlog.ProofError:
                problems.append((None, _("The checkpoints of sizes %(first)s and %(second)s are not consistent.")
                                 % {"first": previous.size, "second": size}))
                break
        previous = checkpoint
        checked_checkpoints += 1

    if problems:
        first_bad, message = problems[0]
        return Report(False, first_bad, message, checked, checked_checkpoints)
    return Report(True, None, _("All %(entries)s entries and %(checkpoints)s checkpoints verify.")
                  % {"entries": checked, "checkpoints": checked_checkpoints}, checked, checked_checkpoints)
