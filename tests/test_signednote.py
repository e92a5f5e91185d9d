"""C2SP signed notes, checkpoints and cosignatures (linli.core.signednote).

The two published examples are read at run time from ../shared/docs/transparency-vectors.md
(skipped when absent).
"""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest

from linli.core import signednote as sn
from linli.core.signednote import NoteError
from linli.core.tlog import MemoryTree

VECTORS = Path(__file__).resolve().parents[2] / "shared" / "docs" / "transparency-vectors.md"
needs_vectors = pytest.mark.skipif(
    not VECTORS.exists(), reason="../shared/docs/transparency-vectors.md is absent"
)


def _examples() -> list[tuple[str, str, str]]:
    text = VECTORS.read_text(encoding="utf-8").split("## Signed notes", 1)[1]
    keys = re.findall(r"verifier key: `([^`]+)`", text)
    texts = [t.replace("\\n", "\n") for t in re.findall(r"text: `([^`]+)`", text)]
    lines = re.findall(r"signature line: `([^`]+)`", text)
    assert len(keys) == len(texts) == len(lines) == 2
    return list(zip(keys, texts, lines))


@needs_vectors
def test_published_examples_verify():
    for key, text, line in _examples():
        verifier = sn.parse_verifier(key)
        assert str(verifier) == key
        note = (text + "\n" + line + "\n").encode()
        opened = sn.open_note(note, [verifier])
        assert opened.text == text
        assert [s.name for s in opened.sigs] == [verifier.name]
        assert opened.sigs[0].line() == line + "\n"


@needs_vectors
def test_published_examples_fail_when_tampered():
    examples = _examples()
    for n, (key, text, line) in enumerate(examples):
        verifier = sn.parse_verifier(key)
        note = (text + "\n" + line + "\n").encode()
        # every bit of the text and of the signature, one at a time: never accepted
        start = note.index(b"\xe2\x80\x94") + len("— ".encode()) + len(verifier.name) + 1
        positions = list(range(len(text.encode()))) + list(range(start, len(note) - 1))
        for pos in positions:
            for bit in range(8):
                bad = bytearray(note)
                bad[pos] ^= 1 << bit
                with pytest.raises(NoteError):
                    sn.open_note(bytes(bad), [verifier])
        # the other example's key does not know this signature
        other = sn.parse_verifier(examples[1 - n][0])
        with pytest.raises(NoteError, match="no known key"):
            sn.open_note(note, [other])
        # a key of the same name but other bytes
        impostor = sn.generate_signer(verifier.name).verifier
        with pytest.raises(NoteError):
            sn.open_note(note, [impostor])
    # reordered text lines of the two-line example
    key, text, line = examples[0]
    first, second = text.splitlines(keepends=True)
    with pytest.raises(NoteError):
        sn.open_note((second + first + "\n" + line + "\n").encode(), [sn.parse_verifier(key)])


def test_verifier_key_format_and_key_id():
    signer = sn.generate_signer("linli.example/log/Y")
    v = signer.verifier
    name, hash_hex, data = str(v).split("+", 2)
    raw = base64.b64decode(data)
    assert name == "linli.example/log/Y" and raw[0] == 0x01 and len(raw) == 33
    import hashlib

    assert bytes.fromhex(hash_hex) == hashlib.sha256(name.encode() + b"\n" + raw).digest()[:4]
    assert sn.parse_verifier(str(v)) == v
    assert sn.parse_signer(str(signer)).verifier == v
    for bad in ("a+b", "name+0000000+" + data, "name+" + hash_hex + "+" + data,
                "na me+" + hash_hex + "+" + data, str(v) + "=",
                f"{name}+{hash_hex}+" + base64.b64encode(b"\x02" + raw[1:]).decode()):
        with pytest.raises(NoteError):
            sn.parse_verifier(bad)
    for bad_name in ("", "a b", "a+b", "tab\there"):
        with pytest.raises(NoteError):
            sn.generate_signer(bad_name)


def test_sign_and_open_round_trip_with_several_signers():
    a, b = sn.generate_signer("alpha"), sn.generate_signer("beta")
    note = sn.sign("hello\nworld\n", a, b)
    text, block = note.decode().split("\n\n")
    assert text == "hello\nworld"
    assert block.startswith("\u2014 alpha ") and "\n\u2014 beta " in block
    opened = sn.open_note(note, [a.verifier, b.verifier])
    assert [s.name for s in opened.sigs] == ["alpha", "beta"]
    # only one key known: the other signature is kept aside, unverified
    opened = sn.open_note(note, [b.verifier])
    assert [s.name for s in opened.sigs] == ["beta"]
    assert [s.name for s in opened.unverified] == ["alpha"]
    # signature lines in the other order are still fine
    lines = note.decode().split("\n\n")[1].splitlines(keepends=True)
    swapped = ("hello\nworld\n\n" + lines[1] + lines[0]).encode()
    assert len(sn.open_note(swapped, [a.verifier, b.verifier]).sigs) == 2


