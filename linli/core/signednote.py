"""C2SP signed notes, tlog checkpoints and cosignatures, with Ed25519.

The format is the one of ``golang.org/x/mod/sumdb/note`` (C2SP
``signed-note``)::

    <text, ending in a newline>
    <blank line>
    — <key name> <base64(4-byte key id || signature)>
    …

Keys
    Ed25519 (type 0x01): key id = SHA-256(name || "\\n" || 0x01 || public
    key)[:4]; verifier key ``name+<key id as 8 hex digits>+base64(0x01 ||
    public key)``; signer key ``PRIVATE+KEY+name+<key id>+base64(0x01 ||
    32-byte seed)`` (the Go package's format).
    Cosignature/v1 (type 0x04, C2SP ``tlog-cosignature``): the same with type
    0x04; the signed message is ``cosignature/v1\\ntime <unix seconds>\\n``
    followed by the checkpoint text, and the signature line carries key id ||
    8-byte big-endian timestamp || signature.

Opening a note (:func:`open_note`) follows the Go package: the whole note
must be UTF-8 with no control characters but newline; it splits at the last
blank line; every signature line must start with "— ", name a valid key name
and carry *canonical* base64 of at least 5 bytes (stricter than Go, which
ignores non-zero padding bits: no signer produces those, and rejecting them
makes every bit of the line matter); signatures by unknown keys are kept
aside as unverified (duplicates dropped); a known key that signs twice, a
signature that does not verify, more than 100 signatures, or no verified
signature at all raise :class:`NoteError`.

Checkpoints (C2SP ``tlog-checkpoint``): ``origin\\nsize\\nbase64(root)\\n``
then optional non-empty extension lines; :func:`parse_checkpoint` is strict
(decimal size without leading zeros, canonical base64 of 32 bytes).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import struct
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

ALG_ED25519 = 0x01
ALG_COSIGNATURE_V1 = 0x04
SIG_PREFIX = "— "  # em dash U+2014 and a space
MAX_SIGNATURES = 100
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")
_SIZE = re.compile(r"(0|[1-9][0-9]*)")


class NoteError(ValueError):
    """A note, key or checkpoint is malformed, or no known key signed it."""


def _b64decode(text: str) -> bytes:
    """Strict standard base64 (padding required, canonical)."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError) as exc:
        raise NoteError("bad base64") from exc
    if base64.b64encode(raw).decode("ascii") != text:
        raise NoteError("non-canonical base64")
    return raw


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def is_valid_name(name: str) -> bool:
    """Non-empty, no Unicode white space, no "+" (as the Go package)."""
    return bool(name) and "+" not in name and not any(c.isspace() for c in name)


def key_id(name: str, alg: int, public_key: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + bytes([alg]) + public_key).digest()[:4]


def _public_bytes(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


@dataclass(frozen=True)
class Verifier:
    """A public key that checks signatures of one name."""

    name: str
    public_key: bytes
    alg: int = ALG_ED25519

    def __post_init__(self) -> None:
        if not is_valid_name(self.name):
            raise NoteError("invalid key name")
        if self.alg not in (ALG_ED25519, ALG_COSIGNATURE_V1) or len(self.public_key) != 32:
            raise NoteError("unsupported key")

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, self.alg, self.public_key)

    @property
    def key_hash(self) -> int:
        return int.from_bytes(self.key_id, "big")

    def __str__(self) -> str:
        return f"{self.name}+{self.key_id.hex()}+{_b64(bytes([self.alg]) + self.public_key)}"

    def verify(self, text: bytes, sig: bytes) -> bool:
        """``sig`` is the signature line's bytes after the key id."""
        key = Ed25519PublicKey.from_public_bytes(self.public_key)
        if self.alg == ALG_COSIGNATURE_V1:
            if len(sig) != 8 + 64:
                return False
            (timestamp,) = struct.unpack(">Q", sig[:8])
            message = cosignature_message(text, timestamp)
            sig = sig[8:]
        else:
            if len(sig) != 64:
                return False
            message = text
        try:
            key.verify(sig, message)
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True)
class Signer:
    """A private key with its name. ``str()`` gives the Go signer-key string."""

    name: str
    private_key: Ed25519PrivateKey = field(repr=False)
    alg: int = ALG_ED25519

    @property
    def verifier(self) -> Verifier:
        return Verifier(self.name, _public_bytes(self.private_key.public_key()), self.alg)

    @property
    def key_id(self) -> bytes:
        return self.verifier.key_id

    def seed(self) -> bytes:
        return self.private_key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())

    def __str__(self) -> str:
        return (
            f"PRIVATE+KEY+{self.name}+{self.key_id.hex()}+"
            f"{_b64(bytes([self.alg]) + self.seed())}"
        )

    def sign(self, text: bytes, timestamp: int | None = None) -> bytes:
        """Bytes after the key id on the signature line."""
        if self.alg == ALG_COSIGNATURE_V1:
            if timestamp is None or not 0 <= timestamp < 2**64:
                raise NoteError("a cosignature needs a timestamp")
            message = cosignature_message(text, timestamp)
            return struct.pack(">Q", timestamp) + self.private_key.sign(message)
        return self.private_key.sign(text)


