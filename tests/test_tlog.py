"""RFC 6962 / 9162 Merkle hashing and proofs (linli.core.tlog).

The standard vectors are read at run time from ../shared/docs/transparency-vectors.md
(skipped when absent); the enumeration below needs nothing but the module.
"""

from __future__ import annotations

import hashlib
import random
import re
from pathlib import Path

import pytest

from linli.core import tlog
from linli.core.tlog import MemoryTree, ProofError

VECTORS = Path(__file__).resolve().parents[2] / "shared" / "docs" / "transparency-vectors.md"
needs_vectors = pytest.mark.skipif(
    not VECTORS.exists(), reason="../shared/docs/transparency-vectors.md is absent"
)
MAX_LEAVES = 64


# --- the vectors file ----------------------------------------------------------------

def _sections() -> dict[str, str]:
    text = VECTORS.read_text(encoding="utf-8")
    parts = re.split(r"^## ", text, flags=re.M)
    return {p.split("\n", 1)[0].strip(): p.split("\n", 1)[1] for p in parts[1:]}


def _hexes(text: str) -> list[bytes]:
    return [bytes.fromhex(h) for h in re.findall(r"\b[0-9a-f]{64}\b", text)]


def _table(text: str) -> list[list[str]]:
    rows = []
    for line in text.splitlines():
        if line.startswith("|") and not set(line) <= set("|- "):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if cells[0].isdigit():
                rows.append(cells)
    return rows


def _vector_leaves() -> list[bytes]:
    section = _sections()["Leaves and roots (RFC 6962 hashing)"]
    paragraph = section.split("(hex):", 1)[1].split("\n\n", 1)[0]
    return [bytes.fromhex(item.strip().strip('"')) for item in paragraph.split(",")]


def _vector_tree() -> MemoryTree:
    tree = MemoryTree()
    for leaf in _vector_leaves():
        tree.append(leaf)
    return tree


@needs_vectors
def test_vector_roots_for_0_to_8_leaves():
    section = _sections()["Leaves and roots (RFC 6962 hashing)"]
    rows = _table(section)
    assert [int(r[0]) for r in rows] == list(range(9))
    leaves = _vector_leaves()
    assert len(leaves) == 8
    tree = _vector_tree()
    for n, hex_root in rows:
        expected = bytes.fromhex(hex_root)
        n = int(n)
        assert tlog.root([tlog.leaf_hash(x) for x in leaves[:n]]) == expected
        assert tree.root(n) == expected
        assert _reference_root([tlog.leaf_hash(x) for x in leaves[:n]]) == expected


@needs_vectors
def test_vector_node_hashes_of_the_8_leaf_tree():
    section = _sections()["Leaves and roots (RFC 6962 hashing)"]
    levels = re.findall(r"- level (\d): (.*?)(?=\n- level|\n\n|\Z)", section, flags=re.S)
    assert [int(level) for level, _ in levels] == [0, 1, 2, 3]
    tree = _vector_tree()
    for level, body in levels:
        level = int(level)
        hashes = _hexes(body)
        assert len(hashes) == 8 >> level
        for i, h in enumerate(hashes):
            assert tree.subtree(i << level, (i + 1) << level) == h


@needs_vectors
def test_vector_inclusion_proofs():
    rows = _table(_sections()["Inclusion proofs"])
    assert len(rows) == 4
    tree = _vector_tree()
    for leaf, size, proof in rows:
        index, size, proof = int(leaf) - 1, int(size), _hexes(proof)
        assert tree.inclusion_proof(index, size) == proof
        tlog.verify_inclusion(tree.leaf(index), index, size, proof, tree.root(size))


@needs_vectors
def test_vector_consistency_proofs():
    rows = _table(_sections()["Consistency proofs"])
    assert len(rows) == 5
    tree = _vector_tree()
    for m, n, proof in rows:
        m, n = int(m), int(n)
        proof = [] if proof == "(empty)" else _hexes(proof)
        assert tree.consistency_proof(m, n) == proof
        tlog.verify_consistency(m, n, tree.root(m), tree.root(n), proof)


# --- reference implementation: the RFC's recursive definitions, verbatim ----------------

