"""The entry page's in-browser check (linli/static/disclosure/verify.js), run under node.

verify.js exports its pure parts when `module` exists. These tests hand it, as JSON, what
Linli's Python side (linli.core.tlog, linli.core.signednote) computes, and require the same
answers: the RFC 6962 vectors of ../shared/docs/transparency-vectors.md, every inclusion proof
of the trees up to 24 leaves with their mutations (accepted or rejected exactly as
`tlog.verify_inclusion` does), both published signed notes and every single-bit flip of them,
and the whole check against a made-up log served from a table: verified, and each kind of
tampering named as the step that failed. Ed25519 and SHA-256 run twice, through WebCrypto
(node's `crypto.subtle`, as on an https page) and through the vendored noble-ed25519 and
noble-hashes (as on a plain-http page without WebCrypto).

Skipped when node is not installed; CI sets LINLI_REQUIRE_BROWSER and fails instead.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import random
import shutil
import subprocess
from pathlib import Path

import pytest

from linli.core import signednote as sn
from linli.core import tlog
from linli.core.tlog import MemoryTree
from linli.transparency.keys import fingerprint_of
from tests.test_signednote import VECTORS, _examples
from tests.test_tlog import _mutations, _sections, _table, _vector_leaves, _vector_tree

REPO = Path(__file__).resolve().parent.parent
VERIFY_JS = REPO / "linli" / "static" / "disclosure" / "verify.js"
VENDOR = REPO / "linli" / "static" / "vendor"
NODE = shutil.which("node")
needs_vectors = pytest.mark.skipif(not VECTORS.exists(), reason="../shared/docs/transparency-vectors.md is absent")

# The harness: loads verify.js, builds both crypto stacks, runs one named job over the data.
HARNESS = r"""
const fs = require("fs");
const path = require("path");
const url = require("url");
const [verifyPath, vendorCopy, dataPath] = process.argv.slice(2);
const v = require(verifyPath);
const data = JSON.parse(fs.readFileSync(dataPath, "utf8"));
const hex = (h) => v.fromHex(h);
const b64 = (s) => v.base64Decode(s);
const libs = {
  ed25519: url.pathToFileURL(path.join(vendorCopy, "noble-ed25519", "index.js")).href,
  sha2: url.pathToFileURL(path.join(vendorCopy, "noble-hashes", "sha2.js")).href,
};
const stacks = {
  webcrypto: v.cryptoFor(globalThis.crypto.subtle, libs, (u) => import(u)),
  noble: v.cryptoFor(null, libs, (u) => import(u)),
};

function server(table) {
  return (u, options) => {
    const answer = table[u];
    if (!answer) return Promise.reject({code: "http", status: 404, message: ""});
    if (answer.status === 0) return Promise.reject({code: "network", status: 0, message: ""});
    if (answer.status !== 200) return Promise.reject({code: "http", status: answer.status, message: ""});
    return Promise.resolve(b64(answer.body));
  };
}

const jobs = {
  async hashes(stack) {
    const c = stacks[stack];
    const leafHashes = [];
    for (const leaf of data.leaves) leafHashes.push(v.toHex(await v.leafHash(c.sha256, hex(leaf))));
    const roots = [];
    for (const p of data.proofs) {
      const r = await v.rootFromInclusionProof(c.sha256, p.index, p.size, hex(p.leaf), p.proof.map(hex));
      roots.push(v.toHex(r));
    }
    return {leafHashes, roots};
  },
  async inclusion(stack) {
    const c = stacks[stack];
    const verdicts = [];
    for (const p of data.cases) {
      let ok;
      try {
        const r = await v.rootFromInclusionProof(c.sha256, p.index, p.size, hex(p.leaf), p.proof.map(hex));
        ok = v.toHex(r) === p.root;
      } catch (e) { ok = false; }
      verdicts.push(ok);
    }
    return verdicts;
  },
  async notes(stack) {
    const c = stacks[stack];
    const verdicts = [];
    for (const n of data.notes) {
      let ok;
      try {
        const key = v.parseVerifierKey(n.key);
        const idOk = await v.keyIdMatches(c.sha256, key);
        const note = v.parseNote(n.note);
        const line = note.signatures.find((s) => s.name === key.name && v.toHex(s.keyId) === v.toHex(key.keyId));
        ok = idOk && !!line && line.signature.length === 64 &&
          await c.ed25519Verify(line.signature, v.utf8(note.text), key.publicKey);
      } catch (e) { ok = false; }
      verdicts.push(ok);
    }
    return verdicts;
  },
  async check(stack) {
    const c = stacks[stack];
    const out = {};
    for (const [name, scenario] of Object.entries(data.scenarios)) {
      const deps = {sha256: c.sha256, ed25519Verify: c.ed25519Verify, get: server(scenario.table)};
      try {
        const r = await v.check(scenario.params, deps);
        out[name] = {ok: true, index: r.index, size: r.size, key: r.keyName, origin: r.origin, fingerprint: r.fingerprint,
                     withdrawn: r.withdrawn, content: r.contentSha256 || null};
      } catch (e) {
        out[name] = {ok: false, step: e.step || String(e), extra: e.extra || null, detail: e.detail || ""};
      }
    }
    return out;
  },
};

