"""The street office's witness: checks that a community's log only grew, then cosigns it.

``linli disclosure witness URL --state FILE --key FILE [--log-key KEY]`` calls :func:`run`. One
run, over HTTP only (``urllib``; the witness needs no access to Linli's database):

1. ``GET <log>/checkpoint`` and open the signed note with the log's verifier key: the key given
   as ``log_key`` on the first run, then the one remembered in the state file (a different
   ``log_key`` later is refused: a log does not change its key behind its witness's back).
   Witnesses' cosignature lines on the note are unknown signatures and are ignored.
2. Compare with the checkpoint remembered in the state file. Same origin; a smaller size is
   refused (the log shrank); the same size must have the same root (else it forked); a larger
   size needs ``GET <log>/proof/consistency?first=OLD&second=NEW`` to verify
   (:func:`linli.core.tlog.verify_consistency`). **First run** (no state file): the remembered
   size is 0, and every tree is consistent with the empty one (RFC 9162 §2.1.4, C2SP
   tlog-witness), so the witness trusts the first checkpoint it sees, signed by the key it was
   given: trust on first use. From then on the log can only grow.
3. Cosign the checkpoint text (cosignature/v1, :func:`linli.core.signednote.cosign`, the time
   now) with the witness's key file (a ``linli disclosure keygen`` signer key: the same Ed25519
   key signs as type 0x04, with its own key id; :func:`witness_verifier_key` prints the verifier
   key the community registers with ``cosign.add_witness``).
4. Write the new state atomically (a temporary file, fsync, rename) **before** posting: a witness
   must remember everything it signed, so it can never later cosign a fork of it. A refusal in
   steps 1–2 never touches the state.
5. ``POST <log>/cosignature?size=N`` with the line as text/plain; return the line.

Anything refused raises :class:`WitnessError`, whose message says why; the command exits 1.
"""

from __future__ import annotations

import base64
import binascii
import http.client
import json
import os
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from linli.core import signednote, tlog
from linli.core.signednote import ALG_COSIGNATURE_V1, ALG_ED25519, NoteError, Signer

TIMEOUT = 30
MAX_ANSWER = 1 << 20  # a checkpoint or a proof is a few kilobytes


class WitnessError(Exception):
    """The witness refused to cosign (or could not reach the log); the message says why."""


def log_url(url: str) -> str:
    """The log's base URL from ``…/disclosure/<code>/log`` or the board's ``…/disclosure/<code>/``."""
    url = url.strip().rstrip("/")
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise WitnessError(f"not an http(s) URL: {url}")
    return url if url.endswith("/log") else url + "/log"


def witness_signer(key: Path) -> Signer:
    """The witness's cosignature key from a signer key file (type 0x01 or 0x04)."""
    try:
        signer = signednote.parse_signer(Path(key).read_text(encoding="utf-8").strip())
    except (OSError, UnicodeDecodeError) as exc:
        raise WitnessError(f"cannot read the witness key file {key}: {exc}") from None
    except NoteError as exc:
        raise WitnessError(f"the witness key file {key} holds no signer key ({exc})") from None
    return Signer(signer.name, signer.private_key, ALG_COSIGNATURE_V1)


def witness_verifier_key(key: Path) -> str:
    """The verifier key to register for this witness (``name+<key id>+base64(0x04 ‖ public)``)."""
    return str(witness_signer(key).verifier)


def _request(url: str, data: bytes | None = None) -> bytes:
    headers = {"Content-Type": "text/plain; charset=utf-8"} if data is not None else {}
    req = urllib.request.Request(url, data=data, headers=headers, method="POST" if data else "GET")
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT) as response:  # noqa: S310 (http(s) only)
            return response.read(MAX_ANSWER)
    except urllib.error.HTTPError as exc:
        detail = ""
        try:
            detail = json.loads(exc.read(MAX_ANSWER)).get("message", "")
        except (ValueError, AttributeError, OSError):
            pass
        raise WitnessError(f"{url}: HTTP {exc.code} {detail}".rstrip()) from None
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        # HTTPException: a server that closes early or answers something that is not HTTP
        # (IncompleteRead, BadStatusLine): a refusal with its reason, exit 1, not a traceback.
        raise WitnessError(f"{url}: {exc!r}" if not str(exc) else f"{url}: {exc}") from None


