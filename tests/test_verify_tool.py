"""tools/verify_disclosure.py, the stand-alone checker anyone can run (standard library and
``cryptography`` only), against a live server: a good log verifies (with a witness's
cosignature and consistency with a remembered checkpoint), a tampered entry is named, and each
kind of trouble has its own exit status."""

from __future__ import annotations

import ast
import base64
import json
import subprocess
import sys
from pathlib import Path

from django.db import transaction

from linli.core import signednote
from linli.transparency import selectors, services
from linli.transparency.models import Witness

import test_transparency_go
from test_transparency_go import LEAVES, TAMPERED, _leaf, tamper

live_log = test_transparency_go.live_log  # the same live log as the Go client's test

TOOL = Path(__file__).resolve().parent.parent / "tools" / "verify_disclosure.py"


def _run(*args, cwd="/"):
    # -I: isolated, so neither the checkout nor its settings are importable
    return subprocess.run([sys.executable, "-I", str(TOOL), *args], capture_output=True, text=True,
                          timeout=300, cwd=cwd)


def test_it_imports_only_the_standard_library_and_cryptography():
    tree = ast.parse(TOOL.read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module.split(".")[0])
    assert imported - set(sys.stdlib_module_names) == {"cryptography"}


def test_the_tool_verifies_remembers_and_names_a_tampered_entry(live_log, tmp_path):
    community, url, log_key = live_log
    state = tmp_path / "state.json"
    street = Witness.objects.get(name=selectors.witnessed(community)[0][0]).verifier_key
    first = _run(url, "--key", log_key, "--state", str(state), "--witness", street)
    assert first.returncode == 0, first.stdout + first.stderr
    assert f"{LEAVES} entries" in first.stdout
    assert "cosigned by street.example at 1700000000 (verified)" in first.stdout
    assert "OK: the log verifies" in first.stdout
    assert json.loads(state.read_text())["size"] == LEAVES
    impostor = str(signednote.generate_signer("street.example", alg=signednote.ALG_COSIGNATURE_V1).verifier)
    assert "also signed by street.example" in _run(url, "--key", log_key, "--no-proofs",
                                                   "--witness", impostor).stdout

    with transaction.atomic():
        services.append_and_sign(community=community, leaves=[_leaf(i) for i in range(LEAVES, LEAVES + 9)])
    grown = _run(url.removesuffix("/log") + "/", "--key", log_key, "--state", str(state), "--no-proofs")
    assert grown.returncode == 0, grown.stderr
    assert f"consistency: the log extends the one remembered at size {LEAVES}" in grown.stdout
    assert json.loads(state.read_text())["size"] == LEAVES + 9

    # a remembered checkpoint the log does not extend: refused, the state is kept
    forked = json.dumps({"origin": selectors.log_for(community).origin, "size": 100,
                         "root": base64.b64encode(b"\x01" * 32).decode()})
    state.write_text(forked)
    refused = _run(url, "--key", log_key, "--state", str(state), "--no-proofs")
    assert refused.returncode == 1 and "forked" in refused.stderr
    assert state.read_text() == forked

    other = str(signednote.generate_signer("linli.example").verifier)
    assert _run(url, "--key", other).returncode == 1
    assert _run(url, "--key", "nonsense").returncode == 2
    assert _run(url.replace("/G1/", "/NOPE/"), "--key", log_key).returncode == 3

    tamper(community, TAMPERED, _leaf(TAMPERED) + b" ")
    failed = _run(url, "--key", log_key)
    assert failed.returncode == 1
    assert f"FAILED: entry {TAMPERED}: inclusion proof does not lead to the signed root" in failed.stderr
    fast = _run(url, "--key", log_key, "--no-proofs")
    assert fast.returncode == 1 and f"entry {TAMPERED}:" in fast.stderr
    assert selectors.size(community) == LEAVES + 9
