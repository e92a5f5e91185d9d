"""Personal data planted in the board and the books stays where docs/roles.md says it may be.

A resident's name, mobile number, ID number and door, read from the registry, are written
into a draft's words, an attachment's name, a return note, a withdrawal reason and a voucher's
summary, through the pages, as staff would. Then:

- a text with a phone or ID number is held and never published (page, service and command);
- no draft or held entry reaches the public board, its search, the feed, a content or
  attachment URL, a poster or the log's HTTP interface;
- the street supervisor reads the office's unpublished entries with phone and ID numbers and
  doors masked (docs/disclosure.md), in the words, the author's note and the file names;
- no event, webhook payload, notification, log leaf or log record (the ``linli`` logger and
  the root logger, while publishing, verifying and witnessing) holds a planted value;
- no URL a page links to holds one;
- allowance lists show masked names only.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import logging
import random
import urllib.parse

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from linli.books import services as books
from linli.books.services import LineInput
from linli.core.errors import InvalidInput
from linli.core.masking import mask_name
from linli.core.models import Event
from linli.disclosure import jobs, services as board
from linli.disclosure.models import Entry
from linli.notify import services as notify
from linli.notify.models import Notification
from linli.transparency import cosign, keys, selectors as tlog, witness

from planted import LINK, found, person_of

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
MARCH = {"period_start": "2026-03-01", "period_end": "2026-03-31"}


@pytest.fixture
def key(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.LINLI_DISCLOSURE_FILES_DIR = str(tmp_path / "files")
    settings.LINLI_DISCLOSURE_KEY_FILE = str(tmp_path / "signing.key")
    return str(keys.keygen("board.example.org", tmp_path / "signing.key"))


@pytest.fixture
def person(world):
    """One resident's personal data, from the registry (decrypted), and her door as staff write it."""
    return person_of(world, 4)


def planted(person) -> list[str]:
    return [person["name"], person["phone"], person["id_number"], person["door"]]


def _client(world, who) -> Client:
    client = Client()
    if who is not None:
        client.force_login(world.users[who])
    return client


def _links(html: str) -> list[str]:
    return [urllib.parse.unquote(u) for u in LINK.findall(html)]


@pytest.fixture
def planted_board(world, key, person):
    """Through the office pages: a held entry with everything in it (and a file named after the
    resident), a draft naming her, an entry returned with a note naming her door, a published
    entry, and an attempt to withdraw it with her phone in the reason."""
    worker, admin = _client(world, "worker"), _client(world, "admin")
    p = person
    response = worker.post("/disclosure/Y/office/new/", {
        "section": "residential", "title": "低保对象入户核查", **MARCH,
        "body": f"核查对象：{p['name']}，电话{p['phone']}，身份证{p['id_number']}，住{p['door']}。",
        "files": [_named(PDF, f"{p['name']}{p['door']}{p['phone']}.pdf")]})
    assert response.status_code == 302
    held = Entry.objects.get(title="低保对象入户核查")
    assert worker.post(f"/disclosure/Y/office/e/{held.pk}/move/submit/").status_code == 302
    held.refresh_from_db()
    assert held.state == "held"

    worker.post("/disclosure/Y/office/new/", {"section": "residential", "title": f"走访{p['name']}家",
                                              "body": f"到{p['door']}走访。", **MARCH})
    draft = Entry.objects.get(title=f"走访{p['name']}家")

    worker.post("/disclosure/Y/office/new/", {"section": "residential", "title": "楼道清理通知",
                                              "body": "周六清理楼道杂物。", **MARCH})
    returned = Entry.objects.get(title="楼道清理通知")
    worker.post(f"/disclosure/Y/office/e/{returned.pk}/move/submit/")
    admin.post(f"/disclosure/Y/office/e/{returned.pk}/move/return/",
               {"note": f"请先联系{p['name']}（{p['door']}，{p['phone']}）再发。"})
    returned.refresh_from_db()
    assert returned.state == "draft" and p["door"] in returned.note  # the office's own note, kept

    worker.post("/disclosure/Y/office/new/", {"section": "residential", "title": "路灯更换公告",
                                              "body": "3号院路灯已更换。", **MARCH,
                                              "files": [_named(PDF + b" ", "照片.pdf")]})
    public = Entry.objects.get(title="路灯更换公告")
    worker.post(f"/disclosure/Y/office/e/{public.pk}/move/submit/")
    admin.post(f"/disclosure/Y/office/e/{public.pk}/move/publish/")
    public.refresh_from_db()
    assert public.state == "published"
    response = admin.post(f"/disclosure/Y/office/e/{public.pk}/move/withdraw/",
                          {"reason": f"误发，联系{p['phone']}", "confirm": "on"})
    public.refresh_from_db()
    assert response.status_code in (302, 400) and public.state == "published"  # refused: the reason is public
    return {"held": held, "draft": draft, "returned": returned, "public": public}


