"""The public board (三务公开栏): no sign-in, published and withdrawn entries only.

Entries are made through the board's services (``linli.disclosure.services``); the log signs
with a key made by ``linli.transparency.keys.keygen`` in the test's tmp_path.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import xml.etree.ElementTree as ET

import pytest
from django.db import connection
from django.test import Client

from linli.disclosure import leaf, poster, public_selectors, services
from linli.disclosure.models import Entry
from linli.transparency import keys

ATOM = "{http://www.w3.org/2005/Atom}"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
SECRET = "ZQXJ-unpublished-marker"


@pytest.fixture
def key(settings, tmp_path):
    settings.LINLI_DISCLOSURE_KEY_FILE = str(tmp_path / "signing.key")
    settings.LINLI_DISCLOSURE_FILES_DIR = str(tmp_path / "files")
    keys.keygen("board.example.org", tmp_path / "signing.key")
    return tmp_path / "signing.key"


@pytest.fixture
def anon():
    return Client()


def publish(world, *, section="residential", title="居委会公告", body="本月议事会决定：更换3号院路灯。",
            start=dt.date(2026, 3, 1), end=dt.date(2026, 3, 31), files=()):
    return services.publish_as_server(community=world.community, section=section, title=title, body=body,
                                      period_start=start, period_end=end, files=files)


def drafts(world):
    """A draft, a submitted and a held entry, each carrying the marker word."""
    worker = world.users["worker"]
    draft = services.create_draft(actor=worker, community=world.community, section="residential",
                                  title=f"草稿 {SECRET}", body=f"正文 {SECRET}", period_start=dt.date(2026, 3, 1),
                                  period_end=dt.date(2026, 3, 31))
    submitted = services.create_draft(actor=worker, community=world.community, section="finance",
                                      title=f"待批 {SECRET}", body=f"正文 {SECRET}",
                                      period_start=dt.date(2026, 3, 1), period_end=dt.date(2026, 3, 31))
    services.submit(actor=worker, entry=submitted)
    held = services.create_draft(actor=worker, community=world.community, section="residential",
                                 title=f"含号码 {SECRET}", body="联系电话 13912345678",
                                 period_start=dt.date(2026, 3, 1), period_end=dt.date(2026, 3, 31))
    services.submit(actor=worker, entry=held)
    states = set(Entry.objects.filter(title__contains=SECRET).values_list("state", flat=True))
    assert states == {"draft", "submitted", "held"}
    return draft, submitted, held


def url(world, *parts):
    return "/disclosure/" + world.community.code + "/" + "".join(parts)


# --- the board ------------------------------------------------------------------------------------


def test_board_lists_published_entries_newest_first_without_sign_in(world, key, anon):
    first = publish(world, title="第一条公告")
    second = publish(world, section="party", title="第二条公告")
    response = anon.get(url(world))
    assert response.status_code == 200
    page = response.content.decode()
    assert page.index("第二条公告") < page.index("第一条公告")
    assert f'href="/disclosure/Y/e/{first.log_index}/"' in page
    assert f'href="/disclosure/Y/e/{second.log_index}/"' in page
    assert keys.fingerprint() in page
    assert 'type="application/atom+xml" href="/disclosure/Y/feed.atom"' in page


def test_unknown_community_and_entry_are_404(world, key, anon):
    entry = publish(world)
    assert anon.get("/disclosure/NOPE/").status_code == 404
    assert anon.get("/disclosure/NOPE/feed.atom").status_code == 404
    assert anon.get(f"/disclosure/NOPE/e/{entry.log_index}/").status_code == 404
    assert anon.get(url(world, "e/999/")).status_code == 404
    assert anon.get(url(world, "e/999/content")).status_code == 404
    assert anon.get(url(world, "e/999/poster/")).status_code == 404
    # Another community's board does not show Y's entry at the same index.
    assert anon.get(f"/disclosure/Z/e/{entry.log_index}/").status_code == 404


def test_sections_filter(world, key, anon):
    publish(world, section="party", title="支部主题党日")
    publish(world, section="finance", title="三月收支表", body="收入 100.00")
    page = anon.get(url(world), {"section": "party"}).content.decode()
    assert "支部主题党日" in page and "三月收支表" not in page
    assert 'aria-current="page">' in page
    page = anon.get(url(world), {"section": "finance"}).content.decode()
    assert "三月收支表" in page and "支部主题党日" not in page
    page = anon.get(url(world), {"section": "bogus"}).content.decode()  # ignored: everything
    assert "三月收支表" in page and "支部主题党日" in page


def test_period_filter_by_month_quarter_and_year(world, key, anon):
    publish(world, title="一月公告", start=dt.date(2026, 1, 1), end=dt.date(2026, 1, 31))
    publish(world, title="五月公告", start=dt.date(2026, 5, 1), end=dt.date(2026, 5, 31))
    publish(world, title="去年公告", start=dt.date(2025, 11, 1), end=dt.date(2025, 11, 30))

    def titles(period):
        page = anon.get(url(world), {"period": period}).content.decode()
        return {t for t in ("一月公告", "五月公告", "去年公告") if t in page}

    assert titles("2026-01") == {"一月公告"}
    assert titles("2026-Q2") == {"五月公告"}
    assert titles("2026") == {"一月公告", "五月公告"}
    assert titles("2025") == {"去年公告"}
    assert titles("2026-13") == {"一月公告", "五月公告", "去年公告"}  # not a period: ignored
    page = anon.get(url(world)).content.decode()
    assert 'value="2026-Q2"' in page and 'value="2025-11"' in page


def test_parse_period():
    assert public_selectors.parse_period("2024-Q1").end == dt.date(2024, 3, 31)
    assert public_selectors.parse_period("2024-02").end == dt.date(2024, 2, 29)
    assert public_selectors.parse_period("2024").start == dt.date(2024, 1, 1)
    for bad in ("", "24", "2024-Q5", "2024-00", "2024-1", "abcd", "2024-Q"):
        assert public_selectors.parse_period(bad) is None


def test_search_titles_and_bodies(world, key, anon):
    publish(world, title="电梯维修公示", body="二号楼电梯更换钢丝绳。")
    publish(world, title="绿化公告", body="院内补种桂花树。")
    page = anon.get(url(world), {"q": "桂花"}).content.decode()
    assert "绿化公告" in page and "电梯维修公示" not in page
    page = anon.get(url(world), {"q": "电梯"}).content.decode()
    assert "电梯维修公示" in page and "绿化公告" not in page
    page = anon.get(url(world), {"q": "没有这个词"}).content.decode()
    assert "No entry matches" in page or "没有" in page


def test_board_is_paginated(world, key, anon):
    for n in range(23):
        publish(world, title=f"公告第{n:02d}号")
    page1 = anon.get(url(world)).content.decode()
    assert "公告第22号" in page1 and "公告第02号" not in page1
    assert 'rel="next"' in page1
    page2 = anon.get(url(world), {"page": 2}).content.decode()
    assert "公告第02号" in page2 and "公告第22号" not in page2


def test_overdue_duties_are_listed(world, key, anon):
    from django.utils import timezone

    from linli.disclosure import duties

    today = timezone.localdate()
    services.install_default_duties(community=world.community, since=dt.date(today.year - 2, 1, 1))
    overdue = duties.overdue(world.community, today=today)
    monthly = [p for p in overdue if p.duty.code == "finance-statement"]
    assert len(monthly) > 6
    page = anon.get(url(world)).content.decode()
    assert 'id="overdue-h"' in page

    def line(page):
        title = str(monthly[0].duty.title)
        return re.search(r"<li><strong>" + re.escape(title) + r"</strong>: ([^<]*)", page).group(1)

    assert line(page).startswith(f"{monthly[0].label}, {monthly[1].label}")  # newest first
    assert monthly[-1].label not in line(page)  # the oldest are counted, not named
    assert str(len(monthly) - 6) in line(page)
    # Fulfilled: a published statement for the newest missing month takes it off the list.
    services.publish_as_server(community=world.community, section="finance", title="月度收支表", body="收入 0",
                               period_start=monthly[0].start, period_end=monthly[0].end, duty=monthly[0].duty)
    page = anon.get(url(world)).content.decode()
    assert line(page).startswith(f"{monthly[1].label}, ")


# --- nothing unpublished leaks --------------------------------------------------------------------


def test_drafts_never_appear_anywhere(world, key, anon):
    published = publish(world, title="已发布公告")
    draft, submitted, held = drafts(world)
    correction = services.start_correction(actor=world.users["worker"], entry=published)
    services.update_draft(actor=world.users["worker"], entry=correction, title=f"更正稿 {SECRET}", body="改",
                          period_start=correction.period_start, period_end=correction.period_end)
    assert 'class="correction"' not in anon.get(url(world)).content.decode()
    # A search for the drafts' words finds nothing (the page echoes the words searched for).
    for q in (SECRET, "正文", "待批"):
        page = anon.get(url(world), {"q": q}).content.decode()
        assert 'class="entries"' not in page and "草稿" not in page
    pages = [
        anon.get(url(world)),
        anon.get(url(world, "feed.atom")),
        anon.get(url(world, f"e/{published.log_index}/")),
        anon.get(url(world, f"e/{published.log_index}/poster/")),
    ]
    for response in pages:
        assert response.status_code == 200
        assert SECRET not in response.content.decode()
    # Drafts have no log index; their database ids are no entry URL either.
    for entry in (draft, submitted, held):
        assert entry.log_index is None
        for path in (f"e/{entry.pk}/", f"e/{entry.pk}/content", f"e/{entry.pk}/poster/"):
            response = anon.get(url(world, path))
            assert response.status_code in (404, 200)
            assert SECRET not in response.content.decode()
    assert not any(SECRET in e.title for e in public_selectors.board(world.community, q=SECRET))


# --- one entry ------------------------------------------------------------------------------------


def test_entry_page(world, key, anon):
    entry = publish(world, title="议事会决定<script>", body="第一行\n第二行 <b>粗</b>",
                    files=[PDF])
    response = anon.get(url(world, f"e/{entry.log_index}/"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "议事会决定&lt;script&gt;" in page and "<script>" not in page.split("</head>")[1].split("<script")[0]
    assert "第一行<br>第二行 &lt;b&gt;粗&lt;/b&gt;" in page
    assert "2026-03-01" in page and "2026-03-31" in page
    attachment = entry.attachments.get()
    assert attachment.sha256 in page and "application/pdf" in page
    assert f"/disclosure/Y/e/{entry.log_index}/a/{attachment.sha256}" in page
    assert f"/disclosure/Y/e/{entry.log_index}/content" in page
    assert "check-ok" in page and "check-failed" not in page
    assert keys.fingerprint() in page
    assert f"/disclosure/Y/e/{entry.log_index}/poster/" in page


def test_entry_page_names_roles_never_people(world, key, anon):
    worker, admin = world.users["worker"], world.users["admin"]
    entry = services.create_draft(actor=worker, community=world.community, section="residential",
                                  title="楼栋长名单", body="名单见附件。", period_start=dt.date(2026, 3, 1),
                                  period_end=dt.date(2026, 3, 31))
    services.submit(actor=worker, entry=entry)
    entry = services.publish(actor=admin, entry=entry)
    page = anon.get(url(world, f"e/{entry.log_index}/")).content.decode()
    assert "community worker" in page or "社区工作者" in page
    assert "community administrator" in page or "社区管理员" in page
    assert ">worker<" not in page and ">admin<" not in page


def test_finance_body_is_fixed_width(world, key, anon):
    entry = publish(world, section="finance", title="三月收支", body="科目      金额\n银行存款  1,000.00")
    page = anon.get(url(world, f"e/{entry.log_index}/")).content.decode()
    assert '<pre class="body table">科目      金额\n银行存款  1,000.00</pre>' in page


def test_content_bytes_are_exactly_the_hashed_ones(world, key, anon):
    entry = publish(world, title="公告", body="正文")
    response = anon.get(url(world, f"e/{entry.log_index}/content"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.content == leaf.content_bytes(entry)
    stored = json.loads(bytes(__import__("linli.transparency.selectors", fromlist=["leaf"]).leaf(
        world.community, entry.log_index)))
    assert hashlib.sha256(response.content).hexdigest() == stored["content_sha256"]
    assert "max-age=3600" in response["Cache-Control"] and "public" in response["Cache-Control"]


def test_attachment_download(world, key, anon):
    entry = publish(world, files=[PDF])
    attachment = entry.attachments.get()
    response = anon.get(url(world, f"e/{entry.log_index}/a/{attachment.sha256}"))
    assert response.status_code == 200
    assert response.content == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("inline; filename*=UTF-8''")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert anon.get(url(world, f"e/{entry.log_index}/a/{'0' * 64}")).status_code == 404
    assert anon.get(url(world, f"e/{entry.log_index}/a/xyz")).status_code == 404


def test_correction_links_both_ways(world, key, anon):
    worker, admin = world.users["worker"], world.users["admin"]
    old = publish(world, title="原公告", body="金额 100 元")
    draft = services.start_correction(actor=worker, entry=old)
    services.update_draft(actor=worker, entry=draft, title="更正公告", body="金额 120 元",
                          period_start=draft.period_start, period_end=draft.period_end)
    services.submit(actor=worker, entry=draft)
    new = services.publish(actor=admin, entry=draft)
    old_page = anon.get(url(world, f"e/{old.log_index}/")).content.decode()
    new_page = anon.get(url(world, f"e/{new.log_index}/")).content.decode()
    assert f'href="/disclosure/Y/e/{new.log_index}/"' in old_page and "更正公告" in old_page
    assert f'href="/disclosure/Y/e/{old.log_index}/"' in new_page and "原公告" in new_page
    board = anon.get(url(world)).content.decode()
    assert "原公告" in board and "更正公告" in board
    assert f"Corrects entry {old.log_index}" in board or f"更正第 {old.log_index} 条" in board
    assert f"Corrected by entry {new.log_index}" in board or f"已由第 {new.log_index} 条更正" in board


# --- withdrawal -----------------------------------------------------------------------------------


def test_withdrawn_entry_is_a_tombstone(world, key, anon):
    entry = publish(world, title="误发名单", body="某某某 住3栋", files=[PDF])
    sha = entry.attachments.get().sha256
    entry = services.withdraw(actor=world.users["admin"], entry=entry, reason="误含个人信息")
    response = anon.get(url(world, f"e/{entry.log_index}/"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "误含个人信息" in page
    assert "误发名单" not in page and "某某某" not in page and sha not in page
    assert "tombstone" in page and "check-ok" in page  # the old leaf still verifies
    assert anon.get(url(world, f"e/{entry.log_index}/content")).status_code == 410
    assert anon.get(url(world, f"e/{entry.log_index}/a/{sha}")).status_code == 410
    # The withdrawal's own index leads to the tombstone.
    response = anon.get(url(world, f"e/{entry.withdrawal_log_index}/"))
    assert response.status_code == 302 and response["Location"].endswith(f"/e/{entry.log_index}/")
    board = anon.get(url(world)).content.decode()
    assert "误发名单" not in board and f"/disclosure/Y/e/{entry.log_index}/" in board
    assert "误发名单" not in anon.get(url(world), {"q": "误发"}).content.decode()
    poster_page = anon.get(url(world, f"e/{entry.log_index}/poster/")).content.decode()
    assert "误发名单" not in poster_page and "误含个人信息" in poster_page


# --- tampering ------------------------------------------------------------------------------------


def test_tampered_entry_shows_the_failure(world, key, anon):
    entry = publish(world, title="收支公告", body="支出 500 元")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE disclosure_entry SET body = %s WHERE id = %s", ["支出 50 元", entry.pk])
    page = anon.get(url(world, f"e/{entry.log_index}/")).content.decode()
    assert "check-failed" in page and 'role="alert"' in page
    assert "differs from what the log recorded" in page or "与日志记录" in page
    assert "check-ok" not in page
    headings = re.findall(r"<h([1-6])", page)
    assert headings[0] == "1"  # the warning comes first without breaking the headings' order


def test_tampered_header_shows_the_failure(world, key, anon):
    entry = publish(world, title="收支公告", body="支出 500 元")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE disclosure_entry SET period_end = %s WHERE id = %s", ["2026-04-30", entry.pk])
    page = anon.get(url(world, f"e/{entry.log_index}/")).content.decode()
    assert "check-failed" in page


# --- the feed -------------------------------------------------------------------------------------


def test_feed_is_valid_atom(world, key, anon):
    kept = publish(world, title="公告甲", body="第一行\n第二行")
    gone = publish(world, title="公告乙", body="误发内容")
    services.withdraw(actor=world.users["admin"], entry=gone, reason="依法撤回")
    drafts(world)
    response = anon.get(url(world, "feed.atom"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    root = ET.fromstring(response.content)
    assert root.tag == f"{ATOM}feed"
    for name in ("id", "title", "updated"):
        assert root.find(f"{ATOM}{name}").text
    assert root.find(f"{ATOM}author/{ATOM}name").text == world.community.name
    assert root.find(f"{ATOM}link[@rel='self']") is not None
    entries = root.findall(f"{ATOM}entry")
    assert len(entries) == 2
    for item in entries:
        for name in ("id", "title", "updated"):
            assert item.find(f"{ATOM}{name}").text
        assert item.find(f"{ATOM}link[@rel='alternate']").get("href").startswith("http://testserver/disclosure/Y/e/")
        assert item.find(f"{ATOM}author/{ATOM}name").text
    text = response.content.decode()
    assert "公告甲" in text and "公告乙" not in text and "误发内容" not in text and "依法撤回" in text
    assert SECRET not in text
    ids = {item.find(f"{ATOM}id").text for item in entries}
    assert f"http://testserver/disclosure/Y/e/{kept.log_index}/" in ids


# --- the poster -----------------------------------------------------------------------------------


def _svg_matrix(svg: str) -> list[list[bool]]:
    """Read back the dark modules of a segno SVG path (M/m moves, h runs; y at module + 0.5)."""
    size = int(re.search(r'viewBox="0 0 (\d+) \d+"', svg).group(1))
    path = re.search(r'<path[^>]*stroke="#000"[^>]* d="([^"]+)"', svg).group(1)  # not the light background
    grid = [[False] * size for _ in range(size)]
    x = y = 0.0
    for op, a, b in re.findall(r"([Mmh])(-?[\d.]+)(?: (-?[\d.]+))?", path):
        if op == "M":
            x, y = float(a), float(b)
        elif op == "m":
            x, y = x + float(a), y + float(b)
        else:
            for i in range(int(float(a))):
                grid[int(y)][int(x) + i] = True
            x += float(a)
    return grid


def test_poster_has_a_qr_code_of_the_entry_url(world, key, anon):
    entry = publish(world, title="停水通知", body="周六上午停水。")
    response = anon.get(url(world, f"e/{entry.log_index}/poster/"))
    assert response.status_code == 200
    page = response.content.decode()
    entry_url = f"http://testserver/disclosure/Y/e/{entry.log_index}/"
    svg = re.search(r"<svg.*?</svg>", page, re.S).group(0)
    code = poster.qr_code(entry_url)
    border = 4
    expected = [[bool(v) for v in row] for row in code.matrix]
    read = _svg_matrix(svg)
    assert [row[border:-border] for row in read[border:-border]] == expected
    assert "停水通知" in page and entry_url in page
    assert keys.fingerprint() in page
    assert '<html lang="' in page
    assert str(entry.log_index) in page


def test_poster_shortens_a_long_body():
    text = poster.poster_text("一行字\n" * 100)
    assert text.shortened and text.body.endswith("…") and len(text.body) <= poster.POSTER_BODY_LIMIT + 2
    assert poster.poster_text("短文").shortened is False


def test_poster_css_is_a4(world):
    from django.contrib.staticfiles import finders

    with open(finders.find("disclosure/poster.css"), encoding="utf-8") as f:
        css = f.read()
    assert "@page { size: A4" in css


# --- accessibility --------------------------------------------------------------------------------


def test_large_text_mode_and_lang(world, key, anon):
    entry = publish(world)
    anon.cookies["linli_text"] = "large"
    for path in ("", f"e/{entry.log_index}/"):
        page = anon.get(url(world, path)).content.decode()
        assert re.search(r'<html lang="[a-zA-Z-]+" class="text-large">', page)
        headings = re.findall(r"<h([1-6])", page)
        assert headings[0] == "1" and headings.count("1") == 1
        assert all(int(b) - int(a) <= 1 for a, b in zip(headings, headings[1:]))


def test_witnessed_by(world, key, anon):
    from linli.core import signednote
    from linli.transparency import cosign, selectors

    entry = publish(world)
    witness = signednote.generate_signer("street.example.org", alg=signednote.ALG_COSIGNATURE_V1)
    cosign.add_witness(actor=None, community=world.community, name="street.example.org",
                       verifier_key=str(witness.verifier))
    checkpoint = selectors.latest_checkpoint(world.community)
    text = checkpoint.note[: checkpoint.note.index("\n\n") + 1]
    signature = signednote.cosign(text, witness, timestamp=int(dt.datetime(2026, 4, 1, tzinfo=dt.UTC).timestamp()))
    cosign.accept_cosignature(community=world.community, line=signature.line())
    page = anon.get(url(world)).content.decode()
    assert "street.example.org" in page
    page = anon.get(url(world, f"e/{entry.log_index}/")).content.decode()
    assert "street.example.org" in page


def test_board_stays_readable_without_a_signing_key(world, key, anon, settings, tmp_path):
    entry = publish(world, title="停电通知")
    settings.LINLI_DISCLOSURE_KEY_FILE = str(tmp_path / "missing.key")
    assert anon.get(url(world)).status_code == 200
    response = anon.get(url(world, f"e/{entry.log_index}/"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "停电通知" in page and "check-failed" not in page and "check-ok" not in page
    assert anon.get(url(world, f"e/{entry.log_index}/poster/")).status_code == 200
    assert anon.get(url(world, "feed.atom")).status_code == 200


def test_malformed_requests_are_answered_not_crashed(world, key, anon):
    entry = publish(world)
    huge = 2**70
    for path in (f"e/{huge}/", f"e/{huge}/content", f"e/{huge}/poster/", f"e/{huge}/a/{'a' * 64}"):
        assert anon.get(url(world, path)).status_code == 404
    assert anon.get(url(world), {"q": "路灯\x00", "page": "9999", "period": "x"}).status_code == 200
    assert anon.get(url(world), {"page": "abc"}).status_code == 200
    assert anon.post(url(world, f"e/{entry.log_index}/")).status_code in (403, 405)


def test_tampered_attachment_shows_the_failure(world, key, anon):
    from linli.disclosure import attachments

    entry = publish(world, files=[PDF])
    stored = attachments.files_dir() / entry.attachments.get().path
    stored.write_bytes(PDF.replace(b"Catalog", b"Catalogue"))
    page = anon.get(url(world, f"e/{entry.log_index}/")).content.decode()
    assert "check-failed" in page


def test_a_checkpoint_signed_by_another_key_shows_the_failure(world, key, anon, settings, tmp_path):
    entry = publish(world)
    other = tmp_path / "other.key"
    keys.keygen("board.example.org", other)  # same name, another key: the stored signature fails
    settings.LINLI_DISCLOSURE_KEY_FILE = str(other)
    page = anon.get(url(world, f"e/{entry.log_index}/")).content.decode()
    assert "check-failed" in page