def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def _reference_root(d: list[bytes]) -> bytes:
    if not d:
        return hashlib.sha256(b"").digest()
    if len(d) == 1:
        return d[0]
    k = _k(len(d))
    return tlog.node_hash(_reference_root(d[:k]), _reference_root(d[k:]))


def _reference_path(m: int, d: list[bytes]) -> list[bytes]:
    if len(d) == 1:
        return []
    k = _k(len(d))
    if m < k:
        return _reference_path(m, d[:k]) + [_reference_root(d[k:])]
    return _reference_path(m - k, d[k:]) + [_reference_root(d[:k])]


def _reference_subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    if m == len(d):
        return [] if b else [_reference_root(d)]
    k = _k(len(d))
    if m <= k:
        return _reference_subproof(m, d[:k], b) + [_reference_root(d[k:])]
    return _reference_subproof(m - k, d[k:], False) + [_reference_root(d[:k])]


@pytest.fixture(scope="module")
def big_tree() -> MemoryTree:
    tree = MemoryTree()
    for i in range(MAX_LEAVES + 1):
        tree.append(f"leaf {i}".encode())
    return tree


def test_incremental_root_equals_the_recursive_definition():
    rng = random.Random(9)
    tree = MemoryTree()
    hashes: list[bytes] = []
    for n in range(1, 300):
        data = rng.randbytes(rng.randrange(0, 40))
        assert tree.append(data) == n - 1
        hashes.append(tlog.leaf_hash(data))
        assert tree.root() == _reference_root(hashes) == tlog.root(hashes)
    for n in rng.sample(range(300), 40):
        assert tree.root(n) == _reference_root(hashes[:n])


def test_generated_proofs_match_the_rfc_definitions(big_tree):
    d = big_tree.levels[0]
    for n in range(1, MAX_LEAVES + 1):
        for i in range(n):
            assert big_tree.inclusion_proof(i, n) == _reference_path(i, d[:n])
        for m in range(1, n + 1):
            assert big_tree.consistency_proof(m, n) == _reference_subproof(m, d[:n], True)


# --- enumeration: every proof verifies, every mutation fails --------------------------------

