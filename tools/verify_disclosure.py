#!/usr/bin/env python3
"""Check a Linli community's disclosure log (三务公开) from outside, with your own tools.

Needs only Python 3.10+ and the ``cryptography`` package; it imports nothing of Linli, so
anyone can read these few hundred lines and run them::

    python tools/verify_disclosure.py https://example.org/disclosure/C01/log \\
        --fingerprint 'b838 662f d950 aed3 d4db' [--state FILE] [--witness KEY …] [--content]

It fetches the log's signed checkpoint and checks the log's Ed25519 signature with the key you
give (``--key name+keyid+base64``), or with the key the server serves if its fingerprint is
the one printed on the paper poster (``--fingerprint``; never trust the server's own word for
which key is right), fetches every
entry, checks each entry's inclusion proof against the signed root and recomputes the root
from all leaves (RFC 6962 hashing), and, with ``--state``, checks that the log only grew since
the checkpoint remembered there (a consistency proof) before remembering the new one.
``--content`` also fetches each board entry's published words and files and checks them against
the SHA-256 its leaf commits to (a withdrawn entry must answer 410 and have a withdrawal leaf).
``--witness`` keys verify the witnesses' cosignatures (C2SP cosignature/v1) the checkpoint
carries.

Exit status: 0 the log verifies; 1 the log failed a check (the message names the first entry
that fails); 2 a usage or state-file problem; 3 the server could not be read.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import json
import os
import re
import struct
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

EMPTY_ROOT = hashlib.sha256(b"").digest()
SIG_PREFIX = "\u2014 "  # an em dash and a space start every signature line
ALG_ED25519 = 0x01
ALG_COSIGNATURE_V1 = 0x04
TIMEOUT = 30


class Failed(Exception):
    """The log (or what the server says about it) failed a check."""


class Unreachable(Exception):
    """The server could not be read."""


class Usage(Exception):
    """A bad argument or state file."""


# --- RFC 6962 / RFC 9162 hashing and proof checks --------------------------------------------

def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def root_of(leaf_hashes: list[bytes]) -> bytes:
    """The Merkle tree hash of a list of leaf hashes (a stack of complete subtrees)."""
    if not leaf_hashes:
        return EMPTY_ROOT
    stack: list[tuple[int, bytes]] = []
    for value in leaf_hashes:
        height = 0
        while stack and stack[-1][0] == height:
            value = node_hash(stack.pop()[1], value)
            height += 1
        stack.append((height, value))
    value = stack.pop()[1]
    while stack:
        value = node_hash(stack.pop()[1], value)
    return value


def verify_inclusion(leaf: bytes, index: int, size: int, proof: list[bytes], root: bytes) -> None:
    """RFC 9162 section 2.1.3.2; raises Failed."""
    if not 0 <= index < size:
        raise Failed("index is not below the tree size")
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise Failed("inclusion proof is too long")
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
        raise Failed("inclusion proof is too short")
    if r != root:
        raise Failed("inclusion proof does not lead to the signed root")


def verify_consistency(m: int, n: int, root_m: bytes, root_n: bytes, proof: list[bytes]) -> None:
    """RFC 9162 section 2.1.4.2; from size 0 the proof is empty (every tree extends the empty
    one). Raises Failed."""
    if m > n:
        raise Failed(f"the log shrank from {m} to {n} entries")
    if m == 0:
        if proof or root_m != EMPTY_ROOT:
            raise Failed("bad consistency proof from size 0")
        return
    if m == n:
        if proof or root_m != root_n:
            raise Failed(f"two different roots for the same size {m}: the log forked")
        return
    if not proof:
        raise Failed("consistency proof is empty")
    path = list(proof)
    if m & (m - 1) == 0:
        path.insert(0, root_m)
    fn, sn = m - 1, n - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise Failed("consistency proof is too long")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise Failed("consistency proof is too short")
    if fr != root_m or sr != root_n:
        raise Failed(f"the log at size {n} does not extend the one remembered at size {m}: "
                     "it was rewritten or forked")


# --- C2SP signed notes and checkpoints ------------------------------------------------------

def b64decode(text: str, what: str) -> bytes:
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise Failed(f"{what} is not valid base64") from None
    if base64.b64encode(raw).decode("ascii") != text:
        raise Failed(f"{what} is not canonical base64")
    return raw


@dataclass(frozen=True)
class Key:
    name: str
    key_id: bytes
    alg: int
    public: Ed25519PublicKey


def parse_key(text: str, alg: int) -> Key:
    """A verifier key ``name+<key id hex>+base64(type || public key)``."""
    fields = text.strip().split("+", 2)
    if len(fields) != 3 or not fields[0] or any(c.isspace() for c in fields[0]):
        raise Usage(f"not a verifier key: {text!r}")
    name, hash_hex, data = fields
    try:
        raw = b64decode(data, "the key")
    except Failed as exc:
        raise Usage(str(exc)) from None
    if len(raw) != 33 or raw[0] != alg:
        raise Usage(f"not an Ed25519 key of type {alg:#04x}: {text!r}")
    kid = hashlib.sha256(name.encode() + b"\n" + raw[:1] + raw[1:]).digest()[:4]
    if kid.hex() != hash_hex:
        raise Usage(f"the key id does not match the key: {text!r}")
    return Key(name, kid, alg, Ed25519PublicKey.from_public_bytes(raw[1:]))


def fingerprint_of(key_text: str) -> str:
    """What the paper poster prints: five groups of four hex digits of SHA-256(verifier key text)."""
    digest = hashlib.sha256(key_text.encode("utf-8")).hexdigest()[:20]
    return " ".join(digest[i:i + 4] for i in range(0, 20, 4))


def key_by_fingerprint(log: "Log", fingerprint: str) -> str:
    """The log's verifier key fetched from ``<log>/key``, accepted only if its fingerprint is the
    one given (from the poster): 80 bits of SHA-256 a server cannot match with another key."""
    wanted = "".join(fingerprint.split()).lower()
    if not re.fullmatch(r"[0-9a-f]{20}", wanted):
        raise Usage(f"a fingerprint is 20 hex digits, as the poster prints it: {fingerprint!r}")
    text = log.get("key").decode("utf-8", "replace").strip()
    if fingerprint_of(text).replace(" ", "") != wanted:
        raise Failed(f"the server's key {text!r} has the fingerprint {fingerprint_of(text)}, "
                     f"not {fingerprint.strip()}: it is not the key on the poster")
    return text


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    text: str
    cosigned: list[str]  # witnesses whose cosignature verified ("name at unix time")
    unknown: list[str]  # names on other signature lines


def open_checkpoint(note: bytes, key: Key, witnesses: list[Key]) -> Checkpoint:
    try:
        msg = note.decode("utf-8")
    except UnicodeDecodeError:
        raise Failed("the checkpoint is not UTF-8") from None
    if re.search(r"[\x00-\x09\x0b-\x1f]", msg):
        raise Failed("the checkpoint contains a control character")
    split = msg.rfind("\n\n")
    if split < 0 or not msg.endswith("\n"):
        raise Failed("the checkpoint has no signature block")
    text, block = msg[: split + 1], msg[split + 2 :]
    signed, cosigned, unknown = False, [], []
    for line in block[:-1].split("\n"):
        if not line.startswith(SIG_PREFIX):
            raise Failed("malformed signature line")
        name, _, b64 = line[len(SIG_PREFIX) :].partition(" ")
        blob = b64decode(b64, "a signature")
        if len(blob) < 5:
            raise Failed("malformed signature line")
        kid, sig = blob[:4], blob[4:]
        if (name, kid) == (key.name, key.key_id):
            if signed:
                raise Failed("the log's key signed twice")
            try:
                key.public.verify(sig, text.encode("utf-8"))
            except InvalidSignature:
                raise Failed("the log's signature on the checkpoint does not verify") from None
            signed = True
            continue
        witness = next((w for w in witnesses if (w.name, w.key_id) == (name, kid)), None)
        if witness is None:
            unknown.append(name)
            continue
        if len(sig) != 72:
            raise Failed(f"malformed cosignature by {name}")
        (when,) = struct.unpack(">Q", sig[:8])
        message = b"cosignature/v1\ntime " + str(when).encode() + b"\n" + text.encode("utf-8")
        try:
            witness.public.verify(sig[8:], message)
        except InvalidSignature:
            raise Failed(f"the cosignature by {name} does not verify") from None
        cosigned.append(f"{name} at {when}")
    if not signed:
        raise Failed("the checkpoint is not signed by the key you gave")
    lines = text[:-1].split("\n")
    if len(lines) < 3 or not lines[0]:
        raise Failed("the checkpoint needs an origin, a size and a root")
    if not re.fullmatch(r"0|[1-9][0-9]*", lines[1]):
        raise Failed("the checkpoint's size is not a number")
    root = b64decode(lines[2], "the checkpoint's root")
    if len(root) != 32:
        raise Failed("the checkpoint's root is not 32 bytes")
    return Checkpoint(lines[0], int(lines[1]), root, text, cosigned, unknown)


# --- the HTTP interface ---------------------------------------------------------------------

class Log:
    def __init__(self, url: str):
        url = url.rstrip("/")
        if not url.endswith("/log"):
            url += "/log"
        self.url = url

    def get(self, path: str, **params) -> bytes:
        url = f"{self.url}/{path}"
        if params:
            url += "?" + urllib.parse.urlencode(params)
        try:
            with urllib.request.urlopen(url, timeout=TIMEOUT) as response:  # noqa: S310
                return response.read()
        except urllib.error.HTTPError as exc:
            raise Unreachable(f"{url}: HTTP {exc.code}") from None
        except (urllib.error.URLError, OSError) as exc:
            raise Unreachable(f"{url}: {exc}") from None

    def board_file(self, path: str) -> tuple[int, bytes]:
        """(status, body) of a board URL beside the log: ``…/disclosure/<code>/<path>``;
        200 and 410 (withdrawn) are answers, anything else is Unreachable."""
        url = f"{self.url[: -len('/log')]}/{path}"
        try:
            with urllib.request.urlopen(url, timeout=TIMEOUT) as response:  # noqa: S310
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            if exc.code in (404, 410):
                return exc.code, b""
            raise Unreachable(f"{url}: HTTP {exc.code}") from None
        except (urllib.error.URLError, OSError) as exc:
            raise Unreachable(f"{url}: {exc}") from None

    def json(self, path: str, **params) -> dict:
        try:
            data = json.loads(self.get(path, **params))
        except ValueError:
            raise Failed(f"the server's answer to {path} is not JSON") from None
        if not isinstance(data, dict):
            raise Failed(f"the server's answer to {path} is not a JSON object")
        return data

    def hashes(self, path: str, **params) -> list[bytes]:
        values = self.json(path, **params).get("hashes")
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise Failed(f"the server's {path} has no list of hashes")
        out = [b64decode(v, "a proof hash") for v in values]
        if any(len(h) != 32 for h in out):
            raise Failed("a proof hash is not 32 bytes")
        return out

    def entries(self, size: int):
        """Yields (index, leaf bytes) for 0 … size-1, paging."""
        start = 0
        while start < size:
            batch = self.json("entries", start=start, end=size).get("entries")
            if not isinstance(batch, list) or not batch:
                raise Failed(f"the server returned no entries from {start}")
            for item in batch:
                if not isinstance(item, dict) or item.get("index") != start:
                    raise Failed(f"the server returned entries out of order at {start}")
                if not isinstance(item.get("leaf"), str):
                    raise Failed(f"entry {start} has no leaf")
                yield start, b64decode(item["leaf"], f"entry {start}")
                start += 1
                if start == size:
                    return


# --- the board's words and files -----------------------------------------------------------

def _header(data: bytes) -> dict | None:
    """A board entry's leaf header (canonical JSON with ``content_sha256``), else None."""
    try:
        header = json.loads(data)
    except ValueError:
        return None
    if not isinstance(header, dict) or not isinstance(header.get("content_sha256"), str):
        return None
    return header