def _named(content: bytes, name: str):
    upload = io.BytesIO(content)
    upload.name = name
    return upload


# --- held, never published -----------------------------------------------------------------------


def test_a_text_with_a_phone_or_id_is_held_and_never_published(world, key, person, planted_board, tmp_path):
    held = planted_board["held"]
    size = tlog.size(world.community)
    admin = _client(world, "admin")
    admin.post(f"/disclosure/Y/office/e/{held.pk}/move/publish/")
    held.refresh_from_db()
    assert held.state == "held" and held.log_index is None and tlog.size(world.community) == size
    with pytest.raises(InvalidInput):
        board.publish(actor=world.users["admin"], entry=held)
    held.refresh_from_db()
    assert held.state == "held"
    # The command refuses it outright, and says so without repeating the number.
    path = tmp_path / "body.txt"
    path.write_text(f"联系人电话{person['phone']}", encoding="utf-8")
    with pytest.raises(CommandError) as refused:
        call_command("disclosure", "publish", "--community", "Y", "--section", "residential", "--title", "通知",
                     "--body-file", str(path))
    assert found(str(refused.value), person) == []
    assert tlog.size(world.community) == size


# --- the public side --------------------------------------------------------------------------------


def _public_urls(world, planted_board, person) -> list[str]:
    public = planted_board["public"]
    attachment = public.attachments.get()
    size = tlog.size(world.community)
    urls = ["/disclosure/Y/", "/disclosure/Y/?section=residential", "/disclosure/Y/?period=2026-03",
            "/disclosure/Y/feed.atom", f"/disclosure/Y/e/{public.log_index}/",
            f"/disclosure/Y/e/{public.log_index}/content", f"/disclosure/Y/e/{public.log_index}/poster/",
            f"/disclosure/Y/e/{public.log_index}/a/{attachment.sha256}",
            "/disclosure/Y/log/key", "/disclosure/Y/log/checkpoint", f"/disclosure/Y/log/entries?start=0&end={size}"]
    for value in planted(person) + ["低保", "走访", "楼道清理"]:
        urls.append("/disclosure/Y/?" + urllib.parse.urlencode({"q": value}))
    return urls


@pytest.mark.parametrize("who", [None, "resident", "worker", "supervisor"])
def test_drafts_and_held_entries_reach_no_public_page(world, key, person, planted_board, who):
    client = _client(world, who)
    for url in _public_urls(world, planted_board, person):
        response = client.get(url)
        assert response.status_code == 200, url
        text = b"".join(response).decode("utf-8", "replace") if response.streaming else response.content.decode(
            "utf-8", "replace")
        searched = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query).get("q", [""])[0]
        # a search page repeats what the visitor typed (their own words); nothing else of hers
        others = [field for field in ("name", "phone", "id_number", "door") if person[field] != searched]
        assert found(text, person, others) == [], url
        for title in ("低保对象入户核查", "走访", "楼道清理通知"):
            if title != searched:
                assert title not in text, (url, title)
        if searched:  # and it finds nothing that is not public
            assert 'class="entry-card' not in text or "路灯" in searched, url
    # no log index leads to them
    for entry in (planted_board["held"], planted_board["draft"], planted_board["returned"]):
        entry.refresh_from_db()
        assert entry.log_index is None


def test_searching_the_board_for_a_planted_value_finds_nothing(world, key, person, planted_board):
    client = Client()
    for value in planted(person):
        page = client.get("/disclosure/Y/?" + urllib.parse.urlencode({"q": value})).content.decode()
        assert f"/disclosure/Y/e/{planted_board['public'].log_index}/" not in page


# --- the street reads masked ------------------------------------------------------------------------


def test_the_supervisor_reads_unpublished_entries_masked_as_docs_say(world, key, person, planted_board):
    supervisor = _client(world, "supervisor")
    pages = ["/disclosure/Y/office/", "/disclosure/Y/office/?state=held", "/disclosure/Y/office/?state=draft"]
    pages += [f"/disclosure/Y/office/e/{planted_board[k].pk}/" for k in ("held", "draft", "returned")]
    for url in pages:
        page = supervisor.get(url).content.decode()
        # docs/disclosure.md: phone and ID numbers and home doors masked (names are the author's to mask)
        assert found(page, person, ("phone", "id_number", "door")) == [], url
    held = planted_board["held"]
    item = held.attachments.get()
    assert supervisor.get(f"/disclosure/Y/office/e/{held.pk}/file/{item.pk}/").status_code == 404
    # The office itself sees what it must mask.
    page = _client(world, "worker").get(f"/disclosure/Y/office/e/{held.pk}/").content.decode()
    assert person["phone"] in page and person["door"] in page