(async () => {
  const result = {};
  for (const stack of Object.keys(stacks)) result[stack] = await jobs[data.job](stack);
  process.stdout.write(JSON.stringify(result));
})().catch((e) => { console.error(e && e.stack || e); process.exit(1); });
"""


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    """run(job, data) -> {"webcrypto": answer, "noble": answer}."""
    if not NODE:
        if os.environ.get("LINLI_REQUIRE_BROWSER"):
            pytest.fail("node is not installed (required by LINLI_REQUIRE_BROWSER)")
        pytest.skip("node is not installed; verify.js is not tested")
    folder = tmp_path_factory.mktemp("verify-js")
    # The vendored modules are ES modules; node reads a .js file as one only under a package.json
    # that says so, which the repository's (for axe-core) does not. So they run from a copy.
    vendor = folder / "vendor"
    for name in ("noble-ed25519", "noble-hashes"):
        shutil.copytree(VENDOR / name, vendor / name)
    (vendor / "package.json").write_text('{"type": "module"}\n', encoding="utf-8")
    harness = folder / "harness.cjs"
    harness.write_text(HARNESS, encoding="utf-8")

    def run(job: str, data: dict) -> dict:
        data_file = folder / f"{job}.json"
        data_file.write_text(json.dumps({"job": job, **data}), encoding="utf-8")
        done = subprocess.run([NODE, str(harness), str(VERIFY_JS), str(vendor), str(data_file)],
                              capture_output=True, text=True, timeout=300, check=False)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    return run


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


# ---- RFC 6962 hashing and inclusion proofs ----


@needs_vectors
def test_vector_leaf_hashes_and_inclusion_proofs_lead_to_the_vector_roots(node):
    sections = _sections()
    leaves = _vector_leaves()
    roots = {int(n): h for n, h in _table(sections["Leaves and roots (RFC 6962 hashing)"])}
    level0 = sections["Leaves and roots (RFC 6962 hashing)"].split("- level 0:", 1)[1].split("- level 1:", 1)[0]
    expected_leaf_hashes = [h.strip().rstrip(",") for h in level0.split()]
    tree = _vector_tree()
    proofs = []
    for leaf, size, proof in _table(sections["Inclusion proofs"]):
        index = int(leaf) - 1  # 1-based in the file
        proofs.append({"index": index, "size": int(size), "leaf": tree.leaf(index).hex(),
                       "proof": [h.strip() for h in proof.split(",")]})
    answer = node("hashes", {"leaves": [leaf.hex() for leaf in leaves], "proofs": proofs})
    for stack, got in answer.items():
        assert got["leafHashes"] == expected_leaf_hashes, stack
        assert got["roots"] == [roots[p["size"]] for p in proofs], stack


def _inclusion_cases(max_leaves: int) -> list[dict]:
    """Every proof of the trees up to max_leaves, its mutations, index ± 1 and size ± 1, each with
    the verdict of linli.core.tlog.verify_inclusion."""
    tree = MemoryTree()
    for i in range(max_leaves + 1):
        tree.append(f"leaf {i}".encode())
    rng = random.Random(9162)
    cases = []

    def case(leaf, index, size, proof, root):
        try:
            tlog.verify_inclusion(leaf, index, size, proof, root)
            expect = True
        except tlog.ProofError:
            expect = False
        cases.append({"leaf": leaf.hex(), "index": index, "size": size, "proof": [p.hex() for p in proof],
                      "root": root.hex(), "expect": expect})

    for n in range(1, max_leaves + 1):
        root = tree.root(n)
        for i in range(n):
            leaf, proof = tree.leaf(i), tree.inclusion_proof(i, n)
            case(leaf, i, n, proof, root)
            for bad in _mutations(proof, rng):
                case(leaf, i, n, bad, root)
            for j in (i - 1, i + 1):
                if j >= 0:
                    case(leaf, j, n, proof, root)
                    if j < tree.size:
                        case(tree.leaf(j), j, n, proof, root)
            for size in (n - 1, n + 1):
                if size > 0:
                    case(leaf, i, size, proof, tree.root(size))
    return cases


def test_every_inclusion_proof_and_every_mutation_get_the_python_verdict(node):
    cases = _inclusion_cases(24)
    assert sum(c["expect"] for c in cases) >= 300 and sum(not c["expect"] for c in cases) > 5_000
    answer = node("inclusion", {"cases": cases})
    for stack, verdicts in answer.items():
        wrong = [c for c, got in zip(cases, verdicts) if got != c["expect"]]
        assert len(verdicts) == len(cases) and not wrong, (stack, wrong[:3])


# ---- signed notes ----


def _flips(text: str) -> list[str]:
    """Every single-bit flip of the text's bytes that is still UTF-8 (a note is text)."""
    raw = text.encode()
    out = []
    for i in range(len(raw)):
        for bit in range(8):
            flipped = bytearray(raw)
            flipped[i] ^= 1 << bit
            try:
                out.append(bytes(flipped).decode())
            except UnicodeDecodeError:
                continue
    return out


