"""Every role of the test world against every page and URL of the books, the board's office,
the public board and the log's HTTP interface: the status each gets is what docs/roles.md
promises ("Books", "The public affairs board"), and no POST a role may not make changes
anything (every row of the books, the board, the log, the event log and the notifications, and
the stored files, compared before and after).

The tables below are docs/roles.md written as data: a change of who may do what changes the
docs and these tables together.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import re
from pathlib import Path

import pytest
from django.apps import apps
from django.test import Client

from linli.books import services as books
from linli.books.services import LineInput
from linli.core.models import Event
from linli.disclosure import services as board
from linli.transparency import keys

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
MARCH = (dt.date(2026, 3, 1), dt.date(2026, 3, 31))
D = dt.date

# The accounts of the test world (tests/conftest.py) and None for a visitor who is not signed in.
ROLES = ["admin", "worker", "secretary", "grid1", "leader", "unit_staff", "supervisor", "resident", "z_worker",
         "nobody", None]
OFFICE = {"admin", "worker", "secretary"}
NO_OFFICE = {"grid1", "leader", "unit_staff", "resident", "nobody"}  # signed in, no office, no street


@pytest.fixture
def scene(world, settings, tmp_path):
    """The world with a signing key, the chart, three vouchers (posted with a receipt, draft,
    submitted) and four board entries (draft with a file, submitted, published with a file,
    withdrawn)."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.LINLI_DISCLOSURE_FILES_DIR = str(tmp_path / "files")
    settings.LINLI_DISCLOSURE_KEY_FILE = str(tmp_path / "signing.key")
    keys.keygen("board.example.org", tmp_path / "signing.key")
    u, y = world.users, world.community
    books.install_chart(actor=None, community=y)
    acc = books.accounts_by_code(y)

    def voucher(summary, amount, day=D(2026, 3, 2)):
        return books.voucher_create(actor=u["worker"], community=y, date=day, summary=summary,
                                    lines=[LineInput(acc["1002"], debit=amount), LineInput(acc["4501"], credit=amount)])

    posted = voucher("停车位公共收益", 50_000)
    books.attachment_add(actor=u["worker"], voucher=posted, name="收据.pdf", content=PDF)
    books.voucher_submit(actor=u["worker"], voucher=posted)
    posted = books.voucher_approve(actor=u["secretary"], voucher=posted)
    draft_v = voucher("广告位收益", 20_000)
    submitted_v = books.voucher_submit(actor=u["worker"], voucher=voucher("场地租金", 30_000))

    def entry(title, files=()):
        return board.create_draft(actor=u["worker"], community=y, section="residential", title=title,
                                  body="本月议事会决定更换路灯。", period_start=MARCH[0], period_end=MARCH[1],
                                  files=files)

    draft = entry("路灯更换（草稿）", files=[PDF])
    submitted = board.submit(actor=u["worker"], entry=entry("停水通知"))
    published = board.publish(actor=u["admin"], entry=board.submit(actor=u["worker"], entry=entry(
        "议事会决定", files=[PDF + b" "])))
    gone = board.publish(actor=u["admin"], entry=board.submit(actor=u["worker"], entry=entry("误发的名单")))
    gone = board.withdraw(actor=u["admin"], entry=gone, reason="误发，撤回")
    party = board.submit(actor=u["worker"], entry=board.create_draft(
        actor=u["worker"], community=y, section="party", title="支部党员大会记录", body="讨论发展对象。",
        period_start=MARCH[0], period_end=MARCH[1]))
    return {"world": world, "tmp": tmp_path, "acc": acc, "posted": posted, "draft_v": draft_v,
            "submitted_v": submitted_v, "receipt": posted.attachments.get(), "draft": draft,
            "submitted": submitted, "published": published, "gone": gone, "party": party,
            "draft_file": draft.attachments.get(), "published_file": published.attachments.get()}


def client_for(scene, who) -> Client:
    client = Client()
    if who is not None:
        client.force_login(scene["world"].users[who])
    return client