def test_the_file_name_loses_its_numbers_on_upload(world, key, person, planted_board):
    name = planted_board["held"].attachments.get().name
    assert person["phone"] not in name and name.endswith(".pdf")


# --- events, notifications, leaves, URLs ------------------------------------------------------------


def _everything_recorded(world) -> str:
    notify.dispatch_new_events(settle_seconds=0)
    parts = [json.dumps(e.data, ensure_ascii=False) + e.verb + e.target_id + e.actor_label
             for e in Event.objects.order_by("pk")]
    parts += [json.dumps(notify.webhook_payload(e), ensure_ascii=False, default=str)
              for e in Event.objects.order_by("pk")]
    parts += [f"{n.title}\n{n.body}\n{n.url}" for n in Notification.objects.all()]
    return "\n".join(parts)


def test_events_notifications_and_leaves_hold_no_planted_value(world, key, person, planted_board):
    recorded = _everything_recorded(world)
    assert Event.objects.filter(verb__startswith="disclosure.").count() >= 8
    assert found(recorded, person) == []
    size = tlog.size(world.community)
    assert size >= 1
    for index, data in tlog.leaves(world.community, 0, size):
        text = bytes(data).decode("utf-8")
        assert found(text, person) == [], index
        assert "低保" not in text and "路灯" not in text  # no free text in a header at all
    entries = Client().get(f"/disclosure/Y/log/entries?start=0&end={size}").json()["entries"]
    for item in entries:
        assert found(base64.b64decode(item["leaf"]).decode(), person) == []


@pytest.mark.parametrize("who", ["worker", "admin", "secretary", "supervisor", None])
def test_no_url_a_page_links_to_holds_a_planted_value(world, key, person, planted_board, who):
    client = _client(world, who)
    pages = _public_urls(world, planted_board, person)[:5]
    if who is not None:
        pages += ["/disclosure/Y/office/", "/disclosure/Y/office/?state=held", "/disclosure/Y/office/duties/"]
        pages += [f"/disclosure/Y/office/e/{e.pk}/" for e in planted_board.values()]
        if who in ("worker", "admin"):
            pages += [f"/disclosure/Y/office/e/{planted_board[k].pk}/edit/" for k in ("held", "draft")]
    for url in pages:
        response = client.get(url)
        if response.status_code != 200:
            continue
        for link in _links(response.content.decode()):
            assert found(link, person) == [], (url, link)
        assert found(response.get("Location", ""), person) == []


# --- the books ------------------------------------------------------------------------------------


def test_a_voucher_summary_stays_in_the_office(world, key, person):
    """A voucher's summary naming a resident (a payment to her) is the office's record: the
    street's statements, the board's generated finance draft and the events never hold it."""
    y, u = world.community, world.users
    books.install_chart(actor=None, community=y)
    acc = books.accounts_by_code(y)
    summary = f"支付{person['name']}慰问金，电话{person['phone']}"
    voucher = books.voucher_create(actor=u["worker"], community=y, date=dt.date(2026, 3, 3), summary=summary,
                                   lines=[LineInput(acc["5102"], debit=50_000, summary=person["door"]),
                                          LineInput(acc["1002"], credit=50_000)])
    books.attachment_add(actor=u["worker"], voucher=voucher, name=f"{person['name']}收条.pdf", content=PDF)
    books.voucher_submit(actor=u["worker"], voucher=voucher)
    _client(world, "admin").post(f"/books/Y/vouchers/{voucher.year}/{voucher.number}/move", {
        "move": "return",
        "reason": f"{person['name']}的收条缺签字，住{person['door']}，电话{person['phone']}"})
    voucher.refresh_from_db()
    assert voucher.status == "returned"
    books.voucher_submit(actor=u["worker"], voucher=voucher)
    books.voucher_approve(actor=u["admin"], voucher=voucher)
    supervisor = _client(world, "supervisor")
    for url in ("/books/Y/statement/?year=2026&month=3", "/books/Y/budget/?year=2026&month=3"):
        page = supervisor.get(url)
        assert page.status_code == 200
        assert found(page.content.decode(), person) == [], url
    workbook = supervisor.get("/books/Y/export/statement.xlsx?year=2026&month=3")
    assert workbook.status_code == 200
    import zipfile

    with zipfile.ZipFile(io.BytesIO(b"".join(workbook.streaming_content))) as z:
        text = "".join(z.read(n).decode("utf-8", "replace") for n in z.namelist())
    assert found(text, person) == []
    draft = board.generate_finance_draft(actor=u["worker"], community=y, year=2026, month=3)
    assert found(draft.title + draft.body, person) == []
    # the office reads its ledger as written; its receipt is served under a random name
    page = _client(world, "secretary").get(f"/books/Y/vouchers/{voucher.year}/{voucher.number}/").content.decode()
    for link in _links(page):
        assert found(link, person) == [], link
    assert found(_everything_recorded(world), person) == []