def check_content(log: Log, leaves: list[bytes], out=print) -> int:
    """Fetch every entry's published words (``…/e/<i>/content``) and files (``…/e/<i>/a/<sha256>``)
    and compare their SHA-256 with what its leaf commits to. A withdrawn entry answers 410, which
    is right only when a later leaf withdraws it. Returns how many entries were compared."""
    headers = {i: _header(data) for i, data in enumerate(leaves)}
    withdrawn = {h.get("withdraws") for h in headers.values() if h and h.get("type") == "withdrawal"}
    compared = gone = 0
    for index, header in headers.items():
        if header is None or header.get("type") == "withdrawal":
            continue
        files = [a.get("sha256") for a in header.get("attachments") or [] if isinstance(a, dict)]
        for path, expected in [(f"e/{index}/content", header["content_sha256"])] + [
                (f"e/{index}/a/{sha}", sha) for sha in files if isinstance(sha, str)]:
            status, body = log.board_file(path)
            if status == 410 and index in withdrawn:
                gone += 1
                break
            if status != 200:
                raise Failed(f"entry {index}: the board answers {status} for {path}"
                             + ("" if index in withdrawn else " and no leaf withdraws it"))
            if hashlib.sha256(body).hexdigest() != expected.lower():
                raise Failed(f"entry {index}: {path} differs from what the log recorded")
        else:
            compared += 1
    out(f"content: {compared} entries' words and files match their leaves"
        + (f"; {gone} withdrawn, as their withdrawal leaves say" if gone else ""))
    return compared