# --- who gets which status: docs/roles.md as a table ------------------------------------------------

def _status(group: str, who: str | None) -> int:
    """The status docs/roles.md promises ``who`` for a page of ``group``."""
    if group == "public":
        return 200
    if group == "gone":
        return 410
    if who is None:
        return 302  # staff pages: to the sign-in page
    if who in NO_OFFICE:
        return 403  # no books, no office: "– (403)"
    table = {
        # Books: the ledger for the office; statements for the office and the street.
        "ledger": {"admin": 200, "worker": 200, "secretary": 200, "supervisor": 403, "z_worker": 404},
        "prepare": {"admin": 200, "worker": 200, "secretary": 403, "supervisor": 403, "z_worker": 404},
        "statements": {"admin": 200, "worker": 200, "secretary": 200, "supervisor": 200, "z_worker": 404},
        # /books/: one community's staff go straight to it; the street chooses among its communities.
        "books_home": {"admin": 302, "worker": 302, "secretary": 302, "supervisor": 200, "z_worker": 302},
        # The board's office: the office writes, the street reads, another community finds nothing.
        "office_read": {"admin": 200, "worker": 200, "secretary": 200, "supervisor": 200, "z_worker": 404},
        "office_index": {"admin": 302, "worker": 302, "secretary": 302, "supervisor": 200, "z_worker": 302},
        "office_write": {"admin": 200, "worker": 200, "secretary": 200, "supervisor": 404, "z_worker": 404},
        "office_residential": {"admin": 200, "worker": 200, "secretary": 404, "supervisor": 404, "z_worker": 404},
        "office_admin": {"admin": 200, "worker": 404, "secretary": 404, "supervisor": 404, "z_worker": 404},
        # A draft's files: the office only ("no draft's files" for the street).
        "office_draft_file": {"admin": 200, "worker": 200, "secretary": 200, "supervisor": 404, "z_worker": 404},
    }
    return table[group][who]


def _urls(s) -> list[tuple[str, str]]:
    v, d = s["posted"], s["draft_v"]
    voucher = f"/books/Y/vouchers/{v.year}/{v.number}/"
    p, g, dr = s["published"], s["gone"], s["draft"]
    return [
        ("books_home", "/books/"),
        ("ledger", "/books/Y/"),
        ("ledger", "/books/Y/journal/"),
        ("ledger", "/books/Y/vouchers/"),
        ("ledger", voucher),
        ("ledger", f"{voucher}receipts/{s['receipt'].pk}"),
        ("ledger", "/books/Y/export/ledger.xlsx"),
        ("prepare", "/books/Y/vouchers/new/"),
        ("prepare", f"/books/Y/vouchers/{d.year}/{d.number}/edit/"),
        ("statements", "/books/Y/statement/?year=2026&month=3"),
        ("statements", "/books/Y/budget/?year=2026&month=3"),
        ("statements", "/books/Y/export/statement.xlsx?year=2026&month=3"),
        ("office_index", "/disclosure/office/"),
        ("office_read", "/disclosure/Y/office/"),
        ("office_read", "/disclosure/Y/office/?state=held"),
        ("office_read", "/disclosure/Y/office/duties/"),
        ("office_read", f"/disclosure/Y/office/e/{dr.pk}/"),
        ("office_read", f"/disclosure/Y/office/e/{s['submitted'].pk}/"),
        ("office_read", f"/disclosure/Y/office/e/{p.pk}/"),
        ("office_read", f"/disclosure/Y/office/e/{g.pk}/"),
        ("office_read", f"/disclosure/Y/office/e/{s['party'].pk}/"),
        ("office_read", f"/disclosure/Y/office/e/{p.pk}/file/{s['published_file'].pk}/"),
        ("office_draft_file", f"/disclosure/Y/office/e/{dr.pk}/file/{s['draft_file'].pk}/"),
        ("office_write", "/disclosure/Y/office/new/"),
        ("office_residential", f"/disclosure/Y/office/e/{dr.pk}/edit/"),
        ("office_admin", "/disclosure/Y/office/duties/new/"),
        ("public", "/disclosure/Y/"),
        ("public", "/disclosure/Y/?section=residential&period=2026-03&q=%E8%B7%AF%E7%81%AF"),
        ("public", "/disclosure/Y/feed.atom"),
        ("public", f"/disclosure/Y/e/{p.log_index}/"),
        ("public", f"/disclosure/Y/e/{p.log_index}/content"),
        ("public", f"/disclosure/Y/e/{p.log_index}/a/{s['published_file'].sha256}"),
        ("public", f"/disclosure/Y/e/{p.log_index}/poster/"),
        ("public", f"/disclosure/Y/e/{g.log_index}/"),
        ("gone", f"/disclosure/Y/e/{g.log_index}/content"),
        ("public", "/disclosure/Y/log/key"),
        ("public", "/disclosure/Y/log/checkpoint"),
        ("public", "/disclosure/Y/log/entries?start=0&end=3"),
        ("public", "/disclosure/Y/log/proof/inclusion?index=0&size=3"),
        ("public", "/disclosure/Y/log/proof/consistency?first=1&second=3"),
    ]