def _read_state(state: Path) -> dict | None:
    state = Path(state)
    if not state.exists():
        return None
    try:
        data = json.loads(state.read_text(encoding="utf-8"))
        root = base64.b64decode(data["root"], validate=True)
        size = data["size"]
        if (not isinstance(size, int) or isinstance(size, bool) or size < 0 or len(root) != 32
                or not isinstance(data["origin"], str) or not isinstance(data["log_key"], str)):
            raise ValueError("malformed")
        signednote.parse_verifier(data["log_key"])
    except (OSError, ValueError, KeyError, TypeError, binascii.Error, NoteError) as exc:
        raise WitnessError(f"cannot read the state file {state}: {exc}") from None
    return {"origin": data["origin"], "size": size, "root": root, "log_key": data["log_key"]}


def _write_state(state: Path, data: dict) -> None:
    state = Path(state)
    fd, tmp = tempfile.mkstemp(prefix=f".{state.name}.", dir=state.parent or ".")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=1, sort_keys=True)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, state)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _proof(base: str, first: int, second: int) -> list[bytes]:
    query = urllib.parse.urlencode({"first": first, "second": second})
    try:
        answer = json.loads(_request(f"{base}/proof/consistency?{query}"))
        return [base64.b64decode(h, validate=True) for h in answer["hashes"]]
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise WitnessError("the log's consistency proof is malformed") from None


def run(url: str, *, state: Path, key: Path, log_key: str | None) -> str:
    """Check the log at ``url`` against ``state``, cosign its checkpoint with ``key``, post the
    cosignature and return its line. Raises :class:`WitnessError`."""
    base = log_url(url)
    signer = witness_signer(key)
    if not Path(state).resolve().parent.is_dir():
        raise WitnessError(f"the state file's folder does not exist: {Path(state).parent}")
    remembered = _read_state(state)
    if remembered is None:
        if not log_key:
            raise WitnessError("first run: give the log's verifier key as --log-key (fetch <log>/key and "
                               "compare its fingerprint with the one on the board's paper poster)")
        key_text = log_key.strip()
    else:
        key_text = remembered["log_key"]
        if log_key and log_key.strip() != key_text:
            raise WitnessError("the log key given differs from the one this witness remembers; "
                               "refusing (a log keeps its key)")
    try:
        verifier = signednote.parse_verifier(key_text)
    except NoteError as exc:
        raise WitnessError(f"not a verifier key: {exc}") from None
    if verifier.alg != ALG_ED25519:
        raise WitnessError("the log key is not an Ed25519 signing key")

    body = _request(f"{base}/checkpoint")
    try:
        note = signednote.open_note(body, [verifier])
        checkpoint = signednote.parse_checkpoint(note.text)
    except NoteError as exc:
        raise WitnessError(f"the checkpoint's signature or format fails: {exc}") from None

    old_size, old_root = 0, tlog.EMPTY_ROOT
    if remembered is not None:
        if remembered["origin"] != checkpoint.origin:
            raise WitnessError(f"the log's origin changed from {remembered['origin']} to "
                               f"{checkpoint.origin}")
        old_size, old_root = remembered["size"], remembered["root"]
    if checkpoint.size < old_size:
        raise WitnessError(f"the log shrank from {old_size} to {checkpoint.size} entries")
    proof = _proof(base, old_size, checkpoint.size) if 0 < old_size < checkpoint.size else []
    try:
        tlog.verify_consistency(old_size, checkpoint.size, old_root, checkpoint.root, proof)
    except tlog.ProofError as exc:
        raise WitnessError(f"the log at size {checkpoint.size} is not an extension of the one seen "
                           f"at size {old_size}: it forked or was rewritten ({exc})") from None

    line = signednote.cosign(note.text, signer, timestamp=int(time.time())).line()
    try:
        _write_state(state, {
            "log_key": key_text,
            "origin": checkpoint.origin,
            "size": checkpoint.size,
            "root": base64.b64encode(checkpoint.root).decode("ascii"),
        })
    except OSError as exc:  # nothing was posted: the cosignature never leaves the witness
        raise WitnessError(f"cannot write the state file {state}: {exc}") from None
    _request(f"{base}/cosignature?size={checkpoint.size}", data=line.encode("utf-8"))
    return line
