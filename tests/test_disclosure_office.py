"""The board's back office: drafts, the approval by a second person, held personal data,
corrections, withdrawals, attachments, duties, the full check and the office pages."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json

import pytest
from django.db import connection
from django.test import Client
from django.utils import translation
from PIL import Image

from linli.core.errors import InvalidInput, PermissionDenied
from linli.core.models import Event
from linli.core.workflow import IllegalTransition
from linli.disclosure import attachments, duties, jobs, leaf, pii, rules, selectors, services
from linli.disclosure.models import Attachment, Duty, Entry
from linli.transparency import keys, selectors as tlog

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
MARCH = (dt.date(2026, 3, 1), dt.date(2026, 3, 31))


@pytest.fixture
def files_dir(settings, tmp_path):
    settings.LINLI_DISCLOSURE_FILES_DIR = str(tmp_path / "files")
    return tmp_path / "files"


@pytest.fixture
def key(settings, tmp_path, files_dir):
    settings.LINLI_DISCLOSURE_KEY_FILE = str(tmp_path / "signing.key")
    keys.keygen("board.example.org", tmp_path / "signing.key")
    return tmp_path / "signing.key"


@pytest.fixture
def no_key(settings, tmp_path, files_dir):
    settings.LINLI_DISCLOSURE_KEY_FILE = str(tmp_path / "absent.key")


def png_bytes(color=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), color).save(out, format="PNG")
    return out.getvalue()


def draft(world, who="worker", *, section="residential", title="议事会决定", body="更换3号院路灯。", files=(),
          **kw):
    return services.create_draft(actor=world.users[who], community=world.community, section=section, title=title,
                                 body=body, period_start=MARCH[0], period_end=MARCH[1], files=files, **kw)


def published(world, who="worker", approver="admin", **kw):
    entry = draft(world, who, **kw)
    entry = services.submit(actor=world.users[who], entry=entry)
    return services.publish(actor=world.users[approver], entry=entry)


def stored_leaf(world, index) -> bytes:
    return bytes(tlog.leaf(world.community, index))


# --- the workflow ---------------------------------------------------------------------------------


def test_draft_submit_approve_publish_appends_the_leaf_and_signs(world, key):
    entry = draft(world, files=[PDF])
    assert entry.state == "draft" and entry.author_role == "community_worker" and entry.log_index is None
    entry = services.submit(actor=world.users["worker"], entry=entry)
    assert entry.state == "submitted" and entry.submitted_at
    assert tlog.size(world.community) == 0
    entry = services.publish(actor=world.users["admin"], entry=entry)
    assert entry.state == "published" and entry.log_index == 0
    assert entry.approver == world.users["admin"] and entry.approver_role == "community_admin"
    assert entry.content_sha256 == hashlib.sha256(leaf.content_bytes(entry)).hexdigest()
    data = stored_leaf(world, 0)
    assert data == leaf.leaf_bytes(entry)
    header = json.loads(data)
    assert header == {
        "v": 1, "type": "entry", "community": "Y", "section": "residential",
        "period": ["2026-03-01", "2026-03-31"], "published": header["published"],
        "author_role": "community_worker", "approver_role": "community_admin",
        "content_sha256": entry.content_sha256,
        "attachments": [{"sha256": hashlib.sha256(PDF).hexdigest(), "size": len(PDF), "type": "application/pdf"}],
        "supersedes": None, "withdraws": None}
    assert header["published"].endswith("+08:00")
    assert "议事会" not in data.decode() and "worker" not in data.decode().replace("community_worker", "")
    assert tlog.latest_checkpoint(world.community).size == 1
    verbs = list(Event.objects.filter(target_id=str(entry.pk), target_type="disclosure.entry")
                 .order_by("pk").values_list("verb", flat=True))
    assert verbs == ["disclosure.drafted", "disclosure.submitted", "disclosure.published"]


def test_content_bytes_are_canonical_json():
    class E:
        title, body = "标题", "a\nb"
    assert leaf.content_bytes(E) == '{"body":"a\\nb","title":"标题"}'.encode()


def test_the_author_never_approves(world, key):
    entry = draft(world, "admin")
    services.submit(actor=world.users["admin"], entry=entry)
    with pytest.raises(PermissionDenied):
        services.publish(actor=world.users["admin"], entry=entry)
    entry.refresh_from_db()
    assert entry.state == "submitted" and tlog.size(world.community) == 0


@pytest.mark.parametrize("section, author, approver, refused", [
    ("residential", "worker", "worker", True),       # a worker approves nothing
    ("finance", "worker", "secretary", True),        # the secretary approves the party section only
    ("finance", "worker", "admin", False),
    ("party", "worker", "admin", True),              # party: the party secretary approves
    ("party", "admin", "secretary", False),
    ("party", "secretary", "secretary", True),       # ... but not what they wrote
    ("residential", "worker", "z_worker", True),     # another community's staff
    ("residential", "worker", "supervisor", True),   # the street reads, never approves
])
def test_who_approves_which_section(world, key, section, author, approver, refused):
    entry = draft(world, author, section=section)
    services.submit(actor=world.users[author], entry=entry)
    if refused:
        with pytest.raises(PermissionDenied):
            services.publish(actor=world.users[approver], entry=entry)
    else:
        assert services.publish(actor=world.users[approver], entry=entry).state == "published"


@pytest.mark.parametrize("who, section, allowed", [
    ("worker", "finance", True), ("admin", "residential", True), ("secretary", "party", True),
    ("secretary", "finance", False), ("grid1", "residential", False), ("resident", "party", False),
    ("z_worker", "residential", False), ("supervisor", "residential", False),
])
def test_who_writes_which_section(world, files_dir, who, section, allowed):
    if allowed:
        assert draft(world, who, section=section).state == "draft"
    else:
        with pytest.raises(PermissionDenied):
            draft(world, who, section=section)


def test_publishing_without_approval_is_refused(world, key):
    entry = draft(world)
    with pytest.raises(IllegalTransition):
        services.publish(actor=world.users["admin"], entry=entry)
    entry.refresh_from_db()
    assert entry.state == "draft" and tlog.size(world.community) == 0


def test_publishing_without_a_signing_key_is_refused_and_nothing_changes(world, no_key):
    entry = draft(world)
    services.submit(actor=world.users["worker"], entry=entry)
    with pytest.raises(InvalidInput) as refused:
        services.publish(actor=world.users["admin"], entry=entry)
    assert refused.value.code == "no_signing_key" and "keygen" in str(refused.value.message)
    entry.refresh_from_db()
    assert entry.state == "submitted" and entry.log_index is None and entry.published_at is None
    assert tlog.size(world.community) == 0
    assert not Event.objects.filter(verb="disclosure.published").exists()
    with pytest.raises(InvalidInput):
        services.publish_as_server(community=world.community, section="party", title="t", body="b",
                                   period_start=MARCH[0], period_end=MARCH[1])
    assert Entry.objects.count() == 1


def test_a_body_with_a_phone_or_id_number_is_held_until_masked(world, key):
    entry = draft(world, body="联系人电话 13912345678，请来电。")
    entry = services.submit(actor=world.users["worker"], entry=entry)
    assert entry.state == "held" and "138****1234" in entry.note
    with pytest.raises(IllegalTransition):
        services.publish(actor=world.users["admin"], entry=entry)
    entry = services.update_draft(actor=world.users["worker"], entry=entry, title=entry.title,
                                  body=pii.masked(entry.body), period_start=MARCH[0], period_end=MARCH[1])
    assert entry.body == "联系人电话 139****5678，请来电。"
    entry = services.submit(actor=world.users["worker"], entry=entry)
    assert entry.state == "submitted" and entry.note == ""
    assert services.publish(actor=world.users["admin"], entry=entry).state == "published"


def test_an_id_number_in_the_title_is_held_too(world, key):
    entry = draft(world, title="补贴名单 110101199003071234", body="")
    assert services.submit(actor=world.users["worker"], entry=entry).state == "held"
    assert pii.holds_numbers("电话 13912345678") and not pii.holds_numbers("共 13912 元，2026 年")


def test_return_to_the_author_needs_a_note(world, key):
    entry = draft(world)
    services.submit(actor=world.users["worker"], entry=entry)
    with pytest.raises(InvalidInput):
        services.return_to_author(actor=world.users["admin"], entry=entry, note="  ")
    with pytest.raises(PermissionDenied):
        services.return_to_author(actor=world.users["worker"], entry=entry, note="改一下")
    entry = services.return_to_author(actor=world.users["admin"], entry=entry, note="请补上时间。")
    assert entry.state == "draft" and entry.note == "请补上时间。"
    assert Event.objects.filter(verb="disclosure.returned").count() == 1


def test_only_drafts_and_held_entries_are_edited(world, key):
    entry = published(world)
    with pytest.raises(InvalidInput):
        services.update_draft(actor=world.users["worker"], entry=entry, title="改", body="改",
                              period_start=MARCH[0], period_end=MARCH[1])


@pytest.mark.parametrize("kw, code", [
    ({"title": " "}, "title"), ({"title": "x" * 201}, "title"), ({"section": "sport"}, "section"),
])
def test_bad_fields_are_refused(world, files_dir, kw, code):
    with pytest.raises((InvalidInput, PermissionDenied)) as refused:
        draft(world, **kw)
    assert getattr(refused.value, "code", "") in (code, "permission_denied")
    with pytest.raises(InvalidInput):
        services.create_draft(actor=world.users["worker"], community=world.community, section="finance",
                              title="t", body="", period_start=MARCH[1], period_end=MARCH[0])


# --- corrections and withdrawals -------------------------------------------------------------------


def test_a_correction_supersedes_and_both_stay_published(world, key):
    old = published(world, body="三月支出 1,200.00 元")
    fix = services.start_correction(actor=world.users["worker"], entry=old)
    assert fix.supersedes == old and fix.body == old.body and fix.state == "draft"
    fix = services.update_draft(actor=world.users["worker"], entry=fix, title=fix.title, body="三月支出 1,300.00 元",
                                period_start=MARCH[0], period_end=MARCH[1])
    services.submit(actor=world.users["worker"], entry=fix)
    fix = services.publish(actor=world.users["admin"], entry=fix)
    old.refresh_from_db()
    assert old.state == fix.state == "published"
    assert list(old.corrections.all()) == [fix]
    header = json.loads(stored_leaf(world, fix.log_index))
    assert header["type"] == "correction" and header["supersedes"] == old.log_index
    assert selectors.verify(world.community).ok


def test_withdrawal_erases_words_and_files_keeps_a_tombstone_and_still_verifies(world, key, files_dir):
    entry = published(world, body="名单 张*", files=[PDF])
    old_leaf = stored_leaf(world, entry.log_index)
    stored = files_dir / attachments.relative_path(hashlib.sha256(PDF).hexdigest())
    assert stored.read_bytes() == PDF
    with pytest.raises(PermissionDenied):  # admins only
        services.withdraw(actor=world.users["worker"], entry=entry, reason="误发个人信息")
    with pytest.raises(InvalidInput):
        services.withdraw(actor=world.users["admin"], entry=entry, reason=" ")
    with pytest.raises(InvalidInput):
        services.withdraw(actor=world.users["admin"], entry=entry, reason="见 13912345678")
    entry = services.withdraw(actor=world.users["admin"], entry=entry, reason="误发个人信息")
    assert entry.state == "withdrawn" and entry.title == entry.body == ""
    assert entry.withdrawal_reason == "误发个人信息" and entry.withdrawn_at
    item = entry.attachments.get()
    assert item.path == "" and item.name == "" and item.sha256 == hashlib.sha256(PDF).hexdigest()
    assert stored_leaf(world, entry.log_index) == old_leaf == leaf.leaf_bytes(entry)
    w = json.loads(stored_leaf(world, entry.withdrawal_log_index))
    assert w["type"] == "withdrawal" and w["withdraws"] == entry.log_index and w["attachments"] == []
    assert w["content_sha256"] == hashlib.sha256(leaf.withdrawal_content_bytes(entry)).hexdigest()
    report = selectors.verify(world.community)
    assert report.ok, report.message
    with pytest.raises(IllegalTransition):
        services.withdraw(actor=world.users["admin"], entry=entry, reason="again")


@pytest.mark.django_db(transaction=True)
def test_withdrawal_deletes_the_bytes_unless_another_entry_holds_them(world, key, files_dir):
    a = published(world, title="甲", files=[PDF])
    b = published(world, title="乙", files=[PDF])
    stored = files_dir / attachments.relative_path(hashlib.sha256(PDF).hexdigest())
    services.withdraw(actor=world.users["admin"], entry=a, reason="撤回")
    assert stored.exists()  # b still shows it
    services.withdraw(actor=world.users["admin"], entry=b, reason="撤回")
    assert not stored.exists()


# --- attachments ----------------------------------------------------------------------------------


def test_attachments_pdf_kept_byte_for_byte_image_reencoded(world, files_dir):
    exif_png = png_bytes()
    entry = draft(world, files=[PDF, exif_png])
    pdf, image = entry.attachments.order_by("position")
    assert pdf.content_type == "application/pdf" and pdf.size == len(PDF)
    assert attachments.read_bytes(pdf) == PDF and pdf.path == attachments.relative_path(pdf.sha256)
    assert image.content_type in ("image/jpeg", "image/png")
    assert hashlib.sha256(attachments.read_bytes(image)).hexdigest() == image.sha256


@pytest.mark.parametrize("content", [
    b"just some text, not a file type we take",
    b"%PDF-1.4 but never finished",
    b"<html><script>alert(1)</script></html>",
    b"GIF89a\x01\x00\x01\x00",
    b"\x89PNG\r\n\x1a\n broken",
])
def test_files_that_are_not_pdf_or_image_are_refused(world, files_dir, content):
    with pytest.raises(InvalidInput) as refused:
        draft(world, files=[content])
    assert refused.value.code == "attachment_type"
    assert not Entry.objects.exists() and not Attachment.objects.exists()


def test_files_over_20_mb_are_refused(world, files_dir):
    big = PDF[:-7] + b"\0" * (attachments.MAX_BYTES) + b"\n%%EOF\n"
    with pytest.raises(InvalidInput) as refused:
        draft(world, files=[big])
    assert refused.value.code == "attachment_too_big" and "20" in str(refused.value.message)
    assert not Entry.objects.exists()


def test_file_names_are_cleaned():
    checked = attachments.check_file(PDF, name="../../etc/名单 13912345678.exe")
    assert checked.name == "名单 139****5678.pdf"


# --- the full check -------------------------------------------------------------------------------


def test_verify_names_the_entry_edited_behind_linlis_back(world, key):
    published(world, title="一")
    second = published(world, title="二")
    published(world, title="三")
    assert selectors.verify(world.community).ok
    with connection.cursor() as cursor:
        cursor.execute("UPDATE disclosure_entry SET body = %s WHERE id = %s", ["改过的正文", second.pk])
    report = selectors.verify(world.community)
    assert not report.ok and report.first_bad_index == second.log_index
    assert str(second.log_index) in report.message


def test_verify_names_a_deleted_entry(world, key):
    first = published(world, title="一")
    published(world, title="二")
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM disclosure_entry WHERE id = %s", [first.pk])
    report = selectors.verify(world.community)
    assert not report.ok and report.first_bad_index == first.log_index


def test_verify_checks_attachment_bytes(world, key, files_dir):
    entry = published(world, files=[PDF])
    path = files_dir / entry.attachments.get().path
    path.write_bytes(PDF.replace(b"Catalog", b"Catalox"))
    report = selectors.verify(world.community)
    assert not report.ok and report.first_bad_index == entry.log_index


def test_verify_checks_the_header_fields(world, key):
    entry = published(world)
    Entry.objects.filter(pk=entry.pk).update(section="finance")
    assert selectors.verify(world.community).first_bad_index == entry.log_index


def test_daily_job_records_the_failure_and_tells_admins_and_the_street(world, key):
    entry = published(world)
    assert jobs.daily_verify() == {"checked": 1, "failed": 0}
    Entry.objects.filter(pk=entry.pk).update(title="悄悄改了")
    assert jobs.daily_verify() == {"checked": 1, "failed": 1}
    jobs.daily_verify()  # once a day is enough
    events = list(Event.objects.filter(verb="disclosure.verify_failed"))
    assert len(events) == 1 and events[0].data["first_bad_index"] == entry.log_index
    messages = list(jobs.board_messages(events))
    assert len(messages) == 1
    users = set(messages[0][1].user_ids)
    assert users == {world.users["admin"].pk, world.users["supervisor"].pk}


def test_submitted_entries_tell_the_approvers(world, key):
    entry = draft(world, "admin", section="party")
    services.submit(actor=world.users["admin"], entry=entry)
    event = Event.objects.get(verb="disclosure.submitted")
    [(_, message)] = list(jobs.board_messages([event]))
    assert set(message.user_ids) == {world.users["secretary"].pk}
    assert message.url == f"/disclosure/Y/office/e/{entry.pk}/"


# --- duties -------------------------------------------------------------------------------------


def test_default_duties_and_overdue_periods(world, files_dir, key):
    made = services.install_default_duties(community=world.community, since=dt.date(2026, 1, 1))
    assert {d.code for d in made} >= {"finance-statement", "three-rates", "party-dues"}
    assert services.install_default_duties(community=world.community) == []  # only what is missing
    statement = Duty.objects.get(community=world.community, code="finance-statement")
    today = dt.date(2026, 4, 5)
    rows = duties.periods(statement, today=today)
    with translation.override("en"):  # period_label translates: 2026年4月 in Chinese
        assert [(p.label, p.status) for p in rows] == [
            ("2026-04", "open"), ("2026-03", "due"), ("2026-02", "overdue"), ("2026-01", "overdue")]
    services.publish_as_server(community=world.community, section="finance", title="二月收支", body="…",
                               period_start=dt.date(2026, 2, 1), period_end=dt.date(2026, 2, 28), duty=statement)
    rows = duties.periods(statement, today=today)
    assert [p.status for p in rows] == ["open", "due", "done", "overdue"]
    quarterly = Duty.objects.get(community=world.community, code="party-dues")
    with translation.override("en"):
        assert [(p.label, p.status) for p in duties.periods(quarterly, today=dt.date(2026, 4, 16))] == [
            ("2026-Q2", "open"), ("2026-Q1", "overdue")]


def test_admins_edit_duties_others_do_not(world, files_dir):
    with pytest.raises(PermissionDenied):
        services.install_default_duties(community=world.community, actor=world.users["worker"])
    duty = services.save_duty(actor=world.users["admin"], community=world.community, code="council",
                              section="residential", title="议事会决议", frequency="monthly", days_allowed=5,
                              since=dt.date(2026, 1, 1))
    assert Event.objects.filter(verb="disclosure.duty_added").count() == 1
    services.save_duty(actor=world.users["admin"], community=world.community, duty=duty, code="council",
                       section="residential", title="议事会决议", frequency="quarterly", days_allowed=5,
                       since=dt.date(2026, 1, 1), active=False)
    duty.refresh_from_db()
    assert duty.frequency == "quarterly" and not duty.active
    with pytest.raises(PermissionDenied):
        services.save_duty(actor=world.users["worker"], community=world.community, duty=duty, code="council",
                           section="residential", title="x", frequency="monthly", days_allowed=5,
                           since=dt.date(2026, 1, 1))


def test_overdue_items_are_todays_work(world, files_dir):
    services.install_default_duties(community=world.community, since=dt.date(2020, 1, 1))
    [item] = duties.today_work(world.users["worker"])
    assert item["code"] == "disclosure_overdue" and item["count"] > 0 and item["tone"] == "urgent"
    assert item["url"] == "/disclosure/Y/office/duties/"
    assert duties.today_work(world.users["resident"]) == []
    assert duties.today_work(world.users["supervisor"]) == []  # reads, writes nothing: no work


# --- generated drafts ------------------------------------------------------------------------------


def test_three_rates_draft_from_the_cases(world, files_dir):
    services.install_default_duties(community=world.community, since=dt.date(2026, 1, 1))
    entry = services.generate_rates_draft(actor=world.users["worker"], community=world.community, year=2026,
                                          month=3)
    assert entry.state == "draft" and entry.section == "residential" and entry.duty.code == "three-rates"
    assert (entry.period_start, entry.period_end) == MARCH and "2026-03" in entry.title
    assert not pii.entry_holds_numbers(title=entry.title, body=entry.body)


def test_finance_drafts_from_the_books(world, files_dir):
    statements = pytest.importorskip("linli.books.statements")
    entry = services.generate_finance_draft(actor=world.users["worker"], community=world.community, year=2026,
                                            month=3)
    title, body = statements.render_statement(statements.monthly_statement(world.community, 2026, 3))
    assert (entry.title, entry.body) == (title.strip(), body.strip("\n"))
    assert entry.section == "finance" and entry.state == "draft"
    budget = services.generate_budget_draft(actor=world.users["worker"], community=world.community, year=2026,
                                            upto_month=3)
    assert budget.section == "finance" and budget.period_end == dt.date(2026, 3, 31)


# --- the office pages ----------------------------------------------------------------------------


def client_for(world, who) -> Client:
    client = Client()
    client.force_login(world.users[who])
    return client


def test_office_pages_walk_the_whole_life_of_an_entry(world, key):
    worker, admin = client_for(world, "worker"), client_for(world, "admin")
    assert worker.get("/disclosure/office/").status_code == 302
    page = worker.get("/disclosure/Y/office/")
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    response = worker.post("/disclosure/Y/office/new/", {
        "section": "residential", "title": "停水通知", "body": "周三停水。", "period_start": "2026-03-01",
        "period_end": "2026-03-31", "files": [io.BytesIO(PDF)]})
    entry = Entry.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/disclosure/Y/office/e/{entry.pk}/"
    assert entry.attachments.count() == 1
    assert worker.post(f"/disclosure/Y/office/e/{entry.pk}/move/submit/").status_code == 302
    page = worker.get(f"/disclosure/Y/office/e/{entry.pk}/").content.decode()
    assert "Approve and publish" not in page and "批准并发布" not in page  # not for the author
    page = admin.get(f"/disclosure/Y/office/e/{entry.pk}/").content.decode()
    assert f"/disclosure/Y/office/e/{entry.pk}/move/publish/" in page
    assert admin.post(f"/disclosure/Y/office/e/{entry.pk}/move/publish/").status_code == 302
    entry.refresh_from_db()
    assert entry.state == "published" and entry.log_index == 0
    # Withdrawal: the form's confirmation is required.
    response = admin.post(f"/disclosure/Y/office/e/{entry.pk}/move/withdraw/", {"reason": "误发"})
    assert response.status_code == 400
    response = admin.post(f"/disclosure/Y/office/e/{entry.pk}/move/withdraw/", {"reason": "误发", "confirm": "on"})
    entry.refresh_from_db()
    assert response.status_code == 302 and entry.state == "withdrawn"


def test_office_page_refusals_change_nothing(world, no_key):
    worker, admin = client_for(world, "worker"), client_for(world, "admin")
    entry = draft(world)
    services.submit(actor=world.users["worker"], entry=entry)
    response = admin.post(f"/disclosure/Y/office/e/{entry.pk}/move/publish/", follow=True)
    assert "keygen" in response.content.decode()
    entry.refresh_from_db()
    assert entry.state == "submitted"
    response = worker.post(f"/disclosure/Y/office/e/{entry.pk}/move/publish/", follow=True)
    entry.refresh_from_db()
    assert entry.state == "submitted"
    response = worker.post("/disclosure/Y/office/new/", {
        "section": "residential", "title": "t", "body": "", "period_start": "2026-03-01",
        "period_end": "2026-03-31", "files": [io.BytesIO(b"MZ not a pdf")]})
    assert response.status_code == 200 and Entry.objects.count() == 1
    assert "PDF" in response.content.decode()


def test_office_is_for_the_communitys_office_only(world, files_dir):
    entry = draft(world)
    for who, status in [("resident", 403), ("grid1", 403), ("nobody", 403), ("z_worker", 404)]:
        client = client_for(world, who)
        assert client.get("/disclosure/Y/office/").status_code == status, who
        assert client.get(f"/disclosure/Y/office/e/{entry.pk}/").status_code == status, who
    assert Client().get("/disclosure/Y/office/").status_code == 302  # to sign in
    supervisor = client_for(world, "supervisor")
    assert supervisor.get("/disclosure/Y/office/").status_code == 200
    assert supervisor.post(f"/disclosure/Y/office/e/{entry.pk}/move/submit/").status_code == 302
    entry.refresh_from_db()
    assert entry.state == "draft"  # the street reads only
    assert client_for(world, "secretary").get("/disclosure/Y/office/").status_code == 200


def test_held_entry_masked_from_the_edit_page(world, key):
    worker = client_for(world, "worker")
    entry = draft(world, body="请联系 13912345678")
    services.submit(actor=world.users["worker"], entry=entry)
    page = worker.get(f"/disclosure/Y/office/e/{entry.pk}/edit/").content.decode()
    assert "13912345678" in page  # the author sees what to mask
    worker.post(f"/disclosure/Y/office/e/{entry.pk}/edit/", {
        "title": entry.title, "body": entry.body, "period_start": "2026-03-01", "period_end": "2026-03-31",
        "mask": "1"})
    entry.refresh_from_db()
    assert entry.body == "请联系 139****5678" and entry.state == "held"
    worker.post(f"/disclosure/Y/office/e/{entry.pk}/move/submit/")
    entry.refresh_from_db()
    assert entry.state == "submitted"


def test_duties_page_and_menu(world, files_dir):
    admin = client_for(world, "admin")
    assert admin.post("/disclosure/Y/office/duties/").status_code == 302
    assert Duty.objects.filter(community=world.community).count() == len(duties.default_duties())
    page = admin.get("/disclosure/Y/office/duties/").content.decode()
    assert "/disclosure/Y/office/duties/new/" in page
    assert client_for(world, "worker").post("/disclosure/Y/office/duties/").status_code == 404
    home = admin.get("/disclosure/Y/office/").content.decode()
    assert 'href="/disclosure/office/"' in home
    assert 'href="/disclosure/office/"' not in client_for(world, "resident").get("/").content.decode()


def test_rules_roles_in_is_per_community(world):
    assert rules.roles_in(world.users["admin"], world.community.pk) == {"community_admin"}
    assert rules.roles_in(world.users["admin"], world.other_community.pk) == set()


def test_the_street_reads_unpublished_words_scrubbed_and_no_draft_files(world, key):
    entry = draft(world, title="名单", body="王五 13912345678 住3栋2单元501室", files=[PDF])
    services.submit(actor=world.users["worker"], entry=entry)  # held
    supervisor = client_for(world, "supervisor")
    for url in ("/disclosure/Y/office/", f"/disclosure/Y/office/e/{entry.pk}/"):
        page = supervisor.get(url).content.decode()
        assert "13912345678" not in page and "2单元501" not in page, url
    item = entry.attachments.get()
    assert supervisor.get(f"/disclosure/Y/office/e/{entry.pk}/file/{item.pk}/").status_code == 404
    worker = client_for(world, "worker")
    assert "13912345678" in worker.get(f"/disclosure/Y/office/e/{entry.pk}/").content.decode()
    response = worker.get(f"/disclosure/Y/office/e/{entry.pk}/file/{item.pk}/")
    assert response.status_code == 200 and response.content == PDF
    entry.refresh_from_db()
    assert entry.body.startswith("王五 13912345678")  # nothing saved