def test_malformed_notes_are_rejected():
    a = sn.generate_signer("alpha")
    good = sn.sign("text\n", a)
    line = good.decode().split("\n\n")[1]
    cases = {
        "no blank line": b"text\n" + line.encode(),
        "no final newline": good[:-1],
        "duplicate known signature": good + line.encode(),
        "hyphen instead of em dash": good.replace("\u2014".encode(), b"-"),
        "no space after the name": good.replace(b"alpha ", b"alpha"),
        "bad base64": good[:-3] + b"!!\n",
        "short signature": b"text\n\n\xe2\x80\x94 alpha AAAA\n",
        "control character": b"te\x07xt\n\n" + line.encode(),
        "not utf-8": b"te\xffxt\n\n" + line.encode(),
        "blank line in the signatures": good + b"\n" + line.encode(),
        "empty": b"",
        "signature only": b"\n" + line.encode(),
        "too many unknown signers": b"text\n\n" + b"".join(
            f"\u2014 k{i} AAAAAAAA\n".encode() for i in range(101)) + line.encode(),
    }
    for why, note in cases.items():
        with pytest.raises(NoteError):
            sn.open_note(note, [a.verifier])
        assert why
    for bad_text in ("", "no newline", "bell\x07\n"):
        with pytest.raises(NoteError):
            sn.sign(bad_text, a)


def test_checkpoint_text_and_parse():
    tree = MemoryTree()
    for i in range(7):
        tree.append(bytes([i]))
    text = sn.checkpoint_text("linli.example/log/Y", 7, tree.root())
    assert text == f"linli.example/log/Y\n7\n{base64.b64encode(tree.root()).decode()}\n"
    cp = sn.parse_checkpoint(text)
    assert (cp.origin, cp.size, cp.root, cp.extensions) == ("linli.example/log/Y", 7, tree.root(), ())
    with_ext = sn.checkpoint_text("o", 0, tree.root(0), ["extra line"])
    assert sn.parse_checkpoint(with_ext).extensions == ("extra line",)
    root_b64 = base64.b64encode(tree.root()).decode()
    for bad in (f"o\n07\n{root_b64}\n", f"o\n-1\n{root_b64}\n", f"o\n7\n{root_b64}",
                f"\n7\n{root_b64}\n", "o\n7\nAAAA\n", f"o\n7\n{root_b64[:-1]}\n",
                f"o\n7\n{root_b64}\n\n", "o\n7\n", f"o\n 7\n{root_b64}\n"):
        with pytest.raises(NoteError):
            sn.parse_checkpoint(bad)
    with pytest.raises(NoteError):
        sn.checkpoint_text("o", 1, b"short")
    signer = sn.generate_signer("linli.example/log/Y")
    opened = sn.open_note(sn.sign(text, signer), [signer.verifier])
    assert sn.parse_checkpoint(opened.text).size == 7


def test_cosignature_v1():
    log = sn.generate_signer("linli.example/log/Y")
    witness = sn.generate_signer("street.example/witness", alg=sn.ALG_COSIGNATURE_V1)
    assert str(witness.verifier).split("+")[2].startswith("B")  # 0x04 key type
    assert sn.parse_signer(str(witness)).verifier == witness.verifier
    text = sn.checkpoint_text("linli.example/log/Y", 3, b"\x07" * 32)
    note = sn.sign(text, log)
    cosig = sn.cosign(text, witness, timestamp=1_800_000_000)
    assert len(cosig.raw) == 8 + 64 and cosig.timestamp == 1_800_000_000
    both = sn.add_signatures(note, [cosig])
    opened = sn.open_note(both, [log.verifier, witness.verifier])
    assert [s.name for s in opened.sigs] == [log.name, witness.name]
    assert opened.sigs[1].timestamp == 1_800_000_000
    # the witness's key alone is enough to open it
    assert [s.name for s in sn.open_note(both, [witness.verifier]).sigs] == [witness.name]
    # a changed timestamp breaks the cosignature
    forged = sn.Signature(cosig.name, cosig.key_id,
                          (1_800_000_001).to_bytes(8, "big") + cosig.raw[8:])
    with pytest.raises(NoteError, match="invalid signature"):
        sn.open_note(sn.add_signatures(note, [forged]), [witness.verifier])
    # an Ed25519 note signature is not a cosignature, and the key ids differ by type
    plain = sn.Signer(witness.name, witness.private_key)
    assert plain.key_id != witness.key_id
    with pytest.raises(NoteError):
        sn.open_note(sn.sign(text, plain), [witness.verifier])
    with pytest.raises(NoteError):
        sn.cosign(text, log, timestamp=1)
    with pytest.raises(NoteError):
        sn.cosign("not a checkpoint\n", witness, timestamp=1)