def generate_signer(name: str, *, alg: int = ALG_ED25519) -> Signer:
    if not is_valid_name(name):
        raise NoteError("invalid key name")
    if alg not in (ALG_ED25519, ALG_COSIGNATURE_V1):
        raise NoteError("unsupported key type")
    return Signer(name, Ed25519PrivateKey.generate(), alg)


def _split_key(text: str, parts: int) -> list[str]:
    # base64 may itself contain "+": split only at the first separators
    fields = text.strip().split("+", parts - 1)
    if len(fields) != parts:
        raise NoteError("malformed key")
    return fields


def parse_verifier(text: str) -> Verifier:
    name, hash_hex, data = _split_key(text, 3)
    if not re.fullmatch(r"[0-9a-f]{8}", hash_hex):
        raise NoteError("malformed key id")
    raw = _b64decode(data)
    if len(raw) != 33:
        raise NoteError("malformed key")
    verifier = Verifier(name, raw[1:], raw[0])
    if verifier.key_id.hex() != hash_hex:
        raise NoteError("key id does not match the key")
    return verifier


def parse_signer(text: str) -> Signer:
    fields = _split_key(text, 5)
    if fields[:2] != ["PRIVATE", "KEY"]:
        raise NoteError("malformed signer key")
    name, hash_hex, data = fields[2:]
    raw = _b64decode(data)
    if len(raw) != 33 or raw[0] not in (ALG_ED25519, ALG_COSIGNATURE_V1):
        raise NoteError("malformed signer key")
    signer = Signer(name, Ed25519PrivateKey.from_private_bytes(raw[1:]), raw[0])
    if not is_valid_name(name) or signer.key_id.hex() != hash_hex:
        raise NoteError("key id does not match the key")
    return signer


def cosignature_message(text: bytes, timestamp: int) -> bytes:
    return b"cosignature/v1\ntime " + str(timestamp).encode() + b"\n" + text


@dataclass(frozen=True)
class Signature:
    name: str
    key_id: bytes
    raw: bytes  # bytes after the key id

    @property
    def timestamp(self) -> int | None:
        """The cosignature time, when ``raw`` is a cosignature/v1 signature."""
        return struct.unpack(">Q", self.raw[:8])[0] if len(self.raw) == 72 else None

    def line(self) -> str:
        return f"{SIG_PREFIX}{self.name} {_b64(self.key_id + self.raw)}\n"


@dataclass(frozen=True)
class Note:
    text: str
    sigs: list[Signature]
    unverified: list[Signature]


def _check_text(text: str) -> None:
    if not text or not text.endswith("\n"):
        raise NoteError("note text must be non-empty and end with a newline")
    if _CONTROL.search(text):
        raise NoteError("note text contains a control character")


def sign(text: str, *signers: Signer, timestamp: int | None = None) -> bytes:
    """The signed note: text, a blank line, one signature line per signer."""
    _check_text(text)
    if not signers:
        raise NoteError("no signer")
    raw = text.encode("utf-8")
    lines = [
        Signature(s.name, s.key_id, s.sign(raw, timestamp)).line() for s in signers
    ]
    return (text + "\n" + "".join(lines)).encode("utf-8")


