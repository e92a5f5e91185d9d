"""Issue 9, clause by clause, where the other test files left a clause untested or the review
walk of the demo found something a resident or an accountant would trip over.

The formulas of item 3 are checked here from the issue's own words (hashlib and
``cryptography``, not linli.core.signednote), against what the HTTP interface serves.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import http.client
import re
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.contrib.staticfiles import finders
from django.core.management import ManagementUtility
from django.test import Client

from linli.disclosure import poster, services
from linli.disclosure.models import Entry
from linli.transparency import keys, witness

ISSUE_EM_DASH = "\u2014"


@pytest.fixture
def key(settings, tmp_path):
    settings.LINLI_DISCLOSURE_KEY_FILE = str(tmp_path / "signing.key")
    settings.LINLI_DISCLOSURE_FILES_DIR = str(tmp_path / "files")
    keys.keygen("board.example.org", tmp_path / "signing.key")
    return tmp_path / "signing.key"


def publish(world, *, section="residential", title="居委会公告", body="本月议事会决定：更换3号院路灯。"):
    return services.publish_as_server(community=world.community, section=section, title=title, body=body,
                                      period_start=dt.date(2026, 3, 1), period_end=dt.date(2026, 3, 31))


def correct(world, old, *, title, body):
    worker, admin = world.users["worker"], world.users["admin"]
    draft = services.start_correction(actor=worker, entry=old)
    services.update_draft(actor=worker, entry=draft, title=title, body=body,
                          period_start=draft.period_start, period_end=draft.period_end)
    services.submit(actor=worker, entry=draft)
    return services.publish(actor=admin, entry=draft)


# --- item 3: the verifier key, the key id and the checkpoint, by the issue's formulas ---------------


def test_served_key_and_checkpoint_follow_the_issues_formulas(world, key):
    publish(world, title="一")
    publish(world, title="二")
    client = Client()
    text = client.get("/disclosure/Y/log/key").content.decode()
    # the verifier key is `name+<keyid hex>+base64(0x01 ‖ public key)`
    name, keyid_hex, encoded = text.strip().split("+", 2)  # base64 may hold "+" too
    raw = base64.b64decode(encoded, validate=True)
    assert name == "board.example.org" and raw[0] == 0x01 and len(raw) == 33
    # keyid = SHA-256(name ‖ "\n" ‖ 0x01 ‖ public key)[:4]
    keyid = hashlib.sha256(name.encode() + b"\n" + raw).digest()[:4]
    assert keyid_hex == keyid.hex()

    # text `origin\nsize\nbase64(root)\n`, a blank line, then `— <name> base64(keyid[4] ‖ signature)`
    note = client.get("/disclosure/Y/log/checkpoint").content.decode()
    body, signatures = note.split("\n\n", 1)
    body += "\n"
    origin, size, root = body.splitlines()
    assert int(size) == 2 and len(base64.b64decode(root, validate=True)) == 32 and origin
    lines = [line for line in signatures.splitlines() if line.startswith(f"{ISSUE_EM_DASH} {name} ")]
    assert len(lines) == 1
    blob = base64.b64decode(lines[0].split(" ")[2], validate=True)
    assert blob[:4] == keyid and len(blob) == 4 + 64
    Ed25519PublicKey.from_public_bytes(raw[1:]).verify(blob[4:], body.encode())  # raises if not


# --- item 5: the witness command's exit codes -----------------------------------------------------


def test_the_witness_command_exits_1_with_the_reason_and_2_on_bad_usage(tmp_path, capsys):
    with pytest.raises(SystemExit) as exited:
        ManagementUtility(["linli", "disclosure", "witness", "http://127.0.0.1:9/disclosure/Y",
                           "--state", str(tmp_path / "state.json"),
                           "--key", str(tmp_path / "no-such.key")]).execute()
    assert exited.value.code == 1
    assert "witness" in capsys.readouterr().err and not (tmp_path / "state.json").exists()
    with pytest.raises(SystemExit) as exited:
        ManagementUtility(["linli", "disclosure", "witness", "http://127.0.0.1:9/disclosure/Y"]).execute()
    assert exited.value.code == 2  # --state and --key are required


@pytest.mark.parametrize("failure", [http.client.BadStatusLine("SSH-2.0-OpenSSH"),
                                     http.client.IncompleteRead(b"1"),
                                     http.client.RemoteDisconnected("closed")])
def test_a_server_that_does_not_speak_http_is_a_refusal_not_a_traceback(monkeypatch, failure):
    def broken(request, timeout=None):
        raise failure

    monkeypatch.setattr(urllib.request, "urlopen", broken)
    with pytest.raises(witness.WitnessError, match="127.0.0.1"):
        witness._request("http://127.0.0.1:9/disclosure/Y/log/checkpoint")


# --- item 1: corrections, read where a resident reads ----------------------------------------------


def test_a_corrected_entry_says_so_before_its_body(world, key):
    old = publish(world, title="原公告", body="旧正文第一段。")
    new = correct(world, old, title="更正公告", body="新正文。")
    page = Client().get(f"/disclosure/Y/e/{old.log_index}/").content.decode()
    notice = page.index("corrected-notice")
    assert notice < page.index("旧正文第一段")
    assert f'href="/disclosure/Y/e/{new.log_index}/"' in page[notice:page.index("旧正文第一段")]


def test_the_poster_of_a_correction_names_the_entry_it_corrects(world, key):
    old = publish(world, title="原公告", body="金额 100 元")
    new = correct(world, old, title="更正公告", body="金额 120 元")
    page = Client().get(f"/disclosure/Y/e/{new.log_index}/poster/").content.decode()
    assert re.search(rf'class="corrects">[^<]*\b{old.log_index}\b', page)
    plain = Client().get(f"/disclosure/Y/e/{old.log_index}/poster/").content.decode()
    assert 'class="corrects"' not in plain


# --- item 1/2: a monthly statement printed on the courtyard poster ----------------------------------


STATEMENT_ROWS = 40
STATEMENT_WIDTH = 115


def _statement() -> str:
    rows = [f"{5000 + i:<12}{i * 1000:>14,}.00{'':>70}科目{i:02d}" for i in range(STATEMENT_ROWS - 1)]
    return "\n".join(rows + ["合计 504,989.10"])


def test_a_monthly_statement_prints_whole_on_the_poster(world, key):
    entry = publish(world, section="finance", title="2026-03 月度财务报表", body=_statement())
    page = Client().get(f"/disclosure/Y/e/{entry.log_index}/poster/").content.decode()
    assert "合计 504,989.10" in page and "科目38" in page
    assert not poster.poster_text(_statement(), table=True).shortened
    assert poster.poster_text("一行字\n" * 100).shortened  # prose keeps the large-type limit


def test_the_posters_table_type_fits_a_statement_row_on_a4():
    css = open(finders.find("disclosure/poster.css"), encoding="utf-8").read()
    rule = re.search(r"\.sheet pre\.body\.table \{([^}]*)\}", css).group(1)
    size = float(re.search(r"font-size:\s*([\d.]+)pt", rule).group(1))
    line_height = float(re.search(r"line-height:\s*([\d.]+)", rule).group(1))
    margin = float(re.search(r"@page \{[^}]*margin:\s*([\d.]+)mm", css).group(1))
    width_pt = (210 - 2 * margin) / 25.4 * 72
    # a CJK monospace font draws Latin half an em wide
    assert STATEMENT_WIDTH * 0.5 * size <= width_pt
    assert poster.POSTER_TABLE_LINES * size * line_height <= (297 - 2 * margin - 105) / 25.4 * 72


# --- item 2: the books' tables on a phone -----------------------------------------------------------


def test_the_books_tables_scroll_rather_than_squeeze_a_column():
    css = open(finders.find("books/books.css"), encoding="utf-8").read()
    assert re.search(r"table\.books td:not\(\.num\)[^{]*\{[^}]*min-width", css)
    assert re.search(r"table\.books tbody td:first-child[^{]*\{[^}]*white-space:\s*nowrap", css)


# --- item 5 / "Bad input": the stand-alone verifier also checks the board's words ------------------

TOOL = Path(__file__).resolve().parent.parent / "tools" / "verify_disclosure.py"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def test_the_stand_alone_tool_checks_the_boards_words_and_files_against_the_log(live_server, world, key,
                                                                                  monkeypatch):
    monkeypatch.setenv("NO_PROXY", "*")
    kept = publish(world, title="一", body="正文一")
    services.publish_as_server(community=world.community, section="party", title="附件", body="见附件",
                               period_start=dt.date(2026, 3, 1), period_end=dt.date(2026, 3, 31), files=[PDF])
    gone = publish(world, title="误发", body="误发的名单")
    services.withdraw(actor=world.users["admin"], entry=gone, reason="误含个人信息")

    def run(*extra, key=("--key", keys.verifier_key_text())):
        return subprocess.run([sys.executable, "-I", str(TOOL), f"{live_server.url}/disclosure/Y/log",
                               *key, "--no-proofs", *extra],
                              capture_output=True, text=True, timeout=300, cwd="/")

    # the poster prints the key's fingerprint, not the key: the tool takes that
    assert run(key=("--fingerprint", keys.fingerprint())).returncode == 0
    wrong = run(key=("--fingerprint", "0000 0000 0000 0000 0000"))
    assert wrong.returncode == 1 and "not the key on the poster" in wrong.stderr
    assert run(key=("--fingerprint", "b838")).returncode == 2

    good = run("--content")
    assert good.returncode == 0, good.stdout + good.stderr
    assert "content: 2 entries' words and files match their leaves; 1 withdrawn" in good.stdout
    Entry.objects.filter(pk=kept.pk).update(body="悄悄改过的正文")  # behind Linli's back
    assert run().returncode == 0  # the log alone still verifies: only its words changed
    bad = run("--content")
    assert bad.returncode == 1 and f"entry {kept.log_index}: e/{kept.log_index}/content differs" in bad.stderr


# --- "Bad input": a held entry tells its author once what to mask ----------------------------------


def test_a_held_entry_says_what_to_mask_once(world, key):
    worker = world.users["worker"]
    entry = services.create_draft(actor=worker, community=world.community, section="residential",
                                  title="招募志愿者", body="有意者请联系 13912345678",
                                  period_start=dt.date(2026, 3, 1), period_end=dt.date(2026, 3, 31))
    entry = services.submit(actor=worker, entry=entry)
    assert entry.state == "held"
    client = Client()
    client.force_login(worker)
    page = client.get(f"/disclosure/Y/office/e/{entry.pk}/").content.decode()
    assert 'role="alert"' in page and "138****1234" in page
    assert page.count("138****1234") == 1  # not the system's note and the alert saying it twice
    # a note from an approver who returned a draft is still shown
    entry = services.create_draft(actor=worker, community=world.community, section="residential",
                                  title="通知", body="周六停水。", period_start=dt.date(2026, 3, 1),
                                  period_end=dt.date(2026, 3, 31))
    services.submit(actor=worker, entry=entry)
    services.return_to_author(actor=world.users["admin"], entry=entry, note="请写明停水时段")
    assert "请写明停水时段" in client.get(f"/disclosure/Y/office/e/{entry.pk}/").content.decode()


def test_the_feed_says_which_entry_a_correction_corrects(world, key):
    import xml.etree.ElementTree as ET

    old = publish(world, title="原公告", body="金额 100 元")
    new = correct(world, old, title="更正公告", body="金额 120 元")
    atom = "{http://www.w3.org/2005/Atom}"
    root = ET.fromstring(Client().get("/disclosure/Y/feed.atom").content)
    summaries = {item.find(f"{atom}title").text: item.find(f"{atom}summary").text
                 for item in root.findall(f"{atom}entry")}
    assert f'href="http://testserver/disclosure/Y/e/{old.log_index}/"' in summaries["更正公告"]
    assert "金额 120 元" in summaries["更正公告"]
    assert "href=" not in summaries["原公告"] and new.log_index != old.log_index


def test_the_board_explains_why_the_log_counts_more_than_the_board(world, key):
    gone = publish(world, title="误发", body="误发的名单")
    services.withdraw(actor=world.users["admin"], entry=gone, reason="误含个人信息")
    page = Client().get("/disclosure/Y/").content.decode()
    facts = page[page.index('class="card log-facts"'):]
    assert re.search(r"<dd>2 <span", facts)  # one entry on the board, two leaves in the log
    assert "a withdrawal is an entry of the log too" in facts or "撤回也作为一条记录写入日志" in facts