# --- the state file -------------------------------------------------------------------------

def read_state(path: str | None) -> dict | None:
    if not path or not os.path.exists(path):
        return None
    try:
        with open(path, encoding="utf-8") as f:
            state = json.load(f)
        size, root = state["size"], base64.b64decode(state["root"], validate=True)
        if not isinstance(size, int) or size < 0 or len(root) != 32 or not state["origin"]:
            raise ValueError
    except (OSError, ValueError, KeyError, TypeError, binascii.Error):
        raise Usage(f"cannot read the state file {path}") from None
    return {"origin": state["origin"], "size": size, "root": root}


def write_state(path: str, cp: Checkpoint) -> None:
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".verify-", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump({"origin": cp.origin, "size": cp.size,
                       "root": base64.b64encode(cp.root).decode("ascii")}, f)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


# --- the check ------------------------------------------------------------------------------

def check(url: str, key: Key, *, state_path: str | None = None, witnesses: list[Key] = (),
          proofs: bool = True, content: bool = False, out=print) -> Checkpoint:
    log = Log(url)
    state = read_state(state_path)
    cp = open_checkpoint(log.get("checkpoint"), key, list(witnesses))
    out(f"checkpoint: {cp.origin}, {cp.size} entries, signed by {key.name}")
    for who in cp.cosigned:
        out(f"  cosigned by {who} (verified)")
    for name in cp.unknown:
        out(f"  also signed by {name} (no key given, not checked)")
    hashes, leaves = [], []
    for index, data in log.entries(cp.size):
        if content:
            leaves.append(data)
        value = leaf_hash(data)
        hashes.append(value)
        if proofs:
            proof = log.hashes("proof/inclusion", index=index, size=cp.size)
            try:
                verify_inclusion(value, index, cp.size, proof, cp.root)
            except Failed as exc:
                raise Failed(f"entry {index}: {exc}") from None
    if root_of(hashes) != cp.root:
        if not proofs:  # find the first entry that fails, to name it
            for index, value in enumerate(hashes):
                proof = log.hashes("proof/inclusion", index=index, size=cp.size)
                try:
                    verify_inclusion(value, index, cp.size, proof, cp.root)
                except Failed as exc:
                    raise Failed(f"entry {index}: {exc}") from None
        raise Failed("the entries do not hash to the signed root")
    out(f"entries: {cp.size} checked" + (", each with its inclusion proof" if proofs else "")
        + ", root recomputed")
    if content:
        check_content(log, leaves, out=out)
    if state is not None:
        if state["origin"] != cp.origin:
            raise Failed(f"the origin changed from {state['origin']} to {cp.origin}")
        if state["size"] > cp.size:
            raise Failed(f"the log shrank from {state['size']} to {cp.size} entries")
        proof = []
        if 0 < state["size"] < cp.size:
            proof = log.hashes("proof/consistency", first=state["size"], second=cp.size)
        verify_consistency(state["size"], cp.size, state["root"], cp.root, proof)
        out(f"consistency: the log extends the one remembered at size {state['size']}")
    if state_path:
        write_state(state_path, cp)
    return cp


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url", help="the log's base URL, …/disclosure/<community code>/log")
    given = parser.add_mutually_exclusive_group(required=True)
    given.add_argument("--key", help="the log's verifier key")
    given.add_argument("--fingerprint", help="the key's fingerprint as the paper poster prints it "
                                             "(\"b838 662f …\"): the key is fetched and must match it")
    parser.add_argument("--state", help="a file remembering the last checkpoint verified")
    parser.add_argument("--witness", action="append", default=[],
                        help="a witness's cosignature key to verify (repeatable)")
    parser.add_argument("--no-proofs", action="store_true",
                        help="only recompute the root (one request per page, not per entry)")
    parser.add_argument("--content", action="store_true",
                        help="also fetch every entry's words and files from the board and compare "
                             "their SHA-256 with the log's (one request per entry and file)")
    args = parser.parse_args(argv)
    try:
        key_text = args.key if args.key else key_by_fingerprint(Log(args.url), args.fingerprint)
        key = parse_key(key_text, ALG_ED25519)
        witnesses = [parse_key(w, ALG_COSIGNATURE_V1) for w in args.witness]
        check(args.url, key, state_path=args.state, witnesses=witnesses,
              proofs=not args.no_proofs, content=args.content)
    except Failed as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        return 1
    except Usage as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Unreachable as exc:
        print(f"cannot read the log: {exc}", file=sys.stderr)
        return 3
    print("OK: the log verifies")
    return 0


if __name__ == "__main__":
    sys.exit(main())
