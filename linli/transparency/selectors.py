"""Reading a community's log: entries, proofs, checkpoints and who witnessed them.

Proofs come from :mod:`linli.core.tlog` over :class:`StoredTree`, a hash source that fetches every
complete aligned subtree a proof names in two queries (leaf hashes, then interior hashes), so an
inclusion or consistency proof reads O(log n) rows whatever the log's size.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import connection
from django.utils import timezone

from linli.core import tlog
from linli.core.tlog import ProofError

from linli.community.models import Community

from .models import Checkpoint, Cosignature, Leaf, Log, Node


def _bytes(value) -> bytes:
    return bytes(value) if value is not None else b""


class StoredTree:
    """The hash source of one log (see ``linli.core.tlog``, "Hash source"): serves the hashes of
    complete aligned subtrees from ``Leaf.hash`` (level 0) and ``Node`` (level ≥ 1). Call
    :meth:`load` with the ranges a proof needs first; :meth:`subtree` then answers from memory
    (and fetches one row itself for a range it was not given)."""

    def __init__(self, log_id: int):
        self.log_id = log_id
        self.cache: dict[tuple[int, int], bytes] = {}
        self.reads = 0  # rows read, for the bench and the O(log n) test

    def load(self, ranges: Iterable[tuple[int, int]]) -> None:
        wanted: set[tuple[int, int]] = set()
        for start, end in ranges:
            wanted.update(tlog.aligned_pieces(start, end))
        wanted -= set(self.cache)
        leaf_indexes = [start for start, end in wanted if end - start == 1]
        nodes = [((end - start).bit_length() - 1, start >> ((end - start).bit_length() - 1))
                 for start, end in wanted if end - start > 1]
        if not wanted:
            return
        # One query for all of them: leaf hashes by ``index IN (…)`` and interior hashes by their
        # whole unique key (log, level, index), so each is one index probe. PostgreSQL joins a
        # list of keys (an OR of twenty terms costs it more to plan than to run); SQLite answers
        # the OR as a "MULTI-INDEX OR".
        index = connection.ops.quote_name("index")
        parts, params = [], []
        if leaf_indexes:
            parts.append(f"SELECT 0, {index}, hash FROM {Leaf._meta.db_table} WHERE log_id = %s AND {index} IN "
                         f"({', '.join(['%s'] * len(leaf_indexes))})")
            params += [self.log_id, *leaf_indexes]
        if nodes and connection.vendor == "postgresql":
            parts.append(f"SELECT n.level, n.{index}, n.hash FROM {Node._meta.db_table} n JOIN "
                         f"unnest(%s::smallint[], %s::bigint[]) AS k(level, i) ON n.log_id = %s "
                         f"AND n.level = k.level AND n.{index} = k.i")
            params += [[level for level, _ in nodes], [i for _, i in nodes], self.log_id]
        elif nodes:
            terms = " OR ".join([f"(log_id = %s AND level = %s AND {index} = %s)"] * len(nodes))
            parts.append(f"SELECT level, {index}, hash FROM {Node._meta.db_table} WHERE {terms}")
            params += [value for level, i in nodes for value in (self.log_id, level, i)]
        with connection.cursor() as cursor:
            cursor.execute(" UNION ALL ".join(parts), params)
            for level, i, value in cursor.fetchall():
                self.cache[(i << level, (i + 1) << level)] = _bytes(value)
                self.reads += 1

    def subtree(self, start: int, end: int) -> bytes:
        if (start, end) not in self.cache:
            self.load([(start, end)])
        try:
            return self.cache[(start, end)]
        except KeyError:
            raise ProofError("a subtree hash is missing from the store") from None

    def root(self, size: int) -> bytes:
        if size == 0:
            return tlog.EMPTY_ROOT
        self.load([(0, size)])
        return tlog.subtree_hash(0, size, self)

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        self.load(tlog.inclusion_ranges(index, size))
        return tlog.inclusion_proof(index, size, self)

    def consistency_proof(self, first: int, second: int) -> list[bytes]:
        self.load(tlog.consistency_ranges(first, second))
        return tlog.consistency_proof(first, second, self)


def log_for(community) -> Log | None:
    return Log.objects.filter(community=community).first()


def size(community) -> int:
    """How many leaves the community's log holds (0 when it has none)."""
    return Log.objects.filter(community=community).values_list("size", flat=True).first() or 0