@pytest.mark.parametrize("who", ROLES, ids=[str(r) for r in ROLES])
def test_every_role_gets_what_docs_roles_promises(scene, who):
    client = client_for(scene, who)
    got, want = {}, {}
    for group, url in _urls(scene):
        got[url] = client.get(url).status_code
        want[url] = _status(group, who)
    assert got == want


@pytest.mark.parametrize("who", ROLES, ids=[str(r) for r in ROLES])
def test_a_draft_is_found_by_no_public_url(scene, who):
    """Drafts, submitted and held entries have no log index: no public URL reaches them."""
    client = client_for(scene, who)
    size = 3  # published, withdrawn, its withdrawal
    for index in (size, size + 1, 99):
        for tail in ("", "content", "poster/"):
            assert client.get(f"/disclosure/Y/e/{index}/{tail}").status_code == 404
    assert client.get("/disclosure/Y/log/entries?start=3&end=5").status_code in (400, 404)


# --- POSTs: what each role may not do changes nothing ---------------------------------------------

def _voucher_form(s, summary="购买办公用品"):
    acc = s["acc"]
    lines = [("5201", "12.00", ""), ("1002", "", "12.00")]
    data = {"date": "2026-03-05", "summary": summary, "then": "save", "lines-TOTAL_FORMS": "2",
            "lines-INITIAL_FORMS": "0", "lines-MIN_NUM_FORMS": "0", "lines-MAX_NUM_FORMS": "50"}
    for n, (code, debit, credit) in enumerate(lines):
        data.update({f"lines-{n}-account": str(acc[code].pk), f"lines-{n}-summary": "",
                     f"lines-{n}-debit": debit, f"lines-{n}-credit": credit})
    return data


def _vurl(v, tail=""):
    return f"/books/Y/vouchers/{v.year}/{v.number}/{tail}"


def _entry_form(**extra):
    return {"section": "residential", "title": "新的公告", "body": "周三停水。", "period_start": "2026-03-01",
            "period_end": "2026-03-31", **extra}


