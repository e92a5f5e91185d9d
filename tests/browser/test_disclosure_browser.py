"""A resident checks a 三务公开 entry in their own browser (issue 9, "Done when").

Anonymous, on a phone, in Chinese: the resident opens the board, opens an entry and sees
"verified" computed by linli/static/disclosure/verify.js (WebCrypto); the same page in a browser
without WebCrypto (as on plain http) verifies with the vendored noble-ed25519 / noble-hashes.
Then the test tampers with the database behind Linli's back: first the stored body of the
entry (raw SQL), then, with the log's append-only trigger dropped for the moment, the stored leaf
rewritten to match the new body. After each, a reload shows the failure, naming the check that
failed (the content, then the inclusion in the signed log). axe finds no WCAG 2.1 AA violation
on the board and the entry page.

Screenshots: tests/artifacts/disclosure-*.png (git-ignored), to be looked at.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib
import json

import pytest
from django.db import connection
from django.utils import translation

from linli.disclosure import services
from linli.disclosure.models import Entry
from linli.transparency import keys
from linli.transparency.models import Leaf
from tests.browser.axe import describe, require_axe, violations
from tests.browser.conftest import ARTIFACTS

pytestmark = pytest.mark.browser

PHONE = dict(viewport={"width": 360, "height": 740}, device_scale_factor=2, is_mobile=True, has_touch=True)
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
KEY_NAME = "board.example.org"
# Browsers without WebCrypto: crypto.subtle is missing on pages served over plain http.
NO_WEBCRYPTO = "Object.defineProperty(Crypto.prototype, 'subtle', {get: function () { return undefined; }, configurable: true});"

# The sentences of disclosure/_verify.html, as msgids ({…} filled in by verify.js).
VERIFIED = ("Verified: this record is entry {index} of the community's public log (size {size}), signed by {key}. "
            "Key fingerprint {fingerprint}: compare it with the one on the paper notice.")
FAIL_CONTENT = ("Not verified: the text of this record differs from what the public log recorded for entry {index}. "
                "It may have been changed after publication.")
VERIFIED_WITHDRAWN = ("Verified: entry {index} is in the community's public log (size {size}), signed by {key}. "
                      "Its content was withdrawn, so only the record's summary was checked. Key fingerprint {fingerprint}.")
FAIL_PROOF = ("Not verified: the signed log (size {size}) does not contain entry {index} as it was recorded. "
              "The log may have been changed.")


@pytest.fixture
def key(settings, tmp_path):
    settings.LINLI_DISCLOSURE_KEY_FILE = str(tmp_path / "signing.key")
    settings.LINLI_DISCLOSURE_FILES_DIR = str(tmp_path / "files")
    keys.keygen(KEY_NAME, tmp_path / "signing.key")
    return tmp_path / "signing.key"


@pytest.fixture
def phone(browser):
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", **PHONE)
    context.set_default_timeout(15_000)
    yield context
    context.close()


def _publish(world):
    """Three entries on Y's board; the middle one, with a PDF, is the one the resident checks."""
    common = dict(community=world.community, period_start=dt.date(2026, 10, 1), period_end=dt.date(2026, 10, 31))
    services.publish_as_server(section="party", title="十月支部主题党日", body="全体党员参加社区清洁活动。", **common)
    entry = services.publish_as_server(section="residential", title="三号院路灯更换", files=[PDF],
                                       body="居民议事会决定更换三号院的六盏路灯，费用由公共收益支出。", **common)
    services.publish_as_server(section="residential", title="十一月议事会通知", body="议事会于下月第一个周六召开。", **common)
    return entry


def _sentence(page, msgid: str, **values) -> str:
    """The sentence verify.js should show: msgid in the page's language, {…} filled in."""
    with translation.override(page.evaluate("document.documentElement.lang")):
        text = translation.gettext(msgid)
    for name, value in values.items():
        text = text.replace("{" + name + "}", str(value))
    return text


def _verdict(page) -> tuple[str, str, str | None]:
    block = page.locator("[data-verify]")
    page.wait_for_function(
        "() => ['ok', 'failed', 'unknown'].includes(document.querySelector('[data-verify]').dataset.verifyState)")
    status = block.locator("[role=status]")
    return block.get_attribute("data-verify-state"), status.inner_text().strip(), block.get_attribute("data-verify-step")


def _no_axe_violations(page, name):
    found = violations(page)
    assert not found, f"{name}: axe found\n{describe(found)}"


def _tamper_leaf(index: int, new_data: bytes) -> None:
    """Rewrite a stored leaf behind Linli's back: drop the append-only trigger that refuses it,
    update, and put the trigger back (the schema outlives this test)."""
    triggers = importlib.import_module("linli.transparency.migrations.0002_append_only")
    vendor = connection.vendor
    if vendor == "sqlite":
        name, drop = "transparency_leaf_no_update", "DROP TRIGGER transparency_leaf_no_update"
    else:
        name = "transparency_leaf_append_only"
        drop = "DROP TRIGGER transparency_leaf_append_only ON transparency_leaf"
    create = [s for s in triggers.statements(vendor) if s.startswith(f"CREATE TRIGGER {name} ")]
    assert len(create) == 1
    with connection.cursor() as cursor:
        cursor.execute(drop)
        try:
            cursor.execute(f"UPDATE {Leaf._meta.db_table} SET data = %s WHERE \"index\" = %s", [new_data, index])
        finally:
            cursor.execute(create[0])