# --- logs ---------------------------------------------------------------------------------------------


def test_logs_of_publishing_verifying_and_witnessing_hold_no_planted_value(
        world, key, person, planted_board, caplog, tmp_path, monkeypatch):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="linli")
    worker, admin = _client(world, "worker"), _client(world, "admin")
    held = planted_board["held"]
    # masking from the edit page, then publishing through the pages
    worker.post(f"/disclosure/Y/office/e/{held.pk}/edit/", {
        "title": held.title, "body": held.body, **MARCH, "mask": "1"})
    held.refresh_from_db()
    assert found(held.body, person, ("phone", "id_number")) == []
    worker.post(f"/disclosure/Y/office/e/{held.pk}/move/submit/")
    admin.post(f"/disclosure/Y/office/e/{held.pk}/move/publish/")
    # the check, by command and by the daily job, then once more after an edit behind Linli's back
    call_command("disclosure", "verify", "--community", "Y", stdout=io.StringIO(), stderr=io.StringIO())
    assert jobs.daily_verify()["failed"] == 0
    # the witness, over the log's HTTP interface (the test client stands in for the network)
    client = Client()

    def request(url, data=None):
        path = urllib.parse.urlsplit(url)
        target = path.path + (f"?{path.query}" if path.query else "")
        response = (client.post(target, data=data, content_type="text/plain") if data is not None
                    else client.get(target))
        if response.status_code >= 400:
            raise witness.WitnessError(f"{url}: HTTP {response.status_code}")
        return response.content

    monkeypatch.setattr(witness, "_request", request)
    witness_key = tmp_path / "witness.key"
    keys.keygen("street.example", witness_key)
    cosign.add_witness(actor=None, community=world.community, name="street.example",
                       verifier_key=witness.witness_verifier_key(witness_key))
    line = witness.run("http://testserver/disclosure/Y/log", state=tmp_path / "w.json", key=witness_key,
                       log_key=key)
    assert line and found(line, person) == []
    Entry.objects.filter(pk=planted_board["public"].pk).update(body=f"{person['name']}悄悄改了")
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError) as failed:
        call_command("disclosure", "verify", "--community", "Y", stdout=out, stderr=err)
    assert jobs.daily_verify()["failed"] == 1
    notify.dispatch_new_events(settle_seconds=0)
    for text in (caplog.text, out.getvalue(), err.getvalue(), str(failed.value)):
        assert found(text, person) == [], text[:500]
    assert all(found(r.getMessage(), person) == [] for r in caplog.records)


# --- allowance lists ---------------------------------------------------------------------------------


def test_allowance_lists_show_masked_names_only(world, key):
    """The demo's allowance lists (低保, 高龄津贴, 残疾人两项补贴) name people as mask_name shows
    them, never in full; published, the board shows the masked names only."""
    from linli.demo.disclosure import _Texts

    people = list(world.residents[:5])
    texts = _Texts(world.community, random.Random(3), None)
    bodies = [texts.allowance(2026, 3, people), texts.elders(2026, 1, people), texts.disability(2026, 1, people)]
    for title, body in bodies:
        for resident in people:
            full = resident.name.reveal()
            assert full not in body and mask_name(full) in body, title
            assert resident.phone.reveal() not in body and resident.id_number.reveal() not in body
    title, body = bodies[0]
    entry = board.create_draft(actor=world.users["worker"], community=world.community, section="residential",
                               title=title, body=body, period_start=dt.date(2026, 3, 1),
                               period_end=dt.date(2026, 3, 31))
    entry = board.publish(actor=world.users["admin"], entry=board.submit(actor=world.users["worker"], entry=entry))
    page = Client().get(f"/disclosure/Y/e/{entry.log_index}/").content.decode()
    for resident in people:
        assert resident.name.reveal() not in page and mask_name(resident.name.reveal()) in page


