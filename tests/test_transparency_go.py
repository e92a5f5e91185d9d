"""An independent client, in Go, built on the Go checksum database's own packages
(golang.org/x/mod/sumdb/note and sumdb/tlog), checks the log's HTTP interface end to end
(tests/go/linli_check/main.go): the checkpoint's signature with a witness's cosignature on it,
every entry's inclusion proof, the root recomputed from all leaves, and consistency with an
earlier size. After a leaf is changed behind Linli's back (raw SQL), it fails naming that index.

Needs ``go`` and the x/mod sources (Debian ``golang-go golang-golang-x-mod-dev``); skipped with
a message without them, unless ``LINLI_REQUIRE_GO=1`` (``.ci/run`` sets it)."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from django.db import connection, transaction

from linli.community.models import Community, District, Street
from linli.core import signednote
from linli.transparency import cosign, keys, selectors, services
from linli.transparency.models import Log

GOPATH = "/usr/share/gocode"
SOURCE = Path(__file__).parent / "go" / "linli_check" / "main.go"
LEAVES = 300
TAMPERED = 137


def _missing() -> str | None:
    if shutil.which("go") is None:
        return "the go command is not installed (apt: golang-go)"
    for package in ("note", "tlog"):
        if not Path(GOPATH, "src/golang.org/x/mod/sumdb", package).is_dir():
            return f"golang.org/x/mod/sumdb/{package} is not in {GOPATH} (apt: golang-golang-x-mod-dev)"
    return None


@pytest.fixture(scope="module")
def go_client(tmp_path_factory) -> Path:
    missing = _missing()
    if missing:
        if os.environ.get("LINLI_REQUIRE_GO") == "1":
            pytest.fail(f"LINLI_REQUIRE_GO=1 but {missing}")
        pytest.skip(missing)
    out = tmp_path_factory.mktemp("go") / "linli_check"
    env = {**os.environ, "GO111MODULE": "off", "GOPATH": GOPATH, "CGO_ENABLED": "0", "GOFLAGS": ""}
    if not env.get("GOCACHE") and not env.get("HOME") and not env.get("XDG_CACHE_HOME"):
        env["GOCACHE"] = str(tmp_path_factory.mktemp("gocache"))
    built = subprocess.run(["go", "build", "-o", str(out), SOURCE.name], cwd=SOURCE.parent, env=env,
                           capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr
    return out


def _leaf(i: int) -> bytes:
    return json.dumps({"v": 1, "type": "entry", "n": i}, separators=(",", ":")).encode()


@pytest.fixture
def live_log(live_server, transactional_db, settings, tmp_path, monkeypatch):
    """A community whose log holds LEAVES entries, signed with a key written to tmp, and its
    latest checkpoint cosigned by a registered witness."""
    monkeypatch.setenv("NO_PROXY", "*")
    path = tmp_path / "log.key"
    log_key = str(keys.keygen("linli.example", path))
    settings.LINLI_DISCLOSURE_KEY_FILE = str(path)
    district = District.objects.create(code="510198", name="测试区")
    street = Street.objects.create(district=district, code="510198001", name="测试街道")
    community = Community.objects.create(street=street, code="G1", name="G1社区")
    with transaction.atomic():
        services.append_and_sign(community=community, leaves=[_leaf(i) for i in range(LEAVES - 40)])
    with transaction.atomic():
        services.append_and_sign(community=community, leaves=[_leaf(i) for i in range(LEAVES - 40, LEAVES)])
    street_key = signednote.generate_signer("street.example", alg=signednote.ALG_COSIGNATURE_V1)
    cosign.add_witness(actor=None, community=community, name="street.example",
                       verifier_key=str(street_key.verifier))
    text = selectors.latest_checkpoint(community).note
    cosign.accept_cosignature(community=community, line=signednote.cosign(
        text[: text.rfind("\n\n") + 1], street_key, timestamp=1_700_000_000).line())
    return community, f"{live_server.url}/disclosure/{community.code}/log", log_key


@contextlib.contextmanager
def append_only_triggers_dropped():
    """Drop the log's append-only triggers for a tampering test; put them back afterwards (the
    test database's schema outlives the test)."""
    from importlib import import_module

    triggers = import_module("linli.transparency.migrations.0002_append_only")
    with connection.cursor() as cursor:
        for sql in triggers.statements(connection.vendor, forward=False):
            cursor.execute(sql)
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            for sql in triggers.statements(connection.vendor, forward=True):
                cursor.execute(sql)


def tamper(community, index: int, data: bytes) -> None:
    """Change one leaf's bytes by raw SQL, as someone with database access could."""
    log_id = Log.objects.get(community=community).pk
    with append_only_triggers_dropped(), connection.cursor() as cursor:
        cursor.execute('UPDATE transparency_leaf SET data = %s WHERE log_id = %s AND "index" = %s',
                       [data, log_id, index])
        assert cursor.rowcount == 1


def _run(client, url, key, *extra):
    return subprocess.run([str(client), "-url", url, "-key", key, *extra], capture_output=True,
                          text=True, timeout=300)


def test_the_go_client_accepts_the_log_and_names_a_tampered_entry(go_client, live_log, tmp_path):
    community, url, log_key = live_log
    state = tmp_path / "go-state.json"
    state.write_text(json.dumps({"origin": selectors.log_for(community).origin, "size": LEAVES - 40,
                                 "root": base64.b64encode(selectors.root(community, LEAVES - 40)).decode()}))
    ok = _run(go_client, url, log_key, "-state", str(state))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert f"size {LEAVES} " in ok.stdout and "1 other signature" in ok.stdout  # the cosignature
    assert f"consistency: extends the log remembered at size {LEAVES - 40}" in ok.stdout
    assert json.loads(state.read_text())["size"] == LEAVES

    other = str(signednote.generate_signer("linli.example").verifier)
    wrong_key = _run(go_client, url, other)
    assert wrong_key.returncode == 1 and "checkpoint" in wrong_key.stderr

    tamper(community, TAMPERED, _leaf(TAMPERED).replace(b'"entry"', b'"entrY"'))
    failed = _run(go_client, url, log_key)
    assert failed.returncode == 1, failed.stdout
    assert f"index {TAMPERED}: inclusion proof failed" in failed.stderr
