"""Merkle tree hashing and proofs for append-only logs (RFC 6962 / RFC 9162).

Pure functions over bytes; no Django, no models. The disclosure log of
issue 9 stores leaves and complete subtrees in the database and serves them
to the proof generators below through the *hash source* interface.

Hashing: ``leaf_hash(d) = SHA-256(0x00 || d)``, ``node_hash(l, r) =
SHA-256(0x01 || l || r)``; the root of the empty tree is SHA-256 of the empty
string. The tree of ``n`` leaves splits at ``k``, the largest power of two
smaller than ``n`` (RFC 9162 §2.1.1).

Hash source
-----------
Proof generation never reads a leaf's data, only hashes of **complete,
aligned subtrees**: a range ``[start, end)`` where ``end - start == 2**h`` and
``start % 2**h == 0`` (``h == 0`` is a single leaf hash). A source is either

* an object with a method ``subtree(start, end) -> bytes`` (the
  :class:`HashSource` protocol), or
* a plain callable ``(start, end) -> bytes``.

Incomplete subtrees (the right edge of a tree whose size is not a power of
two) are composed here from at most ``log2 n`` complete ones, so a store that
keeps every complete subtree as it forms (see :class:`MemoryTree`) answers an
inclusion or consistency proof with O(log n) look-ups. A database store can
ask :func:`inclusion_ranges` / :func:`consistency_ranges` first, fetch all the
aligned ranges named by :func:`aligned_pieces` in one query, and then serve
them from a dict.

Verification
------------
:func:`verify_inclusion` and :func:`verify_consistency` follow RFC 9162
§2.1.3.2 and §2.1.4.2 literally and **raise** :class:`ProofError` on any
failure (malformed input or a proof that does not check); they return
``None`` on success. Nothing is ever "probably fine".

Consistency from size 0: any tree is consistent with the empty tree (RFC
9162 §2.1.4, C2SP tlog-witness). Here the proof from ``m == 0`` is the empty
list, and verification accepts it only when the proof is empty **and** the
old root is SHA-256("") (the root of the empty tree); a non-empty proof or a
different old root is rejected. transparency-dev/merkle rejects size 0
outright; we follow the RFC and the witness specification instead.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()


class ProofError(ValueError):
    """A proof, index or size is malformed, or the proof does not verify."""


@runtime_checkable
class HashSource(Protocol):
    """Serves hashes of complete, aligned subtrees (see the module doc)."""

    def subtree(self, start: int, end: int) -> bytes: ...


Source = HashSource | Callable[[int, int], bytes]


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + bytes(data)).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """Largest power of two strictly smaller than ``n`` (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def _is_aligned(start: int, end: int) -> bool:
    size = end - start
    return size > 0 and size & (size - 1) == 0 and start % size == 0


def root(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH of a list of leaf hashes, for any length (0 gives SHA-256(""))."""
    if not leaf_hashes:
        return EMPTY_ROOT
    # Stack of (height, hash) of complete subtrees, like MemoryTree.append.
    stack: list[tuple[int, bytes]] = []
    for h in leaf_hashes:
        height, value = 0, h
        while stack and stack[-1][0] == height:
            value = node_hash(stack.pop()[1], value)
            height += 1
        stack.append((height, value))
    value = stack.pop()[1]
    while stack:
        value = node_hash(stack.pop()[1], value)
    return value


def aligned_pieces(start: int, end: int) -> list[tuple[int, int]]:
    """The complete aligned subtrees whose hashes make MTH(D[start:end]).

    ``start`` must be aligned to a power of two at least ``end - start``,
    which holds for every range the RFC recursion names. The pieces come
    left to right, largest first; MTH folds them from the right.
    """
    if end <= start:
        raise ProofError("empty range")
    pieces = []
    pos = start
    remaining = end - start
    while remaining:
        size = 1 << (remaining.bit_length() - 1)
        if pos % size:
            raise ProofError("range is not aligned")
        pieces.append((pos, pos + size))
        pos += size
        remaining -= size
    return pieces


def _get(source: Source, start: int, end: int) -> bytes:
    getter = source.subtree if isinstance(source, HashSource) else source
    value = getter(start, end)
    if not isinstance(value, bytes | bytearray) or len(value) != HASH_SIZE:
        raise ProofError("hash source returned a malformed hash")
    return bytes(value)


def subtree_hash(start: int, end: int, source: Source) -> bytes:
    """MTH(D[start:end]) from complete subtrees of the source."""
    pieces = aligned_pieces(start, end)
    value = _get(source, *pieces[-1])
    for piece in reversed(pieces[:-1]):
        value = node_hash(_get(source, *piece), value)
    return value


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """The ranges [start, end) whose MTHs form PATH(index, D[size]), leaf first."""
    if not 0 <= index < size:
        raise ProofError("index out of range")
    out: list[tuple[int, int]] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = _split(hi - lo)
        if index < lo + k:
            out.append((lo + k, hi))
            hi = lo + k
        else:
            out.append((lo, lo + k))
            lo = lo + k
    out.reverse()
    return out


def consistency_ranges(m: int, n: int) -> list[tuple[int, int]]:
    """The ranges whose MTHs form PROOF(m, D[n]) (RFC 9162 §2.1.4.1).

    Empty when ``m == n`` and when ``m == 0`` (see the module doc).
    """
    if not 0 <= m <= n:
        raise ProofError("sizes out of order")
    if m == 0 or m == n:
        return []
    out: list[tuple[int, int]] = []
    lo, hi, complete = 0, n, True
    while True:
        if m == hi:  # m and hi are absolute: D[lo:hi] is the old tree's last part
            if not complete:
                out.append((lo, hi))
            break
        k = _split(hi - lo)
        if m <= lo + k:
            out.append((lo + k, hi))
            hi = lo + k
        else:
            out.append((lo, lo + k))
            lo, complete = lo + k, False
    out.reverse()
    return out


def inclusion_proof(index: int, size: int, source: Source) -> list[bytes]:
    return [subtree_hash(a, b, source) for a, b in inclusion_ranges(index, size)]


def consistency_proof(m: int, n: int, source: Source) -> list[bytes]:
    return [subtree_hash(a, b, source) for a, b in consistency_ranges(m, n)]


def _check_hashes(*values: bytes) -> None:
    for value in values:
        if not isinstance(value, bytes | bytearray) or len(value) != HASH_SIZE:
            raise ProofError("a hash is not 32 bytes")


def _check_size(value: int, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ProofError(f"{name} must be a non-negative integer")


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root_hash: bytes
) -> None:
    """RFC 9162 §2.1.3.2. ``leaf`` is the leaf *hash*. Raises ProofError."""
    _check_size(index, "index")
    _check_size(size, "size")
    _check_hashes(leaf, root_hash, *proof)
    if index >= size:
        raise ProofError("index is not below the tree size")
    fn, sn = index, size - 1
    r = bytes(leaf)
    for p in proof:
        if sn == 0:
            raise ProofError("inclusion proof is too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("inclusion proof is too short")
    if r != root_hash:
        raise ProofError("inclusion proof does not lead to the root")


def verify_consistency(
    m: int, n: int, root_m: bytes, root_n: bytes, proof: Sequence[bytes]
) -> None:
    """RFC 9162 §2.1.4.2, plus m == n and m == 0. Raises ProofError."""
    _check_size(m, "first size")
    _check_size(n, "second size")
    _check_hashes(root_m, root_n, *proof)
    if m > n:
        raise ProofError("first size is larger than the second")
    if m == 0:
        if proof:
            raise ProofError("a consistency proof from size 0 must be empty")
        if root_m != EMPTY_ROOT:
            raise ProofError("the root of size 0 is not the empty-tree hash")
        return
    if m == n:
        if proof:
            raise ProofError("a consistency proof between equal sizes must be empty")
        if root_m != root_n:
            raise ProofError("equal sizes with different roots")
        return
    if not proof:
        raise ProofError("consistency proof is empty")
    path = list(proof)
    if m & (m - 1) == 0:
        path.insert(0, bytes(root_m))
    fn, sn = m - 1, n - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("consistency proof is too long")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("consistency proof is too short")
    if fr != root_m or sr != root_n:
        raise ProofError("consistency proof does not match the roots")


class MemoryTree:
    """An in-memory log that keeps every complete subtree as it forms.

    ``levels[h][i]`` is the hash of leaves ``[i * 2**h, (i + 1) * 2**h)``.
    ``append`` costs amortised one leaf hash plus one node hash; ``subtree``
    is one list look-up, so proofs and ``root(size)`` cost O(log n).
    """

    def __init__(self) -> None:
        self.levels: list[list[bytes]] = [[]]

    def __len__(self) -> int:
        return len(self.levels[0])

    @property
    def size(self) -> int:
        return len(self.levels[0])

    def append(self, data: bytes) -> int:
        """Append a leaf's data; returns its index."""
        return self.append_hash(leaf_hash(data))

    def append_hash(self, value: bytes) -> int:
        _check_hashes(value)
        index = len(self.levels[0])
        self.levels[0].append(bytes(value))
        height, i = 0, index
        while i & 1:
            level = self.levels[height]
            parent = node_hash(level[i - 1], level[i])
            height += 1
            i >>= 1
            if len(self.levels) == height:
                self.levels.append([])
            self.levels[height].append(parent)
        return index

    def leaf(self, index: int) -> bytes:
        return self.levels[0][index]

    def subtree(self, start: int, end: int) -> bytes:
        if not _is_aligned(start, end) or end > self.size:
            raise ProofError("not a complete subtree of this tree")
        height = (end - start).bit_length() - 1
        return self.levels[height][start >> height]

    def root(self, size: int | None = None) -> bytes:
        size = self.size if size is None else size
        if not 0 <= size <= self.size:
            raise ProofError("size out of range")
        return subtree_hash(0, size, self) if size else EMPTY_ROOT

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        size = self.size if size is None else size
        if size > self.size:
            raise ProofError("size out of range")
        return inclusion_proof(index, size, self)

    def consistency_proof(self, m: int, n: int | None = None) -> list[bytes]:
        n = self.size if n is None else n
        if n > self.size:
            raise ProofError("size out of range")
        return consistency_proof(m, n, self)