def test_resident_sees_verified_and_then_the_tampering_named(transactional_db, live_server, world, browser,
                                                             phone, key):
    entry = _publish(world)
    base = live_server.url
    page = phone.new_page()
    requests = []
    page.on("request", lambda request: requests.append(request.url))

    # The board, anonymous; the resident opens the entry from it.
    page.goto(f"{base}/disclosure/{world.community.code}/")
    page.screenshot(path=str(ARTIFACTS / "disclosure-01-board.png"), full_page=True)
    with page.expect_navigation():
        page.click(f"a[href='/disclosure/{world.community.code}/e/{entry.log_index}/']")
    state, text, _ = _verdict(page)
    page.screenshot(path=str(ARTIFACTS / "disclosure-02-entry-verified.png"), full_page=True)
    size = int(page.locator("[data-verify-detail=size] dd").inner_text())
    assert size == 3
    assert (state, text) == ("ok", _sentence(page, VERIFIED, index=entry.log_index, size=size, key=KEY_NAME,
                                             fingerprint=keys.fingerprint()))
    assert page.evaluate("document.documentElement.scrollWidth") <= 360, "wider than the phone"
    # WebCrypto did the work here: the vendored libraries were not even fetched.
    assert not [u for u in requests if "/static/vendor/noble-" in u]
    # The content, the attachment, the leaf, the checkpoint and the proof were all fetched.
    for part in ("/content", "/a/", "/log/entries?", "/log/checkpoint", "/log/proof/inclusion?"):
        assert [u for u in requests if part in u], part

    # A browser without WebCrypto (plain http) verifies the same with the vendored libraries.
    bare = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", **PHONE)
    try:
        bare.add_init_script(NO_WEBCRYPTO)
        other = bare.new_page()
        fetched = []
        other.on("request", lambda request: fetched.append(request.url))
        other.goto(page.url)
        assert other.evaluate("typeof crypto.subtle") == "undefined"
        state, text, _ = _verdict(other)
        assert state == "ok" and text == _sentence(other, VERIFIED, index=entry.log_index, size=3, key=KEY_NAME,
                                                   fingerprint=keys.fingerprint())
        assert [u for u in fetched if u.endswith("/static/vendor/noble-ed25519/index.js")]
        assert [u for u in fetched if u.endswith("/static/vendor/noble-hashes/sha2.js")]
    finally:
        bare.close()

    # Behind Linli's back: the stored body is edited with raw SQL. The reload names the content.
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {Entry._meta.db_table} SET body = %s WHERE id = %s",
                       ["居民议事会决定更换三号院的九盏路灯，费用由公共收益支出。", entry.pk])
    page.reload()
    state, text, step = _verdict(page)
    page.screenshot(path=str(ARTIFACTS / "disclosure-03-entry-content-changed.png"), full_page=True)
    assert (state, step) == ("failed", "content")
    assert text == _sentence(page, FAIL_CONTENT, index=entry.log_index)

    # A more careful forger also rewrites the stored leaf to commit to the new body (the log's
    # trigger dropped for it). The content now matches the leaf, but not the signed log.
    stored = Leaf.objects.get(index=entry.log_index).data
    header = json.loads(bytes(stored))
    content = page.evaluate("fetch(document.querySelector('[data-verify]').dataset.content, {cache: 'no-store'})"
                            ".then(r => r.arrayBuffer()).then(b => Array.from(new Uint8Array(b)))")
    header["content_sha256"] = hashlib.sha256(bytes(content)).hexdigest()
    _tamper_leaf(entry.log_index, json.dumps(header, sort_keys=True, separators=(",", ":"),
                                             ensure_ascii=False).encode())
    page.reload()
    state, text, step = _verdict(page)
    page.screenshot(path=str(ARTIFACTS / "disclosure-04-entry-leaf-rewritten.png"), full_page=True)
    assert (state, step) == ("failed", "proof")
    assert text == _sentence(page, FAIL_PROOF, index=entry.log_index, size=3)


def test_board_and_entry_page_pass_axe(transactional_db, live_server, world, browser, phone, key):
    require_axe()
    entry = _publish(world)
    page = phone.new_page()
    page.goto(f"{live_server.url}/disclosure/{world.community.code}/")
    _no_axe_violations(page, "board")
    page.goto(f"{live_server.url}/disclosure/{world.community.code}/e/{entry.log_index}/")
    state, _, _ = _verdict(page)
    assert state == "ok"
    page.click(".verify details summary")  # the own-tools instructions, opened
    page.screenshot(path=str(ARTIFACTS / "disclosure-05-entry-own-tools.png"), full_page=True)
    _no_axe_violations(page, "entry")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360, "wider than the phone"

    # A withdrawn entry: its words are gone, its leaf still verifies, and the page says what was checked.
    withdrawn = services.withdraw(actor=world.users["admin"], entry=entry, reason="误含个人信息")
    page.goto(f"{live_server.url}/disclosure/{world.community.code}/e/{withdrawn.log_index}/")
    state, text, _ = _verdict(page)
    page.screenshot(path=str(ARTIFACTS / "disclosure-06-entry-withdrawn.png"), full_page=True)
    assert state == "ok" and text == _sentence(page, VERIFIED_WITHDRAWN, index=withdrawn.log_index, size=4,
                                               key=KEY_NAME, fingerprint=keys.fingerprint())
    _no_axe_violations(page, "withdrawn entry")