@needs_vectors
def test_published_signed_notes_verify_and_every_bit_flip_fails(node):
    notes = []
    for key, text, line in _examples():
        good = text + "\n" + line + "\n"
        notes.append({"key": key, "note": good, "expect": True})
        sig_b64 = line.split(" ")[-1]
        for flipped_text in _flips(text):
            notes.append({"key": key, "note": flipped_text + "\n" + line + "\n", "expect": False})
        raw = base64.b64decode(sig_b64)
        for i in range(len(raw)):
            for bit in range(8):
                flipped = bytearray(raw)
                flipped[i] ^= 1 << bit
                notes.append({"key": key, "note": text + "\n" + line.replace(sig_b64, b64(bytes(flipped))) + "\n",
                              "expect": False})
    other_key = _examples()[1][0]
    key, text, line = _examples()[0]
    notes.append({"key": other_key, "note": text + "\n" + line + "\n", "expect": False})  # the wrong key
    answer = node("notes", {"notes": notes})
    for stack, verdicts in answer.items():
        wrong = [n for n, got in zip(notes, verdicts) if got != n["expect"]]
        assert not wrong, (stack, len(wrong), wrong[:2])


# ---- the whole check against a served log ----

LOG = "/disclosure/demo/log"
ORIGIN = "linli.example/disclosure/demo"


def _canonical(value) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _world(entries: int = 7, index: int = 4):
    """A made-up log of `entries` entries; entry `index` has content and one attachment.
    Answers (the URL table, params, the pieces) so scenarios can change one thing each."""
    signer = sn.generate_signer("linli.example/demo")
    witness = sn.generate_signer("street.example/witness", alg=sn.ALG_COSIGNATURE_V1)
    content = _canonical({"title": "楼道照明维修费用", "body": "本月更换灯具十二盏，费用见附件。"})
    attachment = b"%PDF-1.4 a made-up receipt\n"
    tree = MemoryTree()
    leaves = []
    for i in range(entries):
        body = content if i == index else _canonical({"title": f"entry {i}", "body": "..."})
        header = {"v": 1, "type": "entry", "community": "demo", "section": "finance",
                  "period": ["2026-11-01", "2026-11-30"], "published": "2026-12-01T09:00:00+08:00",
                  "author_role": "accountant", "approver_role": "director",
                  "content_sha256": hashlib.sha256(body).hexdigest(),
                  "attachments": ([{"sha256": hashlib.sha256(attachment).hexdigest(), "size": len(attachment),
                                    "type": "application/pdf"}] if i == index else []),
                  "supersedes": None, "withdraws": None}
        leaves.append(_canonical(header))
        tree.append(leaves[-1])

    def checkpoint(size, root=None, signers=(signer,), text=None):
        if text is not None:  # a malformed checkpoint, validly signed: no witness would cosign it
            return sn.sign(text, *signers)
        text = sn.checkpoint_text(ORIGIN, size, root if root is not None else tree.root(size))
        note = sn.sign(text, *signers)
        return sn.add_signatures(note, [sn.cosign(text, witness, timestamp=1_790_000_000)])

    attachment_url = f"/disclosure/demo/e/{index}/a/{hashlib.sha256(attachment).hexdigest()}"
    table = {
        f"{LOG}/entries?start={index}&end={index + 1}": _json({"entries": [{"index": index, "leaf": b64(leaves[index])}]}),
        f"/disclosure/demo/e/{index}/content": _raw(content),
        attachment_url: _raw(attachment),
        f"{LOG}/checkpoint": _raw(checkpoint(entries)),
        f"{LOG}/proof/inclusion?index={index}&size={entries}": _json(
            {"hashes": [b64(h) for h in tree.inclusion_proof(index, entries)]}),
    }
    params = {"log": LOG, "index": index, "content": f"/disclosure/demo/e/{index}/content",
              "key": str(signer.verifier), "attachments": [{"url": attachment_url, "sha256": hashlib.sha256(attachment).hexdigest()}]}
    return {"table": table, "params": params, "tree": tree, "leaves": leaves, "signer": signer,
            "checkpoint": checkpoint, "content": content, "attachment_url": attachment_url, "index": index,
            "entries": entries}