def add_signatures(note: bytes, sigs: list[Signature]) -> bytes:
    """Append signature lines (e.g. collected cosignatures) to a signed note."""
    return note + "".join(s.line() for s in sigs).encode("utf-8")


def open_note(note: bytes, verifiers: list[Verifier]) -> Note:
    """Check a signed note against known keys. Raises NoteError."""
    try:
        msg = bytes(note).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NoteError("note is not UTF-8") from exc
    if _CONTROL.search(msg):
        raise NoteError("note contains a control character")
    split = msg.rfind("\n\n")
    if split < 0:
        raise NoteError("note has no signature block")
    text, block = msg[: split + 1], msg[split + 2 :]
    if not block or not block.endswith("\n"):
        raise NoteError("malformed signature block")
    known: dict[tuple[str, bytes], Verifier] = {}
    for v in verifiers:
        if (v.name, v.key_id) in known and known[(v.name, v.key_id)] != v:
            raise NoteError("ambiguous verifier keys")
        known[(v.name, v.key_id)] = v
    raw_text = text.encode("utf-8")
    sigs: list[Signature] = []
    unverified: list[Signature] = []
    seen: set[tuple[str, bytes]] = set()
    seen_unverified: set[str] = set()
    for count, line in enumerate(block[:-1].split("\n"), start=1):
        if count > MAX_SIGNATURES:
            raise NoteError("too many signatures")
        if not line.startswith(SIG_PREFIX):
            raise NoteError("malformed signature line")
        name, sep, b64 = line[len(SIG_PREFIX) :].partition(" ")
        if not sep or not b64 or not is_valid_name(name):
            raise NoteError("malformed signature line")
        blob = _b64decode(b64)  # canonical only: unused padding bits must be zero
        if len(blob) < 5:
            raise NoteError("malformed signature line")
        sig = Signature(name, blob[:4], blob[4:])
        verifier = known.get((name, sig.key_id))
        if verifier is None:
            if line not in seen_unverified:
                seen_unverified.add(line)
                unverified.append(sig)
            continue
        if (name, sig.key_id) in seen:
            raise NoteError("a key signed twice")
        seen.add((name, sig.key_id))
        if not verifier.verify(raw_text, sig.raw):
            raise NoteError("invalid signature")
        sigs.append(sig)
    if not sigs:
        raise NoteError("no known key signed the note")
    return Note(text, sigs, unverified)


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()


def checkpoint_text(
    origin: str, size: int, root: bytes, extensions: tuple[str, ...] | list[str] = ()
) -> str:
    if not origin or "\n" in origin or _CONTROL.search(origin):
        raise NoteError("invalid origin")
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise NoteError("invalid size")
    if len(root) != 32:
        raise NoteError("root must be 32 bytes")
    for ext in extensions:
        if not ext or "\n" in ext or _CONTROL.search(ext):
            raise NoteError("invalid extension line")
    return "".join(f"{line}\n" for line in (origin, str(size), _b64(root), *extensions))


def parse_checkpoint(text: str) -> Checkpoint:
    if not text.endswith("\n"):
        raise NoteError("checkpoint must end with a newline")
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise NoteError("checkpoint needs origin, size and root")
    origin, size, root_b64, *extensions = lines
    if not origin or _CONTROL.search(text):
        raise NoteError("invalid origin")
    if not _SIZE.fullmatch(size):
        raise NoteError("invalid size")
    root = _b64decode(root_b64)
    if len(root) != 32:
        raise NoteError("root must be 32 bytes")
    if any(not ext for ext in extensions):
        raise NoteError("empty extension line")
    return Checkpoint(origin, int(size), root, tuple(extensions))


def cosign(checkpoint_note_text: str, signer: Signer, *, timestamp: int) -> Signature:
    """A witness's cosignature/v1 over a checkpoint's text (already verified)."""
    if signer.alg != ALG_COSIGNATURE_V1:
        raise NoteError("not a cosignature key")
    parse_checkpoint(checkpoint_note_text)
    raw = signer.sign(checkpoint_note_text.encode("utf-8"), timestamp)
    return Signature(signer.name, signer.key_id, raw)