# name -> (the POST, the roles docs/roles.md lets make it)
POSTS = {
    "fund project": (lambda c, s: c.post("/books/Y/accounts", {"action": "fund_project", "name": "路灯改造"}),
                     {"admin"}),
    "voucher new": (lambda c, s: c.post("/books/Y/vouchers/new/", _voucher_form(s)), {"admin", "worker"}),
    "voucher edit": (lambda c, s: c.post(_vurl(s["draft_v"], "edit/"), _voucher_form(s, "改过的摘要")),
                     {"admin", "worker"}),
    "voucher submit": (lambda c, s: c.post(_vurl(s["draft_v"], "move"), {"move": "submit"}), {"admin", "worker"}),
    "voucher approve": (lambda c, s: c.post(_vurl(s["submitted_v"], "move"), {"move": "approve"}),
                        {"admin", "secretary"}),
    "voucher return": (lambda c, s: c.post(_vurl(s["submitted_v"], "move"), {"move": "return", "reason": "缺收据"}),
                       {"admin", "secretary"}),
    "voucher reverse": (lambda c, s: c.post(_vurl(s["posted"], "reverse"), {"date": "2026-03-20"}),
                        {"admin", "worker"}),
    "receipt upload": (lambda c, s: c.post(_vurl(s["draft_v"], "receipts"), {"file": io.BytesIO(PDF)}),
                       {"admin", "worker"}),
    "month close": (lambda c, s: c.post("/books/Y/statement/close", {"year": "2025", "month": "1"}), {"admin"}),
    "budget save": (lambda c, s: c.post("/books/Y/budget/save", {"year": "2026",
                                                                 f"budget-{s['acc']['5102'].pk}": "1000"}),
                    {"admin"}),
    "entry new": (lambda c, s: c.post("/disclosure/Y/office/new/", _entry_form()), {"admin", "worker"}),
    "party entry new": (lambda c, s: c.post("/disclosure/Y/office/new/", _entry_form(section="party")),
                        {"admin", "worker", "secretary"}),
    "party publish": (lambda c, s: c.post(f"/disclosure/Y/office/e/{s['party'].pk}/move/publish/"), {"secretary"}),
    "party return": (lambda c, s: c.post(f"/disclosure/Y/office/e/{s['party'].pk}/move/return/",
                                         {"note": "请补充出席人数"}), {"secretary"}),
    "entry edit": (lambda c, s: c.post(f"/disclosure/Y/office/e/{s['draft'].pk}/edit/", _entry_form(title="改")),
                   {"admin", "worker"}),
    "entry submit": (lambda c, s: c.post(f"/disclosure/Y/office/e/{s['draft'].pk}/move/submit/"),
                     {"admin", "worker"}),
    "entry publish": (lambda c, s: c.post(f"/disclosure/Y/office/e/{s['submitted'].pk}/move/publish/"), {"admin"}),
    "entry return": (lambda c, s: c.post(f"/disclosure/Y/office/e/{s['submitted'].pk}/move/return/",
                                         {"note": "请补充时间"}), {"admin"}),
    "entry withdraw": (lambda c, s: c.post(f"/disclosure/Y/office/e/{s['published'].pk}/move/withdraw/",
                                           {"reason": "误发", "confirm": "on"}), {"admin"}),
    "entry correct": (lambda c, s: c.post(f"/disclosure/Y/office/e/{s['published'].pk}/correct/"),
                      {"admin", "worker"}),
    "duties install": (lambda c, s: c.post("/disclosure/Y/office/duties/"), {"admin"}),
    "duty new": (lambda c, s: c.post("/disclosure/Y/office/duties/new/", {
        "code": "notices", "section": "residential", "title": "每月通知", "frequency": "monthly",
        "days_allowed": "10", "since": "2026-01-01", "active": "on"}), {"admin"}),
    "generate": (lambda c, s: c.post("/disclosure/Y/office/generate/", {"kind": "finance", "month": "2026-03"}),
                 {"admin", "worker"}),
    "cosignature": (lambda c, s: c.post("/disclosure/Y/log/cosignature", data=b"\xe2\x80\x94 street abc=\n",
                                        content_type="text/plain"), set()),
}


def _snapshot(s) -> dict:
    """Every row of the books, the board, the log, the event log and the notifications, and the
    names of the stored files."""
    state = {}
    for label in ("books", "disclosure", "transparency"):
        for model in apps.get_app_config(label).get_models():
            state[model._meta.label] = list(model.objects.order_by("pk").values())
    state["events"] = list(Event.objects.order_by("pk").values())
    notification = apps.get_model("notify", "Notification")
    state["notifications"] = list(notification.objects.order_by("pk").values())
    root = Path(s["tmp"])
    state["files"] = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
    return state