def test_the_supervisor_cannot_find_unpublished_words_by_searching(world, key, person, planted_board):
    """Searching the office's list is no way round the masking: the street's search reads the
    words of public entries only, so a phone number, ID number, door or name typed into it
    does not tell whether a draft holds it."""
    supervisor = _client(world, "supervisor")
    for value in planted(person) + ["低保对象入户核查", "楼道清理"]:
        page = supervisor.get("/disclosure/Y/office/?" + urllib.parse.urlencode({"q": value})).content.decode()
        for entry in ("held", "draft", "returned"):
            assert f"/disclosure/Y/office/e/{planted_board[entry].pk}/" not in page, (value, entry)
    page = supervisor.get("/disclosure/Y/office/?q=%E8%B7%AF%E7%81%AF").content.decode()  # 路灯: public words
    assert f"/disclosure/Y/office/e/{planted_board['public'].pk}/" in page
    page = supervisor.get("/disclosure/Y/office/?state=held").content.decode()  # found by state, masked
    assert f"/disclosure/Y/office/e/{planted_board['held'].pk}/" in page
    worker = _client(world, "worker")  # the office searches everything it wrote
    page = worker.get("/disclosure/Y/office/?" + urllib.parse.urlencode({"q": person["phone"]})).content.decode()
    assert f"/disclosure/Y/office/e/{planted_board['held'].pk}/" in page


@pytest.mark.parametrize("who", ["admin", "worker", "secretary", "supervisor", "resident", "grid1", None])
def test_crawling_each_roles_pages_finds_planted_data_only_where_docs_allow(world, key, person, planted_board,
                                                                           who):
    """From each role's first pages, every page and file reached under /books/ and /disclosure/:
    no URL holds a planted value; the street sees no phone, ID number or door; anyone without an
    office sees nothing of her at all."""
    from test_roles_books_disclosure import _crawl

    starts = ["/disclosure/Y/", "/disclosure/office/", "/disclosure/Y/office/", "/books/", "/books/Y/"]
    client = _client(world, who)
    seen = _crawl(client, starts, limit=300)
    assert any("/disclosure/Y/e/" in u for u in seen)
    for url in seen:
        assert found(url, person) == [], url
        if who in ("admin", "worker", "secretary"):
            continue  # the office reads what it wrote (docs/roles.md)
        response = client.get(url)
        body = b"".join(response) if response.streaming else response.content
        text = body.decode("utf-8", "replace")
        fields = ("phone", "id_number", "door") if who == "supervisor" else ("name", "phone", "id_number", "door")
        assert found(text, person, fields) == [], url


def test_the_ledger_shows_phone_and_id_numbers_masked(world, key, person):
    """The books' free text (a voucher's summary, its lines' summaries, a return reason, a
    receipt's name) reaches the party secretary, who sees the registry masked and may reveal
    nothing (docs/roles.md): on the ledger's pages ID and mobile numbers are masked, as in the
    cases' texts; names stay (the office pays people by name)."""
    from linli.core.masking import mask_id_number, mask_phone

    y, u = world.community, world.users
    books.install_chart(actor=None, community=y)
    acc = books.accounts_by_code(y)
    voucher = books.voucher_create(
        actor=u["worker"], community=y, date=dt.date(2026, 3, 3),
        summary=f"支付{person['name']}慰问金，电话{person['phone']}",
        lines=[LineInput(acc["5102"], debit=50_000, summary=f"身份证{person['id_number']}"),
               LineInput(acc["1002"], credit=50_000)])
    books.attachment_add(actor=u["worker"], voucher=voucher, name=f"收条{person['phone']}.pdf", content=PDF)
    books.voucher_submit(actor=u["worker"], voucher=voucher)
    books.voucher_return(actor=u["secretary"], voucher=voucher, reason=f"请核对身份证{person['id_number']}")
    for who in ("secretary", "admin", "worker"):
        client = _client(world, who)
        for url in (f"/books/Y/vouchers/{voucher.year}/{voucher.number}/", "/books/Y/vouchers/",
                    "/books/Y/journal/", "/books/Y/journal/?status=returned"):
            page = client.get(url).content.decode()
            assert found(page, person, ("phone", "id_number")) == [], (who, url)
        page = client.get(f"/books/Y/vouchers/{voucher.year}/{voucher.number}/").content.decode()
        assert mask_phone(person["phone"]) in page and mask_id_number(person["id_number"]) in page
        assert person["name"] in page