def _raw(data: bytes) -> dict:
    return {"status": 200, "body": b64(data)}


def _json(value) -> dict:
    return _raw(json.dumps(value).encode())


def _scenarios() -> dict:
    w = _world()
    index, entries = w["index"], w["entries"]
    scenarios = {}

    def scenario(name, table_changes=None, param_changes=None):
        table = dict(w["table"])
        table.update(table_changes or {})
        scenarios[name] = {"table": {k: v for k, v in table.items() if v is not None},
                           "params": {**w["params"], **(param_changes or {})}}

    content_url = w["params"]["content"]
    scenario("verified")
    scenario("content_edited", {content_url: _raw(w["content"].replace("十二".encode(), "二十".encode()))})
    scenario("attachment_swapped", {w["attachment_url"]: _raw(b"%PDF-1.4 another receipt\n")})
    scenario("attachment_hidden", param_changes={"attachments": []})
    scenario("leaf_missing", {f"{LOG}/entries?start={index}&end={index + 1}": None})
    scenario("leaf_wrong_index", {f"{LOG}/entries?start={index}&end={index + 1}": _json(
        {"entries": [{"index": index + 1, "leaf": b64(w["leaves"][index + 1])}]})})
    other = sn.generate_signer("linli.example/demo")  # same name, another key: the key id differs
    scenario("signed_by_another_key", {f"{LOG}/checkpoint": _raw(w["checkpoint"](entries, signers=(other,)))})
    scenario("page_key_of_another", param_changes={"key": str(other.verifier)})
    note = w["checkpoint"](entries)
    text, sigs = note.decode().rsplit("\n\n", 1)
    line = sigs.split("\n")[0]
    flipped = bytearray(base64.b64decode(line.split(" ")[-1]))
    flipped[20] ^= 1
    bad_line = line.rsplit(" ", 1)[0] + " " + b64(bytes(flipped))
    scenario("signature_flipped", {f"{LOG}/checkpoint": _raw((text + "\n\n" + sigs.replace(line, bad_line)).encode())})
    scenario("checkpoint_root_changed", {f"{LOG}/checkpoint": _raw(w["checkpoint"](entries, root=hashlib.sha256(b"x").digest()))})
    scenario("checkpoint_malformed", {f"{LOG}/checkpoint": _raw(w["checkpoint"](entries, text=f"{ORIGIN}\n0{entries}\n{b64(w['tree'].root(entries))}\n"))})
    proof = [bytearray(h) for h in w["tree"].inclusion_proof(index, entries)]
    proof[-1][0] ^= 0x80
    scenario("proof_flipped", {f"{LOG}/proof/inclusion?index={index}&size={entries}": _json({"hashes": [b64(bytes(h)) for h in proof]})})
    scenario("proof_refused", {f"{LOG}/proof/inclusion?index={index}&size={entries}": {"status": 400, "body": b64(b"{}")}})
    # A leaf rewritten behind the log's back so that it matches edited content: the content and
    # attachment checks pass, the signed root does not.
    edited = w["content"].replace("十二".encode(), "二十".encode())
    header = json.loads(w["leaves"][index])
    header["content_sha256"] = hashlib.sha256(edited).hexdigest()
    scenario("leaf_rewritten", {f"{LOG}/entries?start={index}&end={index + 1}": _json(
        {"entries": [{"index": index, "leaf": b64(_canonical(header))}]}), content_url: _raw(edited)})
    scenario("checkpoint_older_than_entry", {f"{LOG}/checkpoint": _raw(w["checkpoint"](index))})
    scenario("log_unreachable", {f"{LOG}/checkpoint": {"status": 0, "body": ""}})
    scenario("withdrawn", {content_url: {"status": 410, "body": b64(b"withdrawn")}},
             {"content": "", "attachments": []})
    scenario("malformed_page_key", param_changes={"key": "linli.example/demo+00000000+AQID"})
    return scenarios, w