def leaf(community, index: int) -> bytes:
    """The exact bytes of entry ``index``. Raises ``IndexError`` when there is no such entry."""
    value = Leaf.objects.filter(log__community=community, index=index).values_list("data", flat=True).first()
    if value is None:
        raise IndexError(index)
    return _bytes(value)


def leaves(community, start: int, end: int) -> list[tuple[int, bytes]]:
    """Entries ``start ≤ index < end`` that exist, in order."""
    rows = Leaf.objects.filter(log__community=community, index__gte=start, index__lt=end).order_by("index")
    return [(index, _bytes(data)) for index, data in rows.values_list("index", "data")]


def leaves_of(log_id: int, start: int, end: int) -> list[tuple[int, bytes]]:
    rows = Leaf.objects.filter(log_id=log_id, index__gte=start, index__lt=end).order_by("index")
    return [(index, _bytes(data)) for index, data in rows.values_list("index", "data")]


def _tree(community, *sizes: int) -> StoredTree:
    log = log_for(community)
    stored = log.size if log is not None else 0
    for value in sizes:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0 or value > stored:
            raise ProofError("size out of range")
    return StoredTree(log.pk if log is not None else 0)


def inclusion_proof(community, index: int, size: int) -> list[bytes]:
    """PATH(index, D[size]) (RFC 9162 §2.1.3.1). Raises ``ProofError`` when out of range."""
    return _tree(community, size).inclusion_proof(index, size)


def consistency_proof(community, first: int, second: int) -> list[bytes]:
    """PROOF(first, D[second]); empty from size 0 (docs/transparency.md). Raises ``ProofError``."""
    return _tree(community, first, second).consistency_proof(first, second)


def root(community, size: int) -> bytes:
    return _tree(community, size).root(size)


def latest_checkpoint(community) -> Checkpoint | None:
    return Checkpoint.objects.filter(log__community=community).order_by("-size").first()


def published_size(community) -> int:
    """The size of the latest signed checkpoint: what the HTTP interface serves entries and
    proofs up to (0 when nothing is signed)."""
    checkpoint = latest_checkpoint(community)
    return checkpoint.size if checkpoint is not None else 0


def published(code: str) -> tuple[int | None, int | None, int]:
    """For the HTTP interface, in one query: ``(community id, log id, signed size)`` of the
    community with this code; ``(None, None, 0)`` when there is no such community."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.id, l.id, (SELECT MAX(p.size) FROM transparency_checkpoint p WHERE p.log_id = l.id) "
            f"FROM {Community._meta.db_table} c LEFT JOIN transparency_log l ON l.community_id = c.id WHERE c.code = %s",
            [code])
        row = cursor.fetchone()
    if row is None:
        return None, None, 0
    return row[0], row[1], row[2] or 0


def cosignatures(checkpoint: Checkpoint) -> list[Cosignature]:
    return list(checkpoint.cosignatures.filter(witness__active=True).select_related("witness")
                .order_by("witness__name"))


def served_checkpoint(community) -> str:
    """The latest signed note with the cosignature lines collected for it (active witnesses, by
    name), as ``GET /disclosure/<code>/log/checkpoint`` serves it; "" when nothing is signed."""
    checkpoint = latest_checkpoint(community)
    if checkpoint is None:
        return ""
    lines = []
    for cosignature in cosignatures(checkpoint):
        line = cosignature.line if cosignature.line.endswith("\n") else cosignature.line + "\n"
        lines.append(line)
    return checkpoint.note + "".join(lines)


def witnessed(community) -> list[tuple[str, dt.datetime, int]]:
    """For the board's "witnessed by … at …": each active witness's latest cosignature, as
    ``(witness name, cosignature time, checkpoint size)``, most recent first."""
    latest: dict[int, tuple[str, dt.datetime, int]] = {}
    rows = (Cosignature.objects.filter(checkpoint__log__community=community, witness__active=True)
            .order_by("witness_id", "-checkpoint__size", "-timestamp")
            .values_list("witness_id", "witness__name", "timestamp", "checkpoint__size"))
    for witness_id, name, timestamp, size_ in rows:
        latest.setdefault(witness_id, (name, timestamp, size_))
    return sorted(latest.values(), key=lambda row: row[1] or timezone.now(), reverse=True)
