"""`linli disclosure publish|verify|keygen|witness`."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import translation

from linli.core.models import Event
from linli.disclosure.models import Entry
from linli.transparency import keys, selectors as tlog

PDF = b"%PDF-1.7\n%minimal\ntrailer << >>\n%%EOF"


@pytest.fixture
def key(settings, tmp_path):
    settings.LINLI_DISCLOSURE_KEY_FILE = str(tmp_path / "signing.key")
    settings.LINLI_DISCLOSURE_FILES_DIR = str(tmp_path / "files")
    keys.keygen("board.example.org", tmp_path / "signing.key")
    return tmp_path / "signing.key"


def run(*args) -> str:
    out = io.StringIO()
    with translation.override("en"):  # messages matched below in English
        call_command("disclosure", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def body_file(tmp_path, text="本季度党费收缴合计 1,234.00 元。") -> str:
    path = tmp_path / "body.txt"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_publish_prints_the_index_as_its_last_word(world, key, tmp_path):
    pdf = tmp_path / "dues.pdf"
    pdf.write_bytes(PDF)
    out = run("publish", "--community", "Y", "--section", "party", "--title", "一季度党费", "--body-file",
              body_file(tmp_path), "--attach", str(pdf), "--period", "2026-01-01", "2026-03-31")
    assert out.split()[-1] == "0"
    out = run("publish", "--community", "Y", "--section", "finance", "--title", "二", "--body-file",
              body_file(tmp_path))
    assert out.split()[-1] == "1"
    entry = Entry.objects.get(log_index=0)
    assert entry.state == "published" and entry.author is None and entry.author_role == "system"
    assert entry.approver_role == "system" and entry.attachments.get().name == "dues.pdf"
    header = json.loads(bytes(tlog.leaf(world.community, 0)))
    assert header["author_role"] == header["approver_role"] == "system"
    event = Event.objects.get(verb="disclosure.published_by_server", target_id=str(entry.pk))
    assert event.actor is None and event.data["via"] == "linli disclosure publish"
    assert event.data["approved_by"] == "server operator"


@pytest.mark.parametrize("args, words", [
    (["--community", "NOPE"], "unknown community"),
    (["--community", "Y", "--attach", "/no/such/file.pdf"], "cannot read"),
    (["--community", "Y", "--period", "2026-03-31", "2026-03-01"], "period"),
    (["--community", "Y", "--period", "March", "2026-03-01"], "not a date"),
])
def test_publish_refuses_bad_input(world, key, tmp_path, args, words):
    with pytest.raises(CommandError, match=words):
        run("publish", "--section", "finance", "--title", "t", "--body-file", body_file(tmp_path), *args)
    assert not Entry.objects.exists()


def test_publish_refuses_a_file_that_is_not_pdf_or_image(world, key, tmp_path):
    bad = tmp_path / "list.xlsx"
    bad.write_bytes(b"PK\x03\x04 a spreadsheet")
    with pytest.raises(CommandError, match="PDF"):
        run("publish", "--community", "Y", "--section", "finance", "--title", "t", "--body-file",
            body_file(tmp_path), "--attach", str(bad))
    assert not Entry.objects.exists()


def test_publish_refuses_phone_numbers_and_a_missing_key(world, settings, key, tmp_path):
    with pytest.raises(CommandError, match="mask"):
        run("publish", "--community", "Y", "--section", "residential", "--title", "t", "--body-file",
            body_file(tmp_path, "联系 13912345678"))
    settings.LINLI_DISCLOSURE_KEY_FILE = str(tmp_path / "none.key")
    with pytest.raises(CommandError, match="keygen"):
        run("publish", "--community", "Y", "--section", "residential", "--title", "t", "--body-file",
            body_file(tmp_path))
    assert not Entry.objects.exists() and tlog.size(world.community) == 0


def test_verify_passes_then_names_the_tampered_entry(world, key, tmp_path):
    for title in ("一", "二", "三"):
        run("publish", "--community", "Y", "--section", "finance", "--title", title, "--body-file",
            body_file(tmp_path))
    assert "Y: ok" in run("verify", "--community", "Y")
    assert "Y: ok" in run("verify")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE disclosure_entry SET title = %s WHERE log_index = 1", ["三（改）"])
    with pytest.raises(CommandError, match="entry 1"):
        run("verify", "--community", "Y")
    with pytest.raises(CommandError, match="unknown community"):
        run("verify", "--community", "NOPE")


def test_verify_exits_non_zero_from_the_shell(world, key, tmp_path):
    run("publish", "--community", "Y", "--section", "finance", "--title", "一", "--body-file", body_file(tmp_path))
    Entry.objects.filter(log_index=0).update(body="换了")
    from django.core.management import ManagementUtility

    with pytest.raises(SystemExit) as exited:
        ManagementUtility(["linli", "disclosure", "verify", "--community", "Y"]).execute()
    assert exited.value.code == 1


def test_keygen_writes_a_private_key_and_refuses_to_overwrite(tmp_path):
    out = run("keygen", "--name", "linli.example.org", "--out", str(tmp_path / "k"))
    path = tmp_path / "k"
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.read_text().startswith("PRIVATE+KEY+linli.example.org+")
    verifier = out.strip().splitlines()[-1]
    assert verifier.startswith("linli.example.org+") and keys.fingerprint_of(verifier) in out
    with pytest.raises(CommandError, match="exists"):
        run("keygen", "--name", "linli.example.org", "--out", str(tmp_path / "k"))
    with pytest.raises(CommandError, match="invalid key name"):
        run("keygen", "--name", "bad name+plus", "--out", str(tmp_path / "k2"))


def test_keygen_writes_the_configured_key_file_by_default(settings, tmp_path):
    settings.LINLI_DISCLOSURE_KEY_FILE = str(tmp_path / "configured.key")
    run("keygen", "--name", "linli.example.org")
    assert keys.signer().name == "linli.example.org"


def test_witness_passes_its_arguments_to_the_witness(monkeypatch, tmp_path):
    from linli.transparency import witness

    seen = {}

    def fake_run(url, *, state, key, log_key):
        seen.update(url=url, state=state, key=key, log_key=log_key)
        return "— witness.example.org abcd"

    monkeypatch.setattr(witness, "run", fake_run)
    out = run("witness", "https://board.example.org/disclosure/Y", "--state", str(tmp_path / "s.json"),
              "--key", str(tmp_path / "w.key"), "--log-key", "board.example.org+01234567+AAAA")
    assert out.strip() == "— witness.example.org abcd"
    assert seen == {"url": "https://board.example.org/disclosure/Y", "state": Path(tmp_path / "s.json"),
                    "key": Path(tmp_path / "w.key"), "log_key": "board.example.org+01234567+AAAA"}

    def failing(url, **kw):
        raise witness.WitnessError("the log shrank")

    monkeypatch.setattr(witness, "run", failing)
    with pytest.raises(CommandError, match="the log shrank"):
        run("witness", "https://board.example.org/disclosure/Y", "--state", "s", "--key", "k")