EXPECTED_STEP = {
    "content_edited": "content", "attachment_swapped": "attachment", "attachment_hidden": "attachment",
    "leaf_missing": "leaf", "leaf_wrong_index": "leaf", "signed_by_another_key": "signature",
    "page_key_of_another": "signature", "signature_flipped": "signature", "checkpoint_root_changed": "proof",
    "checkpoint_malformed": "checkpoint", "proof_flipped": "proof", "proof_refused": "proof",
    "leaf_rewritten": "proof", "checkpoint_older_than_entry": "pending", "log_unreachable": "network",
    "malformed_page_key": "key",
}


def test_the_whole_check_verifies_and_names_each_failed_step(node):
    scenarios, w = _scenarios()
    answer = node("check", {"scenarios": scenarios})
    for stack, results in answer.items():
        ok = results["verified"]
        assert ok == {"ok": True, "index": w["index"], "size": w["entries"], "key": "linli.example/demo",
                      "origin": ORIGIN, "withdrawn": False, "fingerprint": fingerprint_of(str(w["signer"].verifier)),
                      "content": hashlib.sha256(w["content"]).hexdigest()}, stack
        withdrawn = results["withdrawn"]
        assert withdrawn["ok"] and withdrawn["withdrawn"] and withdrawn["content"] is None, stack
        for name, step in EXPECTED_STEP.items():
            got = results[name]
            assert not got["ok"] and got["step"] == step, (stack, name, got)
            assert got["extra"]["index"] == w["index"], (stack, name, got)
        assert results["attachment_swapped"]["extra"]["number"] == 1
        assert results["proof_flipped"]["extra"]["size"] == w["entries"]


# ---- the template's side ----

STEPS = ("key", "leaf", "content", "attachment", "checkpoint", "signature", "proof")


def test_the_template_gives_the_script_a_sentence_for_every_outcome(rf, settings):
    """disclosure/_verify.html: valid JSON sentences for every step verify.js can name, the data
    attributes of the contract, the vendored libraries' URLs; without a key, no check at all."""
    import re

    from django.template.loader import render_to_string
    from django.utils import translation

    request = rf.get("/disclosure/Y/e/3/")
    verify = {"log_url": "/disclosure/Y/log", "index": 3, "content_url": "/disclosure/Y/e/3/content",
              "key": "a.example+01020304+AQID", "withdrawn": False,
              "attachments_json": json.dumps([{"url": "/disclosure/Y/e/3/a/" + "ab" * 32, "sha256": "ab" * 32}])}
    html = render_to_string("disclosure/_verify.html", {"verify": verify, "request": request})
    texts = json.loads(re.search(r"<script type=\"application/json\" data-verify-texts>(.*?)</script>", html, re.S)[1])
    expected = {"checking", "verified", "verified_withdrawn", "pending", "network", "unsupported"}
    assert set(texts) == expected | {f"fail_{step}" for step in STEPS}
    assert all(texts.values())
    assert "{index}" in texts["verified"] and "{size}" in texts["verified"] and "{key}" in texts["verified"]
    for attribute in ('data-verify', 'data-log="/disclosure/Y/log"', 'data-index="3"',
                      'data-content="/disclosure/Y/e/3/content"', 'data-key="a.example+01020304+AQID"',
                      "data-lib-ed25519=\"/static/vendor/noble-ed25519/index.js\"",
                      "data-lib-sha2=\"/static/vendor/noble-hashes/sha2.js\"", 'role="status"', "<noscript>"):
        assert attribute in html, attribute
    assert "data-attachments=\"[{&quot;url&quot;" in html
    assert "disclosure/verify.js" in html and "defer" in html
    source = VERIFY_JS.read_text(encoding="utf-8")
    for step in STEPS + ("pending", "network", "unsupported"):
        assert f'"{step}"' in source, step  # every sentence is one the script can ask for

    withdrawn = render_to_string("disclosure/_verify.html", {"verify": {**verify, "withdrawn": True}, "request": request})
    assert 'data-content=""' in withdrawn
    with translation.override("en"):
        keyless = render_to_string("disclosure/_verify.html", {"verify": {**verify, "key": ""}, "request": request})
    assert "data-verify" not in keyless and "verify.js" not in keyless and "no signing key" in keyless