def _mutations(proof: list[bytes], rng: random.Random):
    """Bit flips in every element (first, last and two sampled bits), truncations,
    extensions, and a dropped or swapped element."""
    for e, element in enumerate(proof):
        for bit in {0, 255, rng.randrange(256), rng.randrange(256)}:
            flipped = bytearray(element)
            flipped[bit // 8] ^= 0x80 >> (bit % 8)
            yield proof[:e] + [bytes(flipped)] + proof[e + 1:]
        yield proof[:e] + proof[e + 1:]
        if e + 1 < len(proof) and proof[e] != proof[e + 1]:
            yield proof[:e] + [proof[e + 1], proof[e]] + proof[e + 2:]
    for cut in range(len(proof)):
        yield proof[:cut]
    extra = hashlib.sha256(b"extra").digest()
    yield proof + [extra]
    yield [extra] + proof
    if proof:
        yield proof + [proof[-1]]
    yield proof + [b"\x00" * 32]


def _rejects(fn, *args) -> bool:
    try:
        fn(*args)
    except ProofError:
        return True
    return False


def test_every_inclusion_proof_verifies_and_every_mutation_fails(big_tree):
    rng = random.Random(6962)
    checked = 0
    for n in range(1, MAX_LEAVES + 1):
        root = big_tree.root(n)
        for i in range(n):
            leaf = big_tree.leaf(i)
            proof = big_tree.inclusion_proof(i, n)
            assert len(proof) <= max(0, (n - 1).bit_length())
            tlog.verify_inclusion(leaf, i, n, proof, root)
            for bad in _mutations(proof, rng):
                assert _rejects(tlog.verify_inclusion, leaf, i, n, bad, root), (i, n, bad)
                checked += 1
            # index ± 1 (same leaf, and the neighbour's leaf), size ± 1 (with that size's root)
            for j in (i - 1, i + 1):
                for claimed in {leaf, big_tree.leaf(j) if 0 <= j < big_tree.size else leaf}:
                    genuine = 0 <= j < n and claimed == big_tree.leaf(j) and (
                        proof == big_tree.inclusion_proof(j, n))
                    assert _rejects(tlog.verify_inclusion, claimed, j, n, proof, root) != genuine
            for size in (n - 1, n + 1):
                if size <= 0:
                    assert _rejects(tlog.verify_inclusion, leaf, i, size, proof, root)
                    continue
                other_root = big_tree.root(size)
                genuine = i < size and proof == big_tree.inclusion_proof(i, size)
                assert _rejects(tlog.verify_inclusion, leaf, i, size, proof, other_root) != genuine
    assert checked > 10_000


def test_every_consistency_proof_verifies_and_every_mutation_fails(big_tree):
    rng = random.Random(9162)
    checked = 0
    for n in range(1, MAX_LEAVES + 1):
        root_n = big_tree.root(n)
        for m in range(1, n + 1):
            root_m = big_tree.root(m)
            proof = big_tree.consistency_proof(m, n)
            assert len(proof) <= (n - 1).bit_length() + 1
            tlog.verify_consistency(m, n, root_m, root_n, proof)
            for bad in _mutations(proof, rng):
                assert _rejects(tlog.verify_consistency, m, n, root_m, root_n, bad), (m, n, bad)
                checked += 1
            for m2, n2 in ((m - 1, n), (m + 1, n), (m, n - 1), (m, n + 1)):
                if not 0 <= m2 <= n2 <= big_tree.size:
                    if n2 >= 0 and m2 >= 0:
                        assert _rejects(tlog.verify_consistency, m2, n2, root_m, root_n, proof)
                    continue
                genuine = proof == big_tree.consistency_proof(m2, n2)
                ok = not _rejects(
                    tlog.verify_consistency, m2, n2, big_tree.root(m2), big_tree.root(n2), proof)
                assert ok == genuine, (m, n, m2, n2)
            # the roots swapped or taken from a neighbouring size never pass
            if m < n:
                assert _rejects(tlog.verify_consistency, m, n, root_n, root_m, proof)
                assert _rejects(tlog.verify_consistency, m, n, big_tree.root(m - 1) if m > 1
                                else b"\x01" * 32, root_n, proof)
    assert checked > 10_000


# --- malformed input and size 0 ---------------------------------------------------------

def test_malformed_inclusion_input_is_rejected(big_tree):
    leaf, root = big_tree.leaf(0), big_tree.root(4)
    proof = big_tree.inclusion_proof(0, 4)
    for index, size in ((4, 4), (5, 4), (-1, 4), (0, 0), (0, -1)):
        assert _rejects(tlog.verify_inclusion, leaf, index, size, proof, root)
    assert _rejects(tlog.verify_inclusion, leaf[:31], 0, 4, proof, root)
    assert _rejects(tlog.verify_inclusion, leaf, 0, 4, [proof[0] + b"\x00", *proof[1:]], root)
    assert _rejects(tlog.verify_inclusion, leaf, True, 4, proof, root)
    with pytest.raises(ProofError):
        tlog.inclusion_ranges(4, 4)
    with pytest.raises(ProofError):
        big_tree.inclusion_proof(0, big_tree.size + 1)


def test_consistency_from_size_0_is_the_empty_proof_against_the_empty_root(big_tree):
    for n in (0, 1, 5, 64):
        assert big_tree.consistency_proof(0, n) == []
        tlog.verify_consistency(0, n, tlog.EMPTY_ROOT, big_tree.root(n), [])
        # a non-empty proof, or an old root that is not the empty tree's, is refused
        assert _rejects(tlog.verify_consistency, 0, n, tlog.EMPTY_ROOT, big_tree.root(n),
                        [big_tree.leaf(0)])
        assert _rejects(tlog.verify_consistency, 0, n, big_tree.root(1), big_tree.root(n), [])
    assert tlog.EMPTY_ROOT == hashlib.sha256(b"").digest() == MemoryTree().root()


def test_malformed_consistency_input_is_rejected(big_tree):
    r3, r5 = big_tree.root(3), big_tree.root(5)
    proof = big_tree.consistency_proof(3, 5)
    assert _rejects(tlog.verify_consistency, 5, 3, r5, r3, proof)  # m > n
    assert _rejects(tlog.verify_consistency, 3, 5, r3, r5, [])  # empty for m < n
    assert _rejects(tlog.verify_consistency, 5, 5, r5, r5, proof)  # equal sizes need []
    assert _rejects(tlog.verify_consistency, 5, 5, r3, r5, [])  # equal sizes, other roots
    assert _rejects(tlog.verify_consistency, -1, 5, r3, r5, proof)
    assert _rejects(tlog.verify_consistency, 3, 5, r3[:16], r5, proof)
    with pytest.raises(ProofError):
        tlog.consistency_ranges(6, 5)


class _Counting:
    """A hash source that counts its look-ups and refuses incomplete subtrees."""

    def __init__(self, tree: MemoryTree) -> None:
        self.tree, self.reads = tree, 0

    def subtree(self, start: int, end: int) -> bytes:
        self.reads += 1
        return self.tree.subtree(start, end)


def test_proofs_cost_logarithmic_lookups_from_a_hash_source():
    tree = MemoryTree()
    for i in range(1000):
        tree.append(i.to_bytes(4, "big"))
    source = _Counting(tree)
    rng = random.Random(1)
    bound = 2 * (tree.size - 1).bit_length()
    for _ in range(200):
        n = rng.randrange(1, 1001)
        i, m = rng.randrange(n), rng.randrange(1, n + 1)
        source.reads = 0
        proof = tlog.inclusion_proof(i, n, source)
        assert source.reads <= bound
        tlog.verify_inclusion(tree.leaf(i), i, n, proof, tree.root(n))
        source.reads = 0
        proof = tlog.consistency_proof(m, n, source)
        assert source.reads <= bound
        tlog.verify_consistency(m, n, tree.root(m), tree.root(n), proof)
    # a plain callable works as a source too, and a store that batches can plan ahead
    assert tlog.inclusion_proof(5, 13, tree.subtree) == tree.inclusion_proof(5, 13)
    pieces = {p for r in tlog.consistency_ranges(7, 13) for p in tlog.aligned_pieces(*r)}
    table = {p: tree.subtree(*p) for p in pieces}
    assert tlog.consistency_proof(7, 13, lambda a, b: table[(a, b)]) == tree.consistency_proof(7, 13)


def test_memory_tree_appends_cost_amortised_constant_hashes(monkeypatch):
    calls = []
    real = tlog.node_hash
    monkeypatch.setattr(tlog, "node_hash", lambda a, b: calls.append(1) or real(a, b))
    tree = MemoryTree()
    for i in range(1024):
        tree.append_hash(hashlib.sha256(bytes([i % 256, i // 256])).digest())
    assert len(calls) == 1023  # one per interior node of the complete tree, never more
    assert _rejects(tree.subtree, 0, 3)  # not a complete subtree
    assert _rejects(tree.subtree, 1024, 2048)


def test_length_errors_are_named_before_any_root_comparison(big_tree):
    """RFC 9162's length checks fire on their own, not only through a root mismatch."""
    extra = hashlib.sha256(b"extra").digest()
    for n in (2, 5, 8, 13, 64):
        for i in (0, n // 2, n - 1):
            proof = big_tree.inclusion_proof(i, n)
            with pytest.raises(ProofError, match="too long"):
                tlog.verify_inclusion(big_tree.leaf(i), i, n, proof + [extra], big_tree.root(n))
            with pytest.raises(ProofError, match="too short"):
                tlog.verify_inclusion(big_tree.leaf(i), i, n, proof[:-1], big_tree.root(n))
        for m in sorted({m for m in (1, 3, n // 2, n - 1) if 0 < m < n}):
            proof = big_tree.consistency_proof(m, n)
            r_m, r_n = big_tree.root(m), big_tree.root(n)
            with pytest.raises(ProofError, match="too long"):
                tlog.verify_consistency(m, n, r_m, r_n, proof + [extra])
            if len(proof) > 1:
                with pytest.raises(ProofError, match="too short"):
                    tlog.verify_consistency(m, n, r_m, r_n, proof[:-1])