@pytest.mark.parametrize("who", ROLES, ids=[str(r) for r in ROLES])
def test_posts_a_role_may_not_make_change_nothing(scene, who):
    client = client_for(scene, who)
    changed = {}
    for name, (post, allowed) in POSTS.items():
        if who in allowed:
            continue
        before = _snapshot(scene)
        response = post(client, scene)
        after = _snapshot(scene)
        if before != after:
            changed[name] = sorted(k for k in before if before[k] != after[k])
        assert response.status_code in (200, 302, 400, 403, 404), (name, response.status_code)
        if who is None and name != "cosignature":
            assert response.status_code == 302 and "login" in response["Location"], name
    assert changed == {}


ALLOWED = [(name, who) for name, (_post, allowed) in POSTS.items() for who in sorted(allowed)]


@pytest.mark.parametrize("name, who", ALLOWED, ids=[f"{n}-{w}" for n, w in ALLOWED])
def test_the_posts_work_for_the_roles_allowed(scene, name, who):
    """The other side of the table: the same POST by each role allowed does change something
    (so the refusals above are refusals, not broken requests)."""
    post, _allowed = POSTS[name]
    before = _snapshot(scene)
    response = post(client_for(scene, who), scene)
    assert response.status_code == 302, response.status_code
    assert _snapshot(scene) != before


# --- the crawl: every link a role is shown opens for that role -----------------------------------

HREF = re.compile(r'''href="(/(?:books|disclosure)/[^"#]*)"''')
STARTS = {"office": ["/books/", "/books/Y/", "/disclosure/office/", "/disclosure/Y/office/", "/disclosure/Y/"],
          "street": ["/books/", "/books/Y/statement/", "/disclosure/office/", "/disclosure/Y/office/",
                     "/disclosure/Y/"],
          "public": ["/disclosure/Y/"]}


def _crawl(client, starts, limit=250) -> dict[str, int]:
    seen: dict[str, int] = {}
    queue = list(starts)
    while queue and len(seen) < limit:
        url = html.unescape(queue.pop(0))
        if url in seen:
            continue
        response = client.get(url)
        seen[url] = response.status_code
        if response.status_code == 302 and response["Location"].startswith(("/books/", "/disclosure/")):
            queue.append(response["Location"])
        if response.status_code == 200 and response.get("Content-Type", "").startswith("text/html"):
            queue += [u for u in HREF.findall(response.content.decode()) if html.unescape(u) not in seen]
    return seen


@pytest.mark.parametrize("who", ROLES, ids=[str(r) for r in ROLES])
def test_every_link_a_role_is_shown_opens_for_it(scene, who):
    """Crawl from each role's first pages, following every link under /books/ and /disclosure/:
    none answers 403 or 404 (a page never offers what the role may not open), and the crawl
    reaches only what docs/roles.md gives the role."""
    group = "office" if who in OFFICE else "street" if who == "supervisor" else "public"
    seen = _crawl(client_for(scene, who), STARTS[group])
    starts = set(STARTS[group])
    # Z has published nothing, so it has no log and no checkpoint yet: its board's link to the
    # checkpoint answers 404 until the first entry (the log's HTTP interface, issue 9).
    broken = {u: s for u, s in seen.items() if s not in (200, 302, 410) and u not in starts
              and u != "/disclosure/Z/log/checkpoint"}
    assert broken == {}
    reached = {u for u, s in seen.items() if s == 200}
    if who not in OFFICE:
        assert not any(u.startswith("/books/Y/vouchers") or u.startswith("/books/Y/journal") for u in reached)
        assert not any(f"/office/e/{scene['draft'].pk}/file/" in u for u in reached)
    if group == "public":
        assert not any(u.startswith("/books/Y") or u.startswith("/disclosure/Y/office") for u in reached)
    else:
        assert any("/office/e/" in u for u in reached) and any(u.startswith("/books/Y/statement") for u in reached)
